"""Proposed boxes beside the annotations (issue 13): the file, the listing, the document, what other tools see."""

from __future__ import annotations

import json

import pytest

from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.folder import ANNOTATED, NOT_ANNOTATED, PROPOSED, VERIFIED, scan_image_folder
from implant_desk.core.annotations.folder_io import read_folder
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.proposals import (
    ACCEPTED,
    PROPOSED as PENDING,
    ImageProposals,
    REJECTED,
    proposals_path,
    read_proposals,
    write_proposals,
)
from implant_desk.core.annotations.store import save_annotation
from implant_desk.core.errors import AnnotationFileError
from review_helpers import two_proposals, write_images


def test_a_proposals_file_reads_back_what_was_written_in_a_hidden_folder(tmp_path):
    image, = write_images(tmp_path, "a.png")
    written = two_proposals()
    path = write_proposals(image, None, written)
    assert path == tmp_path / ".implant-desk" / "proposals" / "a.json"
    assert read_proposals(image, None) == written
    assert read_proposals(write_images(tmp_path, "b.png")[0], None) is None
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_proposals_go_to_the_save_folder_when_annotations_are_kept_apart(tmp_path):
    image, = write_images(tmp_path / "images", "a.png")
    write_proposals(image, tmp_path / "labels", two_proposals())
    assert proposals_path(image, tmp_path / "labels").is_file()
    assert not (tmp_path / "images" / ".implant-desk").exists()


@pytest.mark.parametrize("content", [b"{not json", b'{"kind": "something else"}', b"\xff\xfe",
                                     (b'{"kind": "implant-desk proposals", "version": 1, "proposals": '
                                      b'[{"box": [5, 5, 1, 1], "label": "A"}]}')])
def test_a_damaged_proposals_file_is_reported_and_listed_as_none(tmp_path, content):
    image, = write_images(tmp_path, "a.png")
    path = proposals_path(image, None)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(AnnotationFileError, match="a.json"):
        read_proposals(image, None)
    if not content.startswith(b'{"kind": "implant-desk'):  # the listing only sniffs; opening the image says more
        assert scan_image_folder(tmp_path)[0].status == NOT_ANNOTATED


def test_labelimg_and_yolo_readers_never_see_proposals(tmp_path):
    a, b = write_images(tmp_path, "a.png", "b.png")
    save_annotation(ImageAnnotation("a.png", 120, 80, 1, [Box("A", 1, 1, 20, 20)]), a, None, "voc")
    write_proposals(b, None, two_proposals("b.png"))
    folder = read_folder(tmp_path)
    assert folder.fmt == "voc" and [x.filename for x in folder.annotations] == ["a.png"]
    yolo_dir = tmp_path / "yolo"
    yolo_dir.mkdir()
    save_annotation(ImageAnnotation("a.png", 120, 80, 1, [Box("A", 1, 1, 20, 20)]), a, yolo_dir, "yolo", ["A"])
    write_proposals(b, yolo_dir, two_proposals("b.png"))
    assert [x.filename for x in read_folder(yolo_dir, tmp_path).annotations] == ["a.png"]


def test_the_listing_tells_proposed_reviewed_and_hand_made_apart(tmp_path):
    a, b, c, d, _ = write_images(tmp_path, "a.png", "b.png", "c.png", "d.png", "e.png")
    write_proposals(a, None, two_proposals("a.png", uncertainty=0.7))
    write_proposals(b, None, two_proposals("b.png"))
    save_annotation(ImageAnnotation("b.png", 120, 80, 1, [Box("A", 1, 1, 20, 20)], verified=True), b, None, "voc")
    save_annotation(ImageAnnotation("c.png", 120, 80, 1, [Box("A", 1, 1, 20, 20)]), c, None, "voc")
    # YOLO has no verified flag: the proposals file keeps the reviewed mark.
    save_annotation(ImageAnnotation("d.png", 120, 80, 1, [Box("A", 1, 1, 20, 20)]), d, None, "yolo", ["A"])
    write_proposals(d, None, ImageProposals("d.png", reviewed=True))
    entries = {entry.path.name: entry for entry in scan_image_folder(tmp_path)}
    assert {name: entry.status for name, entry in entries.items()} == {
        "a.png": PROPOSED, "b.png": VERIFIED, "c.png": ANNOTATED, "d.png": VERIFIED, "e.png": NOT_ANNOTATED}
    assert (entries["a.png"].pending, entries["a.png"].uncertainty) == (2, 0.7)
    assert entries["e.png"].uncertainty is None


def test_accepting_rejecting_and_verifying_are_single_undoable_steps():
    proposals = two_proposals().proposals
    document = AnnotationDocument([Box("mine", 0, 0, 5, 5)], proposals=proposals)
    document.accept_proposals([0])
    assert [b.label for b in document.boxes] == ["mine", "A"]
    assert [p.state for p in document.proposals] == [ACCEPTED, PENDING]
    document.accept_proposals([1], label="B", description="Relabel proposal")
    assert document.boxes[-1] == Box("B", 40, 10, 60, 60) and document.proposals[1].label == "B"
    document.undo()
    assert document.pending_indices == [1] and len(document.boxes) == 2
    document.reject_proposals([1])
    assert [p.state for p in document.proposals] == [ACCEPTED, REJECTED] and len(document.boxes) == 2
    document.undo()
    document.undo()
    assert document.boxes == (Box("mine", 0, 0, 5, 5),) and document.pending_indices == [0, 1]
    document.set_verified(True)  # the person looked at the image: what is still pending is rejected with it
    assert document.verified and [p.state for p in document.proposals] == [REJECTED, REJECTED]
    document.undo()
    assert not document.verified and document.pending_indices == [0, 1]
    document.accept_proposals(document.pending_indices, description="Accept all proposals")
    assert len(document.boxes) == 3 and document.undo_text == "Accept all proposals"


def test_the_file_is_small_json_that_says_what_it_is(tmp_path):
    image, = write_images(tmp_path, "a.png")
    data = json.loads(write_proposals(image, None, two_proposals()).read_text())
    assert data["kind"] == "implant-desk proposals" and data["version"] == 1
    assert data["proposals"][0] == {"box": [10, 10, 30, 60], "label": "A", "state": "proposed", "score": 0.9,
                                    "model": "7", "candidates": [["A", 0.8], ["B", 0.15]]}
