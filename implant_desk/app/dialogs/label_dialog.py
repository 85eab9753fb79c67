"""LabelImg's label dialog: type or pick a label; the list filters as you type; Enter accepts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QListWidget, QVBoxLayout, QWidget


class LabelDialog(QDialog):
    def __init__(self, choices: list[str], proposed: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Label")
        self.edit = QLineEdit(proposed)
        self.edit.selectAll()
        self.list = QListWidget()
        self.list.addItems(choices)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        for widget in (self.edit, buttons, self.list):
            layout.addWidget(widget)
        buttons.accepted.connect(self._accept_if_named)
        buttons.rejected.connect(self.reject)
        self.edit.textEdited.connect(self._filter)
        self.list.itemClicked.connect(lambda item: self.edit.setText(item.text()))
        self.list.itemDoubleClicked.connect(lambda item: (self.edit.setText(item.text()), self._accept_if_named()))

    def label(self) -> str:
        return self.edit.text().strip()

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _accept_if_named(self) -> None:
        if self.label():
            self.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # Down from the text field walks the list, as LabelImg users expect.
        if event.key() == Qt.Key.Key_Down and self.edit.hasFocus():
            self.list.setFocus()
            return
        super().keyPressEvent(event)
