"""Length and diameter of an implant fixture along its own axis, from its radiopaque outline.

A box says where the fixture is, not how big it is (a fixture tilted by 25 degrees has a box diagonal far
longer than the fixture). So the fixture is segmented inside a slightly enlarged box, its long axis found
from the outline, and sizes are read along and across that axis. All geometry is done in millimetre space,
so rows and columns may have different spacings.

The outline is read as a profile: for each thin slice across the axis, the radius on each side. From it:

- the platform (coronal end). Whatever sits on the fixture is as radiopaque as the fixture and touches it:
  a cover screw or abutment is narrower than the platform, a crown much wider. The platform is where both
  sides step in together onto a plateau (threads never do that: the two sides of a helix are half a pitch
  apart) or, failing that, where a crown begins. The end with such an attachment is the coronal end; with
  none (or with something at both ends), the apex is the end that narrows (rounded, pointed or chamfered
  apex, tapered body).
- the diameter. The labelled size of a threaded implant is its OUTER thread diameter at its widest, so the
  diameter is the crest envelope of each side (a running maximum over about a thread pitch), summed, read
  over the coronal half of the body, where even a tapered body has its full width.

Measured on generated periapicals (benchmarks/bench_measure_explain.py): length and diameter within 5 % of
the truth for about 99 % of fixtures not cut by the image edge, median error under 1 %. Known misses: a
cone-cut edge or a neighbour's crown that touches the fixture's coronal end reads as its crown or abutment;
the faint last few tenths of a mm of a pointed apex beyond an apical hole are lost (a length up to ~5 %
short). Real abutments wider than the platform but not much wider than the fixture would be taken as part
of it. A fixture cut by the image edge is flagged ``truncated``: its length is then a lower bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# The box is enlarged by this fraction of its size on every side: detector boxes can be a little tight,
# and the start of what sits on the platform must be in view to find the platform.
BOX_MARGIN_FRACTION = 0.1
BOX_MARGIN_MIN_PX = 4
# The outline is drawn this fraction of the way from the surrounding bone to the metal (see _segment).
EDGE_FRACTION = 0.25
# The bone level is estimated around the metal on a grid of 4 px cells, leaving out the cells within a
# cell of the metal (its faded edge), over about 12 px.
BACKGROUND_SIGMA_PX = 12
BACKGROUND_SHRINK = 4
_COARSE_EDGE = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
MIN_CONTRAST_SIGMAS = 6  # the metal must stand this many noise deviations above the bone
_SPECK = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

# Lengths along the axis, as fractions of the body width B (a scale-free unit: spacing may be unknown).
PITCH_WINDOW = 0.45  # at least one thread pitch (pitches are 0.16-0.4 of the diameter)
STEP_SPAN = 0.05  # a step onto an attachment happens within this length (a blurred edge)
PLATEAU = 0.05  # ... and is followed by a plateau at least this long (a cover screw is short)
STEP_DEPTH = 0.04  # each side steps in by at least this much
STEP_DEPTH_UNDER_CROWN = 0.02  # the collar between platform and crown is short and shallow
CROWN_FLARE = 0.05  # a side flaring out this much past its recent thread crests is a crown
CROWN_SEARCH = 0.2  # the platform lies at most this far before the crown
DIAMETER_FROM, DIAMETER_TO = 0.1, 0.55  # where the diameter is read, as fractions of the length from the platform
DIAMETER_PERCENTILE = 90
STRAY_CREST = 0.05  # a crest this far beyond the typical crest is something else touching the fixture


@dataclass(frozen=True)
class FixtureAxis:
    """The fixture's long axis in image pixels (x, y), in box coordinates (pixel i covers [i, i + 1))."""

    apex: tuple[float, float]
    platform: tuple[float, float]  # centre of the coronal end
    # Degrees from the image's downward vertical to the platform-to-apex direction, positive towards +x
    # (about 0 for a mandibular fixture, about 180 for a maxillary one), measured in mm space.
    angle_deg: float


