"""The selected fixture in the Identify dock: its ranked candidates, and the design read, which the user corrects.

Widgets only: what they show comes from ``identify.design`` (plain data), what a correction does is the
controller's.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QLabel, QProgressBar, QSizePolicy, QToolButton, QVBoxLayout, QWidget,
)

from implant_desk.app.identify.design import CATALOGUE_TIP, CandidateView, ZoneView

MUTED_STYLE = "color: #5f6368;"  # as the fine-tune dialog's notes: quieter than the text, still legible
BADGE_STYLE = "background-color: #5c6bc0; color: white;"  # the "catalogue" badge beside a candidate's name
LOW_CONFIDENCE = 0.6  # a value read with less confidence is shown in the warning colour: worth a look
WARNING_COLOR = "#b26a00"
HINT = "Choose a value to correct it; the systems are ranked again."
HINT_UNNAMED = "Choose a value to correct it; Accept writes it in the part labels. No system is named on this film."


class CandidateBars(QWidget):
    """The selected fixture's ranked systems, each name on its own line (a long design name wraps after its
    hyphens, never cut) above a bar as long as its probability; for a model that reads the design, a badge on
    the systems it knows from the catalogue only, and a line saying what differs from each design (the attributes
    that agree in its tooltip)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(0, 1)
        self._rows: list[tuple[QLabel, QProgressBar, QLabel, QLabel]] = []  # reused: no flicker on a new selection

    def set_candidates(self, candidates: tuple[CandidateView, ...]) -> None:
        while len(self._rows) < len(candidates):
            self._add_row()
        for row, (name, bar, percent, agreement) in enumerate(self._rows):
            shown = row < len(candidates)
            for widget in (name, bar, percent):
                widget.setVisible(shown)
            agreement.setVisible(shown and bool(candidates[row].agreement))
            if not shown:
                continue
            candidate = candidates[row]
            badge = (f" <span style='{BADGE_STYLE}'>&nbsp;catalogue&nbsp;</span>" if candidate.from_catalogue
                     else "")
            name.setText(html.escape(candidate.system) + badge)
            name.setToolTip(candidate.system + (f"\n{CATALOGUE_TIP}" if candidate.from_catalogue else ""))
            bar.setValue(round(candidate.probability * 1000))
            bar.setAccessibleName(candidate.text)
            percent.setText(f"{candidate.probability:.0%}")
            agreement.setText(candidate.agreement)
            agreement.setToolTip(candidate.agreeing)

    def texts(self) -> list[str]:
        """What the bars say, top to bottom (for tests and accessibility)."""
        return [bar.accessibleName() for _, bar, _, _ in self._rows if not bar.isHidden()]

    def agreements(self) -> list[str]:
        return [agreement.text() for _, bar, _, agreement in self._rows if not bar.isHidden()]

    def _add_row(self) -> None:
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setTextVisible(False)
        bar.setFixedHeight(8)
        bar.setMinimumWidth(60)
        percent = QLabel()
        percent.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        percent.setMinimumWidth(34)
        name = QLabel()
        name.setWordWrap(True)
        agreement = QLabel()
        agreement.setWordWrap(True)
        agreement.setStyleSheet(MUTED_STYLE)
        row = 3 * len(self._rows)
        self._grid.addWidget(name, row, 0, 1, 2)
        self._grid.addWidget(bar, row + 1, 0)
        self._grid.addWidget(percent, row + 1, 1)
        self._grid.addWidget(agreement, row + 2, 0, 1, 2)
        self._rows.append((name, bar, percent, agreement))


class DesignEditor(QWidget):
    """The design read on the selected fixture, by zone (each in its colour on the canvas): per attribute a
    list of its values with the model's confidence, showing the value in force. Choosing another value is a
    correction (``attributeSet``); a corrected attribute shows in bold, with a reset button (``attributeReset``)."""

    attributeSet = Signal(str, str)  # attribute, value
    attributeReset = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        title = QLabel("<b>Design read</b>")
        title.setToolTip("What the model reads on each third of the fixture. If you see a part better, choose its "
                         "value: the systems are ranked again at once, and Accept writes your value in the part "
                         "labels.")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(MUTED_STYLE)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        for widget in (title, self.hint):
            column.addWidget(widget)
        column.addLayout(self._grid)
        self._layout_of: tuple[tuple[str, tuple[str, ...]], ...] = ()  # zones and attributes the rows are built for
        self._rows: dict[str, tuple[QComboBox, QToolButton]] = {}  # attribute -> its values and reset button

    def show_design(self, zones: tuple[ZoneView, ...], names_systems: bool = True) -> None:
        """``names_systems``: False where no system is named on this film (a real one): a correction then changes
        the part labels Accept writes, and no ranking is shown."""
        self.setVisible(bool(zones))
        self.hint.setText(HINT if names_systems else HINT_UNNAMED)
        layout = tuple((zone.zone, tuple(view.attribute for view in zone.attributes)) for zone in zones)
        if layout != self._layout_of:
            self._build(zones)
            self._layout_of = layout
        for zone in zones:
            for view in zone.attributes:
                values, reset = self._rows[view.attribute]
                values.blockSignals(True)
                values.clear()
                for value, p in view.values:
                    values.addItem(f"{value} {p:.0%}", value)
                values.setCurrentIndex(values.findData(view.value))
                values.blockSignals(False)
                font = values.font()
                font.setBold(view.set_by_user)
                values.setFont(font)
                low = not view.set_by_user and view.probability < LOW_CONFIDENCE
                values.setStyleSheet(f"color: {WARNING_COLOR};" if low else "")
                values.setToolTip(f"{view.title}: set by you" if view.set_by_user else
                                  f"{view.title}: read {view.value} with {view.probability:.0%} confidence"
                                  + (" (low: worth a look)" if low else ""))
                reset.setVisible(view.set_by_user)
                read = max(view.values, key=lambda item: item[1])
                reset.setToolTip(f"Set by you. Reset: back to the value read ({read[0]} {read[1]:.0%})")

    def values_shown(self) -> dict[str, str]:
        """Attribute -> the value shown (for tests)."""
        return {attribute: values.currentData() for attribute, (values, _) in self._rows.items()}

    def set_by_user(self) -> set[str]:
        return {attribute for attribute, (_, reset) in self._rows.items() if not reset.isHidden()}

    def choose(self, attribute: str, value: str) -> None:
        """Choose a value as the user does (for tests)."""
        values = self._rows[attribute][0]
        values.setCurrentIndex(values.findData(value))
        values.activated.emit(values.currentIndex())

    def reset(self, attribute: str) -> None:
        self._rows[attribute][1].click()

    def _build(self, zones: tuple[ZoneView, ...]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._rows = {}
        row = 0
        for zone in zones:
            header = QLabel(f"<b style='color:{zone.color}'>■</b> {zone.zone.capitalize()} third")
            self._grid.addWidget(header, row, 0, 1, 3)
            row += 1
            for view in zone.attributes:
                title = QLabel(view.title)
                values = QComboBox()
                values.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                values.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                values.activated.connect(lambda _index, name=view.attribute, box=values:
                                         self.attributeSet.emit(name, box.currentData()))
                reset = QToolButton()
                reset.setText("↺")  # narrow: the dock is narrow, and the values need the room
                reset.setAccessibleName(f"Reset {view.title}")
                reset.clicked.connect(lambda _checked=False, name=view.attribute: self.attributeReset.emit(name))
                self._grid.addWidget(title, row, 0)
                self._grid.addWidget(values, row, 1)
                self._grid.addWidget(reset, row, 2)
                self._rows[view.attribute] = (values, reset)
                row += 1
