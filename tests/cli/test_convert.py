"""``implant-desk convert``: every format to every other, the source never written, bad input fails.

Real data: ``../shared/data/dental-xray`` (Roboflow Universe "dental-uispo/-bhjcu" v2, CC BY 4.0,
"Рентгеновские снимки", via github AayushKarna/dental-detection-backend), copied before use.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pytest

from implant_desk.cli import main
from implant_desk.core.annotations.folder_io import read_folder
from implant_desk.core.annotations.voc import read_voc
from real_data import DENTAL_COUNTS, DENTAL_IMAGES



def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def label_counts(folder: Path, images: Path | None = None) -> dict[str, int]:
    result = read_folder(folder, images)
    assert result.problems == []
    return dict(Counter(box.label for annotation in result.annotations for box in annotation.boxes))


@pytest.fixture(scope="module")
def dental(shared_data, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("dental") / "dental-xray"
    shutil.copytree(shared_data / "dental-xray", copy)
    return copy


def test_dental_yolo_through_every_format_keeps_the_box_counts(dental, tmp_path, capsys):
    before = tree_digest(dental)
    images = dental / "images"
    assert main(["convert", str(dental), "--to", "voc", "--out", str(tmp_path / "voc")]) == 0
    assert f"{DENTAL_IMAGES} images ({sum(DENTAL_COUNTS.values())} boxes) from yolo to voc" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "voc"), "--to", "coco", "--out", str(tmp_path / "coco")]) == 0
    coco_file = tmp_path / "coco" / "annotations.json"
    assert main(["convert", str(coco_file), "--to", "createml", "--out", str(tmp_path / "cml"), "--images", str(images)]) == 0
    assert main(["convert", str(tmp_path / "cml"), "--to", "yolo", "--out", str(tmp_path / "yolo"), "--images", str(images)]) == 0
    for folder in ("voc", "cml", "yolo"):
        assert label_counts(tmp_path / folder, images) == DENTAL_COUNTS, folder
    assert label_counts(coco_file) == DENTAL_COUNTS
    assert (tmp_path / "yolo" / "classes.txt").read_text().splitlines() == list(DENTAL_COUNTS)
    assert tree_digest(dental) == before  # the source was never written


def test_a_class_file_fixes_the_class_ids(dental, tmp_path):
    classes = tmp_path / "predefined_classes.txt"
    classes.write_text("Implant\nCrown\n")
    assert main(["convert", str(dental), "--to", "yolo", "--out", str(tmp_path / "y"), "--classes", str(classes)]) == 0
    assert (tmp_path / "y" / "classes.txt").read_text().splitlines() == ["Implant", "Crown", "Cavity", "Fillings", "Impacted Tooth"]
    assert label_counts(tmp_path / "y", dental / "images") == DENTAL_COUNTS


def test_voc_written_from_yolo_is_labelimg_layout(dental, tmp_path):
    assert main(["convert", str(dental / "labels"), "--to", "voc", "--out", str(tmp_path)]) == 0
    xml = tmp_path / "0001_jpg.rf.34ebbe7e12c07c3c930c20c0c6583410.xml"
    annotation = read_voc(xml)
    assert (annotation.width, annotation.height, annotation.folder) == (640, 640, "images")
    assert xml.read_text().startswith("<annotation>\n\t<folder>images</folder>\n")


def test_yolo_files_beside_their_images(dental, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(dental / "labels" / "classes.txt", mixed)
    for label in sorted((dental / "labels").glob("00[01]*.txt")):
        shutil.copy(label, mixed)
        shutil.copy(dental / "images" / f"{label.stem}.jpg", mixed)
    assert main(["convert", str(mixed), "--to", "voc", "--out", str(tmp_path / "voc")]) == 0
    assert len(list((tmp_path / "voc").glob("*.xml"))) == len(list(mixed.glob("*.jpg"))) >= 3


@pytest.mark.parametrize("inside", [".", "out", "labels/converted"])
def test_output_inside_the_source_is_refused(dental, inside, capsys):
    before = tree_digest(dental)
    assert main(["convert", str(dental), "--to", "voc", "--out", str(dental / inside)]) == 1
    assert "inside the source" in capsys.readouterr().err
    assert tree_digest(dental) == before


def test_yolo_boxes_are_sized_on_the_image_as_displayed(tmp_path):
    """A JPEG whose EXIF says "rotate 90°" is shown (by LabelImg too) with width and height swapped."""
    image_module = pytest.importorskip("PIL.Image")
    src = tmp_path / "src"
    src.mkdir()
    exif = image_module.Exif()
    exif[0x0112] = 6
    image_module.new("L", (40, 20)).save(src / "a.jpg", exif=exif)
    (src / "classes.txt").write_text("tooth\n")
    (src / "a.txt").write_text("0 0.5 0.5 1.0 1.0\n")
    assert main(["convert", str(src), "--to", "voc", "--out", str(tmp_path / "voc")]) == 0
    annotation = read_voc(tmp_path / "voc" / "a.xml")
    assert (annotation.width, annotation.height, annotation.depth) == (20, 40, 1)
    assert (annotation.boxes[0].xmax, annotation.boxes[0].ymax) == (20, 40)


def test_bad_input_exits_non_zero(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["convert", str(empty), "--to", "voc", "--out", str(tmp_path / "o1")]) == 1
    assert main(["convert", str(tmp_path / "missing"), "--to", "voc", "--out", str(tmp_path / "o2")]) == 1
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "a.xml").write_text("<annotation><object>")
    (damaged / "b.xml").write_text(
        "<annotation><filename>b.png</filename><size><width>9</width><height>9</height></size></annotation>"
    )
    assert main(["convert", str(damaged), "--to", "yolo", "--out", str(tmp_path / "o3")]) == 1
    err = capsys.readouterr().err
    assert "a.xml" in err and "1 file could not be read" in err
    assert (tmp_path / "o3" / "b.txt").exists()  # what could be read was converted


def test_existing_output_files_are_not_overwritten(dental, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["convert", str(dental), "--to", "createml", "--out", str(out)]) == 0
    first = tree_digest(out)
    assert main(["convert", str(dental), "--to", "createml", "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert tree_digest(out) == first
