"""The current image's boxes: label, difficult, and size (mm when the pixel spacing is known, else px); an implant
box with little metal along its middle is marked for a second look (``controllers.label_doubts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QHeaderView, QTableWidget, QTableWidgetItem,
                               QWidget)

from implant_desk.app.controllers.label_doubts import doubt_text
from implant_desk.core.annotations.model import Box

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon


def box_size_text(box: Box, spacing_mm: tuple[float, float] | None) -> str:
    if spacing_mm:
        row_mm, col_mm = spacing_mm
        return f"{box.width * col_mm:.1f} x {box.height * row_mm:.1f} mm"
    return f"{box.width:.0f} x {box.height:.0f} px"


class BoxListDock(QDockWidget):
    boxSelected = Signal(int)
    difficultToggled = Signal(int, bool)
    editLabelRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Boxes", parent)
        self.setObjectName("boxes_dock")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Label", "Difficult", "Size"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.setWidget(self.table)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(lambda row, _column: self.editLabelRequested.emit(row))

    def set_boxes(self, boxes: Sequence[Box], spacing_mm: tuple[float, float] | None,
                  doubted: Mapping[int, float] | None = None) -> None:
        """``doubted``: box index -> metal share of the implant boxes to look at again."""
        self.table.blockSignals(True)
        self.table.setRowCount(len(boxes))
        warning = self._warning_icon() if doubted else None
        for row, box in enumerate(boxes):
            label = QTableWidgetItem(box.label)
            if doubted and row in doubted:
                label.setIcon(warning)
                label.setToolTip(doubt_text(doubted[row]))
            self.table.setItem(row, 0, label)
            difficult = QTableWidgetItem()
            difficult.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            difficult.setCheckState(Qt.CheckState.Checked if box.difficult else Qt.CheckState.Unchecked)
            self.table.setItem(row, 1, difficult)
            self.table.setItem(row, 2, QTableWidgetItem(box_size_text(box, spacing_mm)))
        self.table.blockSignals(False)

    def _warning_icon(self) -> QIcon:
        from PySide6.QtWidgets import QStyle  # its enums make it costly to create: only once a box is doubted

        return self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)

    def set_selected(self, index: int) -> None:
        self.table.blockSignals(True)
        if 0 <= index < self.table.rowCount():
            self.table.selectRow(index)
        else:
            self.table.clearSelection()
        self.table.blockSignals(False)

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.boxSelected.emit(rows[0].row() if rows else -1)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 1:
            self.difficultToggled.emit(item.row(), item.checkState() == Qt.CheckState.Checked)
