"""Document session: load, save in every format, auto-save policy, corrupt files untouched. No display."""

from pathlib import Path

import pytest

from implant_desk.app.controllers import editing
from implant_desk.app.controllers.session import AnnotationSession
from implant_desk.core.annotations import store
from implant_desk.core.annotations.model import Box
from implant_desk.core.errors import AnnotationFileError, SaveError

SIZE = (300, 200, 1)


@pytest.fixture
def image(tmp_path) -> Path:
    path = tmp_path / "img1.png"
    path.write_bytes(b"")  # the session never decodes the image; only its name and size matter
    return path


def _open(image: Path, **kwargs) -> AnnotationSession:
    session = AnnotationSession(**kwargs)
    session.open(image, *SIZE)
    return session


def test_save_then_reopen_in_each_format(image):
    for fmt in store.FORMATS:
        session = _open(image, save_format=fmt)
        session.document.add_box(Box("implant", 10, 20, 110, 120))
        path = session.save(["implant"])
        assert path.suffix == store.SUFFIXES[fmt] and not session.dirty
        reopened = _open(image)
        (box,) = reopened.document.boxes
        assert box.label == "implant" and (box.xmin, box.ymax) == pytest.approx((10, 120), abs=0.01)
        for leftover in image.parent.glob(f"{image.stem}.*"):
            if leftover != image:
                leftover.unlink()


def test_save_folder_apart_from_images(image, tmp_path):
    save_dir = tmp_path / "labels"
    save_dir.mkdir()
    session = _open(image, save_dir=save_dir)
    session.document.add_box(Box("implant", 1, 1, 50, 50))
    session.save([])
    assert (save_dir / "img1.xml").exists() and not (image.parent / "img1.xml").exists()


def test_corrupt_annotation_is_never_overwritten(image):
    xml = image.with_suffix(".xml")
    xml.write_text("<annotation><object>")
    session = _open(image)
    assert "left untouched" in session.blocked_reason
    session.document.add_box(Box("implant", 1, 1, 50, 50))
    with pytest.raises(AnnotationFileError):
        session.save([])
    assert session.autosave([]) is not None
    assert xml.read_text() == "<annotation><object>" and session.dirty


def test_failed_autosave_is_reported_once_and_keeps_the_work(image, monkeypatch):
    session = _open(image)
    session.document.add_box(Box("implant", 1, 1, 50, 50))

    def disk_full(*args, **kwargs):
        raise SaveError(image.with_suffix(".xml"), "could not be saved (No space left on device)")

    monkeypatch.setattr(store, "save_annotation", disk_full)
    first = session.autosave(["implant"])
    assert first and "No space left" in first
    assert session.autosave(["implant"]) is None  # reported once
    assert session.dirty and len(session.document.boxes) == 1
    monkeypatch.undo()
    assert session.autosave(["implant"]) is None and not session.dirty
    assert image.with_suffix(".xml").exists()


def test_file_changed_on_disk_is_not_overwritten_silently(image):
    session = _open(image)
    session.document.add_box(Box("implant", 1, 1, 50, 50))
    image.with_suffix(".xml").write_text("<annotation/>")  # someone else wrote one meanwhile
    with pytest.raises(store.AnnotationConflictError):
        session.save([])
    session.save([], overwrite_changed=True)
    assert "implant" in image.with_suffix(".xml").read_text()


def test_cycle_format_wraps():
    session = AnnotationSession()
    assert [session.cycle_format() for _ in range(3)] == ["yolo", "createml", "voc"]


def test_edits_clamp_to_the_image_and_undo_in_one_step(image):
    session = _open(image)
    document = session.document
    document.add_box(Box("implant", 280, 180, 299, 199))
    editing.move_box(document, 0, 50, 50, 300, 200)
    assert (document.boxes[0].xmax, document.boxes[0].ymax) == (300, 200)
    editing.duplicate_box(document, 0, 300, 200)
    assert document.boxes[1].xmax <= 300 and document.boxes[1].xmin < document.boxes[0].xmin
    added = editing.paste_boxes(document, [Box("a", 250, 150, 400, 400), Box("b", 500, 500, 600, 600)], 300, 200)
    assert added == 1 and document.boxes[-1].xmax == 300
    document.undo()
    assert len(document.boxes) == 2


def test_leaving_saves_silently_or_asks_until_saved_or_discarded():
    from implant_desk.app.controllers.leaving import CANCEL, DISCARD, SAVE, may_leave

    def never(*_):
        raise AssertionError("must not ask")

    assert may_leave(False, True, "a.png", never, lambda: "", never)
    assert may_leave(True, True, "a.png", lambda: True, lambda: "", never)
    saves, answers, questions = iter([False, False, True]), iter([SAVE, SAVE]), []
    assert may_leave(True, True, "a.png", lambda: next(saves), lambda: "disk full",
                     lambda q: questions.append(q) or next(answers))
    assert "Saving failed: disk full" in questions[0] and "could not be saved" in questions[1]
    assert not may_leave(True, False, "a.png", never, lambda: "", lambda q: CANCEL)
    assert may_leave(True, False, "a.png", never, lambda: "", lambda q: DISCARD)


@pytest.mark.parametrize("failure", [ValueError("could not convert"), AnnotationFileError("img2.xml", "damaged")])
def test_opening_an_image_whose_annotation_fails_never_keeps_the_previous_boxes(image, monkeypatch, failure):
    session = _open(image)
    session.document.add_box(Box("implant", 1, 1, 50, 50))
    session.save(["implant"])
    second = image.with_name("img2.png")

    def failing_load(*_args):
        raise failure

    monkeypatch.setattr(store, "load_annotation", failing_load)
    session.open(second, *SIZE)
    assert session.image_path == second and session.document.boxes == () and not session.dirty
    assert "left untouched" in session.blocked_reason
    with pytest.raises(AnnotationFileError):
        session.save(["implant"])
