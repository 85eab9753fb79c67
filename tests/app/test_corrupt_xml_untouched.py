"""User story: a damaged annotation file is reported and never overwritten; nothing else stops working."""

from implant_desk.app.dialogs import ask

from app_helpers import draw_box

CORRUPT = "<annotation><object><name>implant</name>"


def test_corrupt_xml_is_not_overwritten(window, image_folder, answers):
    (image_folder / "img1.xml").write_text(CORRUPT)
    window.open_folder(image_folder)
    assert "left untouched" in window.statusBar().currentMessage()
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    window.actions["save"].trigger()
    assert answers.errors and "img1.xml" in answers.errors[0]
    answers.unsaved = [ask.CANCEL, ask.DISCARD]
    window.actions["next_image"].trigger()  # auto-save cannot save it: the user is asked
    assert window.session.image_path.name == "img1.png" and len(window.session.document.boxes) == 1
    window.actions["next_image"].trigger()
    assert window.session.image_path.name == "img2.tif"
    assert (image_folder / "img1.xml").read_text() == CORRUPT


def test_annotation_changed_on_disk_asks_before_replacing(window, image_folder, answers):
    window.open_folder(image_folder)
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    (image_folder / "img1.xml").write_text("<annotation><filename>img1.png</filename></annotation>")
    answers.confirmations = [False]
    window.actions["save"].trigger()
    assert "implant" not in (image_folder / "img1.xml").read_text() and window.session.dirty
    answers.confirmations = [True]
    window.actions["save"].trigger()
    assert "implant" in (image_folder / "img1.xml").read_text() and not window.session.dirty
