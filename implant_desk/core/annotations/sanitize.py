"""The rules every reader applies to the boxes it found: clamp to the image, drop empty boxes, say so.

Warnings are returned to the caller (and shown to the user), not only logged: a box that moved or vanished on
load must not go unnoticed, because the next save writes the corrected boxes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from implant_desk.core.annotations.model import Box


def clean_boxes(boxes: Iterable[Box], width: float, height: float, warnings: list[str]) -> list[Box]:
    """Clamp boxes into ``[0, width] x [0, height]`` (skipped where a size is unknown, i.e. 0), then drop
    boxes without area. Each change appends a sentence to ``warnings``."""
    kept: list[Box] = []
    for number, box in enumerate(boxes, start=1):
        box = _ordered(box)
        clamped = _clamped(box, width, height)
        if clamped != box:
            warnings.append(
                f"box {number} ({box.label!r}) reached outside the {width:g}x{height:g} image and was clamped to it"
            )
        if clamped.width <= 0 or clamped.height <= 0:
            warnings.append(f"box {number} ({box.label!r}) has no area and was dropped")
            continue
        kept.append(clamped)
    return kept


def _ordered(box: Box) -> Box:
    """Some tools write corners in either order; a box is the same box whichever corner comes first."""
    xmin, xmax = sorted((box.xmin, box.xmax))
    ymin, ymax = sorted((box.ymin, box.ymax))
    return replace(box, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax)


def _clamped(box: Box, width: float, height: float) -> Box:
    def clamp(value: float, upper: float) -> float:
        value = max(value, 0.0)
        return min(value, upper) if upper > 0 else value

    return replace(
        box,
        xmin=clamp(box.xmin, width),
        ymin=clamp(box.ymin, height),
        xmax=clamp(box.xmax, width),
        ymax=clamp(box.ymax, height),
    )
