"""Soft tissue, alveolar bone with trabecular texture, canal or sinus floor, natural teeth and the crowns on
implants, as a low-resolution density map.

Everything here is smooth at the pixel scale, so it is drawn at a fraction of the final resolution (the
generator upsamples it) in the canonical frame: crowns up, the alveolar crest across the image, roots and
fixtures going down. Densities are in the same units as the metal (see ``fixture.METAL_DENSITY_PER_MM``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from implant_desk.core.synthetic.noise import normal_field

ENAMEL, DENTIN, PULP = 1.5, 1.0, 0.6
RESTORATION = 2.3  # an amalgam filling: nearly as opaque as the titanium


@dataclass(frozen=True)
class Tooth:
    centre_x_mm: float
    width_mm: float  # mesio-distal crown width
    crown_mm: float
    root_mm: float
    roots: int  # 1 or 2
    tilt_deg: float
    filling: bool


@dataclass(frozen=True)
class ImplantCrown:
    """The prosthetic crown on an implant: centre of its cervical end, axis angle, size, material density."""

    base_px: tuple[float, float]  # full-resolution pixels
    angle_deg: float
    width_mm: float
    height_mm: float
    density: float


@dataclass(frozen=True)
class Landmark:
    """The mandibular canal (a dark band between thin bright walls) or the floor of the maxillary sinus (a
    bright line with air beyond it), running roughly along the crest at ``depth_mm`` below it."""

    kind: str  # "canal" or "sinus"
    depth_mm: float
    slope: float  # mm of depth per mm across the image
    width_mm: float  # the canal's diameter


@dataclass(frozen=True)
class Anatomy:
    crest_mm: float  # depth of the alveolar crest below the top edge
    crest_wave_mm: float
    crest_phase: float
    bone_density: float  # 0.4 (soft maxilla) .. 0.8 (dense mandible)
    trabecular_mm: float  # typical spacing of trabeculae
    soft_tissue: float
    teeth: tuple[Tooth, ...]
    dips: tuple[tuple[float, float], ...]  # (x_mm, depth_mm): crestal bone remodelled around fixtures
    landmark: Landmark | None


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: float) -> np.ndarray:
    """Zero-mean, unit-ish noise varying over about ``cells`` pixels, made small and upsampled (cheap)."""
    h, w = shape
    small = rng.standard_normal((max(2, int(h / cells) + 2), max(2, int(w / cells) + 2)), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def trabecular_texture(rng: np.random.Generator, shape: tuple[int, int], period_px: float) -> np.ndarray:
    """Mottled cancellous bone, about [0, 1], with trabeculae every ``period_px`` pixels.

    Made from a fixed bank of large texture tiles (a random crop, flipped or turned, rescaled to the period):
    drawing a fresh band-passed field per image would cost more than the rest of the anatomy together.
    """
    h, w = shape
    bank = _texture_bank()
    tile = bank[int(rng.integers(len(bank)))]
    scale = period_px / BANK_PERIOD_PX
    turned = bool(rng.random() < 0.5)
    src_h, src_w = (w, h) if turned else (h, w)
    src_h, src_w = min(int(src_h / scale) + 2, BANK_SIZE), min(int(src_w / scale) + 2, BANK_SIZE)
    top = int(rng.integers(BANK_SIZE - src_h + 1))
    left = int(rng.integers(BANK_SIZE - src_w + 1))
    crop = tile[top:top + src_h, left:left + src_w]
    crop = crop[:: 1 if rng.random() < 0.5 else -1, :: 1 if rng.random() < 0.5 else -1]
    if turned:
        crop = crop.T
    return cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=cv2.INTER_LINEAR)


BANK_PERIOD_PX = 8.0
BANK_SIZE = 1024


@functools.lru_cache(maxsize=1)
def _texture_bank() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(3141)  # fixed: the bank is part of the generator, like its code
    return tuple(_band_passed_bone(rng, (BANK_SIZE, BANK_SIZE), BANK_PERIOD_PX) for _ in range(3))


def _band_passed_bone(rng: np.random.Generator, shape: tuple[int, int], period_px: float) -> np.ndarray:
    """Dark marrow spaces of mixed sizes (a thresholded band of noise) between finer bright struts."""
    h, w = shape
    fine = cv2.GaussianBlur(normal_field(rng, shape), (0, 0), max(period_px / 9.0, 0.5))
    mid = cv2.GaussianBlur(fine, (0, 0), max(period_px / 5.0, 0.8))
    # The wide blur runs on a quarter-size copy, where its kernel is four times shorter.
    small = cv2.resize(mid, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(cv2.GaussianBlur(small, (0, 0), max(period_px / 6.0, 0.5)), (w, h),
                        interpolation=cv2.INTER_LINEAR)
    spaces = mid - coarse
    spaces *= 1.0 / (float(np.std(spaces[::4, ::4])) + 1e-6)
    struts = fine - mid
    struts *= 1.0 / (float(np.std(struts[::4, ::4])) + 1e-6)
    marrow = 1.0 / (1.0 + cv2.exp(np.clip((0.3 - spaces) / 0.25, -30, 30)))
    return (1.0 - 0.7 * marrow + 0.2 * struts).astype(np.float32)


def draw_anatomy(anatomy: Anatomy, shape: tuple[int, int], spacing_mm: float, crowns: tuple[ImplantCrown, ...],
                 factor: int, rng: np.random.Generator) -> np.ndarray:
    """Density map at ``shape`` (the low resolution); ``spacing_mm`` is the low-resolution pixel size."""
    h, w = shape
    x_mm = np.arange(w, dtype=np.float32) * spacing_mm
    y_mm = np.arange(h, dtype=np.float32)[:, None] * spacing_mm

    crest = anatomy.crest_mm + anatomy.crest_wave_mm * np.sin(x_mm / 9.0 + anatomy.crest_phase)
    for x_dip, depth in anatomy.dips:
        crest = crest + depth * np.exp(-((x_mm - x_dip) / 2.5) ** 2)
    below = (y_mm - crest[None, :]) / 0.25
    bone_mask = 1.0 / (1.0 + cv2.exp(-np.clip(below, -30, 30)))  # soft crest edge

    density = anatomy.soft_tissue + 0.12 * smooth_noise(rng, shape, 120 / factor)
    occlusal = anatomy.crest_mm - 9.5  # above the crowns: air and tongue, lighter
    density -= 0.18 / (1.0 + np.exp(np.clip((y_mm - occlusal) / 0.8, -30, 30)))

    texture = trabecular_texture(rng, shape, anatomy.trabecular_mm / spacing_mm)
    deeper = np.clip((y_mm - crest[None, :]) / 15.0, 0.0, 1.0)
    bone = anatomy.bone_density * (0.55 + 0.45 * texture) * (0.85 + 0.3 * deeper)
    bone += 0.25 * cv2.exp(np.clip(below, 0, None) * (-1 / 2.4)) * bone_mask  # cortical crest
    bone *= 1.0 + 0.15 * smooth_noise(rng, shape, 60 / factor)
    density += bone * bone_mask
    if anatomy.landmark is not None:
        _add_landmark(density, anatomy.landmark, anatomy, x_mm, spacing_mm)

    for tooth in anatomy.teeth:
        _add_tooth(density, tooth, anatomy.crest_mm, spacing_mm)
    for crown in crowns:
        _add_implant_crown(density, crown, spacing_mm, factor)
    return density.astype(np.float32, copy=False)


def _crown_outline(half: float, height: float, inset_side: float, inset_top: float) -> list[tuple[float, float]]:
    """Crown silhouette above the cervical line (y = 0, crown towards -y): narrow neck, bulging contact
    areas, a domed occlusal surface with a central fissure; ``inset_*`` shrink it into the dentin."""
    tall = height - inset_top
    left, right = [], []
    for h in np.linspace(0.0, 0.85, 12):
        width = half * (0.74 + 0.26 * math.sin(min(h / 0.5, 1.0) * math.pi / 2))
        if h > 0.7:
            width *= math.sqrt(max(1.0 - ((h - 0.7) / 0.3) ** 2, 0.0)) * 0.45 + 0.55
        width = max(width - inset_side, 0.2)
        left.append((-width, -h * tall))
        right.append((width, -h * tall))
    edge = right[-1][0]
    top = [(x, -0.85 * tall - 0.15 * tall * math.sqrt(max(1 - (x / edge) ** 2, 0.0))
            * (1 - 0.35 * math.exp(-(x / (0.15 * edge)) ** 2))) for x in np.linspace(-edge, edge, 23)[1:-1]]
    return left + top + right[::-1]


def _add_tooth(density: np.ndarray, tooth: Tooth, crest_mm: float, spacing: float) -> None:
    cej_y = crest_mm - 1.5
    half = tooth.width_mm / 2
    crown = _crown_outline(half, tooth.crown_mm, 0.0, 0.0)
    dentin_core = _crown_outline(half, tooth.crown_mm, 0.7, 1.6)
    pulp_chamber = [(x * 0.3, y * 0.35 + 0.3) for x, y in _crown_outline(half, tooth.crown_mm, 0.0, 0.0)]
    roots, canals = [], []
    centres = (0.0,) if tooth.roots == 1 else (-half * 0.4, half * 0.4)
    root_half = half * (0.74 if tooth.roots == 1 else 0.38)
    s = np.linspace(0, 1, 12)
    for c in centres:
        length = tooth.root_mm * (1.0 if c <= 0 else 0.93)
        bend = 0.6 * math.copysign(1.0, c) if c else 0.0  # molar roots splay a little
        left = [(c + bend * si ** 2 - root_half * (1 - si ** 1.7 * 0.85), si * length) for si in s]
        right = [(c + bend * si ** 2 + root_half * (1 - si ** 1.7 * 0.85), si * length) for si in s[::-1]]
        roots.append([(-root_half if c == 0 else c - root_half, -0.5)] + left + right + [(c + root_half, -0.5)])
        canal = 0.22 * (1.0 if tooth.roots == 1 else 0.75)
        canals.append([(c + bend * si ** 2 - canal * (1 - 0.8 * si), si * length * 0.96 - 0.3) for si in s]
                      + [(c + bend * si ** 2 + canal * (1 - 0.8 * si), si * length * 0.96 - 0.3) for si in s[::-1]])

    a = math.radians(tooth.tilt_deg)
    cos_a, sin_a = math.cos(a), math.sin(a)

    def to_px(points):
        return np.array([[(tooth.centre_x_mm + x * cos_a - y * sin_a) / spacing,
                          (cej_y + x * sin_a + y * cos_a) / spacing] for x, y in points], dtype=np.float32)

    layers = [(to_px(crown), ENAMEL), *[(to_px(r), DENTIN) for r in roots], (to_px(dentin_core), DENTIN),
              (to_px(pulp_chamber), PULP), *[(to_px(c), PULP) for c in canals]]
    every = np.concatenate([p for p, _ in layers])
    pad = 6
    x0, y0 = np.floor(every.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(every.max(axis=0)).astype(int) + pad
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    scale = 100.0
    for points, value in layers:  # each layer overwrites the one below, as enamel caps dentin caps pulp
        cv2.fillPoly(canvas, [np.round((points - (x0, y0)) * 16).astype(np.int32)], int(value * scale),
                     lineType=cv2.LINE_AA, shift=4)
    if tooth.filling:
        centre = to_px([(0.0, -tooth.crown_mm * 0.8)])[0] - (x0, y0)
        axes = (int(half * 0.35 / spacing), int(tooth.crown_mm * 0.16 / spacing))
        cv2.ellipse(canvas, (int(centre[0]), int(centre[1])), axes, tooth.tilt_deg, 0, 360,
                    int(RESTORATION * scale), -1, cv2.LINE_AA)
    solid = (canvas > 0).astype(np.uint8)
    # A tooth is round in cross-section: thinner, so darker, towards its outline.
    inner = cv2.distanceTransform(solid, cv2.DIST_L2, 3)
    shade = np.sqrt(np.minimum(inner * (spacing / (0.3 * half)), 1.0))
    tooth_density = canvas.astype(np.float32) * (1.0 / scale) * (0.4 + 0.6 * shade)
    # Around the root, inside the bone: the dark ligament space, then the bright lamina dura.
    near = cv2.dilate(solid, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    far = cv2.dilate(near, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    root = slice(max(int(cej_y / spacing) - y0 + 2, 0), None)
    tooth_density[root] += 0.12 * (far[root] - near[root]) - 0.14 * (near[root] - solid[root])
    tooth_density = cv2.GaussianBlur(tooth_density, (0, 0), 0.8)
    _add_clipped(density, tooth_density, x0, y0)


def _add_implant_crown(density: np.ndarray, crown: ImplantCrown, spacing: float, factor: int) -> None:
    outline = _crown_outline(crown.width_mm / 2, crown.height_mm, 0.0, 0.0)
    a = math.radians(crown.angle_deg)
    bx, by = crown.base_px[0] / factor, crown.base_px[1] / factor
    # Local -y points away from the apex: rotate with the fixture's axis (platform-to-apex along local +y).
    points = np.array([[bx + (x * math.cos(a) + y * math.sin(a)) / spacing,
                        by + (-x * math.sin(a) + y * math.cos(a)) / spacing] for x, y in outline], dtype=np.float32)
    pad = 3
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(canvas, [np.round((points - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    inner = cv2.distanceTransform((canvas > 0).astype(np.uint8), cv2.DIST_L2, 3)
    shade = np.sqrt(np.minimum(inner * (spacing / (0.15 * crown.width_mm)), 1.0))
    _add_clipped(density, canvas.astype(np.float32) * (crown.density / 255.0) * (0.5 + 0.5 * shade), x0, y0)


def _add_landmark(density: np.ndarray, landmark: Landmark, anatomy: Anatomy, x_mm: np.ndarray,
                  spacing: float) -> None:
    centre = anatomy.crest_mm + landmark.depth_mm + landmark.slope * x_mm + 0.8 * np.sin(x_mm / 7.0)
    reach = landmark.width_mm / 2 + 1.0
    first = max(int((centre.min() - reach) / spacing), 0)
    last = density.shape[0] if landmark.kind == "sinus" else min(int((centre.max() + reach) / spacing) + 1,
                                                                  density.shape[0])
    if first >= last:
        return
    offset = (np.arange(first, last, dtype=np.float32)[:, None] * spacing) - centre[None, :]
    if landmark.kind == "canal":
        half = landmark.width_mm / 2
        lumen = cv2.exp(-((offset / half) ** 4))
        wall = cv2.exp(-(((np.abs(offset) - half) / 0.2) ** 2))
        change = anatomy.bone_density * (0.3 * wall - 0.45 * lumen)
    else:
        air = 1.0 / (1.0 + cv2.exp(np.clip(-offset / 0.2, -30, 30)))
        wall = cv2.exp(-((offset / 0.25) ** 2))
        change = 0.25 * wall - 0.6 * anatomy.bone_density * air
    density[first:last] += change


def _add_clipped(target: np.ndarray, patch: np.ndarray, x0: int, y0: int) -> None:
    h, w = target.shape
    tx0, ty0 = max(x0, 0), max(y0, 0)
    tx1, ty1 = min(x0 + patch.shape[1], w), min(y0 + patch.shape[0], h)
    if tx0 < tx1 and ty0 < ty1:
        target[ty0:ty1, tx0:tx1] += patch[ty0 - y0:ty1 - y0, tx0 - x0:tx1 - x0]
