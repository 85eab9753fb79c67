"""Box edits that need a little geometry (clamping to the image), applied to the document as one undo step each."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box

DUPLICATE_OFFSET_PX = 10.0


def clamped(box: Box, width: float, height: float) -> Box | None:
    """The box cut to the image, or None when nothing of it is left inside."""
    x1, x2 = max(0.0, box.xmin), min(float(width), box.xmax)
    y1, y2 = max(0.0, box.ymin), min(float(height), box.ymax)
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return replace(box, xmin=x1, ymin=y1, xmax=x2, ymax=y2)


def with_corners(box: Box, x1: float, y1: float, x2: float, y2: float) -> Box:
    return replace(box, xmin=x1, ymin=y1, xmax=x2, ymax=y2)


def move_box(document: AnnotationDocument, index: int, dx: float, dy: float, width: float, height: float) -> None:
    """Arrow keys: move without leaving the image (the box stops at the edge, keeping its size)."""
    box = document.boxes[index]
    dx = min(max(dx, -box.xmin), width - box.xmax)
    dy = min(max(dy, -box.ymin), height - box.ymax)
    if dx or dy:
        document.update_box(index, box.moved(dx, dy), "Move box")


def duplicate_box(document: AnnotationDocument, index: int, width: float, height: float) -> None:
    """LabelImg's Ctrl+D: a copy shifted down-right so both are visible (kept inside the image)."""
    box = document.boxes[index]
    dx = DUPLICATE_OFFSET_PX if box.xmax + DUPLICATE_OFFSET_PX <= width else -min(DUPLICATE_OFFSET_PX, box.xmin)
    dy = DUPLICATE_OFFSET_PX if box.ymax + DUPLICATE_OFFSET_PX <= height else -min(DUPLICATE_OFFSET_PX, box.ymin)
    document.add_boxes([box.moved(dx, dy)], "Duplicate box")


def paste_boxes(document: AnnotationDocument, boxes: Iterable[Box], width: float, height: float,
                description: str = "Copy previous image's boxes") -> int:
    """Add boxes from another image in one step, cut to this image; returns how many were added."""
    kept = [b for b in (clamped(box, width, height) for box in boxes) if b is not None]
    document.add_boxes(kept, description)
    return len(kept)


def set_difficult(document: AnnotationDocument, index: int, difficult: bool) -> None:
    box = document.boxes[index]
    document.update_box(index, replace(box, difficult=difficult),
                        "Mark box difficult" if difficult else "Mark box not difficult")
