"""Small widget helpers shared by the docks, panels and dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame


def horizontal_rule() -> QFrame:
    """A thin separator line between groups of controls."""
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
