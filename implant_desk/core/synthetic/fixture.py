"""Implant fixture geometry and its shadow on the sensor.

A fixture is described in its own frame: ``v`` runs along the axis from the platform (v = 0) to the apex
(v = length), ``u`` across it. The outline is a radius profile ``R(v)`` per side; the right side's thread is
half a pitch behind the left one, as a helix projects. Each pixel gets the projected metal thickness
``2 * sqrt(R(v)^2 - u^2)`` minus hollows (connection channel, apical hole, groove), which attenuates the
fluence, so the edges fade the way a cylinder does on film and the centre saturates. An external connection
is a short hexagonal boss standing on the platform (``v`` from ``-hex_mm`` to 0), under whatever sits on it.
The mask of the fixture is where that thickness is positive with ``-hex_mm <= v <= length``, warped with the
same transform as the metal: it defines the truth box, so truth and pixels cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from implant_desk.core.catalogue.systems import PART_NAMES, ImplantSystem

METAL_DENSITY_PER_MM = 0.9  # density units per mm of titanium: 4 mm of metal saturates the sensor
# What sits on the platform at a visit, and how far it reaches above it (a crown's abutment is under the crown).
ABUTMENT_HEIGHT_MM = {"cover-screw": 0.4, "healing-abutment": 3.5, "crown": 5.0}
PROSTHESES = tuple(ABUTMENT_HEIGHT_MM)
# An external hex: its height, and its width across the flats as a fraction of the fixture's diameter.
HEX_HEIGHT_MM = 0.8
HEX_ACROSS_FLATS = 0.66


@dataclass(frozen=True)
class FixturePlacement:
    """One fixture in an image, in full-resolution pixels of the canonical (crowns-up) frame."""

    system: ImplantSystem
    diameter_mm: float
    length_mm: float
    platform_px: tuple[float, float]  # (x, y) centre of the platform
    angle_deg: float  # tilt of the axis from image-vertical; positive leans the apex to the right
    prosthesis: str  # one of PROSTHESES
    abutment_mm: float  # height of what sits on the platform (on the hex, for an external connection)
    groove_side: int  # +1 or -1: which side the apical cutting groove faces

    @property
    def direction(self) -> tuple[float, float]:
        """Unit vector from platform to apex (image y grows downwards)."""
        a = math.radians(self.angle_deg)
        return math.sin(a), math.cos(a)

    def apex_px(self, spacing_mm: float) -> tuple[float, float]:
        dx, dy = self.direction
        length_px = self.length_mm / spacing_mm
        return self.platform_px[0] + dx * length_px, self.platform_px[1] + dy * length_px

    @property
    def hex_mm(self) -> float:
        """Height of the external hex above the platform; 0 for an internal connection."""
        return HEX_HEIGHT_MM if self.system.connection == "external" else 0.0

    def abutment_top_px(self, spacing_mm: float) -> tuple[float, float]:
        dx, dy = self.direction
        up = (self.hex_mm + self.abutment_mm) / spacing_mm
        return self.platform_px[0] - dx * up, self.platform_px[1] - dy * up


@dataclass(frozen=True)
class RenderedFixture:
    placement: FixturePlacement
    box: tuple[int, int, int, int]  # x1, y1, x2, y2: first pixel to last pixel + 1, clipped to the image
    truncated: bool
    parts: tuple[tuple[str, tuple[int, int, int, int], bool], ...]  # (part name, box, truncated)
    # bool, the fixture's pixels inside the ROI (what the truth box is made of); mask[0, 0] is at ``origin``
    mask: np.ndarray = field(compare=False, repr=False)
    origin: tuple[int, int]


def thread_shape(thread: str, phase: np.ndarray) -> np.ndarray:
    """Thread height (0 at the core, 1 at the crest) for a phase in [0, 1) along one pitch."""
    if thread == "V":
        return np.clip(1.3 * (1.0 - np.abs(2.0 * phase - 1.0)), 0.0, 1.0)
    if thread == "square":
        return np.clip((0.25 - np.abs(phase - 0.5)) * 14.0 + 0.5, 0.0, 1.0)
    if thread == "buttress":  # gentle flank towards the apex, flat load flank towards the platform
        return np.clip(1.15 * phase, 0.0, 1.0) * (phase < 0.92)
    if thread == "reverse-buttress":
        return np.clip(1.15 * (1.0 - phase), 0.0, 1.0) * (phase > 0.08)
    raise ValueError(f"unknown thread {thread!r}")


def radius_profiles(placement: FixturePlacement, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right outline radius in mm at axial positions ``v`` (mm, negative above the platform)."""
    system = placement.system
    length, radius = placement.length_mm, placement.diameter_mm / 2
    depth = min(0.09 * placement.diameter_mm, 0.45)
    inside = (v >= 0) & (v <= length)

    outer = np.full_like(v, radius)
    if system.body == "tapered":  # full width over the coronal third, then narrowing to 72 % at the apex
        t = np.clip((v - 0.33 * length) / (0.67 * length), 0.0, 1.0)
        outer = radius * (1.0 - 0.28 * t)
    core = outer - depth

    if system.coronal == "tissue-level":
        collar = 2.2
        neck = radius - 0.5 * depth * np.clip(v / collar, 0.0, 1.0) ** 0.7  # flared polished neck
    else:
        collar = 1.6 if system.microthreads else 0.5
        neck = np.full_like(v, radius - 0.15)
    threaded = v > collar

    envelope = _apex_envelope(system.apex, v, length, float(outer[-1]), float(core[-1]))
    profiles = []
    for shift in (0.0, 0.5):
        phase = np.mod(v / system.pitch_mm + shift, 1.0)
        r = core + depth * thread_shape(system.thread, phase)
        r = np.where(threaded, r, neck)
        if system.microthreads:
            micro = (v > 0.15) & (v <= collar)
            micro_phase = np.mod(v / 0.3 + shift, 1.0)
            r = np.where(micro, radius - 0.12 + 0.12 * thread_shape("V", micro_phase), r)
        r = np.minimum(r, envelope)
        profiles.append(np.where(inside, r, 0.0))
    left, right = profiles

    if system.apical_groove:  # the cutting flute removes the thread on one side of the apical part
        flute = (v > length - 0.3 * length) & inside
        cut = np.minimum(core, envelope)
        if placement.groove_side > 0:
            right = np.where(flute, np.minimum(right, cut), right)
        else:
            left = np.where(flute, np.minimum(left, cut), left)

    hex_top = -placement.hex_mm
    above = (v < hex_top) & (v >= hex_top - placement.abutment_mm)
    abutment = _abutment_radius(placement, hex_top - v)
    hex_boss = (v < 0) & (v >= hex_top)
    left = np.where(above, abutment, np.where(hex_boss, _hex_corner_mm(placement), left))
    right = np.where(above, abutment, np.where(hex_boss, _hex_corner_mm(placement), right))
    return left.astype(np.float32), right.astype(np.float32)


