"""Design parts into fixtures: the second stage of two-stage detection (numpy only).

The detector finds whole fixtures and the thirds of a fixture (coronal, middle, apical: ``PART_NAMES``), each a
box (x1, y1, x2, y2 image pixels) with a score. ``assemble_fixtures`` groups the parts into fixtures and infers a
fixture's box from its parts where the whole-fixture detection is missing or weak.

Grouping. The implant-design study clusters parts with k-means; we use a rule instead, because k-means needs the
number of fixtures (unknown: it is what we are detecting), groups by distance alone (the thirds of one tilted
fixture can lie farther apart than the coronal thirds of two neighbours that nearly touch on a panoramic), and
ignores what the parts are (a fixture has at most one third of each kind, in order along its axis). The rule:

1. Each part goes to the whole-fixture detection it lies in: the largest share of the part's area inside the box,
   at least ``min_inside``, one fixture per part and one part of each kind per fixture (largest shares first).
2. Parts are chained along fixtures: a coronal to a middle, a middle to an apical, or a coronal straight to an
   apical when the middle is missing, where the two boxes are adjacent (they touch, or for a skipped middle leave
   a gap of about one part) and of similar size. Links are taken cheapest first, the cost being the distance
   between the box centres against the parts' size; a part takes one link towards the crown and one towards the
   apex; a chain may not bend (the two steps of a coronal-middle-apical chain are about equal). Parts of one
   detection are linked already; parts left over join a detection's chain where they fit (a third the
   detection's box cut off) or make chains of their own. A chain through the parts of two detections is one
   fixture detected twice, in pieces: it keeps the better score and the union of the boxes.

Box inference. The step from one third's centre to the next's, ``s``, comes from the outermost parts present (the
fixture's axis, whatever its tilt, crown up or down); a missing third is the nearest present part's box moved by
``s`` per third, and the fixture's box is the union of the present and inferred thirds, clipped to the image. A
lone part takes the axis of the nearest fixture with two parts or more (fixtures of one film are near parallel and
share a jaw); with none, its box is its own. A fixture's box is inferred when it has no whole-fixture detection, or
its detection scores under ``weak_below`` and two or more of its thirds were found (one third does not place a
fixture better than a weak detection does).

Score: the larger of the detection's score and the parts' evidence, the sum of the part scores over three (a
missing third counts 0): a fixture seen whole with sure parts scores high, a lone part at most a third.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from implant_desk.core.catalogue.systems import PART_NAMES

Box = tuple[float, float, float, float]
DEFAULT_WEAK_BELOW = 0.5
DEFAULT_MIN_INSIDE = 0.6
TOUCH_TOLERANCE = 0.5  # adjacent thirds touch: a gap of at most this share of the smaller box's shorter side
SKIP_GAP = 1.5  # a coronal and an apical with the middle missing: a gap of at most this many part sizes
MAX_SIZE_RATIO = 2.0  # adjacent thirds have similar widths and heights
MAX_LINK_COST = 2.0  # centre distance per third against the parts' size
MAX_BEND_DEG = 40.0  # between the two steps of a coronal-middle-apical chain
MAX_STEP_RATIO = 2.5  # and their lengths
THIRD = {name: index for index, name in enumerate(PART_NAMES)}


@dataclass(frozen=True)
class PartDetection:
    name: str  # coronal, middle or apical
    box: Box
    score: float


@dataclass(frozen=True)
class AssembledFixture:
    box: Box
    score: float
    parts: tuple[PartDetection, ...]  # coronal first
    inferred: bool  # the box comes from the parts, not from a whole-fixture detection
    detection: int | None  # index of the whole-fixture detection it comes from; None: from parts only


def assemble_fixtures(fixtures: Sequence[tuple[Box, float]], parts: Sequence[PartDetection], *,
                      weak_below: float = DEFAULT_WEAK_BELOW, min_inside: float = DEFAULT_MIN_INSIDE,
                      image_size: tuple[int, int] | None = None) -> list[AssembledFixture]:
    """Fixtures from whole-fixture detections ``(box, score)`` and part detections, best score first.
    ``image_size`` is (width, height): inferred boxes are clipped to it. See the module's docstring."""
    for box, _ in fixtures:
        _checked_box(box)
    for part in parts:
        _checked_box(part.box)
        if part.name not in THIRD:
            raise ValueError(f"a part is named {part.name!r}, expected one of {', '.join(PART_NAMES)}")
    owner = _assign(fixtures, parts, min_inside)
    chains = _chains(parts, owner)
    steps = [_step([parts[i] for i in chain]) for chain in chains]
    # a chain through the parts of two detections is one fixture detected twice (in halves): they merge
    merged = [sorted({owner[i] for i in chain} - {None}, key=lambda d: -fixtures[d][1]) for chain in chains]
    used = {detection for detections in merged for detection in detections}
    assembled = [AssembledFixture(_floats(box), float(score), (), False, detection)
                 for detection, (box, score) in enumerate(fixtures) if detection not in used]
    for chain, step, detections in zip(chains, steps, merged):
        members = tuple(parts[i] for i in chain)
        evidence = sum(part.score for part in members) / len(PART_NAMES)
        detection = detections[0] if detections else None
        score = fixtures[detection][1] if detections else 0.0
        infer = not detections or (score < weak_below and len(members) >= 2)
        if infer:
            if step is None:  # a lone part
                step = _borrowed_step(members[0], chains, steps, parts)
            box = _box_from_parts(members, step, image_size)
        else:
            box = _union([fixtures[d][0] for d in detections])
        assembled.append(AssembledFixture(box, max(float(score), evidence), members, infer, detection))
    return sorted(assembled, key=lambda fixture: -fixture.score)


