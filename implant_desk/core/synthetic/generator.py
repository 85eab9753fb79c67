"""Periapical radiographs with exact truth, as a pure function of a seed.

A *patient* fixes what does not change between visits: sensor (pixel spacing, size), jaw and side, bone, the
teeth and the fixtures (system, size, position, tilt). Each *image* of the patient is a new exposure of that
scene: a slightly shifted sensor, a different stage of treatment on the fixtures (cover screw, healing
abutment, crown), exposure, noise, blur, gamma, and now and then cone-cut, motion blur or low contrast.

Coordinates in the truth are pixel-edge coordinates: pixel (column i, row j) covers [i, i+1) x [j, j+1), so a
box is (first column, first row, last column + 1, last row + 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from implant_desk.core.synthetic.anatomy import Anatomy, ImplantCrown, Landmark, Tooth, draw_anatomy
from implant_desk.core.synthetic.fixture import (ABUTMENT_HEIGHT_MM, PROSTHESES, FixturePlacement, RenderedFixture,
                                                 render_fixture)
from implant_desk.core.synthetic.sensor import apply_exposure_field, blur_region, motion_blur, random_exposure, read_out
from implant_desk.core.catalogue.systems import ImplantSystem

LOW_RES_FACTOR = 2  # anatomy is drawn at half resolution: it is smooth at the pixel scale
MAX_TILT_DEG = 25.0


@dataclass(frozen=True)
class PartTruth:
    name: str  # coronal, middle or apical third along the axis
    label: str  # its design attributes, e.g. "middle:tapered+V+pitch-regular"
    box: tuple[int, int, int, int]
    truncated: bool


@dataclass(frozen=True)
class FixtureTruth:
    system: str
    box: tuple[int, int, int, int]
    truncated: bool
    length_mm: float
    diameter_mm: float
    platform_px: tuple[float, float]
    apex_px: tuple[float, float]
    angle_deg: float  # see ``axis_angle``: about 0 for a mandibular fixture, about 180 for a maxillary one
    prosthesis: str
    parts: tuple[PartTruth, ...]
    # bool pixels of the fixture, mask[0, 0] at ``mask_origin`` (kept in memory for checks, not written)
    mask: np.ndarray = field(compare=False, repr=False)
    mask_origin: tuple[int, int]

    def to_json(self) -> dict:
        return {
            "system": self.system, "box": list(self.box), "truncated": self.truncated,
            "length_mm": round(self.length_mm, 4), "diameter_mm": round(self.diameter_mm, 4),
            "axis": {"platform": [round(c, 3) for c in self.platform_px], "apex": [round(c, 3) for c in self.apex_px],
                     "angle_deg": round(self.angle_deg, 3)},
            "prosthesis": self.prosthesis,
            "parts": [{"name": p.name, "label": p.label, "box": list(p.box), "truncated": p.truncated}
                      for p in self.parts],
        }


@dataclass(frozen=True)
class SyntheticImage:
    pixels: np.ndarray  # (H, W) uint16, MONOCHROME2
    spacing_mm: float
    patient_id: str
    jaw: str  # "mandible" (crowns up) or "maxilla" (crowns down)
    fixtures: tuple[FixtureTruth, ...]

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


@dataclass(frozen=True)
class _FixtureSite:
    system: ImplantSystem
    diameter_mm: float
    length_mm: float
    x_mm: float
    depth_mm: float  # platform below (+) or above (-) the crest
    angle_deg: float
    slot_mm: float
    groove_side: int


@dataclass(frozen=True)
class Patient:
    patient_id: str
    seed: tuple[int, ...]
    spacing_mm: float
    size: tuple[int, int]  # (height, width) pixels
    jaw: str
    mirrored: bool
    anatomy: Anatomy
    sites: tuple[_FixtureSite, ...]


def generate_series(count: int, seed: int, systems: list[ImplantSystem]) -> Iterator[SyntheticImage]:
    """``count`` images over patients of 2 to 5 images each (about ``count / 3.5`` patients); ``seed`` >= 0."""
    if seed < 0:
        raise ValueError("the seed must be zero or positive")
    shown = {system.name: 0 for system in systems}  # fixtures drawn so far, per system
    produced, number = 0, 0
    while produced < count:
        rng = np.random.default_rng([seed, 1, number])
        # Each patient's main system is the one seen least so far, so systems stay balanced in any series.
        main_system = min(systems, key=lambda s: (shown[s.name], (systems.index(s) - seed) % len(systems)))
        patient = make_patient(rng, f"S{seed}-P{number + 1:03d}", (seed, number), systems, main_system)
        visits = min(int(rng.integers(2, 6)), count - produced)
        for site in patient.sites:
            shown[site.system.name] += visits
        for visit in range(visits):
            yield render_image(patient, visit)
        produced += visits
        number += 1


def make_patient(rng: np.random.Generator, patient_id: str, seed: tuple[int, ...], systems: list[ImplantSystem],
                 main_system: ImplantSystem) -> Patient:
    pixels_per_metre = int(rng.integers(25_000, 50_001))  # 0.02-0.04 mm, exact in PNG pHYs and TIFF tags
    spacing = 1000.0 / pixels_per_metre
    height, width = 4 * int(rng.integers(315, 337)), 4 * int(rng.integers(240, 262))
    if rng.random() < 0.4:  # posterior views are usually taken with the sensor landscape
        height, width = width, height
    field_w, field_h = width * spacing, height * spacing
    jaw = "mandible" if rng.random() < 0.5 else "maxilla"

    slots, x = [], -float(rng.uniform(0, 6))
    while x < field_w + 4:
        slot = float(rng.uniform(7.0, 10.5))
        slots.append((x + slot / 2, slot))
        x += slot
    candidates = [i for i, (centre, _) in enumerate(slots) if 2.0 <= centre <= field_w - 2.0]
    wanted = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2]))
    chosen = set(rng.choice(candidates, size=min(wanted, len(candidates)), replace=False).tolist())

    sites, teeth, dips = [], [], []
    for i, (centre, slot) in enumerate(slots):
        if i in chosen:
            system = main_system if rng.random() < 0.7 else systems[int(rng.integers(len(systems)))]
            d_low, d_high = system.diameter_mm
            diameter = round(float(rng.uniform(d_low, min(d_high, max(d_low, slot - 2.5)))), 1)
            length = round(float(rng.uniform(*system.length_mm)) * 2) / 2
            tilt = float(rng.uniform(-1, 1) * MAX_TILT_DEG if rng.random() < 0.1 else rng.normal(0, 7))
            if system.coronal == "tissue-level":
                depth = -float(rng.uniform(1.6, 2.2))  # polished collar above the bone
            else:
                depth = float(rng.uniform(0.0, 0.6))
                dips.append((centre, float(rng.uniform(0.3, 1.2))))
            sites.append(_FixtureSite(system, diameter, length, centre + float(rng.normal(0, 0.4)), depth, tilt,
                                      slot, 1 if rng.random() < 0.5 else -1))
        elif rng.random() < 0.75:
            teeth.append(Tooth(centre_x_mm=centre, width_mm=slot - 0.4, crown_mm=float(rng.uniform(6.5, 8.0)),
                               root_mm=float(rng.uniform(11.5, 15.0)), roots=2 if slot > 9.0 else 1,
                               tilt_deg=float(rng.normal(0, 3)), filling=bool(rng.random() < 0.25)))
        else:
            dips.append((centre, float(rng.uniform(0.8, 2.5))))  # healed extraction socket
    sites = _without_collisions(sites)
    landmark = None
    if rng.random() < 0.5:
        kind = "canal" if jaw == "mandible" else "sinus"
        landmark = Landmark(kind, float(rng.uniform(11, 16) if kind == "canal" else rng.uniform(8, 13)),
                            float(rng.normal(0, 0.08)), float(rng.uniform(2.5, 3.5)))
    anatomy = Anatomy(
        crest_mm=field_h * float(rng.uniform(0.30, 0.40)), crest_wave_mm=float(rng.uniform(0.2, 1.0)),
        crest_phase=float(rng.uniform(0, 2 * math.pi)), bone_density=float(rng.uniform(0.4, 0.8)),
        trabecular_mm=float(rng.uniform(0.5, 1.0)), soft_tissue=float(rng.uniform(0.25, 0.45)),
        teeth=tuple(teeth), dips=tuple(dips), landmark=landmark,
    )
    return Patient(patient_id, seed, spacing, (height, width), jaw, bool(rng.random() < 0.5), anatomy, tuple(sites))


def _without_collisions(sites: list[_FixtureSite]) -> list[_FixtureSite]:
    """A surgeon never lets two fixtures touch: when neighbours converge too much, the second one is made
    parallel to the first (their slots are at least 7 mm apart)."""
    kept: list[_FixtureSite] = []
    for site in sites:
        if kept:
            before = kept[-1]
            apex_gap = (site.x_mm + site.length_mm * math.sin(math.radians(site.angle_deg))) - (
                before.x_mm + before.length_mm * math.sin(math.radians(before.angle_deg)))
            if apex_gap < (site.diameter_mm + before.diameter_mm) / 2 + 1.5:
                site = replace(site, angle_deg=before.angle_deg)
        kept.append(site)
    return kept


def render_image(patient: Patient, visit: int) -> SyntheticImage:
    rng = np.random.default_rng([*patient.seed, 2, visit])
    height, width = patient.size
    spacing = patient.spacing_mm
    shift_x, shift_y = float(rng.uniform(-2, 2)), float(rng.uniform(-1.5, 1.5))
    if not all(_axis_inside(site, shift_x, width * spacing) for site in patient.sites):
        shift_x = 0.0  # an edge may cut a fixture, but never leave only a sliver of it in the image
    anatomy = _shifted(patient.anatomy, shift_x, shift_y)
    stage = str(rng.choice(PROSTHESES, p=[0.3, 0.25, 0.45]))  # the treatment stage at this visit
    crown_density = float(rng.choice([1.8, 2.4]))

    placements, crowns = [], []
    for site in patient.sites:
        x_mm = site.x_mm + shift_x
        crest = _crest_at(anatomy, x_mm)
        placement = FixturePlacement(
            system=site.system, diameter_mm=site.diameter_mm, length_mm=site.length_mm,
            platform_px=(x_mm / spacing, (crest + site.depth_mm) / spacing),
            angle_deg=float(np.clip(site.angle_deg + rng.normal(0, 1.0), -MAX_TILT_DEG, MAX_TILT_DEG)),
            prosthesis=stage, abutment_mm=ABUTMENT_HEIGHT_MM[stage], groove_side=site.groove_side,
        )
        placements.append(placement)
        if stage == "crown":
            dx, dy = placement.direction
            lift = (placement.hex_mm + 0.3) / spacing  # the crown's abutment stands on the hex, if any
            base = (placement.platform_px[0] - dx * lift, placement.platform_px[1] - dy * lift)
            crowns.append(ImplantCrown(base_px=base, angle_deg=placement.angle_deg, width_mm=site.slot_mm - 0.5,
                                       height_mm=float(rng.uniform(7.0, 8.0)), density=crown_density))

    exposure = random_exposure(rng)
    factor = LOW_RES_FACTOR
    low = draw_anatomy(anatomy, (height // factor, width // factor), spacing * factor, tuple(crowns), factor, rng)
    apply_exposure_field(low, exposure)
    fluence = cv2.resize(cv2.exp(np.negative(low, out=low)), (width, height), interpolation=cv2.INTER_LINEAR)

    rendered: list[RenderedFixture] = []
    for placement in placements:
        result = render_fixture(fluence, placement, spacing)
        if result is not None:
            rendered.append(result)
            blur_region(fluence, _abutment_box(result, placement, spacing, fluence.shape), exposure.blur_px)
    if exposure.motion is not None:
        fluence = motion_blur(fluence, *exposure.motion)
    pixels = read_out(fluence, exposure, rng)

    truths = [_truth(r, spacing) for r in rendered]
    if patient.jaw == "maxilla":
        pixels, truths = pixels[::-1], [_flip_truth(t, height, vertical=True) for t in truths]
    if patient.mirrored:
        pixels, truths = pixels[:, ::-1], [_flip_truth(t, width, vertical=False) for t in truths]
    return SyntheticImage(np.ascontiguousarray(pixels), spacing, patient.patient_id, patient.jaw, tuple(truths))


def _axis_inside(site: _FixtureSite, shift_x: float, field_w: float) -> bool:
    apex_x = site.x_mm + shift_x + site.length_mm * math.sin(math.radians(site.angle_deg))
    return all(0.0 <= x <= field_w for x in (site.x_mm + shift_x, apex_x))


def _shifted(anatomy: Anatomy, dx: float, dy: float) -> Anatomy:
    return replace(
        anatomy, crest_mm=anatomy.crest_mm + dy, crest_phase=anatomy.crest_phase - dx / 9.0,
        teeth=tuple(replace(t, centre_x_mm=t.centre_x_mm + dx) for t in anatomy.teeth),
        dips=tuple((x + dx, depth) for x, depth in anatomy.dips),
    )


def _crest_at(anatomy: Anatomy, x_mm: float) -> float:
    """The same crest line ``draw_anatomy`` draws, so platforms sit on the bone they were placed in."""
    crest = anatomy.crest_mm + anatomy.crest_wave_mm * math.sin(x_mm / 9.0 + anatomy.crest_phase)
    return crest + sum(depth * math.exp(-((x_mm - x) / 2.5) ** 2) for x, depth in anatomy.dips)


def _abutment_box(result: RenderedFixture, placement: FixturePlacement, spacing: float,
                  shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The fixture box grown to cover what sits on the platform, so both are blurred alike."""
    top_x, top_y = placement.abutment_top_px(spacing)
    reach = placement.diameter_mm / spacing
    x1, y1, x2, y2 = result.box
    return (max(int(min(x1, top_x - reach)), 0), max(int(min(y1, top_y - reach)), 0),
            min(int(max(x2, top_x + reach)) + 1, shape[1]), min(int(max(y2, top_y + reach)) + 1, shape[0]))


