"""User story: a folder with a damaged file: the list marks it, the canvas says why, work goes on."""

from app_helpers import draw_box


def test_damaged_image_is_marked_and_skipped(window, image_folder, answers):
    window.open_folder(image_folder, select=image_folder / "img2.tif")
    window.actions["next_image"].trigger()
    item = window.navigator.current_item
    assert item.path.name == "img2b_damaged.png" and item.status == "unreadable" and item.problem
    assert "unreadable" in window.files.model.index(2).data()
    assert window.session.document is None and window.radiograph is None
    assert not window.actions["create_box"].isEnabled()
    window.canvas.grab()  # the message paints
    window.actions["next_image"].trigger()
    assert window.session.image_path.name == "img3.png"
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    assert len(window.session.document.boxes) == 1