def _apex_envelope(apex: str, v: np.ndarray, length: float, outer: float, core: float) -> np.ndarray:
    """Largest radius the apex shape allows; ``outer`` and ``core`` are the thread and core radii there."""
    to_end = np.maximum(length - v, 0.0)
    if apex == "flat":  # a short chamfer onto a flat end
        return core * 0.85 + to_end * 1.5
    if apex == "round":  # a half-ellipsoid dome over the last 1.6 mm
        cap = 1.6
        dome = outer * np.sqrt(np.clip(1.0 - ((cap - to_end) / cap) ** 2, 0.0, None))
        return np.where(to_end >= cap, np.inf, dome)
    if apex == "pointed":  # a cone over the last 2.2 mm
        return 0.2 + to_end * (outer - 0.2) / 2.2
    raise ValueError(f"unknown apex {apex!r}")


def _abutment_radius(placement: FixturePlacement, height: np.ndarray) -> np.ndarray:
    radius = placement.diameter_mm / 2
    if placement.prosthesis == "cover-screw":
        return np.full_like(height, radius * 0.8)
    if placement.prosthesis == "healing-abutment":
        return radius * (0.8 + 0.15 * np.clip(height / 1.5, 0.0, 1.0))
    # crown abutment: a collar, then a post that tapers towards the occlusal side
    return radius * np.where(height < 1.2, 0.85, 0.85 - 0.25 * np.clip((height - 1.2) / 4.0, 0.0, 1.0))


