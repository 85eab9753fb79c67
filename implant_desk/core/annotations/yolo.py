"""YOLO txt files and ``classes.txt``, LabelImg's convention.

One ``<image stem>.txt`` per image, a line ``class cx cy w h`` per box (normalised to the image size, LabelImg's
``%d %.6f %.6f %.6f %.6f``), and ``classes.txt`` in the same folder naming class ``i`` on line ``i``.

LabelImg rewrites ``classes.txt`` from whatever class list it has in memory, which drops or renumbers the classes
of every other file in the folder. Here the file only ever grows: existing lines keep their position and new
labels are appended. The difficult and verified flags have no place in YOLO and are not written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.safe_xml import read_limited
from implant_desk.core.annotations.sanitize import check_finite, clean_boxes, file_number
from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.errors import AnnotationFileError

TXT_SUFFIX = ".txt"
CLASSES_FILENAME = "classes.txt"
MAX_TXT_BYTES = 16 * 1024 * 1024


def classes_path_for(txt_path: str | os.PathLike) -> Path:
    return Path(txt_path).parent / CLASSES_FILENAME


def read_classes(path: str | os.PathLike) -> list[str]:
    """Class names by index. Blank lines inside the file keep their index (LabelImg counts them too)."""
    text = _decode(read_limited(path, MAX_TXT_BYTES, "class list"), path)
    names = text.splitlines()
    while names and not names[-1].strip():
        names.pop()
    return names


def merge_classes(existing: Sequence[str], wanted: Iterable[str]) -> list[str]:
    """``existing`` unchanged and in order, followed by each new name of ``wanted`` once."""
    merged = list(existing)
    for name in wanted:
        if name not in merged:
            merged.append(name)
    return merged


def write_classes(path: str | os.PathLike, classes: Iterable[str]) -> list[str]:
    """Append the names in ``classes`` that ``path`` lacks; never drops or renumbers a class already there.

    Returns the class list now on disk. The file is not touched when it already holds every name."""
    path = Path(path)
    existing = read_classes(path) if path.exists() else []
    merged = merge_classes(existing, classes)
    for name in merged:
        if name != "".join(name.splitlines()):
            raise ValueError(f"the label {name!r} spans several lines, which {CLASSES_FILENAME} cannot hold")
    if merged != existing or not path.exists():
        atomic_write_text(path, "".join(f"{name}\n" for name in merged))
    return merged


def read_yolo(
    txt_path: str | os.PathLike,
    image_size: tuple[int, int] | tuple[int, int, int],
    classes: Sequence[str],
    warnings: list[str] | None = None,
    image_name: str = "",
) -> ImageAnnotation:
    """Boxes of one YOLO file for an image of ``image_size`` = (width, height[, depth]) pixels."""
    warnings = warnings if warnings is not None else []
    width, height = image_size[0], image_size[1]
    depth = image_size[2] if len(image_size) > 2 else 1
    text = _decode(read_limited(txt_path, MAX_TXT_BYTES, "YOLO"), txt_path)
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            boxes.append(_box_from_line(line, number, width, height, classes, txt_path))
    return ImageAnnotation(
        filename=image_name or Path(txt_path).stem,
        width=int(width),
        height=int(height),
        depth=int(depth),
        boxes=clean_boxes(boxes, width, height, warnings),
    )


def _box_from_line(
    line: str, number: int, width: float, height: float, classes: Sequence[str], path: str | os.PathLike
) -> Box:
    fields = line.split()
    if len(fields) != 5:
        raise AnnotationFileError(path, f"line {number} has {len(fields)} values; a YOLO box line has 5")
    try:
        index = int(fields[0])
    except ValueError:
        raise AnnotationFileError(path, f"line {number} ({line.strip()[:40]!r}) is not a YOLO box line") from None
    cx, cy, w, h = (file_number(value, path, f"line {number}") for value in fields[1:])
    if not 0 <= index < len(classes):
        raise AnnotationFileError(
            path, f"line {number} uses class {index}, but {CLASSES_FILENAME} names only {len(classes)} classes"
        )
    return Box(
        label=classes[index],
        xmin=(cx - w / 2) * width,
        ymin=(cy - h / 2) * height,
        xmax=(cx + w / 2) * width,
        ymax=(cy + h / 2) * height,
    )


def yolo_to_string(annotation: ImageAnnotation, classes: Sequence[str]) -> str:
    """The txt for ``annotation``; every label must already be in ``classes`` (see ``merge_classes``)."""
    if annotation.width <= 0 or annotation.height <= 0:
        raise ValueError("the image size is unknown, so boxes cannot be normalised for YOLO")
    check_finite(annotation)
    lines = []
    for box in annotation.boxes:
        cx = (box.xmin + box.xmax) / 2 / annotation.width
        cy = (box.ymin + box.ymax) / 2 / annotation.height
        w = (box.xmax - box.xmin) / annotation.width
        h = (box.ymax - box.ymin) / annotation.height
        lines.append(f"{classes.index(box.label)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines)


def classes_beside(txt_path: str | os.PathLike) -> list[str]:
    """The ``classes.txt`` next to a YOLO file, or no classes when there is none yet."""
    classes_path = classes_path_for(txt_path)
    return read_classes(classes_path) if classes_path.exists() else []


def classes_for_save(
    txt_path: str | os.PathLike, annotation: ImageAnnotation, classes: Sequence[str] = ()
) -> list[str]:
    """The class list a save needs: ``classes.txt`` as it is, then ``classes``, then the annotation's new labels."""
    return merge_classes(classes_beside(txt_path), merge_classes(classes, (box.label for box in annotation.boxes)))


def write_yolo(txt_path: str | os.PathLike, annotation: ImageAnnotation, classes: Sequence[str] = ()) -> list[str]:
    """Write the txt and grow ``classes.txt`` beside it (see ``classes_for_save``); returns the class list.

    ``classes.txt`` is written before the txt, so a txt on disk never names a class the list lacks. Saves that
    may run at the same time in one folder hold ``core.folder_lock`` around this (the store does)."""
    merged = classes_for_save(txt_path, annotation, classes)
    write_with_classes(txt_path, yolo_to_string(annotation, merged).encode("utf-8"), merged)
    return merged


def write_with_classes(txt_path: str | os.PathLike, data: bytes, classes: Sequence[str]) -> None:
    """Grow ``classes.txt`` to ``classes``, then write the txt; when the txt cannot be written, ``classes.txt``
    is put back as it was, so a failed save adds no class."""
    classes_path = classes_path_for(txt_path)
    before = read_limited(classes_path, MAX_TXT_BYTES, "class list") if classes_path.exists() else None
    write_classes(classes_path, classes)
    try:
        atomic_write_bytes(txt_path, data)
    except BaseException:
        if before is None:
            classes_path.unlink(missing_ok=True)
        else:
            atomic_write_bytes(classes_path, before)
        raise


def _decode(data: bytes, path: str | os.PathLike) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnnotationFileError(path, "the file is not UTF-8 text") from None
