"""LabelImg's label dialog: type or pick a label; the list filters as you type (words in any order); Enter accepts.

It opens wide and tall enough for a catalogue's long design names (up to most of the screen), eliding the middle
of what still does not fit, where design names are alike.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QListWidget, QVBoxLayout, QWidget

from implant_desk.app.controllers.labels import label_matches

VISIBLE_ROWS = 16


class LabelDialog(QDialog):
    def __init__(self, choices: list[str], proposed: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Label")
        self.edit = QLineEdit(proposed)
        self.edit.selectAll()
        self.list = QListWidget()
        self.list.addItems(choices)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        for widget in (self.edit, buttons, self.list):
            layout.addWidget(widget)
        buttons.accepted.connect(self._accept_if_named)
        buttons.rejected.connect(self.reject)
        self.edit.textEdited.connect(self._filter)
        self.list.itemClicked.connect(lambda item: self.edit.setText(item.text()))
        self.list.itemDoubleClicked.connect(lambda item: (self.edit.setText(item.text()), self._accept_if_named()))
        self._fit_to(choices)

    def label(self) -> str:
        return self.edit.text().strip()

    def _filter(self, text: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(not label_matches(item.text(), text))

    def _fit_to(self, choices: list[str]) -> None:
        metrics = self.list.fontMetrics()
        widest = max((metrics.horizontalAdvance(choice) for choice in choices), default=0)
        rows = min(max(len(choices), 4), VISIBLE_ROWS)
        width = widest + self.list.verticalScrollBar().sizeHint().width() + 4 * self.list.frameWidth() + 16
        height = rows * metrics.lineSpacing() + 2 * self.list.frameWidth() + 8
        screen = (self.parentWidget() or self).screen().availableGeometry()
        self.list.setMinimumSize(min(width, int(screen.width() * 0.6)), min(height, int(screen.height() * 0.5)))

    def _accept_if_named(self) -> None:
        if self.label():
            self.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # Down from the text field walks the list, as LabelImg users expect.
        if event.key() == Qt.Key.Key_Down and self.edit.hasFocus():
            self.list.setFocus()
            return
        super().keyPressEvent(event)
