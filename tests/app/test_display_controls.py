"""User story: adjust window/level from the sliders, presets and auto; invert; the saved pixels never change."""

import numpy as np

from PySide6.QtCore import QPointF, Qt

from implant_desk.app.controllers.display import AUTO, FROM_FILE, FULL_RANGE

from app_helpers import drag


def test_window_level_presets_and_invert(window, image_folder):
    window.open_folder(image_folder)
    before = window.radiograph.pixels.copy()
    window.display.width_slider.setValue(100)
    assert abs(window.canvas.window().width - 65535 * 0.1) < 70
    window.apply_preset(FULL_RANGE)
    assert window.canvas.window().width == float(before.max()) - float(before.min())
    window.apply_preset(AUTO)
    auto = window.canvas.window()
    assert before.min() < auto.center < before.max()
    window.actions["invert"].trigger()
    assert window.display.invert.isChecked()
    window.display.clahe.setChecked(True)
    window.canvas.grab()
    assert np.array_equal(window.radiograph.pixels, before)


def test_the_preset_box_names_no_preset_once_the_window_is_set_by_hand(window, image_folder):
    window.open_folder(image_folder)
    presets = window.display.presets
    assert presets.currentText() == FROM_FILE
    viewport = window.canvas.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    drag(viewport, centre, centre + QPointF(60, 40), button=Qt.MouseButton.RightButton)  # window/level drag
    assert presets.currentIndex() == -1 and presets.currentText() == "" and presets.placeholderText() == "Custom"
    window.apply_preset(AUTO)
    assert presets.currentText() == AUTO
    window.display.level.setValue(window.display.level.value() + 50)
    assert presets.currentIndex() == -1