def render_fixture(fluence: np.ndarray, placement: FixturePlacement, spacing_mm: float) -> RenderedFixture | None:
    """Attenuate ``fluence`` (the transmitted fraction) by the fixture and what sits on it, in place; None
    when it lies outside the image.

    It is drawn upright in a small patch (rows along the axis, one pixel per ``spacing_mm``), where the profile
    and the hollows are cheap row and column operations, then rotated into place by one affine warp.
    """
    radius = placement.diameter_mm / 2
    first = -math.ceil((placement.hex_mm + placement.abutment_mm) / spacing_mm) - 2  # row -first is v = 0
    v = np.arange(first, math.ceil(placement.length_mm / spacing_mm) + 3) * spacing_mm
    columns = int(math.ceil(2 * radius / spacing_mm)) + 5
    centre = (columns - 1) / 2
    u = ((np.arange(columns) - centre) * spacing_mm).astype(np.float32)

    left, right = radius_profiles(placement, v)
    # Each edge follows its own side's thread; the two blend across the middle so the chord has no seam.
    towards_right = np.clip(0.5 + u / (0.8 * radius), 0.0, 1.0)
    r = left[:, None] + towards_right[None, :] * (right - left)[:, None]
    thickness = np.square(r, out=r)
    thickness -= u * u
    np.maximum(thickness, 0.0, out=thickness)
    np.sqrt(thickness, out=thickness)
    thickness *= 2.0
    if placement.hex_mm:
        _shape_hex(thickness, placement, u, v)
    third = np.clip(np.floor(v * 3 / placement.length_mm), 0, 2).astype(np.uint8) + 1  # the hex is coronal
    third[(v < -placement.hex_mm) | (v > placement.length_mm)] = 0
    labels = (thickness > 0) * third[:, None]  # 1..3: the fixture's thirds, 0 elsewhere
    _subtract_hollows(thickness, placement, u, v)
    thickness *= -METAL_DENSITY_PER_MM
    transmitted = cv2.exp(thickness)

    # Inverse map: image pixel (x, y) -> patch (column, row).
    px, py = placement.platform_px
    dx, dy = placement.direction
    height, width = fluence.shape
    corners = [(px + dx * (row + first) + dy * (col - centre), py + dy * (row + first) - dx * (col - centre))
               for row in (0, v.size) for col in (0, columns)]
    x0 = max(int(math.floor(min(c[0] for c in corners))) - 1, 0)
    x1 = min(int(math.ceil(max(c[0] for c in corners))) + 2, width)
    y0 = max(int(math.floor(min(c[1] for c in corners))) - 1, 0)
    y1 = min(int(math.ceil(max(c[1] for c in corners))) + 2, height)
    if x0 >= x1 or y0 >= y1:
        return None
    ox, oy = x0 - px, y0 - py
    to_patch = np.array([[dy, -dx, centre + ox * dy - oy * dx],
                         [dx, dy, -first + ox * dx + oy * dy]], dtype=np.float64)
    size = (x1 - x0, y1 - y0)
    inverse = cv2.WARP_INVERSE_MAP
    metal = cv2.warpAffine(transmitted, to_patch, size, flags=cv2.INTER_LINEAR | inverse, borderValue=1.0)
    parts_map = cv2.warpAffine(labels, to_patch, size, flags=cv2.INTER_NEAREST | inverse, borderValue=0)
    fluence[y0:y1, x0:x1] *= metal

    mask = parts_map > 0
    box = _tight_box(mask, x0, y0)
    if box is None:
        return None
    clipped = (x0 == 0, y0 == 0, x1 == width, y1 == height)
    parts = []
    for k, name in enumerate(PART_NAMES, start=1):
        part_mask = parts_map == k
        part_box = _tight_box(part_mask, x0, y0)
        if part_box is not None:
            parts.append((name, part_box, _touches_clipped_edge(part_mask, clipped)))
    return RenderedFixture(placement, box, _touches_clipped_edge(mask, clipped), tuple(parts), mask, (x0, y0))


