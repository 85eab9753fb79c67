"""Mouse gestures for the window tests: real press/move/release events on the canvas viewport."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from implant_desk.app.main_window import MainWindow


def drag(widget, start: QPointF, end: QPointF, button=Qt.MouseButton.LeftButton, steps: int = 5) -> None:
    """Press, move with the button held, release: what a hand on a mouse does."""
    def send(kind, point, buttons):
        event = QMouseEvent(kind, point, widget.mapToGlobal(point), button if kind != QEvent.Type.MouseMove else
                            Qt.MouseButton.NoButton, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, start, button)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, start + (end - start) * (i / steps), button)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def screen_point(window: MainWindow, x: float, y: float) -> QPointF:
    """Image pixel -> canvas viewport point."""
    return QPointF(*window.canvas.geometry_snapshot().to_screen(x, y))


def draw_box(window: MainWindow, x1: float, y1: float, x2: float, y2: float) -> None:
    window.canvas.set_mode("create")
    drag(window.canvas.viewport(), screen_point(window, x1, y1), screen_point(window, x2, y2))
    window.canvas.set_mode("edit")

