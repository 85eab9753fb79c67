"""Numbers in annotation files: NaN, infinities and absurd sizes are refused with the file's name by every
reader, dropped by the sanitiser, and refused by every writer, so a NaN never reaches a file."""

from __future__ import annotations

import math

import pytest

from implant_desk.core.annotations.coco import coco_to_dict, read_coco
from implant_desk.core.annotations.createml import createml_to_bytes, read_createml_entries
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.sanitize import clean_boxes
from implant_desk.core.annotations.voc import voc_from_bytes, voc_to_bytes
from implant_desk.core.annotations.yolo import read_yolo, yolo_to_string
from implant_desk.core.errors import AnnotationFileError

VOC = "<annotation><size><width>{w}</width><height>100</height></size>{objects}</annotation>"
VOC_OBJECT = "<object><name>a</name><bndbox><xmin>{x}</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"


@pytest.mark.parametrize("width, x", [("nan", "1"), ("inf", "1"), ("9" * 30, "1"), ("1" * 400, "1"),
                                      ("-5", "1"), ("100", "nan"), ("100", "-inf"), ("100", "1e400")])
def test_voc_refuses_numbers_no_image_has(width, x):
    data = VOC.format(w=width, objects=VOC_OBJECT.format(x=x)).encode()
    with pytest.raises(AnnotationFileError, match="number|size"):
        voc_from_bytes(data, "a.xml")


def test_voc_with_an_unknown_encoding_is_a_clean_error():
    with pytest.raises(AnnotationFileError, match="encoding"):
        voc_from_bytes(b'<?xml version="1.0" encoding="foo"?><annotation/>', "a.xml")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400])
def test_createml_refuses_infinite_and_huge_numbers(tmp_path, value):
    path = tmp_path / "a.json"
    path.write_text(f'[{{"image": "a.png", "annotations": [{{"label": "a", "coordinates": '
                    f'{{"x": {value}, "y": 5, "width": 2, "height": 2}}}}]}}]')
    with pytest.raises(AnnotationFileError):
        read_createml_entries(path)


@pytest.mark.parametrize("bbox, width", [("[NaN, 1, 2, 2]", "10"), ("[1e400, 1, 2, 2]", "10"),
                                         ("[1, 1, 2, 2]", "Infinity"), ("[1, 1, 2, 2]", "1e400"),
                                         ("[1, 1, 2, 2]", "1" + "0" * 30)])
def test_coco_refuses_infinite_and_huge_numbers(tmp_path, bbox, width):
    path = tmp_path / "coco.json"
    path.write_text(f'{{"images": [{{"id": 1, "file_name": "a.png", "width": {width}, "height": 10}}], '
                    f'"categories": [{{"id": 1, "name": "a"}}], '
                    f'"annotations": [{{"id": 1, "image_id": 1, "category_id": 1, "bbox": {bbox}}}]}}')
    with pytest.raises(AnnotationFileError):
        read_coco(path)


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "1e300"])
def test_yolo_refuses_infinite_and_huge_numbers(tmp_path, value):
    path = tmp_path / "a.txt"
    path.write_text(f"0 0.5 {value} 0.1 0.1\n")
    with pytest.raises(AnnotationFileError):
        read_yolo(path, (100, 100), ["a"])


def test_sanitiser_drops_a_box_with_a_nan_corner_and_says_so():
    warnings: list[str] = []
    kept = clean_boxes([Box("a", math.nan, 1, 5, 5), Box("b", 1, 1, 5, 5)], 10, 10, warnings)
    assert [box.label for box in kept] == ["b"]
    assert "not a number" in warnings[0]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_every_writer_refuses_a_box_that_is_not_finite(value):
    annotation = ImageAnnotation("a.png", 10, 10, 1, [Box("a", 1, 1, value, 5)])
    for write in (voc_to_bytes, lambda a: yolo_to_string(a, ["a"]), createml_to_bytes, lambda a: coco_to_dict([a])):
        with pytest.raises(ValueError, match="finite"):
            write(annotation)
