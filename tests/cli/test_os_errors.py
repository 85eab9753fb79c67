"""Operating-system errors and awkward sources reach the user as one line and a non-zero exit, never a
traceback; a failed ``convert`` leaves no output folder behind; ``convert`` reads a fresh ``synth`` folder."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from implant_desk.cli import main
from implant_desk.core.annotations import folder_io

VOC = "<annotation><filename>{0}.png</filename><size><width>20</width><height>20</height></size>{1}</annotation>"
BOX = "<object><name>Implant</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>"


@pytest.fixture
def voc_folder(tmp_path) -> Path:
    folder = tmp_path / "voc"
    folder.mkdir()
    for stem in ("a", "b"):
        (folder / f"{stem}.xml").write_text(VOC.format(stem, BOX))
    return folder


def one_line_failure(capsys, code: int, *words: str) -> str:
    captured = capsys.readouterr()
    assert code == 1, captured
    assert "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1, captured.err
    assert all(word in captured.err for word in words), captured.err
    return captured.err


@pytest.fixture
def unreadable(monkeypatch):
    """Folders named "locked" cannot be listed, as with chmod 000 (root, who runs CI here, bypasses chmod)."""
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(os.fspath(path)).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self.name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)


@pytest.mark.parametrize("command", [["convert", "--to", "yolo", "--out", "OUT"], ["predict"], ["train"], ["evaluate"]])
def test_an_unreadable_folder_is_one_line(tmp_path, capsys, unreadable, voc_folder, command):
    locked = tmp_path / "locked"
    voc_folder.rename(locked)
    argv = [command[0], str(locked), *(str(tmp_path / "out") if a == "OUT" else a for a in command[1:])]
    one_line_failure(capsys, main(argv), "locked", "Permission denied")


def test_a_folder_named_like_an_annotation_file_is_not_read_as_one(voc_folder, tmp_path, capsys):
    (voc_folder / "x.json").mkdir()
    (voc_folder / "y.xml").mkdir()
    assert main(["convert", str(voc_folder), "--to", "yolo", "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt", "b.txt", "classes.txt"]


def test_out_onto_a_file_is_one_line(voc_folder, tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep")
    one_line_failure(capsys, main(["convert", str(voc_folder), "--to", "voc", "--out", str(target)]), "not a folder")
    assert target.read_text() == "keep"


def test_out_on_a_read_only_disk_is_one_line_and_leaves_nothing(voc_folder, tmp_path, capsys, monkeypatch):
    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    one_line_failure(capsys, main(["convert", str(voc_folder), "--to", "voc", "--out", str(tmp_path / "out")]),
                     "Read-only file system")
    assert not (tmp_path / "out").exists()


def test_a_convert_failing_half_way_leaves_no_output_folder(voc_folder, tmp_path, capsys, monkeypatch):
    real_write = folder_io.voc.write_voc
    written = []

    def write_then_fail(path, annotation):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written.append(path)
        real_write(path, annotation)

    monkeypatch.setattr(folder_io.voc, "write_voc", write_then_fail)
    one_line_failure(capsys, main(["convert", str(voc_folder), "--to", "voc", "--out", str(tmp_path / "out")]),
                     "No space left")
    assert written and not (tmp_path / "out").exists()


def test_convert_failing_on_every_file_says_so_in_one_line(tmp_path, capsys):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("a.xml", "b.xml"):
        (damaged / name).write_text("<annotation><object>")
    err = one_line_failure(capsys, main(["convert", str(damaged), "--to", "yolo", "--out", str(tmp_path / "o")]),
                           "nothing was converted", "a.xml", "1 more")
    assert not (tmp_path / "o").exists(), err


def test_convert_reads_a_fresh_synth_folder(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "synth"), "--images", "2", "--format", "png"]) == 0
    assert main(["convert", str(tmp_path / "synth"), "--to", "coco", "--out", str(tmp_path / "coco")]) == 0
    coco = json.loads((tmp_path / "coco" / "annotations.json").read_text())
    assert len(coco["images"]) == 2 and coco["annotations"]


def test_yolo_export_of_coco_adds_no_unused_category(tmp_path, capsys):
    """Roboflow exports declare their supercategory as category 0, which no box uses (issue 15)."""
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "export.json"
    source.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 20}],
        "categories": [{"id": 0, "name": "teeth"}, {"id": 1, "name": "Implant"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 5, 5]}],
    }))
    assert main(["convert", str(source), "--to", "yolo", "--out", str(tmp_path / "yolo")]) == 0
    assert (tmp_path / "yolo" / "classes.txt").read_text() == "Implant\n"
    assert (tmp_path / "yolo" / "a.txt").read_text().startswith("0 ")
