"""User story: in the annotation window, the Identify dock follows the image on screen and its document."""

from __future__ import annotations

import threading

import pytest

from implant_desk.app.identify import worker
from implant_desk.app.identify.panel import IdentifyPanel

from identify_helpers import FakePredictor


@pytest.fixture
def identify(fake_model, window, image_folder):
    panel = window.identify_panel
    window.open_folder(image_folder)
    yield panel, fake_model
    panel.shutdown()


def identify_now(qtbot, window, panel: IdentifyPanel) -> None:
    qtbot.waitUntil(lambda: panel.controller.radiograph is window.radiograph)  # the panel is on this image
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.identify_button.click()


def test_the_window_has_the_identify_dock_and_menu(window):
    assert isinstance(window.identify_panel, IdentifyPanel)
    assert window.dockWidgetArea(window.identify_panel).name == "RightDockWidgetArea"
    assert "Identify implants" in [a.text() for a in window.tools_menu().actions()]


def test_accept_in_the_window_is_one_undo_step(qtbot, window, identify):
    panel, _ = identify
    identify_now(qtbot, window, panel)
    assert panel.fixture_list.count() == 2
    panel.accept_button.click()
    assert [b.label for b in window.session.document.boxes] == ["Alpha BL"]
    assert window.actions["undo"].text() == "Undo Accept predictions"
    window.actions["undo"].trigger()
    assert window.session.document.boxes == ()


def test_next_image_clears_the_result_and_drops_a_late_one(qtbot, window, identify):
    panel, predictor = identify
    identify_now(qtbot, window, panel)
    qtbot.waitUntil(lambda: window.canvas._overlay != [])
    predictor.gate = threading.Event()
    predictor.started.clear()
    panel.identify_button.click()
    assert predictor.started.wait(5)
    window.actions["next_image"].trigger()
    qtbot.waitUntil(lambda: panel.controller.radiograph is window.radiograph)
    assert panel.fixture_list.count() == 0 and window.canvas._overlay == []
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        predictor.gate.set()
    assert panel.fixture_list.count() == 0 and window.canvas._overlay == []
    assert panel.summary.text() == "Not identified yet"


def test_identify_on_open_follows_the_file_list(qtbot, window, identify):
    panel, predictor = identify
    panel.on_open.setChecked(True)
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        window.actions["next_image"].trigger()
    assert predictor.calls == 1
    assert panel.controller.radiograph is window.radiograph and panel.fixture_list.count() == 2


def test_at_1280_by_800_one_fixture_with_a_long_name_fits_and_the_actions_are_in_view(qtbot, answers, image_folder,
                                                                                        monkeypatch):
    from dataclasses import replace

    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QScrollArea

    from implant_desk.app.launch import load_image
    from implant_desk.app.main_window import MainWindow
    from implant_desk.app.settings import Settings

    from identify_helpers import fixtures_for

    long_names = (("straight-reverse-buttress-bone-level", 0.46), ("tapered-V-bone-level", 0.31),
                  ("straight-square-tissue-level", 0.23))
    predictor = FakePredictor()
    predictor.predict = lambda *args, **kwargs: [replace(fixtures_for(0.5)[0], candidates=long_names, uncertain=True)]
    monkeypatch.setattr(worker, "load_predictor", lambda folder: predictor)
    window = MainWindow(Settings(), load_image)  # a first start: the default layout, 1280x800
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert (window.width(), window.height()) == (1280, 800)
    window.open_folder(image_folder)
    panel = window.identify_panel
    identify_now(qtbot, window, panel)
    rows = panel.fixture_list
    assert rows.count() == 1 and not rows.horizontalScrollBar().isVisible()  # the one row is not hidden by a bar
    assert rows.viewport().height() >= rows.sizeHintForRow(0)
    assert rows.item(0).toolTip() == "1  uncertain (best: straight-reverse-buttress-bone-level 46%)"
    scroll = panel.findChild(QScrollArea)
    for button in (panel.accept_button, panel.folder_button):  # never scrolled away, never under the screen edge
        assert button.isVisible() and not scroll.isAncestorOf(button)
        assert button.mapTo(window, QPoint(0, button.height())).y() <= window.height()
    names = [label for label, *_ in panel.bars._rows]
    assert [label.text() for label in names] == [name for name, _ in long_names]
    assert all(label.wordWrap() and label.width() >= panel.bars.width() - 1 for label in names)  # a whole line each
    panel.shutdown()
