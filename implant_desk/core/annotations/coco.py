"""COCO object-detection JSON for a whole folder: import and export.

``images`` (id, file_name, width, height), ``categories`` (id, name) and ``annotations`` (image_id,
category_id, bbox = [x, y, width, height] in pixels, top-left corner). ``iscrowd`` regions are not boxes of
an object and are skipped with a warning. VOC's ``difficult`` travels as COCO's common ``attributes`` extension
so a VOC -> COCO -> VOC round trip keeps it; verified has no place in COCO.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.safe_xml import read_limited
from implant_desk.core.annotations.sanitize import (
    check_finite,
    clean_boxes,
    file_number,
    file_size,
    strict_json,
)
from implant_desk.core.atomic import atomic_write_bytes
from implant_desk.core.errors import AnnotationFileError

MAX_COCO_BYTES = 512 * 1024 * 1024
_SIZE_KEYS = ("width", "height")


def is_coco_file(path: str | os.PathLike) -> bool:
    """Cheap sniff: a JSON object (COCO) rather than a list (CreateML)."""
    with open(path, "rb") as handle:
        return handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def holds_coco(path: str | os.PathLike) -> bool:
    """A JSON object with COCO's ``images`` and ``categories`` lists; other objects (a generator's
    ``truth.json``) and damaged files are not COCO."""
    try:
        data = strict_json(read_limited(path, MAX_COCO_BYTES, "COCO"))
    except (AnnotationFileError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and isinstance(data.get("images"), list) and isinstance(data.get("categories"), list)


@dataclass
class CocoDataset:
    images: dict[str, ImageAnnotation]  # by file_name, images without boxes included
    categories: list[str]  # names in category id order


def read_coco(path: str | os.PathLike, warnings: list[str] | None = None) -> CocoDataset:
    """Every image of the file with its boxes, and the category names."""
    warnings = warnings if warnings is not None else []
    try:
        data = strict_json(read_limited(path, MAX_COCO_BYTES, "COCO"))
        categories = {c["id"]: str(c["name"]) for c in data.get("categories", [])}
        images = {img["id"]: img for img in data["images"]}
        raw_boxes: dict[Any, list[Box]] = {image_id: [] for image_id in images}
        for number, ann in enumerate(data.get("annotations", []), start=1):
            if ann.get("iscrowd"):
                warnings.append(f"annotation {number} is a crowd region, not an object box, and was skipped")
                continue
            if ann["image_id"] not in images or ann["category_id"] not in categories:
                raise AnnotationFileError(path, f"annotation {number} refers to an image or category the file lacks")
            x, y, w, h = (file_number(v, path, f"annotation {number}'s bbox") for v in ann["bbox"])
            difficult = bool((ann.get("attributes") or {}).get("difficult", False))
            box = Box(categories[ann["category_id"]], x, y, x + w, y + h, difficult=difficult)
            raw_boxes[ann["image_id"]].append(box)
        result = {}
        for image_id, image in images.items():
            width, height = (file_size(image.get(key, 0), path, f"image {image_id}'s {key}") for key in _SIZE_KEYS)
            image_warnings: list[str] = []
            boxes = clean_boxes(raw_boxes[image_id], width, height, image_warnings)
            warnings.extend(f"{image['file_name']}: {w}" for w in image_warnings)
            name = str(image["file_name"])
            result[name] = ImageAnnotation(filename=name, width=width, height=height, depth=3, boxes=boxes)
        return CocoDataset(result, [categories[key] for key in sorted(categories)])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        reason = f"this is not a readable COCO detection file ({type(exc).__name__}: {exc})"
        raise AnnotationFileError(path, reason) from None


def coco_to_dict(annotations: Iterable[ImageAnnotation], categories: Sequence[str] = ()) -> dict[str, Any]:
    """COCO for these images; ``categories`` fixes the first category ids (1-based), new labels follow."""
    annotations = list(annotations)
    for annotation in annotations:
        check_finite(annotation)
    names = list(dict.fromkeys([*categories, *(b.label for a in annotations for b in a.boxes)]))
    category_id = {name: index for index, name in enumerate(names, start=1)}
    images, boxes = [], []
    for image_id, annotation in enumerate(annotations, start=1):
        images.append(
            {"id": image_id, "file_name": annotation.filename, "width": annotation.width, "height": annotation.height}
        )
        for box in annotation.boxes:
            boxes.append(
                {
                    "id": len(boxes) + 1,
                    "image_id": image_id,
                    "category_id": category_id[box.label],
                    "bbox": [box.xmin, box.ymin, box.width, box.height],
                    "area": box.width * box.height,
                    "iscrowd": 0,
                    "attributes": {"difficult": box.difficult},
                }
            )
    return {
        "images": images,
        "annotations": boxes,
        "categories": [{"id": i, "name": name, "supercategory": ""} for name, i in category_id.items()],
    }


def write_coco(
    path: str | os.PathLike, annotations: Iterable[ImageAnnotation], categories: Sequence[str] = ()
) -> None:
    data = coco_to_dict(annotations, categories)
    atomic_write_bytes(Path(path), json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8"))