def _floats(box: Box) -> Box:
    return tuple(float(value) for value in box)


def _checked_box(box: Box) -> None:
    array = np.asarray(box, dtype=np.float64)
    if array.shape != (4,) or not np.isfinite(array).all() or array[2] <= array[0] or array[3] <= array[1]:
        raise ValueError(f"{box!r} is not a box (x1, y1, x2, y2 with x2 > x1 and y2 > y1)")


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _centre(box: Box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _distance(a: Box, b: Box) -> float:
    """Between the centres (plain floats: this runs for every pair of parts)."""
    return math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)


def _size(box: Box) -> float:
    return math.sqrt(_area(box))


def _assign(fixtures: Sequence[tuple[Box, float]], parts: Sequence[PartDetection],
            min_inside: float) -> list[int | None]:
    """Per part, the detection it lies in (None: left over)."""
    pairs = []
    for p, part in enumerate(parts):
        for f, (box, _) in enumerate(fixtures):
            width = min(part.box[2], box[2]) - max(part.box[0], box[0])
            height = min(part.box[3], box[3]) - max(part.box[1], box[1])
            share = max(width, 0.0) * max(height, 0.0) / _area(part.box)
            if share >= min_inside:
                pairs.append((-share, _distance(part.box, box), p, f))
    owner: list[int | None] = [None] * len(parts)
    taken: set[tuple[int, str]] = set()
    for _, _, p, f in sorted(pairs):
        if owner[p] is None and (f, parts[p].name) not in taken:
            owner[p] = f
            taken.add((f, parts[p].name))
    return owner


def _chains(parts: Sequence[PartDetection], owner: list[int | None]) -> list[list[int]]:
    """Part indices grouped into fixtures, each chain ordered from the crown to the apex."""
    apexward: dict[int, int] = {}  # part -> the next part towards the apex (links only go that way: no cycles)
    crownward: dict[int, int] = {}
    for detection in set(owner) - {None}:
        own = sorted((i for i in range(len(parts)) if owner[i] == detection), key=lambda i: THIRD[parts[i].name])
        for a, b in itertools.pairwise(own):
            apexward[a], crownward[b] = b, a
    for span in (1, 2):  # all adjacent thirds before any chain skips a missing middle
        candidates = []
        for a, b in ((a, b) for a in range(len(parts)) for b in range(len(parts))
                     if THIRD[parts[b].name] - THIRD[parts[a].name] == span):
            cost = _link_cost(parts[a].box, parts[b].box, span)
            if cost is not None:
                candidates.append((cost, a, b))
        for _, a, b in sorted(candidates):
            if a in apexward or b in crownward:
                continue
            if not (_bends(parts, crownward.get(a), a, b) or _bends(parts, a, b, apexward.get(b))):
                apexward[a], crownward[b] = b, a
    starts = [i for i in range(len(parts)) if i not in crownward]
    chains = []
    for start in starts:
        chain = [start]
        while chain[-1] in apexward:
            chain.append(apexward[chain[-1]])
        chains.append(chain)
    return chains