@dataclass(frozen=True)
class FixtureMeasurement:
    length_mm: float | None  # None when the pixel spacing is unknown
    diameter_mm: float | None
    length_px: float  # apex to platform, in image pixels
    diameter_px: float  # across the axis, in image pixels
    axis: FixtureAxis
    truncated: bool  # the fixture touches the image edge: its length is a lower bound
    outline: np.ndarray | None = None  # (N, 2) float32 (x, y) image px: the fixture's outline, attachments cut off


def measure_fixture(
    pixels: np.ndarray,
    box: tuple[float, float, float, float],
    spacing_mm: tuple[float, float] | None,
    *,
    inverted: bool = False,
) -> FixtureMeasurement:
    """Measure the fixture inside ``box`` (xmin, ymin, xmax, ymax in image px, pixel i covering [i, i + 1)).

    ``pixels`` are the native grey (or RGB) pixels; ``inverted`` is True when radiopaque is dark
    (MONOCHROME1). ``spacing_mm`` is (row, column) in mm, or None: then only pixel sizes are given.
    Pure numpy/OpenCV, a few ms per fixture. Raises ValueError when no radiopaque fixture stands out in
    the box (a false detection): callers then show no size.
    """
    crop, (x0, y0) = _crop(pixels, box)
    contour = _fixture_contour(_segment(crop, inverted), box, (x0, y0))
    # Where the outline runs along the crop's border, the region goes on out of view (an abutment).
    clipped = (contour.min(axis=1) <= 0) | (contour[:, 0] >= crop.shape[1] - 1) | (contour[:, 1] >= crop.shape[0] - 1)
    row_mm, col_mm = spacing_mm if spacing_mm is not None else (1.0, 1.0)
    # Pixel centres sit at +0.5: coordinates are pixel edges, as in boxes (pixel i covers [i, i + 1)).
    points = contour.astype(np.float64) + (x0 + 0.5, y0 + 0.5)
    metric = points * (col_mm, row_mm)  # x, y in mm (or px when the spacing is unknown)

    centre, along = _principal_axis(metric)
    profile, ends = _profile_and_ends(metric, clipped, centre, along, row_mm, col_mm)
    # Refit the axis on the fixture alone (a crown in view pulls the moment axis), then read again.
    centre, along = _straightened_axis(profile, *ends, centre, along)
    profile, (platform_u, apex_u) = _profile_and_ends(metric, clipped, centre, along, row_mm, col_mm)
    across = np.array([-along[1], along[0]])
    step_u = _pixel_footprint(along, row_mm, col_mm)

    length = abs(apex_u - platform_u) + step_u
    diameter = _outer_diameter(profile, platform_u, apex_u) + _pixel_footprint(across, row_mm, col_mm)
    px_per_metric = np.array([1.0 / col_mm, 1.0 / row_mm])
    platform_px = (centre + along * platform_u) * px_per_metric
    apex_px = (centre + along * apex_u) * px_per_metric
    towards_apex = along if apex_u > platform_u else -along
    low, high = min(platform_u, apex_u), max(platform_u, apex_u)
    in_fixture = (profile.u >= low - step_u) & (profile.u <= high + step_u)

    known = spacing_mm is not None
    return FixtureMeasurement(
        length_mm=float(length) if known else None,
        diameter_mm=float(diameter) if known else None,
        length_px=float(length * np.hypot(*(along * px_per_metric))),
        diameter_px=float(diameter * np.hypot(*(across * px_per_metric))),
        axis=FixtureAxis(
            apex=(float(apex_px[0]), float(apex_px[1])),
            platform=(float(platform_px[0]), float(platform_px[1])),
            angle_deg=math.degrees(math.atan2(towards_apex[0], towards_apex[1])),
        ),
        truncated=_touches_edge(points[in_fixture], pixels.shape[:2]),
        outline=points[in_fixture].astype(np.float32),
    )


