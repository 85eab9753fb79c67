"""COCO detection JSON for a folder: export, import, and what pycocotools makes of our export."""

from __future__ import annotations

import json

import pytest

from implant_desk.core.annotations.coco import coco_to_dict, read_coco, write_coco
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.errors import AnnotationFileError

IMAGES = [
    ImageAnnotation("a.png", 640, 480, 1, [Box("Implant", 10, 20, 110, 220, difficult=True), Box("Crown", 1, 2, 3, 4)]),
    ImageAnnotation("b.png", 100, 100, 1, []),
    ImageAnnotation("c.png", 100, 100, 1, [Box("Implant", 5, 5, 50, 50)]),
]


def test_round_trip_keeps_images_boxes_and_difficult(tmp_path):
    path = tmp_path / "annotations.json"
    write_coco(path, IMAGES, ["Cavity", "Implant"])
    dataset = read_coco(path)
    assert dataset.categories == ["Cavity", "Implant", "Crown"]
    assert list(dataset.images) == ["a.png", "b.png", "c.png"]
    for original in IMAGES:
        back = dataset.images[original.filename]
        assert (back.width, back.height) == (original.width, original.height)
        assert back.boxes == original.boxes


def test_export_is_valid_for_pycocotools(tmp_path):
    coco_api = pytest.importorskip("pycocotools.coco")
    path = tmp_path / "annotations.json"
    write_coco(path, IMAGES)
    api = coco_api.COCO(str(path))
    assert len(api.getImgIds()) == 3
    implant = api.getCatIds(catNms=["Implant"])
    assert len(api.getAnnIds(catIds=implant)) == 2
    (first,) = api.loadAnns(api.getAnnIds(imgIds=[1], catIds=implant))
    assert first["bbox"] == [10, 20, 100, 200] and first["area"] == 20000


def test_crowd_regions_are_skipped_and_outside_boxes_clamped(tmp_path):
    data = coco_to_dict(IMAGES[2:])
    data["annotations"][0]["bbox"] = [-10, 5, 50, 20]
    data["annotations"].append(dict(data["annotations"][0], id=2, iscrowd=1))
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data))
    warnings: list[str] = []
    (image,) = read_coco(path, warnings).images.values()
    assert [(b.xmin, b.xmax) for b in image.boxes] == [(0, 40)]
    assert len(warnings) == 2 and any("crowd" in w for w in warnings)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"images": [{"id": 1, "file_name": "a", "width": 9, "height": 9}], "categories": [],'
        ' "annotations": [{"image_id": 1, "category_id": 5, "bbox": [1, 1, 2, 2]}]}',
        '{"images": [{"id": 1}]}',
        "{not json",
    ],
)
def test_damaged_files_are_refused(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(AnnotationFileError):
        read_coco(path)
