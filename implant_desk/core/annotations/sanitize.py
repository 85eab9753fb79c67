"""The rules every reader applies to the boxes it found: clamp to the image, drop empty boxes, say so.

Warnings are returned to the caller (and shown to the user), not only logged: a box that moved or vanished on
load must not go unnoticed, because the next save writes the corrected boxes.

Numbers are checked where they are read (``file_number``, ``file_size``): NaN, infinities and values no image
has are refused with the file's name, so arithmetic on them never overflows and a NaN never reaches a file
(every writer calls ``check_finite`` too).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from typing import Any, Iterable

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.errors import AnnotationFileError

# No radiograph is a billion pixels wide; a coordinate beyond this is damage, and bounding it keeps every
# sum and product of coordinates finite.
MAX_COORDINATE = 1e9


def file_number(value: object, path: str | os.PathLike, what: str) -> float:
    """``value`` read from a file as a finite number (AnnotationFileError naming ``what`` otherwise)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise AnnotationFileError(path, f"{what} holds {_shown(value)}, which is not a number") from None
    if not math.isfinite(number):
        raise AnnotationFileError(path, f"{what} holds {_shown(value)}, which is not a finite number")
    if abs(number) > MAX_COORDINATE:
        raise AnnotationFileError(path, f"{what} holds {_shown(value)}, far beyond the size of any image")
    return number


def file_size(value: object, path: str | os.PathLike, what: str) -> int:
    """An image side read from a file: a number from 0 (unknown) to MAX_COORDINATE, truncated as LabelImg does."""
    number = file_number(value, path, what)
    if number < 0:
        raise AnnotationFileError(path, f"{what} holds {_shown(value)}, which is not an image size")
    return int(number)


def strict_json(data: bytes) -> Any:
    """``json.loads`` refusing ``NaN`` and ``Infinity`` (ValueError), which JSON does not define."""
    return json.loads(data, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def check_finite(annotation: ImageAnnotation) -> None:
    """Writers call this first: a box with a NaN or infinite coordinate cannot be written (ValueError)."""
    for number, box in enumerate(annotation.boxes, start=1):
        if not _is_finite(box):
            raise ValueError(f"box {number} ({box.label!r}) has a coordinate that is not a finite number")


def _shown(value: object) -> str:
    text = repr(value.strip() if isinstance(value, str) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_finite(box: Box) -> bool:
    return all(math.isfinite(v) for v in (box.xmin, box.ymin, box.xmax, box.ymax))


def clean_boxes(boxes: Iterable[Box], width: float, height: float, warnings: list[str]) -> list[Box]:
    """Clamp boxes into ``[0, width] x [0, height]`` (skipped where a size is unknown, i.e. 0), then drop
    boxes without area. Each change appends a sentence to ``warnings``."""
    kept: list[Box] = []
    for number, box in enumerate(boxes, start=1):
        if not _is_finite(box):  # max(nan, 0.0) is nan: clamping cannot repair it
            warnings.append(f"box {number} ({box.label!r}) has a coordinate that is not a number and was dropped")
            continue
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
