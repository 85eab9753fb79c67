"""Fixtures for the window's user-story tests: a folder of small 16-bit radiographs, and the window on it.

Every modal dialog goes through ``implant_desk.app.dialogs.ask``; ``answers`` replaces those functions so a
test says what the user would answer, and an unexpected question fails the test instead of blocking it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from implant_desk.app import launch
from implant_desk.app.identify import worker
from implant_desk.app.dialogs import ask
from implant_desk.app.main_window import MainWindow
from implant_desk.app.settings import Settings

HEIGHT, WIDTH = 200, 300


def radiograph_pixels(seed: int) -> np.ndarray:
    """A 16-bit image with a bright "fixture" bar, so the display is not flat."""
    rng = np.random.default_rng(seed)
    pixels = (rng.normal(12000, 1500, (HEIGHT, WIDTH))).clip(0, 65535).astype(np.uint16)
    pixels[40:160, 120 + seed * 10:150 + seed * 10] = 52000
    return pixels


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """img1.png, img2.tif, img3.png (16-bit) and a damaged file, img2b_damaged.png, between them."""
    folder = tmp_path / "xrays"
    folder.mkdir()
    Image.fromarray(radiograph_pixels(1)).save(folder / "img1.png")
    tifffile.imwrite(folder / "img2.tif", radiograph_pixels(2))
    Image.fromarray(radiograph_pixels(3)).save(folder / "img3.png")
    (folder / "img2b_damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    return folder


class Answers:
    """What the user answers to each dialog; questions asked are recorded."""

    def __init__(self):
        self.labels: list[str | None] = []
        self.unsaved: list[str] = []
        self.confirmations: list[bool] = []
        self.stop_training: list[bool] = []  # True: "Stop and close"
        self.errors: list[str] = []
        self.asked: list[str] = []

    def label(self, parent, choices, proposed):
        self.asked.append("label")
        assert self.labels, "the window asked for a label the test did not expect"
        return self.labels.pop(0)

    def unsaved_changes(self, parent, text):
        self.asked.append(f"unsaved: {text}")
        assert self.unsaved, f"unexpected unsaved-changes question: {text}"
        return self.unsaved.pop(0)

    def confirm(self, parent, title, text):
        self.asked.append(f"confirm: {text}")
        assert self.confirmations, f"unexpected confirmation: {text}"
        return self.confirmations.pop(0)

    def stop_training_question(self, parent, text):
        self.asked.append(f"stop training: {text}")
        assert self.stop_training, f"unexpected question: {text}"
        return self.stop_training.pop(0)

    def error(self, parent, title, text):
        self.errors.append(text)


@pytest.fixture
def answers(monkeypatch) -> Answers:
    answers = Answers()
    monkeypatch.setattr(ask, "label", answers.label)
    monkeypatch.setattr(ask, "unsaved_changes", answers.unsaved_changes)
    monkeypatch.setattr(ask, "confirm", answers.confirm)
    monkeypatch.setattr(ask, "stop_training", answers.stop_training_question)
    monkeypatch.setattr(ask, "error", answers.error)
    for name in ("folder", "open_file"):
        monkeypatch.setattr(ask, name, lambda *a: pytest.fail(f"unexpected file dialog {a}"))
    return answers


@pytest.fixture
def window(qtbot, answers) -> MainWindow:
    window = MainWindow(Settings(), launch.load_image)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.prefetcher.wait()
    if window.session.document is not None:
        window.session.document.mark_saved()  # the test is over: no unsaved-changes question on close


@pytest.fixture
def fake_model(monkeypatch):
    """The window's Identify dock loads this stand-in (identify_helpers.FakePredictor) instead of the active model."""
    from identify_helpers import FakePredictor

    predictor = FakePredictor()
    monkeypatch.setattr(worker, "active_model_folder", lambda: Path("models/v7"))
    monkeypatch.setattr(worker, "load_predictor", lambda folder: predictor)
    return predictor
