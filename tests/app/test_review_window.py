"""User story (issue 13): pre-annotate the folder in the background, review its proposed boxes by keyboard, go to
the most uncertain image next; every decision undoable, the user's own boxes never touched."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from implant_desk.app.identify import worker
from implant_desk.core.annotations import voc
from implant_desk.core.annotations.folder import NOT_ANNOTATED, PROPOSED, VERIFIED
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.proposals import ACCEPTED, ImageProposals, read_proposals, write_proposals
from review_helpers import Found, ScriptedPredictor, two_proposals

TWO = [Found((120, 40, 150, 160), 0.9, (("A", 0.8), ("B", 0.15))), Found((20, 20, 50, 90), 0.5, (("B", 0.4), ("A", 0.35)))]


def active_model(monkeypatch, predictor) -> None:
    """The window's model (the Identify panel's, which pre-annotation shares) is ``predictor``."""
    monkeypatch.setattr(worker, "active_model_folder", lambda: Path("models/v7"))
    monkeypatch.setattr(worker, "load_predictor", lambda folder: predictor)


def _status(window, name: str) -> str:
    return next(item.status for item in window.navigator.items if item.path.name == name)


def test_review_by_keyboard_accept_relabel_reject_undo_and_verify(window, image_folder, qtbot):
    write_proposals(image_folder / "img1.png", None, two_proposals("img1.png"))
    window.open_folder(image_folder)
    assert len(window.canvas._proposals) == 2 and "A 80%" in window.canvas._proposals[0].text
    assert window.files.model.index(0).data() == "img1.png  (2 proposed)"
    window.review.actions["accept_proposal"].trigger()  # Y: the first pending one
    assert [b.label for b in window.session.document.boxes] == ["A"] and len(window.canvas._proposals) == 1
    window.actions["undo"].trigger()
    assert window.session.document.boxes == () and len(window.canvas._proposals) == 2
    window.review.actions["next_proposal"].trigger()  # N: the second one is current
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_2)  # its second candidate, one key away
    assert [b.label for b in window.session.document.boxes] == ["A"]  # "implant" proposed, relabelled as A
    window.review.actions["reject_proposal"].trigger()  # X: the first
    assert window.canvas._proposals == [] and len(window.session.document.boxes) == 1
    window.actions["verify"].trigger()  # Space: reviewed
    window.actions["next_image"].trigger()  # auto-save
    assert voc.read_voc(image_folder / "img1.xml").verified
    assert [p.state for p in read_proposals(image_folder / "img1.png", None).proposals] == ["rejected", ACCEPTED]
    assert _status(window, "img1.png") == VERIFIED and window.files.counts.text().startswith("1 reviewed")


def test_accept_all_is_one_undo_step_and_the_users_boxes_stay(window, image_folder):
    write_proposals(image_folder / "img3.png", None, two_proposals("img3.png"))
    window.open_folder(image_folder, select=image_folder / "img3.png")
    window.session.document.add_box(Box("mine", 1, 1, 10, 10))
    window.review.actions["accept_all_proposals"].trigger()
    assert [b.label for b in window.session.document.boxes] == ["mine", "A", "implant"]
    window.actions["undo"].trigger()
    assert [b.label for b in window.session.document.boxes] == ["mine"]
    window.review.actions["accept_all_proposals"].trigger()
    window.actions["save"].trigger()
    assert _status(window, "img3.png") == PROPOSED  # decided, not yet marked reviewed
    assert [b.label for b in voc.read_voc(image_folder / "img3.xml").boxes] == ["mine", "A", "implant"]


def test_next_image_to_review_is_the_most_uncertain(window, image_folder):
    write_proposals(image_folder / "img1.png", None, ImageProposals("img1.png", uncertainty=0.1))
    write_proposals(image_folder / "img3.png", None, ImageProposals("img3.png", uncertainty=0.9))
    window.open_folder(image_folder)
    window.review.actions["next_to_review"].trigger()
    assert window.session.image_path.name == "img3.png"
    window.review.set_order("file")
    window.review.actions["next_to_review"].trigger()
    assert window.session.image_path.name == "img1.png" and window.settings.review_order == "file"


def test_pre_annotating_runs_in_the_background_and_never_touches_annotated_images(window, image_folder, qtbot,
                                                                                  monkeypatch):
    voc_file = image_folder / "img3.xml"
    window.open_folder(image_folder, select=image_folder / "img3.png")
    window.actions["verify"].trigger()
    window.actions["save"].trigger()
    before = voc_file.read_bytes()
    window.show_image(0)  # img1, no annotation: shown while the job runs
    active_model(monkeypatch, ScriptedPredictor(TWO))
    window.review.actions["preannotate"].trigger()
    qtbot.waitUntil(lambda: window.review.job is None, timeout=20000)
    assert voc_file.read_bytes() == before and read_proposals(image_folder / "img3.png", None) is None
    assert _status(window, "img1.png") == PROPOSED and _status(window, "img2.tif") == PROPOSED
    assert _status(window, "img2b_damaged.png") == NOT_ANNOTATED
    assert len(window.canvas._proposals) == 2  # the image on screen was reopened with its proposals
    assert "pre-annotated" in window.statusBar().currentMessage()


def test_pre_annotating_can_be_stopped_and_keeps_what_it_did(window, image_folder, qtbot, monkeypatch):
    window.open_folder(image_folder)
    entered, release = threading.Event(), threading.Event()

    class Slow(ScriptedPredictor):
        def identify(self, *args, **kwargs):
            entered.set()
            release.wait(5)
            return super().identify(*args, **kwargs)

    active_model(monkeypatch, Slow(TWO))
    window.review.actions["preannotate"].trigger()
    qtbot.waitUntil(entered.is_set)  # the first image is in progress
    qtbot.mouseClick(window.review.progress.findChild(QPushButton), Qt.MouseButton.LeftButton)  # Stop
    release.set()
    qtbot.waitUntil(lambda: window.review.job is None, timeout=20000)
    assert "Stopped" in window.statusBar().currentMessage()
    assert sum(item.status == PROPOSED for item in window.navigator.items) == 1  # the image in progress


def test_the_label_filter_reads_the_annotation_file_of_an_image_still_in_review(window, image_folder, qtbot):
    voc.write_voc(image_folder / "img3.xml", ImageAnnotation("img3.png", 300, 200, boxes=[Box("mine", 1, 1, 50, 50)]))
    write_proposals(image_folder / "img3.png", None, two_proposals("img3.png"))
    window.open_folder(image_folder)
    assert _status(window, "img3.png") == PROPOSED
    qtbot.waitUntil(lambda: window.files.label_filter.findText("mine") >= 0, timeout=60_000)
