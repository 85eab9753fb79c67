"""A scrollable, zoomable view of one radiograph with window/level by right-drag: the canvas without boxes.

Mouse events reach the handlers below from ``viewport()``, in viewport coordinates. Subclasses draw on top
of the image in ``paint_foreground`` and handle the left button.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QWidget

from implant_desk.app.canvas import painting
from implant_desk.app.canvas.view import ZOOM_STEP, ViewGeometry, clamp_zoom
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph

if TYPE_CHECKING:
    from implant_desk.app.canvas.image_layer import ImageLayer

BACKGROUND = QColor("#202326")
WINDOW_DRAG_SPAN_PX = 500.0  # dragging this far changes the window by the image's whole value range
SETTLE_MS = 150  # the full-resolution render waits until the window stops changing this long
EMIT_INTERVAL_MS = 16  # windowChanged at most at screen refresh rate while dragging
PIXEL_ZOOM = 3.0  # from this zoom on, image pixels are drawn as sharp squares


class RadiographView(QAbstractScrollArea):
    cursorMoved = Signal(float, float)
    zoomChanged = Signal(float)
    windowChanged = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layer: ImageLayer | None = None
        self._message = ""
        self._zoom = 1.0
        self._fit_mode: str | None = "window"  # re-applied on resize and on the next image, as LabelImg does
        # A navigation drag in progress: ("pan", start pos, start scroll) or ("window", start pos, (c, w)).
        self._navigation: tuple[str, QPointF, tuple[float, float]] | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.timeout.connect(self._render_full)
        self._since_window_emit = QElapsedTimer()
        viewport = self.viewport()
        viewport.setMouseTracking(True)
        viewport.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.setSingleStep(20)

    # ----------------------------------------------------------------------------------------- image
    def set_radiograph(self, radiograph: Radiograph | None) -> None:
        """Show ``radiograph`` as its file says: its own window and inversion, no CLAHE (None clears)."""
        self._navigation = None
        self._message = ""
        self._layer = None
        if radiograph is not None:
            from implant_desk.app.canvas.image_layer import ImageLayer  # numpy: not before the window's first paint

            self._layer = ImageLayer(radiograph)
        self._refit_or_clamp()
        self._schedule_full_render(0)  # the first paint shows a quick viewport-sized render, then this

    def set_message(self, text: str) -> None:
        """Show ``text`` centred instead of an image (the radiograph is cleared)."""
        self.set_radiograph(None)
        self._message = text
        self.viewport().update()

    def set_window(self, window: DisplayWindow) -> None:
        if self._layer is not None:
            self._layer.set_window(window)
            self._schedule_full_render(SETTLE_MS)

    def window(self) -> DisplayWindow:  # the contract's name; shadows QWidget.window() on purpose
        return self._layer.window if self._layer is not None else DisplayWindow(127.5, 255.0)

    def set_invert(self, invert: bool) -> None:
        if self._layer is not None:
            self._layer.invert = bool(invert)
            self._schedule_full_render(0)

    def set_clahe(self, enabled: bool) -> None:
        if self._layer is not None:
            self._layer.clahe = bool(enabled)
            self._schedule_full_render(0)

    def _schedule_full_render(self, delay_ms: int) -> None:
        self._settle.start(delay_ms)
        self.viewport().update()

    def _render_full(self) -> None:
        if self._layer is None or (self._navigation is not None and self._navigation[0] == "window"):
            return  # a window drag renders in full once, on release
        self._layer.full()
        self.viewport().update()

    # ------------------------------------------------------------------------------------------ zoom
    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, zoom: float) -> None:
        self._fit_mode = None
        self._zoom_about(zoom, QPointF(self.viewport().width() / 2, self.viewport().height() / 2))

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def zoom_original(self) -> None:
        self.set_zoom(1.0)

    def fit_window(self) -> None:
        self._fit_mode = "window"
        self._refit_or_clamp()

    def fit_width(self) -> None:
        self._fit_mode = "width"
        self._refit_or_clamp()

    def geometry_snapshot(self) -> ViewGeometry:
        """The current image <-> viewport transform (zoom, scroll, centring)."""
        layer = self._layer
        viewport = self.viewport()
        return ViewGeometry(
            image_width=layer.radiograph.width if layer else 0,
            image_height=layer.radiograph.height if layer else 0,
            viewport_width=max(1, viewport.width()),
            viewport_height=max(1, viewport.height()),
            zoom=self._zoom,
            scroll_x=self.horizontalScrollBar().value(),
            scroll_y=self.verticalScrollBar().value(),
        )

    def _zoom_about(self, zoom: float, anchor: QPointF) -> None:
        """Zoom keeping the image point under ``anchor`` (viewport coordinates) in place."""
        before = self.geometry_snapshot()
        ix, iy = before.to_image(anchor.x(), anchor.y())
        self._zoom = clamp_zoom(zoom)
        self._update_scrollbars()
        after = self.geometry_snapshot()
        self.horizontalScrollBar().setValue(round(ix * self._zoom + after.margin_x - anchor.x()))
        self.verticalScrollBar().setValue(round(iy * self._zoom + after.margin_y - anchor.y()))
        self.viewport().update()
        if self._zoom != before.zoom:
            self.zoomChanged.emit(self._zoom)

    def _refit_or_clamp(self) -> None:
        if self._fit_mode is None or self._layer is None:
            self._update_scrollbars()
            self.viewport().update()
            return
        area = self.maximumViewportSize()  # the viewport as it is without scroll bars
        geometry = ViewGeometry(self._layer.radiograph.width, self._layer.radiograph.height,
                                max(1, area.width()), max(1, area.height()))  # fmt: skip
        if self._fit_mode == "window":
            zoom = geometry.fit_window_zoom()
        else:
            zoom = geometry.fit_width_zoom(self._scroll_bar_extent())
        previous = self._zoom
        self._zoom = zoom
        self._update_scrollbars()
        self.horizontalScrollBar().setValue(0)
        self.verticalScrollBar().setValue(0)
        self.viewport().update()
        if zoom != previous:
            self.zoomChanged.emit(zoom)

    def _update_scrollbars(self) -> None:
        """Set the scroll ranges from the viewport size *after* the bars that the content needs are shown.

        Using the current viewport instead would let a fitted image that exactly fills the area show a bar,
        which shrinks the viewport, which then keeps the bar.
        """
        area = self.maximumViewportSize()
        layer = self._layer
        extent = self._scroll_bar_extent() if layer else 0  # nothing to scroll without an image
        content_w = layer.radiograph.width * self._zoom if layer else 0.0
        content_h = layer.radiograph.height * self._zoom if layer else 0.0
        width, height = area.width(), area.height()
        needs_h = content_w > width
        needs_v = content_h > height - (extent if needs_h else 0)
        needs_h = content_w > width - (extent if needs_v else 0)
        width -= extent if needs_v else 0
        height -= extent if needs_h else 0
        for bar, content, page in (
            (self.horizontalScrollBar(), content_w, width),
            (self.verticalScrollBar(), content_h, height),
        ):
            bar.setRange(0, max(0, math.ceil(content - page)))
            bar.setPageStep(max(1, page))

    def _scroll_bar_extent(self) -> int:
        from PySide6.QtWidgets import QStyle  # its enums make it costly to create: once an image is shown

        return self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._refit_or_clamp()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    # ------------------------------------------------------------------------------------ navigation
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Middle-drag pans, right-drag sets the window; the left button is the subclass's."""
        if self._layer is None or self._navigation is not None:
            return
        if event.button() == Qt.MouseButton.MiddleButton:
            scroll = (float(self.horizontalScrollBar().value()), float(self.verticalScrollBar().value()))
            self._navigation = ("pan", event.position(), scroll)
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif event.button() == Qt.MouseButton.RightButton:
            self._navigation = ("window", event.position(), (self._layer.window.center, self._layer.window.width))
            self._since_window_emit.start()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._layer is None:
            return
        position = event.position()
        self.cursorMoved.emit(*self.geometry_snapshot().to_image(position.x(), position.y()))
        if self._navigation is None:
            return
        kind, start, value = self._navigation
        dx, dy = position.x() - start.x(), position.y() - start.y()
        if kind == "pan":
            self.horizontalScrollBar().setValue(round(value[0] - dx))
            self.verticalScrollBar().setValue(round(value[1] - dy))
        else:  # horizontal = width, vertical = center (down = higher center = darker), as radiology viewers do
            scale = self._layer.value_range / WINDOW_DRAG_SPAN_PX
            self._layer.set_window(DisplayWindow(value[0] + dy * scale, value[1] + dx * scale))
            if self._since_window_emit.elapsed() >= EMIT_INTERVAL_MS:
                self._since_window_emit.restart()
                self._emit_window()
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._navigation is None:
            return
        kind = self._navigation[0]
        button = Qt.MouseButton.MiddleButton if kind == "pan" else Qt.MouseButton.RightButton
        if event.button() != button:
            return
        self._navigation = None
        self.viewport().unsetCursor()
        if kind == "window":
            self._emit_window()
            self._schedule_full_render(0)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event.accept()  # the right button sets the window; a menu popping up on press would end the drag

    def navigating(self) -> bool:
        return self._navigation is not None

    def _emit_window(self) -> None:
        self.windowChanged.emit(self._layer.window.center, self._layer.window.width)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)  # plain wheel scrolls (Shift+wheel sideways), as in LabelImg
            return
        steps = event.angleDelta().y() / 120 or event.pixelDelta().y() / 40
        if steps and self._layer is not None:
            self._fit_mode = None
            self._zoom_about(self._zoom * ZOOM_STEP**steps, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape cancels a window drag; every other key goes to the window (arrows move boxes, not the view)."""
        if event.key() == Qt.Key.Key_Escape and self._navigation is not None:
            kind, _, value = self._navigation
            self._navigation = None
            if kind == "window":
                self._layer.set_window(DisplayWindow(*value))
                self._emit_window()
                self._schedule_full_render(0)
            return
        event.ignore()

    # -------------------------------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        viewport = QRectF(self.viewport().rect())
        painter.fillRect(viewport, BACKGROUND)
        if self._layer is None:
            if self._message:
                painting.paint_message(painter, viewport, self._message)
            return
        geometry = self.geometry_snapshot()
        self._paint_image(painter, geometry)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.paint_foreground(painter, geometry, viewport)

    def paint_foreground(self, painter: QPainter, geometry: ViewGeometry, viewport: QRectF) -> None:
        """Draw over the image (subclasses)."""

    def screen_rect(self, geometry: ViewGeometry, rect: tuple[float, float, float, float]) -> QRectF:
        x1, y1 = geometry.to_screen(rect[0], rect[1])
        x2, y2 = geometry.to_screen(rect[2], rect[3])
        return QRectF(QPointF(x1, y1), QPointF(x2, y2))

    def _paint_image(self, painter: QPainter, geometry: ViewGeometry) -> None:
        x1, y1, x2, y2 = geometry.visible_image_rect()
        x1, y1, x2, y2 = math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)
        if x2 <= x1 or y2 <= y1:
            return
        layer = self._layer
        if layer.full_is_current:
            target = self.screen_rect(geometry, (x1, y1, x2, y2))
            # Filter when scaling, except at high zoom where the user wants to see individual pixels.
            smooth = geometry.zoom != 1 and geometry.zoom < PIXEL_ZOOM
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(target, layer.full().qimage, QRectF(x1, y1, x2 - x1, y2 - y1))
            return
        # The window is changing: draw a render of the visible part only, about one sample per screen pixel.
        step = max(1, int(1 / geometry.zoom))
        preview = layer.preview(x1, y1, x2, y2, step)
        painter.drawImage(self.screen_rect(geometry, preview.rect), preview.image.qimage,
                          QRectF(preview.image.qimage.rect()))  # fmt: skip
