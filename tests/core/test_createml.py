"""CreateML JSON as LabelImg reads and writes it (centre x/y, width, height in pixels)."""

from __future__ import annotations

import json

import pytest

from implant_desk.core.annotations.createml import read_createml, read_createml_entries, write_createml
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.errors import AnnotationFileError


def test_round_trip_keeps_boxes_and_verified(tmp_path):
    path = tmp_path / "scan.json"
    original = ImageAnnotation("scan.png", 640, 480, 1, [Box("Implant", 10.5, 20, 110, 220), Box("Кариес", 1, 2, 3, 4)], True)
    write_createml(path, original)
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert entries[0]["annotations"][0] == {
        "label": "Implant",
        "coordinates": {"x": 60.25, "y": 120.0, "width": 99.5, "height": 200},
    }
    back = read_createml(path, "scan.png", (640, 480, 1))
    assert back.boxes == original.boxes and back.verified


def test_labelimg_reader_geometry_reads_our_file(tmp_path):
    """LabelImg's CreateMLReader: x_min = x - width / 2 etc., boxes of the entry whose image matches."""
    path = tmp_path / "scan.json"
    write_createml(path, ImageAnnotation("scan.png", 100, 100, boxes=[Box("a", 10, 20, 30, 60)]))
    (entry,) = json.loads(path.read_text())
    c = entry["annotations"][0]["coordinates"]
    assert (c["x"] - c["width"] / 2, c["y"] - c["height"] / 2, c["x"] + c["width"] / 2, c["y"] + c["height"] / 2) == (
        10, 20, 30, 60,
    )


def test_writing_one_image_keeps_the_other_entries(tmp_path):
    path = tmp_path / "all.json"
    other = {"image": "other.png", "verified": False, "annotations": [], "note": "kept"}
    path.write_text(json.dumps([other, {"image": "scan.png", "annotations": [], "reviewer": "Dr A"}]))
    write_createml(path, ImageAnnotation("scan.png", 100, 100, boxes=[Box("a", 1, 2, 3, 4)]))
    entries = json.loads(path.read_text())
    assert entries[0] == other
    assert entries[1]["reviewer"] == "Dr A" and len(entries[1]["annotations"]) == 1


def test_missing_entry_is_none_and_outside_boxes_are_clamped(tmp_path):
    path = tmp_path / "all.json"
    path.write_text(json.dumps([{"image": "a.png", "annotations": [
        {"label": "x", "coordinates": {"x": 0, "y": 50, "width": 20, "height": 10}}]}]))
    assert read_createml(path, "b.png", (100, 100)) is None
    warnings: list[str] = []
    read = read_createml(path, "a.png", (100, 100), warnings)
    assert (read.boxes[0].xmin, read.boxes[0].xmax) == (0, 10) and warnings


@pytest.mark.parametrize(
    "text", ["{", '{"image": "a"}', '[{"image": "a.png", "annotations": [{"label": "x"}]}]', "[1]"]
)
def test_damaged_files_are_refused(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(AnnotationFileError):
        read_createml(path, "a.png", (100, 100))
    with pytest.raises(AnnotationFileError):
        write_createml(path, ImageAnnotation("a.png", 100, 100))
    assert path.read_text() == text


def test_entries_must_be_a_list_of_images(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('[{"image": 3}]')
    with pytest.raises(AnnotationFileError, match="not a CreateML"):
        read_createml_entries(path)


def test_deeply_nested_and_huge_json_are_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(AnnotationFileError):
        read_createml_entries(deep)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:  # sparse, so the test writes nothing real
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(AnnotationFileError, match="too large"):
        read_createml_entries(huge)