def _link_cost(upper: Box, lower: Box, span: int) -> float | None:
    """How well ``lower`` continues ``upper`` ``span`` thirds further along one fixture (lower is better), or
    None when it cannot: not adjacent, or of another size."""
    widths = (upper[2] - upper[0], lower[2] - lower[0])
    heights = (upper[3] - upper[1], lower[3] - lower[1])
    if max(widths) > MAX_SIZE_RATIO * min(widths) or max(heights) > MAX_SIZE_RATIO * min(heights):
        return None
    gap = max(max(upper[0], lower[0]) - min(upper[2], lower[2]), max(upper[1], lower[1]) - min(upper[3], lower[3]))
    size = (_size(upper) + _size(lower)) / 2
    allowed = TOUCH_TOLERANCE * min(*widths, *heights) if span == 1 else SKIP_GAP * size
    if gap > allowed:
        return None
    cost = _distance(lower, upper) / (span * size)
    return cost if cost <= MAX_LINK_COST else None


def _bends(parts: Sequence[PartDetection], first: int | None, second: int, third: int | None) -> bool:
    """Whether the chain first -> second -> third turns or changes its pace (False when a part is missing)."""
    if first is None or third is None:
        return False
    spans = (THIRD[parts[second].name] - THIRD[parts[first].name], THIRD[parts[third].name] - THIRD[parts[second].name])
    one = (_centre(parts[second].box) - _centre(parts[first].box)) / spans[0]
    two = (_centre(parts[third].box) - _centre(parts[second].box)) / spans[1]
    lengths = float(np.linalg.norm(one)), float(np.linalg.norm(two))
    if min(lengths) == 0.0 or max(lengths) > MAX_STEP_RATIO * min(lengths):
        return True
    cosine = float(one @ two) / (lengths[0] * lengths[1])
    return cosine < math.cos(math.radians(MAX_BEND_DEG))


def _step(members: Sequence[PartDetection]) -> np.ndarray | None:
    """The move from one third's centre to the next, towards the apex; None with fewer than two parts."""
    if len(members) < 2:
        return None
    first, last = members[0], members[-1]
    return (_centre(last.box) - _centre(first.box)) / (THIRD[last.name] - THIRD[first.name])


def _borrowed_step(part: PartDetection, chains: list[list[int]], steps: list[np.ndarray | None],
                   parts: Sequence[PartDetection]) -> np.ndarray | None:
    """The step of the nearest fixture that has one, scaled by this part's size against that fixture's parts."""
    known = [(chain, step) for chain, step in zip(chains, steps) if step is not None]
    if not known:
        return None
    chain, step = min(known, key=lambda known: min(_distance(parts[i].box, part.box) for i in known[0]))
    return step * _size(part.box) / float(np.mean([_size(parts[i].box) for i in chain]))


def _box_from_parts(members: Sequence[PartDetection], step: np.ndarray | None,
                    image_size: tuple[int, int] | None) -> Box:
    present = {THIRD[part.name]: np.asarray(part.box, dtype=np.float64) for part in members}
    boxes = list(present.values())
    if step is not None:
        for missing in set(THIRD.values()) - set(present):
            nearest = min(present, key=lambda third: abs(third - missing))
            boxes.append(present[nearest] + np.tile((missing - nearest) * step, 2))
    box = np.asarray(_union(boxes))
    if image_size is not None:
        box = np.clip(box, 0.0, np.tile(np.asarray(image_size, dtype=np.float64), 2))
    return _floats(box)


def _union(boxes: Sequence[Box | np.ndarray]) -> Box:
    stacked = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return _floats(np.concatenate([stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)]))
