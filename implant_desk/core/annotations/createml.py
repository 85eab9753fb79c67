"""CreateML JSON, as LabelImg reads and writes it.

A file is a list of ``{"image": name, "verified": bool, "annotations": [{"label", "coordinates": {"x", "y",
"width", "height"}}]}`` with the box centre and size in pixels. LabelImg writes one ``<image stem>.json`` per
image; Apple's tools write one file for a whole folder. Both read here, and writing one image's entry into an
existing file keeps every other entry as it was (LabelImg does the same), and keeps the keys of the image's
own entry that we do not model.
"""

from __future__ import annotations

import json
import os
from typing import Any, Sequence

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.safe_xml import read_limited
from implant_desk.core.annotations.sanitize import check_finite, clean_boxes, file_number, strict_json
from implant_desk.core.atomic import atomic_write_bytes
from implant_desk.core.errors import AnnotationFileError

JSON_SUFFIX = ".json"
MAX_JSON_BYTES = 64 * 1024 * 1024


def read_createml_entries(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The raw entries of a CreateML file, each box checked (raises AnnotationFileError)."""
    try:
        entries = strict_json(read_limited(path, MAX_JSON_BYTES, "JSON"))
    except (ValueError, RecursionError) as exc:
        raise AnnotationFileError(path, f"the JSON is damaged ({exc})") from None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("image"), str) and isinstance(e.get("annotations", []), list)
        for e in entries
    ):
        raise AnnotationFileError(path, "this JSON is not a CreateML annotation file (a list of images with boxes)")
    for entry in entries:  # every box checked, so no damaged entry is read as empty or overwritten
        for number, shape in enumerate(entry.get("annotations", []), start=1):
            _box(shape, number, path)
    return entries


def read_createml(
    path: str | os.PathLike,
    image_name: str,
    image_size: tuple[int, int] | tuple[int, int, int],
    warnings: list[str] | None = None,
) -> ImageAnnotation | None:
    """The annotation of ``image_name`` in the file, or None when the file has no entry for it."""
    for entry in read_createml_entries(path):
        if entry["image"] == image_name:
            return annotation_from_entry(entry, image_size, path, warnings if warnings is not None else [])
    return None


def annotation_from_entry(
    entry: dict[str, Any],
    image_size: tuple[int, int] | tuple[int, int, int],
    path: str | os.PathLike,
    warnings: list[str],
) -> ImageAnnotation:
    width, height = image_size[0], image_size[1]
    boxes = [_box(shape, number, path) for number, shape in enumerate(entry.get("annotations", []), start=1)]
    return ImageAnnotation(
        filename=entry["image"],
        width=int(width),
        height=int(height),
        depth=int(image_size[2]) if len(image_size) > 2 else 1,
        boxes=clean_boxes(boxes, width, height, warnings),
        verified=bool(entry.get("verified", False)),
    )


def _box(shape: Any, number: int, path: str | os.PathLike) -> Box:
    try:
        coordinates = shape["coordinates"]
        values = [coordinates[key] for key in ("x", "y", "width", "height")]
        label = shape["label"]
        if not isinstance(label, str):
            raise TypeError
    except (KeyError, TypeError, IndexError):
        raise AnnotationFileError(path, f"box {number} lacks a label or its x, y, width and height") from None
    x, y, w, h = (file_number(value, path, f"box {number}") for value in values)
    return Box(label=label, xmin=x - w / 2, ymin=y - h / 2, xmax=x + w / 2, ymax=y + h / 2)


def entry_for(annotation: ImageAnnotation, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CreateML entry for ``annotation``, keeping keys of ``previous`` (the entry it replaces)."""
    check_finite(annotation)
    entry = dict(previous or {})
    entry.update(
        image=annotation.filename,
        verified=annotation.verified,
        annotations=[
            {
                "label": box.label,
                "coordinates": {
                    "x": (box.xmin + box.xmax) / 2,
                    "y": (box.ymin + box.ymax) / 2,
                    "width": box.xmax - box.xmin,
                    "height": box.ymax - box.ymin,
                },
            }
            for box in annotation.boxes
        ],
    )
    return entry


def createml_to_bytes(annotation: ImageAnnotation, existing: Sequence[dict[str, Any]] = ()) -> bytes:
    """The file with ``annotation``'s entry replaced (or appended) among ``existing`` entries."""
    entries = list(existing)
    for index, entry in enumerate(entries):
        if entry["image"] == annotation.filename:
            entries[index] = entry_for(annotation, entry)
            break
    else:
        entries.append(entry_for(annotation))
    return json.dumps(entries, ensure_ascii=False, allow_nan=False).encode("utf-8")


def write_createml(path: str | os.PathLike, annotation: ImageAnnotation) -> None:
    """Atomically write ``annotation``'s entry, keeping the file's other entries (a damaged file is refused)."""
    existing = read_createml_entries(path) if os.path.exists(path) else []
    atomic_write_bytes(path, createml_to_bytes(annotation, existing))
