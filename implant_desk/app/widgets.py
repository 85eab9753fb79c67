"""Small widget helpers shared by the docks, panels and dialogs."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QWidget

from implant_desk.app.controllers.opening import open_or_offer_folder
from implant_desk.app.dialogs import ask


def horizontal_rule() -> QFrame:
    """A thin separator line between groups of controls."""
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def open_with_system(parent: QWidget | None, path: Path, what: str) -> str:
    """Open ``path`` in the user's default application, or offer its folder (see controllers.opening); returns
    the message to show."""
    return open_or_offer_folder(path, what, lambda target: QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))),
                                lambda question: ask.confirm(parent, f"Open {what}", question))


class _AfterFirstPaint(QObject):
    def __init__(self, widget: QWidget, then: Callable[[], None], latest_ms: int):
        super().__init__(widget)
        self._then: Callable[[], None] | None = then
        widget.installEventFilter(self)
        QTimer.singleShot(latest_ms, self, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self, self._run)  # once this paint is on screen
        return False

    def _run(self) -> None:
        if self._then is None:
            return
        then, self._then = self._then, None
        self.parent().removeEventFilter(self)
        self.deleteLater()
        then()


def after_first_paint(widget: QWidget, then: Callable[[], None], latest_ms: int = 1000) -> None:
    """Call ``then`` once ``widget`` (shown) has been painted, or after ``latest_ms`` if it is not (a window that
    starts minimised). A zero timer is not enough: it fires before the first expose, and whatever it does
    (reading an image, importing its codecs) would keep the window blank meanwhile."""
    _AfterFirstPaint(widget, then, latest_ms)
