"""User story: adjust window/level from the sliders, presets and auto; invert; the saved pixels never change."""

import numpy as np

from implant_desk.app.controllers.display import AUTO, FULL_RANGE


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
