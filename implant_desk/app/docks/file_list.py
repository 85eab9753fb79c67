"""The folder's images with their status, filterable by status and label, and the folder's review counts.

A QAbstractListModel over ``FileNavigator.visible`` with uniform row heights: Qt asks only for the rows on
screen, so 10,000 files list instantly (a QListWidget would build 10,000 items).
"""

from __future__ import annotations

from bisect import bisect_left

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QLabel, QListView, QVBoxLayout, QWidget

from implant_desk.app.controllers.navigation import FileNavigator
from implant_desk.core.annotations.folder import ANNOTATED, NOT_ANNOTATED, PROPOSED, STATUSES, UNREADABLE, VERIFIED
from implant_desk.core.review.summary import ReviewCounts

STATUS_COLORS = {NOT_ANNOTATED: "#9e9e9e", PROPOSED: "#ff8c1a", ANNOTATED: "#1e88e5", VERIFIED: "#43a047",
                 UNREADABLE: "#e53935"}
ALL_STATUSES, ALL_LABELS = "All statuses", "All labels"  # the first item of each filter: no filter
ItemIndexRole = Qt.ItemDataRole.UserRole + 1


def _dot(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class FileListModel(QAbstractListModel):
    def __init__(self, navigator: FileNavigator, parent=None):
        super().__init__(parent)
        self.navigator = navigator
        self._icons = {status: _dot(color) for status, color in STATUS_COLORS.items()}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.navigator.visible)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item_index = self.navigator.visible[index.row()]
        item = self.navigator.items[item_index]
        if role == Qt.ItemDataRole.DisplayRole:
            if item.status == UNREADABLE:
                return f"{item.path.name}  (unreadable)"
            return f"{item.path.name}  ({item.pending} proposed)" if item.status == PROPOSED and item.pending else \
                item.path.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(item.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            uncertainty = f"\nmodel uncertainty {item.uncertainty:.2f}" if item.uncertainty is not None else ""
            return f"{item.path}\n{item.status}{uncertainty}" + (f"\n{item.problem}" if item.problem else "")
        if role == Qt.ItemDataRole.ForegroundRole and item.status == UNREADABLE:
            return QColor(STATUS_COLORS[UNREADABLE])
        if role == ItemIndexRole:
            return item_index
        return None

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def item_changed(self, item_index: int) -> None:
        row = self.row_of(item_index)
        if row >= 0:
            self.dataChanged.emit(self.index(row), self.index(row))

    def row_of(self, item_index: int) -> int:
        visible = self.navigator.visible
        row = bisect_left(visible, item_index)
        return row if row < len(visible) and visible[row] == item_index else -1


class FileListDock(QDockWidget):
    fileActivated = Signal(int)  # index into navigator.items
    filtersChanged = Signal(str, str)  # status ("" = all), label ("" = all)

    def __init__(self, navigator: FileNavigator, parent: QWidget | None = None):
        super().__init__("Files", parent)
        self.setObjectName("files_dock")
        self.model = FileListModel(navigator, self)
        self.view = QListView()
        self.view.setUniformItemSizes(True)
        self.view.setModel(self.model)
        self.status_filter = QComboBox()
        self.status_filter.addItems([ALL_STATUSES, *STATUSES])
        self.status_filter.setToolTip("Show only images with this status")
        self.label_filter = QComboBox()
        self.label_filter.addItem(ALL_LABELS)
        self.label_filter.setToolTip("Show only images with a box of this label")
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.counts.setToolTip("Images by review state; verified is LabelImg's flag (Space), the reviewed mark")
        filters = QHBoxLayout()
        filters.addWidget(self.status_filter)
        filters.addWidget(self.label_filter)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(filters)
        layout.addWidget(self.counts)
        layout.addWidget(self.view)
        self.setWidget(body)
        self._showing = False  # the window is moving the list to its image: that is not the user choosing one
        # Every way the user moves the list's current row (click, arrows, typing a name) opens that image, so the
        # list and the canvas never disagree; Enter or a double-click retries one the window did not leave for.
        self.view.selectionModel().currentChanged.connect(lambda current, _previous: self._activated(current))
        self.view.activated.connect(self._activated)
        self.model.modelReset.connect(self.show_counts)
        self.model.dataChanged.connect(self.show_counts)
        self.status_filter.currentTextChanged.connect(self._filters_changed)
        self.label_filter.currentTextChanged.connect(self._filters_changed)

    def show_counts(self) -> None:
        """Counted over the whole folder (filters aside): about a millisecond per thousand images."""
        items = self.model.navigator.items
        counts = ReviewCounts.of([item.status for item in items], sum(item.pending for item in items))
        self.counts.setText(counts.text() if items else "")

    def set_labels(self, labels: list[str]) -> None:
        current = self.label_filter.currentText() if self.label_filter.currentIndex() > 0 else None
        self.label_filter.blockSignals(True)
        self.label_filter.clear()
        self.label_filter.addItems([ALL_LABELS, *labels])
        self.label_filter.setCurrentIndex(labels.index(current) + 1 if current in labels else 0)
        self.label_filter.blockSignals(False)

    def show_current(self, item_index: int) -> None:
        row = self.model.row_of(item_index)
        self._showing = True
        if row >= 0:
            index = self.model.index(row)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        else:
            self.view.clearSelection()
        self._showing = False

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid() and not self._showing:
            self.fileActivated.emit(int(index.data(ItemIndexRole)))

    def _filters_changed(self) -> None:
        status, label = (box.currentText() if box.currentIndex() > 0 else "" for box in (self.status_filter,
                                                                                          self.label_filter))
        self.filtersChanged.emit(status, label)