def _shape_hex(thickness: np.ndarray, placement: FixturePlacement, u: np.ndarray, v: np.ndarray) -> None:
    """The hex boss's rows: the chord of a hexagon seen with a corner to each side (flat-topped in the middle,
    falling straight to the corners), not the round chord of a cylinder that an abutment has."""
    rows = (v < 0) & (v >= -placement.hex_mm)
    corner = _hex_corner_mm(placement)
    chord = np.clip(np.minimum(math.sqrt(3) * corner, 2 * math.sqrt(3) * (corner - np.abs(u))), 0.0, None)
    thickness[rows] = chord


def _hex_corner_mm(placement: FixturePlacement) -> float:
    """Half the hex's width across its corners."""
    return HEX_ACROSS_FLATS * placement.diameter_mm / math.sqrt(3)


def _subtract_hollows(thickness: np.ndarray, placement: FixturePlacement, u: np.ndarray, v: np.ndarray) -> None:
    """Remove the metal that is not there: connection channel, apical hole, cutting groove (rows touched only)."""
    system = placement.system
    radius = placement.diameter_mm / 2
    length = placement.length_mm

    def rows(v_from: float, v_to: float) -> slice:
        return slice(int(np.searchsorted(v, v_from)), int(np.searchsorted(v, v_to, side="right")))

    if system.connection == "internal":  # a conical channel below the platform, partly filled by a screw
        depth = 0.6 * radius + 1.8
        band = rows(-0.05, depth)
        vv = v[band, None]
        channel_r = np.clip(0.42 * radius * (1.0 - 0.35 * vv / depth), 0.0, None)
        fill = 0.45 if placement.prosthesis == "cover-screw" else 0.7
    else:  # external: a narrow, straight screw hole from the top of the hex, deeper, the screw filling most of it
        band = rows(-placement.hex_mm - 0.05, 0.6 * radius + 2.4)
        channel_r = np.full((band.stop - band.start, 1), 0.26 * radius)
        fill = 0.6
    thickness[band] -= (1 - fill) * 2 * np.sqrt(np.maximum(channel_r ** 2 - u * u, 0.0))

    if system.apical_hole != "none":
        centre = length - max(1.7, 0.17 * length)
        stretch = 1.0 if system.apical_hole == "round" else 2.2
        hole_r = 0.22 * radius
        band = rows(centre - hole_r * stretch, centre + hole_r * stretch)
        inside = (u / hole_r) ** 2 + ((v[band, None] - centre) / (hole_r * stretch)) ** 2 < 1.0
        thickness[band] -= np.where(inside, 1.3 * radius, 0.0)  # a vent hole, seen slightly obliquely
    if system.apical_groove:
        side_u = u * placement.groove_side
        band = rows(length - 0.3 * length, length)
        flute = (side_u > 0.15 * radius) & (np.abs(v[band, None] - (length - 1.6) - 0.5 * side_u) < 0.35)
        thickness[band] -= np.where(flute, 0.6 * radius, 0.0)
    np.maximum(thickness, 0.0, out=thickness)


def _tight_box(mask: np.ndarray, x0: int, y0: int) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1


def _touches_clipped_edge(mask: np.ndarray, clipped: tuple[bool, bool, bool, bool]) -> bool:
    left, top, right, bottom = clipped
    return bool((left and mask[:, 0].any()) or (top and mask[0, :].any())
                or (right and mask[:, -1].any()) or (bottom and mask[-1, :].any()))
