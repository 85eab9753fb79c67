"""Pick a label for the selected box (double-click), and LabelImg's single-class / default-label modes."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QDockWidget, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget)

from implant_desk.app.controllers.labels import label_matches


class LabelPickerDock(QDockWidget):
    labelChosen = Signal(str)
    singleClassToggled = Signal(bool)
    defaultLabelChanged = Signal(bool, str)  # use it, the label

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Labels", parent)
        self.setObjectName("labels_dock")
        self.single_class = QCheckBox("Single class mode")
        self.single_class.setToolTip("Every new box gets the label of the previous one, without asking")
        self.use_default = QCheckBox("Use default label")
        self.default_label = QLineEdit()
        self.default_label.setPlaceholderText("default label")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter labels (words in any order)")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setToolTip("Double-click: give the selected box this label")
        # Designs' names differ at their end (...-round-apex, ...-pointed-apex): a narrow dock elides the middle.
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        default_row = QHBoxLayout()
        default_row.addWidget(self.use_default)
        default_row.addWidget(self.default_label)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.single_class)
        layout.addLayout(default_row)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.setWidget(body)
        self.list.itemDoubleClicked.connect(lambda item: self.labelChosen.emit(item.text()))
        self.search.textChanged.connect(self._filter)
        self.single_class.toggled.connect(self.singleClassToggled)
        self.use_default.toggled.connect(self._default_changed)
        self.default_label.editingFinished.connect(self._default_changed)

    def set_labels(self, labels: list[str], describe: Callable[[str], str]) -> None:
        self.list.clear()
        for label in labels:
            item = QListWidgetItem(label)
            item.setToolTip(describe(label))
            self.list.addItem(item)
        self._filter(self.search.text())

    def set_modes(self, single_class: bool, use_default: bool, default_label: str) -> None:
        for widget in (self.single_class, self.use_default, self.default_label):
            widget.blockSignals(True)
        self.single_class.setChecked(single_class)
        self.use_default.setChecked(use_default)
        self.default_label.setText(default_label)
        for widget in (self.single_class, self.use_default, self.default_label):
            widget.blockSignals(False)

    def _filter(self, text: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(not label_matches(item.text(), text))

    def _default_changed(self) -> None:
        self.defaultLabelChanged.emit(self.use_default.isChecked(), self.default_label.text().strip())
