"""How unsure the model is about one image: what "which image next" orders by (MONAI Label's epistemic strategy,
made cheap enough for a laptop: two passes of the model instead of dropout sampling).

Three signs of a fixture the model would learn from, each 0 (sure) .. 1 (unsure):

- **margin**: 1 minus the gap between the top two system probabilities (a near tie between two systems);
- **detection**: how close the fixture score is to the card's floor (a fixture the detector nearly missed, or
  a detection just under the floor that may be a missed implant);
- **flip disagreement**: the same image flipped left to right (a test-time augmentation the model was trained
  with) should give the same fixtures with the same system; 1 minus the IoU of the matched box, plus a
  different top system, or a fixture seen in one view only, says the model's view is not stable.

A fixture's uncertainty is the mean of its signs; the image's is its most uncertain fixture's (one hard fixture is
worth a review). An image with no fixture and no near miss scores 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from implant_desk.core.learning.metrics import box_iou

MATCH_IOU = 0.3  # a flipped-view fixture this close is the same fixture


class Detection(Protocol):
    box: tuple[float, float, float, float]
    score: float
    candidates: tuple[tuple[str, float], ...]


def margin_uncertainty(candidates: Sequence[tuple[str, float]]) -> float:
    if not candidates:
        return 1.0
    second = candidates[1][1] if len(candidates) > 1 else 0.0
    return float(np.clip(1.0 - (candidates[0][1] - second), 0.0, 1.0))


def detection_uncertainty(score: float, floor: float) -> float:
    """1 at the floor, falling to 0 at twice the floor above it and at half the floor under it."""
    if floor <= 0:
        return 0.0
    distance = (score - floor) / floor if score >= floor else 2 * (floor - score) / floor
    return float(np.clip(1.0 - distance, 0.0, 1.0))


def unflip(box: tuple[float, float, float, float], width: int) -> tuple[float, float, float, float]:
    """A box found on the left-right flipped image, in the original image's pixels."""
    x1, y1, x2, y2 = box
    return width - x2, y1, width - x1, y2


def flip_disagreement(fixtures: Sequence[Detection], flipped: Sequence[Detection], width: int) -> list[float]:
    """Per fixture of ``fixtures``: how differently the flipped view (boxes as found on the flipped image) sees
    it; then one 1.0 per flipped-view fixture that matched none (a fixture seen in that view only)."""
    others = [unflip(f.box, width) for f in flipped]
    if not fixtures:
        return [1.0] * len(others)
    if not others:
        return [1.0] * len(fixtures)
    iou = box_iou([f.box for f in fixtures], others)
    values, matched = [], set()
    for index, fixture in enumerate(fixtures):
        best = int(np.argmax(iou[index]))
        if iou[index, best] < MATCH_IOU:
            values.append(1.0)
            continue
        matched.add(best)
        same_system = bool(fixture.candidates and flipped[best].candidates
                           and fixture.candidates[0][0] == flipped[best].candidates[0][0])
        values.append(min(1.0, (1.0 - float(iou[index, best])) + (0.0 if same_system else 0.5)))
    values.extend(1.0 for other in range(len(others)) if other not in matched)
    return values


def image_uncertainty(fixtures: Sequence[Detection], near_misses: Sequence[Detection],
                      flipped: Sequence[Detection], width: int, floor: float) -> float:
    """The image's uncertainty (module docstring). ``fixtures``: those at or above the floor (classified);
    ``near_misses``: detections under it; ``flipped``: the fixtures of the flipped image."""
    disagreement = flip_disagreement(fixtures, flipped, width)
    per_fixture = [(margin_uncertainty(f.candidates) + detection_uncertainty(f.score, floor) + flip) / 3
                   for f, flip in zip(fixtures, disagreement)]
    unmatched = disagreement[len(fixtures):]
    signs = [*per_fixture, *(flip / 3 for flip in unmatched),
             *(detection_uncertainty(m.score, floor) / 3 for m in near_misses)]
    return round(max(signs, default=0.0), 4)