def _truth(rendered: RenderedFixture, spacing: float) -> FixtureTruth:
    placement = rendered.placement
    system = placement.system
    # Geometry uses pixel centres at integers; truth uses pixel edges (see the module docstring).
    platform = (placement.platform_px[0] + 0.5, placement.platform_px[1] + 0.5)
    apex_x, apex_y = placement.apex_px(spacing)
    return FixtureTruth(
        system=system.name, box=rendered.box, truncated=rendered.truncated, length_mm=placement.length_mm,
        diameter_mm=placement.diameter_mm, platform_px=platform, apex_px=(apex_x + 0.5, apex_y + 0.5),
        angle_deg=placement.angle_deg, prosthesis=placement.prosthesis,
        parts=tuple(PartTruth(name, system.part_label(name), box, cut) for name, box, cut in rendered.parts),
        mask=rendered.mask, mask_origin=rendered.origin,
    )


def _flip_truth(truth: FixtureTruth, extent: int, vertical: bool) -> FixtureTruth:
    def box(b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return (b[0], extent - b[3], b[2], extent - b[1]) if vertical else (extent - b[2], b[1], extent - b[0], b[3])

    def point(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0], extent - p[1]) if vertical else (extent - p[0], p[1])

    h, w = truth.mask.shape
    x0, y0 = truth.mask_origin
    origin = (x0, extent - y0 - h) if vertical else (extent - x0 - w, y0)
    mask = truth.mask[::-1] if vertical else truth.mask[:, ::-1]
    platform, apex = point(truth.platform_px), point(truth.apex_px)
    return replace(truth, box=box(truth.box), platform_px=platform, apex_px=apex, angle_deg=axis_angle(platform, apex),
                   mask=mask, mask_origin=origin, parts=tuple(replace(p, box=box(p.box)) for p in truth.parts))


def axis_angle(platform: tuple[float, float], apex: tuple[float, float]) -> float:
    """Degrees from the image's downward vertical to the platform-to-apex direction, positive towards +x."""
    return math.degrees(math.atan2(apex[0] - platform[0], apex[1] - platform[1]))
