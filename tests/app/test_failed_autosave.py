"""User story: the disk fills up during auto-save: the dentist is told once, the boxes stay, nothing is lost."""

from implant_desk.app.dialogs import ask
from implant_desk.core.annotations import store
from implant_desk.core.errors import SaveError

from app_helpers import draw_box


def test_failed_autosave_keeps_the_work(window, image_folder, answers, monkeypatch):
    window.open_folder(image_folder)
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)

    def disk_full(annotation, image_path, save_dir, fmt, *args, **kwargs):
        raise SaveError(store.annotation_path_for(image_path, save_dir, fmt), "could not be saved (disk full)")

    monkeypatch.setattr(store, "save_annotation", disk_full)
    window.autosave()  # the timer fires
    window.autosave()
    assert len(answers.errors) == 1 and "disk full" in answers.errors[0]
    assert window.session.dirty and "save failed" in window.saved_label.text()
    answers.unsaved = [ask.CANCEL]
    window.actions["next_image"].trigger()
    assert window.session.image_path.name == "img1.png" and len(window.session.document.boxes) == 1
    assert not (image_folder / "img1.xml").exists()

    monkeypatch.undo()  # space freed: the next auto-save succeeds
    window.autosave()
    assert not window.session.dirty and (image_folder / "img1.xml").exists()


def test_quitting_with_unsaved_work_asks(window, image_folder, answers):
    window.open_folder(image_folder)
    window.actions["auto_save"].setChecked(False)
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    answers.unsaved = [ask.CANCEL]
    assert not window.close()
    assert window.isVisible() and window.session.dirty
    answers.unsaved = [ask.SAVE]
    assert window.close()
    assert (image_folder / "img1.xml").exists()
