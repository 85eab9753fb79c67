"""Listing an image folder with each image's annotation status."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from implant_desk.core.annotations.folder import (ANNOTATED, NOT_ANNOTATED, VERIFIED, annotation_folder,
                                                  scan_image_folder)
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.store import save_annotation
from implant_desk.core.errors import FileProblem


def touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_bytes(b"")


def save(image: Path, save_dir: Path | None, fmt: str, verified: bool = False) -> None:
    annotation = ImageAnnotation(image.name, 100, 100, 1, [Box("Implant", 1, 1, 50, 50)], verified)
    save_annotation(annotation, image, save_dir, fmt)


def statuses(folder: Path, save_dir: Path | None = None) -> dict[str, str]:
    return {entry.path.name: entry.status for entry in scan_image_folder(folder, save_dir)}


def test_images_are_listed_in_natural_order_and_others_ignored(tmp_path):
    touch(tmp_path, "img10.png", "img2.JPG", "Img1.tif", "notes.txt", "scan.xml", ".hidden.png", "x.dcm", "y.BMP")
    (tmp_path / "sub.png").mkdir()
    names = [entry.path.name for entry in scan_image_folder(tmp_path)]
    assert names == ["Img1.tif", "img2.JPG", "img10.png", "x.dcm", "y.BMP"]


def test_status_per_format_beside_the_images(tmp_path):
    touch(tmp_path, "a.png", "b.png", "c.png", "d.png", "e.png")
    save(tmp_path / "b.png", None, "voc")
    save(tmp_path / "c.png", None, "voc", verified=True)
    save(tmp_path / "d.png", None, "createml", verified=True)
    save(tmp_path / "e.png", None, "yolo")
    assert statuses(tmp_path) == {
        "a.png": NOT_ANNOTATED, "b.png": ANNOTATED, "c.png": VERIFIED, "d.png": VERIFIED, "e.png": ANNOTATED,
    }
    (entry,) = [e for e in scan_image_folder(tmp_path) if e.path.name == "c.png"]
    assert entry.annotation_path == tmp_path / "c.xml"


def test_save_folder_apart_from_the_images(tmp_path):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    touch(images, "a.png", "b.png")
    save(images / "a.png", labels, "voc", verified=True)
    assert statuses(images, labels) == {"a.png": VERIFIED, "b.png": NOT_ANNOTATED}
    assert statuses(images) == {"a.png": NOT_ANNOTATED, "b.png": NOT_ANNOTATED}
    assert statuses(images, tmp_path / "not yet created") == {"a.png": NOT_ANNOTATED, "b.png": NOT_ANNOTATED}


def test_the_newest_format_decides_like_the_store(tmp_path):
    touch(tmp_path, "a.png")
    save(tmp_path / "a.png", None, "voc", verified=True)
    old = time.time_ns() - 10**10
    os.utime(tmp_path / "a.xml", ns=(old, old))
    save(tmp_path / "a.png", None, "yolo")
    assert statuses(tmp_path) == {"a.png": ANNOTATED}


def test_verified_sniff_does_not_trust_the_word_elsewhere(tmp_path):
    touch(tmp_path, "a.png")
    (tmp_path / "a.xml").write_text('<annotation>\n\t<folder>verified="yes"</folder>\n</annotation>\n')
    assert statuses(tmp_path) == {"a.png": ANNOTATED}


def test_dicom_without_suffix_is_listed(tmp_path):
    (tmp_path / "IMG0001").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    (tmp_path / "README").write_text("not an image")
    assert [entry.path.name for entry in scan_image_folder(tmp_path)] == ["IMG0001"]


def test_a_missing_folder_is_a_file_problem_naming_it(tmp_path):
    with pytest.raises(FileProblem, match="missing: this folder cannot be opened"):
        scan_image_folder(tmp_path / "missing")


def test_the_yolo_layout_puts_annotations_in_the_labels_folder_that_mirrors_images(tmp_path):
    for folder in ("flat/images", "flat/labels", "split/images/train", "split/labels/train", "alone/images", "plain"):
        (tmp_path / folder).mkdir(parents=True)
    assert annotation_folder(tmp_path / "flat" / "images") == tmp_path / "flat" / "labels"  # Roboflow
    assert annotation_folder(tmp_path / "split" / "images" / "train") == tmp_path / "split" / "labels" / "train"
    assert annotation_folder(tmp_path / "alone" / "images") is None  # no labels/: beside the images
    assert annotation_folder(tmp_path / "plain") is None
    chosen = tmp_path / "plain"
    assert annotation_folder(tmp_path / "flat" / "images", chosen) == chosen  # the user's save folder wins
