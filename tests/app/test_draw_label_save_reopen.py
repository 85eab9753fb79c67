"""User story: draw a box with the mouse, label it, save, reopen the folder and see it.

LabelImg 1.8.6 crashed the moment a box was drawn on Python >= 3.10 (floats passed to Qt painters); drawing
with real mouse events and painting the result catches that class of bug.
"""

import pytest

from implant_desk.app import launch
from implant_desk.app.main_window import MainWindow
from implant_desk.app.settings import Settings
from implant_desk.core.annotations.voc import read_voc

from app_helpers import draw_box


def test_draw_label_save_reopen(window, image_folder, answers, qtbot):
    window.open_folder(image_folder)
    answers.labels = ["implant"]
    draw_box(window, 50.3, 40.6, 120.2, 150.9)
    window.canvas.grab()  # paint with the new box: must not raise
    assert answers.asked == ["label"]
    (box,) = window.session.document.boxes
    assert box.label == "implant" and box.xmin == pytest.approx(50.3, abs=1.0) and box.ymax == pytest.approx(150.9, abs=1.0)
    assert window.boxes.table.item(0, 0).text() == "implant"
    window.actions["save"].trigger()
    saved = read_voc(image_folder / "img1.xml")
    assert [b.label for b in saved.boxes] == ["implant"] and (saved.width, saved.height) == (300, 200)
    assert window.navigator.items[0].status == "annotated"

    reopened = MainWindow(Settings(), launch.load_image)
    qtbot.addWidget(reopened)
    reopened.open_folder(image_folder)
    assert [b.label for b in reopened.session.document.boxes] == ["implant"]
    assert reopened.boxes.table.rowCount() == 1


def test_cancelled_label_adds_nothing(window, image_folder, answers):
    window.open_folder(image_folder)
    answers.labels = [None]
    draw_box(window, 10, 10, 100, 100)
    assert window.session.document.boxes == () and not window.session.dirty
