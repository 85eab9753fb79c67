"""Display controls: window/level sliders in native units, presets, auto, invert, CLAHE (display only)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDockWidget, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget)

from implant_desk.app.controllers.display import AUTO, PRESETS
from implant_desk.core.imaging.radiograph import DisplayWindow

STEPS = 1000  # slider positions across the value range, whatever the bit depth
CUSTOM = "Custom"


class DisplayDock(QDockWidget):
    windowEdited = Signal(object)  # DisplayWindow
    presetChosen = Signal(str)
    invertToggled = Signal(bool)
    claheToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Display", parent)
        self.setObjectName("display_dock")
        self._low, self._high = 0.0, 65535.0
        self.level = self._slider()
        self.width_slider = self._slider()
        self.level_value = QLabel()
        self.width_value = QLabel()
        self.presets = QComboBox()
        self.presets.addItems(PRESETS)
        self.presets.setPlaceholderText(CUSTOM)  # shown when the window is no preset's (sliders, right-drag)
        self.auto = QPushButton("Auto")
        self.auto.setToolTip("Window from the image's own histogram (Ctrl+L)")
        self.invert = QCheckBox("Invert")
        self.clahe = QCheckBox("Enhance contrast (CLAHE)")
        self.clahe.setToolTip("Local contrast enhancement for viewing only; saved and trained pixels never change")
        form = QFormLayout()
        form.addRow("Level", self._with_value(self.level, self.level_value))
        form.addRow("Width", self._with_value(self.width_slider, self.width_value))
        presets_row = QHBoxLayout()
        presets_row.addWidget(self.presets, 1)
        presets_row.addWidget(self.auto)
        form.addRow("Preset", presets_row)
        form.addRow(self.invert)
        form.addRow(self.clahe)
        body = QWidget()
        body.setLayout(form)
        self.setWidget(body)
        self.level.valueChanged.connect(self._sliders_moved)
        self.width_slider.valueChanged.connect(self._sliders_moved)
        self.presets.activated.connect(lambda _row: self.presetChosen.emit(self.presets.currentText()))
        self.auto.clicked.connect(lambda: self.presetChosen.emit(AUTO))
        self.invert.toggled.connect(self.invertToggled)
        self.clahe.toggled.connect(self.claheToggled)

    def set_range(self, low: float, high: float) -> None:
        self._low, self._high = low, max(high, low + 1.0)

    def set_window(self, window: DisplayWindow) -> None:
        """Show a window set elsewhere (right-drag, preset) without echoing it back. It is no preset's until
        ``show_preset`` names one."""
        self.presets.setCurrentIndex(-1)
        span = self._high - self._low
        positions = ((self.level, (window.center - self._low) / span), (self.width_slider, window.width / span))
        for slider, fraction in positions:
            slider.blockSignals(True)
            slider.setValue(round(fraction * STEPS))
            slider.blockSignals(False)
        self._show_values(window)

    def show_preset(self, name: str) -> None:
        self.presets.setCurrentText(name)

    def set_toggles(self, invert: bool, clahe: bool) -> None:
        for box, value in ((self.invert, invert), (self.clahe, clahe)):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)

    def _sliders_moved(self) -> None:
        self.presets.setCurrentIndex(-1)
        span = self._high - self._low
        window = DisplayWindow(self._low + self.level.value() / STEPS * span,
                               max(1.0, self.width_slider.value() / STEPS * span))
        self._show_values(window)
        self.windowEdited.emit(window)

    def _show_values(self, window: DisplayWindow) -> None:
        self.level_value.setText(f"{window.center:.0f}")
        self.width_value.setText(f"{window.width:.0f}")

    @staticmethod
    def _slider() -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, STEPS)
        return slider

    @staticmethod
    def _with_value(slider: QSlider, value: QLabel) -> QWidget:
        value.setMinimumWidth(48)
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(slider, 1)
        layout.addWidget(value)
        return row

