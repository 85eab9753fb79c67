"""Saving and loading an image's annotation: atomic, conflict-aware, never overwriting what it cannot read."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from implant_desk.core.annotations import createml, store, voc, yolo
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.store import (
    AnnotationConflictError,
    annotation_path_for,
    load_annotation,
    save_annotation,
    save_document,
)
from implant_desk.core.errors import AnnotationFileError, SaveError

SIZE = (640, 480, 1)


@pytest.fixture
def image(tmp_path) -> Path:
    (tmp_path / "images").mkdir()
    return tmp_path / "images" / "scan 01.png"  # the image itself is never read by the store


@pytest.fixture
def save_dir(tmp_path) -> Path:
    folder = tmp_path / "labels"
    folder.mkdir()
    return folder


def blank(image: Path) -> ImageAnnotation:
    return ImageAnnotation(image.name, SIZE[0], SIZE[1], SIZE[2])


def saved_document(image: Path, save_dir: Path, fmt: str) -> tuple[AnnotationDocument, store.LoadedAnnotation]:
    """An image with one saved box in ``fmt``, reopened, then edited: a dirty document over an existing file."""
    first = AnnotationDocument([Box("Implant", 10, 20, 110, 220)])
    save_document(first, blank(image), image, save_dir, fmt)
    loaded = load_annotation(image, save_dir, SIZE)
    document = AnnotationDocument(loaded.annotation.boxes, loaded.annotation.verified)
    document.add_box(Box("Crown", 300, 100, 400, 200))
    return document, loaded


def test_annotation_path_for_each_format(image, save_dir):
    assert [annotation_path_for(image, save_dir, fmt).name for fmt in store.FORMATS] == [
        "scan 01.xml", "scan 01.txt", "scan 01.json",
    ]
    assert annotation_path_for(image, None, "voc") == image.with_suffix(".xml")


@pytest.mark.parametrize("fmt", store.FORMATS)
def test_save_and_load_round_trip_in_every_format(image, save_dir, fmt):
    document = AnnotationDocument([Box("Implant", 10, 20, 110, 220, difficult=fmt == "voc")])
    document.set_verified(fmt != "yolo")
    stamps = save_document(document, blank(image), image, save_dir, fmt)
    assert not document.dirty
    loaded = load_annotation(image, save_dir, SIZE)
    assert (loaded.fmt, loaded.path) == (fmt, annotation_path_for(image, save_dir, fmt))
    (box,) = loaded.annotation.boxes
    assert box.label == "Implant"
    assert (box.xmin, box.ymin, box.xmax, box.ymax) == pytest.approx((10, 20, 110, 220), abs=1e-3)  # YOLO: 6 decimals
    assert loaded.annotation.verified == (fmt != "yolo")
    assert loaded.on_disk == stamps


def test_voc_save_fills_the_names_labelimg_writes(image, save_dir):
    save_annotation(ImageAnnotation("", 640, 480, 1), image, save_dir, "voc")
    written = voc.read_voc(annotation_path_for(image, save_dir, "voc"))
    assert (written.folder, written.filename, written.path) == ("images", "scan 01.png", str(image))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saves_keep_the_file_readable_by_colleagues(image, save_dir):
    path = annotation_path_for(image, save_dir, "voc")
    stamps = save_annotation(blank(image), image, save_dir, "voc")
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0600 of a fresh temporary file
    path.chmod(0o664)
    save_annotation(blank(image), image, save_dir, "voc", expected_on_disk=stamps)
    assert path.stat().st_mode & 0o777 == 0o664


def test_no_annotation_is_none(image, save_dir):
    assert load_annotation(image, save_dir, SIZE) is None


def test_the_newest_format_wins_when_several_exist(image, save_dir):
    save_annotation(ImageAnnotation(image.name, 640, 480, boxes=[Box("old", 1, 1, 5, 5)]), image, save_dir, "voc")
    voc_path = annotation_path_for(image, save_dir, "voc")
    os.utime(voc_path, ns=(time.time_ns() - 10**10,) * 2)
    save_annotation(ImageAnnotation(image.name, 640, 480, boxes=[Box("new", 1, 1, 5, 5)]), image, save_dir, "yolo")
    loaded = load_annotation(image, save_dir, SIZE)
    assert loaded.fmt == "yolo" and loaded.annotation.boxes[0].label == "new"


def test_voc_without_size_borrows_the_image_size_and_clamps(image, save_dir):
    path = annotation_path_for(image, save_dir, "voc")
    path.write_text(
        "<annotation><filename>scan 01.png</filename><object><name>a</name>"
        "<bndbox><xmin>600</xmin><ymin>10</ymin><xmax>700</xmax><ymax>20</ymax></bndbox></object></annotation>"
    )
    loaded = load_annotation(image, save_dir, SIZE)
    assert (loaded.annotation.width, loaded.annotation.height) == (640, 480)
    assert loaded.annotation.boxes[0].xmax == 640 and loaded.warnings


def test_yolo_without_classes_file_is_refused(image, save_dir):
    annotation_path_for(image, save_dir, "yolo").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(AnnotationFileError, match="classes.txt"):
        load_annotation(image, save_dir, SIZE)


def test_yolo_save_keeps_existing_classes(image, save_dir):
    (save_dir / "classes.txt").write_text("Cavity\nFillings\n")
    save_annotation(ImageAnnotation(image.name, 640, 480, boxes=[Box("Implant", 1, 1, 5, 5)]), image, save_dir, "yolo", ["Implant"])
    assert yolo.read_classes(save_dir / "classes.txt") == ["Cavity", "Fillings", "Implant"]


# ---- changed on disk ---------------------------------------------------------------------------------------
def test_a_file_changed_on_disk_is_not_silently_overwritten(image, save_dir):
    document, loaded = saved_document(image, save_dir, "voc")
    someone_else = loaded.path.read_bytes().replace(b"Implant", b"Implant (checked by Dr B)")
    loaded.path.write_bytes(someone_else)
    with pytest.raises(AnnotationConflictError, match="changed by someone else"):
        save_document(document, loaded.annotation, image, save_dir, "voc", expected_on_disk=loaded.on_disk)
    assert loaded.path.read_bytes() == someone_else
    assert document.dirty
    # The user was asked and chose to overwrite:
    save_document(document, loaded.annotation, image, save_dir, "voc", expected_on_disk=loaded.on_disk, overwrite_changed=True)
    assert len(voc.read_voc(loaded.path).boxes) == 2 and not document.dirty


def test_a_file_that_appeared_since_opening_is_a_conflict(image, save_dir):
    document = AnnotationDocument([Box("a", 1, 1, 5, 5)])
    path = annotation_path_for(image, save_dir, "voc")
    voc.write_voc(path, ImageAnnotation(image.name, 640, 480, boxes=[Box("theirs", 1, 1, 9, 9)]))
    with pytest.raises(AnnotationConflictError, match="appeared"):
        save_document(document, blank(image), image, save_dir, "voc", expected_on_disk=None)


def test_consecutive_saves_with_returned_stamps_need_no_confirmation(image, save_dir):
    document, loaded = saved_document(image, save_dir, "createml")
    stamps = save_document(document, loaded.annotation, image, save_dir, "createml", expected_on_disk=loaded.on_disk)
    document.remove_boxes([0])
    save_document(document, loaded.annotation, image, save_dir, "createml", expected_on_disk=stamps)
    assert [b.label for b in load_annotation(image, save_dir, SIZE).annotation.boxes] == ["Crown"]


@pytest.mark.parametrize(
    "fmt, damaged",
    [
        ("voc", b"<annotation><object><name>a</name>"),
        ("voc", b"\x89PNG not xml at all"),
        ("createml", b'[{"image": "scan 01.png", "annotations": [{"label": 1}]}]'),
        ("yolo", b"0 0.5 oops\n"),
    ],
)
def test_an_unparseable_file_is_never_overwritten(image, save_dir, fmt, damaged):
    (save_dir / "classes.txt").write_text("a\n")
    path = annotation_path_for(image, save_dir, fmt)
    path.write_bytes(damaged)
    with pytest.raises(AnnotationFileError):
        load_annotation(image, save_dir, SIZE)
    document = AnnotationDocument()
    document.add_box(Box("a", 1, 1, 5, 5))
    with pytest.raises(AnnotationConflictError):
        save_document(document, blank(image), image, save_dir, fmt)
    with pytest.raises(AnnotationFileError, match="was not overwritten"):
        save_document(document, blank(image), image, save_dir, fmt, overwrite_changed=True)
    assert path.read_bytes() == damaged
    assert document.dirty


# ---- a failure at each step of a save ----------------------------------------------------------------------
class _FullDiskHandle:
    def __init__(self, handle):
        self._handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def _fail_serialise(monkeypatch, fmt):
    def refuse(*args, **kwargs):
        raise ValueError("cannot be represented")

    module, name = {"voc": (voc, "voc_to_bytes"), "yolo": (yolo, "yolo_to_string"), "createml": (createml, "createml_to_bytes")}[fmt]
    monkeypatch.setattr(module, name, refuse)


def _fail_write(monkeypatch, fmt):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullDiskHandle(real_fdopen(fd, *a, **k)))


def _fail_fsync(monkeypatch, fmt):
    def fail(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)


def _fail_rename(monkeypatch, fmt):
    def fail(src, dst):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", fail)


@pytest.mark.parametrize("fmt", store.FORMATS)
@pytest.mark.parametrize("inject", [_fail_serialise, _fail_write, _fail_fsync, _fail_rename], ids=lambda f: f.__name__[6:])
def test_a_failure_at_any_step_keeps_the_old_file_and_the_work(image, save_dir, monkeypatch, fmt, inject):
    document, loaded = saved_document(image, save_dir, fmt)
    before = {path.name: path.read_bytes() for path in save_dir.iterdir()}
    inject(monkeypatch, fmt)
    with pytest.raises(SaveError):
        save_document(document, loaded.annotation, image, save_dir, fmt, expected_on_disk=loaded.on_disk)
    monkeypatch.undo()
    after = {path.name: path.read_bytes() for path in save_dir.iterdir()}
    assert after == before  # old files byte-identical, no temporary file left
    assert document.dirty and len(document.boxes) == 2
    # Once the disk is fine again, the same save goes through.
    save_document(document, loaded.annotation, image, save_dir, fmt, expected_on_disk=loaded.on_disk)
    assert not document.dirty and len(load_annotation(image, save_dir, SIZE).annotation.boxes) == 2


def test_unknown_format_is_a_programming_error(image, save_dir):
    with pytest.raises(ValueError, match="unknown annotation format"):
        annotation_path_for(image, save_dir, "labelme")
