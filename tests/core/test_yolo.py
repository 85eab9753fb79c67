"""YOLO txt + classes.txt (LabelImg's convention).

Real data: ``../shared/data/dental-xray`` (Roboflow Universe "dental-uispo/-bhjcu" v2, CC BY 4.0,
"Рентгеновские снимки", via github AayushKarna/dental-detection-backend).
"""

from __future__ import annotations

from collections import Counter

import pytest

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.yolo import (
    merge_classes,
    read_classes,
    read_yolo,
    write_classes,
    write_yolo,
    yolo_to_string,
)
from implant_desk.core.errors import AnnotationFileError
from real_data import DENTAL_COUNTS



def test_dental_xray_import_gives_the_readme_box_counts(shared_data):
    labels = shared_data / "dental-xray" / "labels"
    classes = read_classes(labels / "classes.txt")
    assert classes == ["Cavity", "Fillings", "Impacted Tooth", "Implant"]
    counts: Counter[str] = Counter()
    for txt in sorted(labels.glob("*.txt")):
        if txt.name != "classes.txt":
            counts.update(box.label for box in read_yolo(txt, (640, 640, 3), classes).boxes)
    assert dict(counts) == DENTAL_COUNTS


def test_reading_uses_labelimg_geometry(tmp_path):
    txt = tmp_path / "img.txt"
    txt.write_text("1 0.5 0.25 0.2 0.1\n\n0 0.1 0.1 0.1 0.1\n")
    read = read_yolo(txt, (200, 100), ["a", "b"], image_name="img.png")
    assert read.filename == "img.png" and (read.width, read.height) == (200, 100)
    assert [(b.label, b.xmin, b.ymin, b.xmax, b.ymax) for b in read.boxes] == [
        ("b", 80.0, 20.0, 120.0, 30.0),
        ("a", pytest.approx(10.0), pytest.approx(5.0), pytest.approx(30.0), pytest.approx(15.0)),
    ]


def test_boxes_outside_are_clamped_and_empty_ones_dropped_with_warnings(tmp_path):
    txt = tmp_path / "img.txt"
    txt.write_text("0 0.0 0.5 0.2 0.2\n0 0.5 0.5 0.0 0.2\n")
    warnings: list[str] = []
    read = read_yolo(txt, (100, 100), ["a"], warnings)
    assert [(b.xmin, b.xmax) for b in read.boxes] == [(0.0, 10.0)]
    assert len(warnings) == 2


@pytest.mark.parametrize(
    "line, reason", [("0 0.5 0.5 0.1", "4 values"), ("x 0.5 0.5 0.1 0.1", "not a YOLO"), ("3 0.5 0.5 0.1 0.1", "class 3")]
)
def test_malformed_lines_are_refused(tmp_path, line, reason):
    txt = tmp_path / "img.txt"
    txt.write_text(line + "\n")
    with pytest.raises(AnnotationFileError, match=reason):
        read_yolo(txt, (100, 100), ["a", "b"])


def test_write_then_read_round_trip_keeps_boxes(tmp_path):
    original = ImageAnnotation("img.png", 640, 480, 1, [Box("Implant", 10, 20, 110, 220), Box("Zahn ✓", 1, 2, 3, 4)])
    classes = write_yolo(tmp_path / "img.txt", original, ["Cavity"])
    assert classes == ["Cavity", "Implant", "Zahn ✓"]
    assert read_classes(tmp_path / "classes.txt") == classes
    assert (tmp_path / "img.txt").read_text().splitlines()[0] == "1 0.093750 0.250000 0.156250 0.416667"
    back = read_yolo(tmp_path / "img.txt", (640, 480), classes)
    for ours, theirs in zip(back.boxes, original.boxes):
        assert ours.label == theirs.label
        assert (ours.xmin, ours.ymin, ours.xmax, ours.ymax) == pytest.approx(
            (theirs.xmin, theirs.ymin, theirs.xmax, theirs.ymax), abs=1e-3
        )


def test_classes_file_is_never_dropped_or_renumbered(tmp_path):
    classes_txt = tmp_path / "classes.txt"
    classes_txt.write_text("dog\nperson\ncat\n")
    # LabelImg would rewrite classes.txt from its in-memory list, here ["Implant"], losing dog/person/cat.
    write_yolo(tmp_path / "img.txt", ImageAnnotation("img.png", 100, 100, boxes=[Box("Implant", 1, 1, 5, 5)]), ["Implant"])
    assert read_classes(classes_txt) == ["dog", "person", "cat", "Implant"]
    assert (tmp_path / "img.txt").read_text().startswith("3 ")
    assert write_classes(classes_txt, ["cat", "dog"]) == ["dog", "person", "cat", "Implant"]


def test_classes_file_untouched_when_it_has_every_label(tmp_path):
    classes_txt = tmp_path / "classes.txt"
    classes_txt.write_bytes(b"a\r\n\r\nb")  # Windows line ends, a blank class 1, no final newline
    assert read_classes(classes_txt) == ["a", "", "b"]
    write_yolo(tmp_path / "img.txt", ImageAnnotation("img.png", 10, 10, boxes=[Box("b", 1, 1, 5, 5)]))
    assert classes_txt.read_bytes() == b"a\r\n\r\nb"
    assert (tmp_path / "img.txt").read_text().startswith("2 ")


def test_merge_classes_appends_only_new_names():
    assert merge_classes(["a", "b"], ["b", "c", "a", "c"]) == ["a", "b", "c"]


def test_labels_yolo_cannot_hold_are_refused(tmp_path):
    with pytest.raises(ValueError, match="several lines"):
        write_classes(tmp_path / "classes.txt", ["two\nlines"])
    with pytest.raises(ValueError, match="size is unknown"):
        yolo_to_string(ImageAnnotation("a.png", 0, 0, boxes=[Box("a", 1, 1, 2, 2)]), ["a"])