def _crop(pixels: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, tuple[int, int]]:
    """The enlarged box as grey (native dtype; RGB averaged), and its top-left corner in image px."""
    height, width = pixels.shape[:2]
    xmin, ymin, xmax, ymax = box
    margin_x = max(BOX_MARGIN_MIN_PX, BOX_MARGIN_FRACTION * (xmax - xmin))
    margin_y = max(BOX_MARGIN_MIN_PX, BOX_MARGIN_FRACTION * (ymax - ymin))
    x0 = max(0, int(math.floor(xmin - margin_x)))
    y0 = max(0, int(math.floor(ymin - margin_y)))
    x1 = min(width, int(math.ceil(xmax + margin_x)) + 1)
    y1 = min(height, int(math.ceil(ymax + margin_y)) + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise ValueError(f"the box {box} lies outside the {width}x{height} image or is too small to measure")
    crop = pixels[y0:y1, x0:x1]
    if crop.ndim == 3:
        crop = crop.mean(axis=2, dtype=np.float32)
    return crop, (x0, y0)


def _segment(crop: np.ndarray, inverted: bool) -> np.ndarray:
    """Radiopaque pixels of the crop as a uint8 mask (0/255); ``inverted``: radiopaque is dark.

    A fixture is a cylinder: its projected thickness, hence its brightness, falls to zero only at the
    true edge, steeply. Thresholding half-way between metal and bone would cut the edge several pixels
    inside (a diameter 5-9 % short), so Otsu only finds the metal roughly; the threshold is then set a
    quarter of the way from the LOCAL bone level to the metal (bone brightness varies across a crop, and
    a bright patch beside the fixture must not join it).
    """
    low, high = np.percentile(crop[::3, ::3], (0.5, 99.5))  # a sample is plenty for a display range
    if high - low <= 0:
        raise ValueError("the box holds no contrast: no radiopaque fixture to measure")
    # To 8 bits in one pass, radiopaque bright: |alpha * value + beta| saturated. The abs folds the
    # 0.5 % of values beyond the range onto its dark end, where they cannot matter.
    gain = 255.0 / (high - low)
    alpha, beta = (-gain, high * gain) if inverted else (gain, -low * gain)
    # A light blur keeps sensor noise from fraying the edge into specks.
    smooth = cv2.GaussianBlur(cv2.convertScaleAbs(crop, alpha=alpha, beta=beta), (5, 5), 0)
    _, rough = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if not rough.any() or rough.all():
        raise ValueError("the box holds no contrast: no radiopaque fixture to measure")
    metal = _median(smooth, rough)
    bone = _local_background(smooth, rough)
    if not _stands_out(smooth, rough, bone, metal):
        raise ValueError("nothing in the box stands out from the noise: no radiopaque fixture to measure")
    threshold = bone + np.float32(EDGE_FRACTION) * (np.float32(metal) - bone)
    mask = cv2.compare(smooth, cv2.convertScaleAbs(threshold), cv2.CMP_GT)
    # So low a threshold also catches bright specks of trabecular bone touching the edge: cut them off.
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, _SPECK)


def _stands_out(smooth: np.ndarray, rough: np.ndarray, bone: np.ndarray, metal: float) -> bool:
    """Is the metal brighter than the bone around it by many times the bone's own noise and texture?

    Otsu splits even pure noise in two; a fixture's contrast is tens of noise deviations.
    """
    sample = (slice(None, None, 3), slice(None, None, 3))  # robust statistics need no more than a sample
    smooth, rough, bone = smooth[sample], rough[sample], bone[sample]
    residual = (smooth.astype(np.float32) - bone)[rough == 0]
    if residual.size == 0:
        return True
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual)))) + 1.0  # robust sigma, >= 1 level
    contrast = metal - float(np.median(bone[rough > 0]))
    return contrast > MIN_CONTRAST_SIGMAS * spread


