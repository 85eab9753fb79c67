"""``predict --propose``, ``review`` and ``convert --reviewed`` (issue 13): the lab's loop from a terminal."""

from __future__ import annotations

import json

from implant_desk.cli import main
from implant_desk.core.annotations import voc
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.proposals import ImageProposals, read_proposals, write_proposals
from implant_desk.core.annotations.store import save_annotation
from test_predict import images, model_dir, one_torch_thread  # noqa: F401 (fixtures)


def test_propose_writes_proposals_and_leaves_annotated_images_untouched(model_dir, images, capsys):
    mine = ImageAnnotation("two.png", 70, 90, 1, [Box("mine", 1, 1, 20, 20)])
    save_annotation(mine, images / "two.png", None, "voc")
    before = (images / "two.xml").read_bytes()
    assert main(["predict", str(images), "--propose", "--model", str(model_dir), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "one.png: " in out and "proposed" in out and "already annotated" in out
    assert "1 image pre-annotated" in out and "1 left alone" in out
    proposals = read_proposals(images / "one.png", None)
    assert proposals.model == "9" and proposals.proposals and all(p.pending for p in proposals.proposals)
    assert (images / "two.xml").read_bytes() == before and read_proposals(images / "two.png", None) is None
    assert not (images / "one.xml").exists()


def test_propose_json_lines_and_a_separate_annotation_folder(model_dir, images, tmp_path, capsys):
    labels = tmp_path / "labels"
    labels.mkdir()
    assert main(["predict", str(images / "one.png"), "--propose", "--annotations", str(labels), "--json",
                 "--model", str(model_dir), "--device", "cpu"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(record) == {"path", "proposed", "uncertainty", "skipped", "error"} and record["proposed"] >= 1
    assert read_proposals(images / "one.png", labels) is not None
    assert not (images / ".implant-desk").exists()


def test_review_counts_and_lists_the_most_uncertain_first(tmp_path, capsys):
    for name in ("a.png", "b.png", "c.png", "d.png"):
        (tmp_path / name).write_bytes(b"")
    write_proposals(tmp_path / "a.png", None, ImageProposals("a.png", uncertainty=0.2))
    write_proposals(tmp_path / "b.png", None, ImageProposals("b.png", uncertainty=0.9))
    save_annotation(ImageAnnotation("c.png", 10, 10, 1, [Box("A", 1, 1, 5, 5)], verified=True), tmp_path / "c.png",
                    None, "voc")
    assert main(["review", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("1 reviewed · 2 proposed (0 boxes to decide) · 0 hand-made · 1 not annotated")
    assert [line.split()[1] for line in lines[1:]] == ["b.png", "a.png", "d.png"]
    assert main(["review", str(tmp_path), "--order", "file", "--json", "--next", "2"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [n["path"].rsplit("/", 1)[1] for n in record["next"]] == ["a.png", "b.png"]
    assert record["counts"]["reviewed"] == 1
    assert main(["review", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err.strip() == f"implant-desk review: {tmp_path / 'nowhere'}: not a folder"


def test_convert_reviewed_exports_only_the_reviewed_set_in_every_format(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    for name, verified in (("a.png", True), ("b.png", False)):
        (src / name).write_bytes(b"")
        save_annotation(ImageAnnotation(name, 40, 30, 1, [Box("A", 1, 1, 9, 9)], verified), src / name, None, "voc")
    for fmt in ("voc", "yolo", "createml", "coco"):
        assert main(["convert", str(src), "--to", fmt, "--out", str(tmp_path / fmt), "--reviewed"]) == 0
        assert "converted 1 image" in capsys.readouterr().out
    assert voc.read_voc(tmp_path / "voc" / "a.xml").verified and not (tmp_path / "voc" / "b.xml").exists()


def test_convert_reviewed_reads_yolo_reviewed_marks_and_says_when_none_is(tmp_path, capsys):
    import cv2
    import numpy as np

    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(src / name), np.zeros((30, 40), np.uint8))
        save_annotation(ImageAnnotation(name, 40, 30, 1, [Box("A", 1, 1, 9, 9)]), src / name, None, "yolo", ["A"])
    assert main(["convert", str(src), "--to", "voc", "--out", str(tmp_path / "none"), "--reviewed"]) == 1
    assert "no image is marked reviewed" in capsys.readouterr().err
    write_proposals(src / "b.png", None, ImageProposals("b.png", reviewed=True))
    assert main(["convert", str(src), "--to", "voc", "--out", str(tmp_path / "out"), "--reviewed"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.xml"]
