"""User story: the next radiograph of a series shows the same fixtures; Ctrl+V copies the previous image's boxes."""

from app_helpers import draw_box


def test_copy_previous_boxes_in_one_undo_step(window, image_folder, answers):
    window.open_folder(image_folder)
    answers.labels = ["implant", "implant"]
    draw_box(window, 20, 20, 80, 80)
    draw_box(window, 150, 30, 290, 190)
    window.actions["next_image"].trigger()
    assert window.session.image_path.name == "img2.tif"
    window.actions["copy_previous"].trigger()
    assert [b.label for b in window.session.document.boxes] == ["implant", "implant"]
    window.actions["undo"].trigger()
    assert window.session.document.boxes == ()
