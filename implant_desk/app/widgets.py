"""Small widget helpers shared by the docks, panels and dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
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
