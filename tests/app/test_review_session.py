"""The open image's proposed boxes: loaded with it, decisions saved beside the annotation (issue 13). No display."""

from __future__ import annotations

from pathlib import Path

import pytest

from implant_desk.app.controllers.session import AnnotationSession
from implant_desk.core.annotations import voc
from implant_desk.core.annotations.folder import PROPOSED, VERIFIED, scan_image_folder
from implant_desk.core.annotations.proposals import ACCEPTED, REJECTED, proposals_path, read_proposals, write_proposals
from review_helpers import two_proposals, write_images

SIZE = (120, 80, 1)


@pytest.fixture
def image(tmp_path) -> Path:
    path, = write_images(tmp_path, "a.png")
    write_proposals(path, None, two_proposals())
    return path


def _open(image: Path, fmt: str = "voc") -> AnnotationSession:
    session = AnnotationSession(fmt)
    session.open(image, *SIZE)
    return session


def test_accepted_proposals_are_saved_as_boxes_and_decisions_persist(image):
    session = _open(image)
    assert session.document.pending_indices == [0, 1] and session.document.boxes == ()
    session.document.accept_proposals([0])
    session.document.reject_proposals([1])
    session.save(["A"])
    assert [b.label for b in voc.read_voc(image.with_suffix(".xml")).boxes] == ["A"]
    assert [p.state for p in read_proposals(image, None).proposals] == [ACCEPTED, REJECTED]
    again = _open(image)
    assert again.document.pending_indices == [] and [b.label for b in again.document.boxes] == ["A"]
    assert scan_image_folder(image.parent)[0].status == PROPOSED  # decided, but not marked reviewed yet
    again.document.set_verified(True)
    again.save(["A"])
    assert scan_image_folder(image.parent)[0].status == VERIFIED


def test_yolo_keeps_the_reviewed_mark_in_the_proposals_file(tmp_path):
    plain, = write_images(tmp_path, "b.png")
    session = _open(plain, "yolo")
    session.document.set_verified(True)
    session.save(["A"])
    assert read_proposals(plain, None).reviewed
    assert _open(plain, "yolo").document.verified
    assert scan_image_folder(tmp_path)[0].status == VERIFIED


def test_an_image_without_proposals_gets_no_proposals_file(tmp_path):
    plain, = write_images(tmp_path, "b.png")
    session = _open(plain)
    session.document.set_verified(True)
    session.save(["A"])
    assert not proposals_path(plain, None).exists()


def test_a_damaged_proposals_file_is_reported_and_left_untouched(image):
    path = proposals_path(image, None)
    path.write_text("{broken")
    session = _open(image)
    assert any("proposals" in w or "a.json" in w for w in session.warnings)
    session.document.set_verified(True)
    session.save(["A"])
    assert path.read_text() == "{broken"
