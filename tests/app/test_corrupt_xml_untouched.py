"""User story: a damaged annotation file is reported and never overwritten; nothing else stops working."""

from implant_desk.app.dialogs import ask

from app_helpers import draw_box

CORRUPT = "<annotation><object><name>implant</name>"
VOC_WITH_BOX = ("<annotation><object><name>implant</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>50</xmax>"
                "<ymax>50</ymax></bndbox></object></annotation>")


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


def test_next_image_whose_annotation_fails_oddly_shows_no_boxes_of_the_previous_one(window, image_folder, answers, monkeypatch):
    """A reader failing with anything (here an error no reader expects) still gives the next image a document
    of its own: the previous image's boxes never stay on screen, and the file is never overwritten."""
    from implant_desk.core.annotations import store

    (image_folder / "img1.xml").write_text(VOC_WITH_BOX)
    (image_folder / "img2.xml").write_text("<annotation/>")
    window.open_folder(image_folder)
    assert len(window.session.document.boxes) == 1
    real_load = store.load_annotation

    def failing_load(image_path, *args):
        if image_path.name == "img2.tif":
            raise LookupError("unknown encoding: foo")
        return real_load(image_path, *args)

    monkeypatch.setattr(store, "load_annotation", failing_load)
    window.actions["next_image"].trigger()
    assert window.session.image_path.name == "img2.tif"
    assert window.session.document.boxes == () and window.boxes.table.rowCount() == 0
    assert "unknown encoding" in window.statusBar().currentMessage()
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    window.actions["save"].trigger()
    assert answers.errors and "img2.tif" in answers.errors[0]
    assert (image_folder / "img2.xml").read_text() == "<annotation/>"
    answers.unsaved = [ask.DISCARD]  # closing the window
