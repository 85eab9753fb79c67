"""Pre-annotating a folder, ordering what to review next, and training on reviewed work only (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from implant_desk.core.annotations.folder import PROPOSED, VERIFIED, scan_image_folder
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.proposals import REJECTED, ImageProposals, Proposal, read_proposals, write_proposals
from implant_desk.core.annotations.store import save_annotation
from implant_desk.core.learning.dataset import load_dataset
from implant_desk.core.review.order import FILE_ORDER, RANDOM, UNCERTAINTY, Candidate, review_order, to_review
from implant_desk.core.models.predictor import IMPLANT_LABEL
from implant_desk.core.review.propose import ANNOTATED_ALREADY, REVIEWED_ALREADY, propose_folder
from implant_desk.core.review.summary import ReviewCounts
from implant_desk.core.review.uncertainty import (
    detection_uncertainty,
    flip_disagreement,
    image_uncertainty,
    margin_uncertainty,
)
from review_helpers import Found, ScriptedPredictor, two_proposals, write_images

SURE = Found((10, 10, 30, 60), 0.95, (("A", 0.97), ("B", 0.02)))


def test_pre_annotating_writes_proposals_and_never_touches_annotated_or_reviewed_images(tmp_path):
    a, b, c = write_images(tmp_path, "a.png", "b.png", "c.png")
    mine = ImageAnnotation("b.png", 120, 80, 1, [Box("mine", 1, 1, 20, 20)])
    save_annotation(mine, b, None, "voc")
    voc_before = (tmp_path / "b.xml").read_bytes()
    decided = ImageProposals("c.png", (Proposal((1, 1, 9, 9), "A", state=REJECTED),))
    write_proposals(c, None, decided)
    seen = []
    results = propose_folder(ScriptedPredictor([SURE, Found((50, 10, 70, 60), 0.6, (("B", 0.4), ("A", 0.3)))]),
                             tmp_path, on_image=lambda done, total, result: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [(r.image.name, r.proposals, r.skipped) for r in results] == [
        ("a.png", 2, ""), ("b.png", 0, ANNOTATED_ALREADY), ("c.png", 0, REVIEWED_ALREADY)]
    proposed = read_proposals(a, None)
    assert [(p.label, p.model, p.pending) for p in proposed.proposals] == [("A", "7", True), (IMPLANT_LABEL, "7", True)]
    assert proposed.proposals[1].candidates == (("B", 0.4), ("A", 0.3))  # ranked, for relabelling in one key
    assert (tmp_path / "b.xml").read_bytes() == voc_before and read_proposals(b, None) is None
    assert read_proposals(c, None) == decided
    assert not (tmp_path / "a.xml").exists()  # proposals never become annotations by themselves


def test_pre_annotating_stops_between_images_and_reports_unreadable_ones(tmp_path):
    write_images(tmp_path, "a.png", "b.png", "c.png")
    (tmp_path / "b.png").write_bytes(b"not a png")
    results = propose_folder(ScriptedPredictor([SURE]), tmp_path)
    assert results[1].error and "b.png" in results[1].error and results[2].proposals == 1
    seen = []
    stopped = propose_folder(ScriptedPredictor([SURE]), tmp_path, should_stop=lambda: len(seen) >= 1,
                             on_image=lambda *args: seen.append(args))
    assert len(stopped) == 1


def test_proposals_not_acted_on_are_replaced_by_a_newer_model(tmp_path):
    a, = write_images(tmp_path, "a.png")
    propose_folder(ScriptedPredictor([SURE], name="1"), tmp_path)
    propose_folder(ScriptedPredictor([SURE], name="2"), tmp_path)
    assert read_proposals(a, None).model == "2"


def test_uncertainty_signs():
    assert margin_uncertainty((("A", 0.5), ("B", 0.45))) == pytest.approx(0.95)
    assert margin_uncertainty((("A", 1.0),)) == 0.0
    assert detection_uncertainty(0.3, 0.3) == 1.0 and detection_uncertainty(0.6, 0.3) == 0.0
    assert detection_uncertainty(0.15, 0.3) == 0.0 and 0 < detection_uncertainty(0.25, 0.3) < 1
    width = 100
    same = Found((100 - 30, 10, 100 - 10, 60), 0.9, (("A", 0.9),))
    assert flip_disagreement([SURE], [same], width) == [0.0]
    other_system = Found(same.box, 0.9, (("B", 0.9),))
    assert flip_disagreement([SURE], [other_system], width) == [0.5]
    assert flip_disagreement([SURE], [], width) == [1.0]
    assert flip_disagreement([], [same], width) == [1.0]


def test_an_image_the_model_sees_the_same_both_ways_is_less_uncertain_than_one_it_does_not(tmp_path):
    width = 120
    stable = image_uncertainty([SURE], [], [Found((90, 10, 110, 60), 0.95, (("A", 0.97),))], width, 0.3)
    unstable = image_uncertainty([SURE], [], [], width, 0.3)
    nothing = image_uncertainty([], [], [], width, 0.3)
    near_miss = image_uncertainty([], [Found((1, 1, 9, 9), 0.28)], [], width, 0.3)
    assert nothing == 0.0 < near_miss and stable < unstable


def test_review_order_uncertainty_random_and_file(tmp_path):
    candidates = [Candidate(Path("a"), 0.1), Candidate(Path("b")), Candidate(Path("c"), 0.9),
                  Candidate(Path("d"), 0.5)]
    assert [p.name for p in review_order(candidates, UNCERTAINTY)] == ["c", "d", "a", "b"]
    assert [p.name for p in review_order(candidates, FILE_ORDER)] == ["a", "b", "c", "d"]
    shuffled = review_order(candidates, RANDOM, seed=3)
    assert shuffled == review_order(candidates, RANDOM, seed=3) and sorted(p.name for p in shuffled) == list("abcd")
    with pytest.raises(ValueError, match="unknown review order"):
        review_order(candidates, "best")


def test_only_unreviewed_images_are_queued_and_counted(tmp_path):
    a, b, c, _ = write_images(tmp_path, "a.png", "b.png", "c.png", "d.png")
    write_proposals(a, None, two_proposals("a.png", uncertainty=0.2))
    write_proposals(b, None, two_proposals("b.png", uncertainty=0.8))
    save_annotation(ImageAnnotation("b.png", 120, 80, 1, [Box("A", 1, 1, 9, 9)], verified=True), b, None, "voc")
    save_annotation(ImageAnnotation("c.png", 120, 80, 1, [Box("A", 1, 1, 9, 9)]), c, None, "voc")
    entries = scan_image_folder(tmp_path)
    assert [c.path.name for c in to_review(entries)] == ["a.png", "d.png"]
    counts = ReviewCounts.of_entries(entries)
    assert counts.to_json() == {"not_annotated": 1, "proposed": 1, "annotated": 1, "reviewed": 1, "pending_boxes": 2}
    assert counts.text() == "1 reviewed · 1 proposed (2 boxes to decide) · 1 hand-made · 1 not annotated"


def test_training_data_holds_reviewed_and_hand_made_images_only(tmp_path):
    a, b, c = write_images(tmp_path, "a.png", "b.png", "c.png")
    for image, verified in ((a, False), (b, False), (c, True)):
        save_annotation(ImageAnnotation(image.name, 120, 80, 1, [Box("A", 1, 1, 9, 9)], verified), image, None, "yolo",
                        ["A"])
    write_proposals(a, None, two_proposals("a.png"))  # accepted into a.txt, but not reviewed yet
    write_proposals(c, None, ImageProposals("c.png", reviewed=True))  # YOLO's reviewed mark
    dataset = load_dataset([tmp_path])
    assert sorted((s.image_path.name, s.annotation.verified) for s in dataset.samples) == [
        ("b.png", False), ("c.png", True)]
    assert dataset.unreviewed == [a]
    assert {e.path.name: e.status for e in scan_image_folder(tmp_path)}["c.png"] == VERIFIED
    assert {e.path.name: e.status for e in scan_image_folder(tmp_path)}["a.png"] == PROPOSED