def _local_background(smooth: np.ndarray, rough: np.ndarray) -> np.ndarray:
    """The bone level around the metal, as a smooth float32 map (normalised convolution on a coarse grid).

    Coarse cells touching the metal or its faded edge are left out; every other cell votes for its
    neighbourhood.
    """
    height, width = smooth.shape
    coarse = (max(width // BACKGROUND_SHRINK, 1), max(height // BACKGROUND_SHRINK, 1))
    metal = cv2.dilate(cv2.resize(rough, coarse, interpolation=cv2.INTER_AREA), _COARSE_EDGE)
    weight = (metal == 0).astype(np.float32)
    if not weight.any():  # no clear bone anywhere (scattered bright specks): one level for all
        return np.full(smooth.shape, _median(smooth, cv2.bitwise_not(rough)), dtype=np.float32)
    values = cv2.resize(smooth, coarse, interpolation=cv2.INTER_AREA).astype(np.float32) * weight
    sigma = BACKGROUND_SIGMA_PX / BACKGROUND_SHRINK
    weight = cv2.GaussianBlur(weight, (0, 0), sigma)
    values = cv2.GaussianBlur(values, (0, 0), sigma)
    fallback = float(values.sum() / weight.sum())
    background = np.where(weight > 1e-3, values / np.maximum(weight, 1e-3), fallback).astype(np.float32)
    return cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)


def _median(image: np.ndarray, mask: np.ndarray) -> float:
    """Median of the uint8 pixels under a non-empty mask, from their histogram (no sorting)."""
    counts = cv2.calcHist([image], [0], mask, [256], [0, 256]).ravel()
    cumulative = np.cumsum(counts)
    return float(np.searchsorted(cumulative, cumulative[-1] / 2))


def _fixture_contour(mask: np.ndarray, box: tuple[float, float, float, float], origin: tuple[int, int]) -> np.ndarray:
    """The outer outline (N, 2 int, crop px) of the largest radiopaque region overlapping the box.

    Only the outer contour is kept, which fills the apical hole and other holes for free.
    """
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    xmin, ymin, xmax, ymax = (box[0] - origin[0], box[1] - origin[1], box[2] - origin[0], box[3] - origin[1])
    best, best_area = None, 0.0
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if x > xmax or y > ymax or x + w < xmin or y + h < ymin:
            continue
        area = cv2.contourArea(contour)
        if area > best_area:
            best, best_area = contour, area
    if best is None or len(best) < 16:
        raise ValueError("no radiopaque fixture found in the box")
    return best[:, 0, :]


def _principal_axis(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid and long-axis unit vector of the region the outline encloses.

    Polygon moments (Green's theorem) weigh the enclosed area, not the outline's points, so thread
    serrations, which add many outline points, do not pull the axis.
    """
    moments = cv2.moments(points.astype(np.float32))
    if moments["m00"] == 0:
        raise ValueError("the fixture outline encloses no area")
    centre = np.array([moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]])
    theta = 0.5 * math.atan2(2 * moments["mu11"], moments["mu20"] - moments["mu02"])
    return centre, np.array([math.cos(theta), math.sin(theta)])


def _pixel_footprint(direction: np.ndarray, row_mm: float, col_mm: float) -> float:
    """How far one pixel reaches along a unit direction (the outline runs through pixel centres)."""
    return abs(direction[0]) * col_mm + abs(direction[1]) * row_mm


def _profile_and_ends(
    metric: np.ndarray, clipped: np.ndarray, centre: np.ndarray, along: np.ndarray, row_mm: float, col_mm: float
) -> tuple[_Profile, tuple[float, float]]:
    across = np.array([-along[1], along[0]])
    offsets = metric - centre
    profile = _Profile(offsets @ along, offsets @ across, clipped, 1.5 * _pixel_footprint(along, row_mm, col_mm))
    return profile, _fixture_ends(profile)


class _Profile:
    """The outline as slices across the axis: each slice's position and its radius on either side.

    ``u`` and ``v`` are the outline's coordinates along and across the axis; ``clipped`` marks the outline
    points on the crop's border. A slice is 1.5 px thick so both sides of the outline land in it; a side
    the slice misses is NaN.
    """

    def __init__(self, u: np.ndarray, v: np.ndarray, clipped: np.ndarray, thickness: float) -> None:
        self.u, self.v, self.thickness = u, v, thickness
        index = np.floor((u - u.min()) / thickness).astype(np.intp)
        count = int(index.max()) + 1
        self.clipped = np.bincount(index, weights=clipped, minlength=count) > 0  # slices reaching out of view
        right = np.full(count, -np.inf)
        left = np.full(count, np.inf)
        np.maximum.at(right, index, v)
        np.minimum.at(left, index, v)
        self.centres = u.min() + (np.arange(count) + 0.5) * thickness
        self.right = np.where(right > 0, right, np.nan)
        self.left = np.where(left < 0, -left, np.nan)
        self.width = self.left + self.right
        middle = np.abs(self.centres - (u.min() + u.max()) / 2) <= 0.2 * (u.max() - u.min())
        typical = self.width[middle & np.isfinite(self.width)]
        if typical.size == 0:
            raise ValueError("the radiopaque region is not shaped like a fixture")
        self.body_width = float(np.percentile(typical, 75))  # B: the scale of every tolerance

    def slices(self, fraction_of_body: float) -> int:
        """A length given as a fraction of B, in slices (at least 3: coarse pixels, small fixtures)."""
        return max(3, int(round(fraction_of_body * self.body_width / self.thickness)))


def _fixture_ends(profile: _Profile) -> tuple[float, float]:
    """Axial positions (platform, apex) of the fixture alone."""
    finite = np.flatnonzero(np.isfinite(profile.width))
    first, last = int(finite[0]), int(finite[-1])
    middle = int(np.argmin(np.abs(profile.centres - (profile.centres[first] + profile.centres[last]) / 2)))
    findings = {direction: _attachment(profile, middle, direction) for direction in (1, -1)}
    attached = [d for d, (_, kind) in findings.items() if kind is not None]
    if len(attached) == 1:
        coronal = attached[0]
    else:  # none, or something at both ends (a neighbour, a cone-cut): the apex is the narrower end
        coronal = 1 if _narrower_end(profile, first, last) == -1 else -1
    platform_index = findings[coronal][0]
    if platform_index is None:
        platform_index = last if coronal == 1 else first
    # The apex end is the outline's own end: the apex tapers, and must not be cut like an attachment.
    apex_u = float(profile.u.min() if coronal == 1 else profile.u.max())
    platform_u = float(profile.centres[platform_index] - coronal * profile.thickness / 2)
    return platform_u, apex_u


def _attachment(profile: _Profile, middle: int, direction: int) -> tuple[int | None, str | None]:
    """Walking from the middle towards one end: where the fixture stops, and what sits beyond it.

    Returns (index of the first slice past the platform, "crown" | "step") or (None, None).
    """
    # Arrays that run in the walking direction, starting a pitch window behind the middle so that every
    # slice walked has a full window of history behind it.
    behind = profile.slices(PITCH_WINDOW)
    if direction == 1:
        order = np.arange(max(middle - behind, 0), profile.width.size)
    else:
        order = np.arange(min(middle + behind, profile.width.size - 1), -1, -1)
    walked = int(np.flatnonzero(order == middle)[0])
    left, right, clipped = profile.left[order], profile.right[order], profile.clipped[order]
    crown = _crown_start(profile, left, right, walked)
    if crown is None:
        flags = _step_flags(profile, left, right, STEP_DEPTH, pad_end=False)
        # An attachment keeps its width to its end (or out of view); an apex narrows on after a step.
        steps = (i for i in np.flatnonzero(flags[walked:]) + walked if _holds_width(profile, left, right, clipped, i))
        step = next(steps, None)
        return (int(order[step]), "step") if step is not None else (None, None)
    # Between platform and crown there may be a stretch of abutment, or only a short shallow collar.
    # Either plateau may run up to where the crown starts to rise, a couple of slices before it
    # clears the threshold.
    rise = max(crown - 2, 0)
    left, right = left[:rise], right[:rise]
    step = _first(_step_flags(profile, left, right, STEP_DEPTH, pad_end=True), walked)
    if step is None:
        near = max(crown - profile.slices(CROWN_SEARCH), walked)
        step = _first(_step_flags(profile, left, right, STEP_DEPTH_UNDER_CROWN, pad_end=True), near)
    return int(order[crown if step is None else step]), "crown"


def _holds_width(profile: _Profile, left: np.ndarray, right: np.ndarray, clipped: np.ndarray, start: int) -> bool:
    """Does the outline keep the width it has at ``start`` up to its end (its blurred rim aside)?

    An outline that runs out of view beyond ``start`` is an attachment: an apex is always in view.
    """
    if clipped[start:].any():
        return True
    width = (left + right)[start:]
    present = np.flatnonzero(np.isfinite(width))
    if present.size == 0:
        return False
    rim = profile.slices(STEP_SPAN) // 2
    body = width[: int(present[-1]) + 1 - rim]
    if body.size < profile.slices(PLATEAU):  # nothing left but a rim: the end of a flat apex
        return False
    return bool(np.nanmin(body) >= width[0] - STEP_DEPTH * profile.body_width)


def _first(flags: np.ndarray, start: int) -> int | None:
    found = np.flatnonzero(flags[start:])
    return start + int(found[0]) if found.size else None


def _crown_start(profile: _Profile, left: np.ndarray, right: np.ndarray, walked: int) -> int | None:
    """Index where a crown begins: where the second side flares out past its recent thread crests.

    A crown sits across the axis, so both sides flare; a neighbouring tooth or crown that touches the
    fixture flares one side only, and earlier. The reference is the crests of about a thread pitch
    behind, short of the last few slices (a blurred flare takes a few slices to rise), so a tapered body
    never counts; the flare must last (not a speck). A crown cut by the crop on one side still counts.
    """
    window, span, margin = profile.slices(PITCH_WINDOW), profile.slices(STEP_SPAN), CROWN_FLARE * profile.body_width
    starts = []
    for side in (left, right):
        history = np.concatenate([np.full(window + span, np.nan), side[: -span or None]])
        before = np.fmax.reduce(_windows(history, window), axis=1)[: side.size]
        lasting = _windows(np.concatenate([side, np.full(span - 1, np.nan)]), span).min(axis=1)
        start = _first(lasting > before + margin, walked)
        if start is not None:
            starts.append(start)
    return max(starts) if starts else None


def _step_flags(profile: _Profile, left: np.ndarray, right: np.ndarray, depth: float, pad_end: bool) -> np.ndarray:
    """For each slice: do both sides step in by ``depth`` B within a short span before it, onto a plateau?

    Threads never do that: the two sides of a helix are half a pitch apart, so when one side falls into a
    thread root the other is on a crest.
    """
    span, plateau, drop = profile.slices(STEP_SPAN), profile.slices(PLATEAU), depth * profile.body_width
    flags = np.ones(left.size, dtype=bool)
    for side in (left, right):
        before = np.fmax.reduce(_windows(np.concatenate([np.full(span, np.nan), side[:-1]]), span), axis=1)
        tail = np.full(plateau - 1, side[-1] if pad_end and side.size else np.nan)
        ahead = _windows(np.concatenate([side, tail]), plateau)
        top, bottom = ahead.max(axis=1), ahead.min(axis=1)  # NaN (so False below) where the outline stops
        flags &= (before - top >= drop) & (top - bottom < drop)
    return flags


def _windows(values: np.ndarray, length: int) -> np.ndarray:
    """Read-only (N - length + 1, length) view of the runs of ``length`` consecutive values."""
    values = np.ascontiguousarray(values)
    count = max(values.size - length + 1, 0)
    return np.lib.stride_tricks.as_strided(
        values, shape=(count, length), strides=(values.strides[0],) * 2, writeable=False
    )


def _narrower_end(profile: _Profile, first: int, last: int) -> int:
    """-1 when the low end is the narrower (the apex there), else 1."""
    reach = profile.slices(0.5)
    low = np.nanmean(profile.width[first : first + reach])
    high = np.nanmean(profile.width[max(last - reach + 1, 0) : last + 1])
    return -1 if low <= high else 1


def _straightened_axis(
    profile: _Profile, platform_u: float, apex_u: float, centre: np.ndarray, along: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The axis refitted through the fixture's slice midpoints (a crown in view tilts the moment axis)."""
    low, high = min(platform_u, apex_u), max(platform_u, apex_u)
    span = high - low
    # Slices much wider than the body have something else touching one side: they do not mark the axis.
    ordinary = np.abs(np.nan_to_num(profile.width) - profile.body_width) < 0.15 * profile.body_width
    use = (profile.centres > low + 0.1 * span) & (profile.centres < high - 0.1 * span) & ordinary
    if use.sum() < 8:
        return centre, along
    mid_u = profile.centres[use]
    mid_v = (profile.right[use] - profile.left[use]) / 2
    slope, intercept = np.polyfit(mid_u, mid_v, 1)
    across = np.array([-along[1], along[0]])
    new_along = along + slope * across
    new_along /= np.linalg.norm(new_along)
    middle = (low + high) / 2
    new_centre = centre + along * middle + across * (slope * middle + intercept)
    return new_centre, new_along


def _outer_diameter(profile: _Profile, platform_u: float, apex_u: float) -> float:
    """Outer thread diameter: the per-side crest envelope, summed, over the coronal half of the body."""
    window = profile.slices(PITCH_WINDOW)
    ends = platform_u + DIAMETER_FROM * (apex_u - platform_u), platform_u + DIAMETER_TO * (apex_u - platform_u)
    read = (profile.centres >= min(ends)) & (profile.centres <= max(ends))
    if not read.any():
        raise ValueError("the fixture is too short to measure its diameter")
    # Only the fixture's own outline may feed the envelope: a crown beside the platform must not.
    low, high = min(platform_u, apex_u), max(platform_u, apex_u)
    fixture = (profile.centres >= low) & (profile.centres <= high)
    crest = [_running_max(np.where(fixture, side, np.nan), window)[read] for side in (profile.left, profile.right)]
    if not all(np.isfinite(side).any() for side in crest):
        raise ValueError("the fixture's outline is too broken to measure its diameter")
    # A neighbouring tooth touching one side is no thread crest: cap both sides near the typical crest
    # of the side that nothing touches (the axis runs through the middle, so both sides are alike).
    cap = min(float(np.nanmedian(side)) for side in crest) + STRAY_CREST * profile.body_width
    total = np.fmin(crest[0], cap) + np.fmin(crest[1], cap)
    return float(np.nanpercentile(total, DIAMETER_PERCENTILE))


def _running_max(values: np.ndarray, window: int) -> np.ndarray:
    """Maximum over the ``window`` values centred on each; NaN (no outline) never wins."""
    half = window // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(window - half - 1, np.nan)])
    return np.fmax.reduce(_windows(padded, window), axis=1)


def _touches_edge(points: np.ndarray, shape: tuple[int, int]) -> bool:
    """Does the outline run along the image's edge (pixel centres of the first or last row or column)?"""
    height, width = shape
    x, y = points[:, 0], points[:, 1]
    return bool(x.min() <= 0.5 or y.min() <= 0.5 or x.max() >= width - 0.5 or y.max() >= height - 0.5)
