"""User story: Ctrl+Y cycles the save format (VOC -> YOLO -> CreateML), as in LabelImg; each reopens."""

import json

from app_helpers import draw_box


def test_cycle_format_and_save_yolo_then_createml(window, image_folder, answers):
    window.open_folder(image_folder)
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    window.actions["cycle_format"].trigger()
    assert window.format_label.text() == "YOLO"
    window.actions["save"].trigger()
    assert (image_folder / "img1.txt").read_text().startswith("0 ")
    assert (image_folder / "classes.txt").read_text().splitlines()[0] == "implant"
    window.actions["cycle_format"].trigger()
    window.actions["save"].trigger()
    entries = json.loads((image_folder / "img1.json").read_text())
    assert entries[0]["annotations"][0]["label"] == "implant"
    window.actions["next_image"].trigger()
    window.actions["previous_image"].trigger()
    assert [b.label for b in window.session.document.boxes] == ["implant"]
    assert window.settings.save_format == "createml"
