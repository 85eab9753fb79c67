"""The image canvas: one radiograph, its boxes, proposed boxes and a prediction overlay; gestures become signals.

The canvas never edits a document. It previews a drag locally and, when the drag ends, emits one signal;
the window applies the edit and pushes the boxes back with ``set_boxes`` (contract: CANVAS_API.md).
Zoom, scrolling, panning and window/level come from ``RadiographView``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QKeyEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import QWidget

from implant_desk.app.canvas import painting
from implant_desk.app.canvas.captions import box_caption, ruler_caption
from implant_desk.app.canvas.image_view import RadiographView
from implant_desk.app.canvas.interaction import MOVE, Drag, Rect, dragged_rect, normalized, pick_box
from implant_desk.app.canvas.overlay import OverlayItem
from implant_desk.app.canvas.view import ViewGeometry
from implant_desk.core.annotations.model import Box
from implant_desk.core.imaging.radiograph import Radiograph

if TYPE_CHECKING:
    import numpy as np

    from implant_desk.app.canvas.image_layer import NumpyImage

MODES = ("edit", "create", "ruler")
DRAW_COLOR = QColor("#7cff4f")
MIN_BOX_SCREEN_PX = 2.0  # smaller drawn boxes are accidental clicks
_PART_CURSORS = {
    "top-left": Qt.CursorShape.SizeFDiagCursor,
    "bottom-right": Qt.CursorShape.SizeFDiagCursor,
    "top-right": Qt.CursorShape.SizeBDiagCursor,
    "bottom-left": Qt.CursorShape.SizeBDiagCursor,
    "left": Qt.CursorShape.SizeHorCursor,
    "right": Qt.CursorShape.SizeHorCursor,
    "top": Qt.CursorShape.SizeVerCursor,
    "bottom": Qt.CursorShape.SizeVerCursor,
    MOVE: Qt.CursorShape.OpenHandCursor,
}


def _box_rect(box: Box) -> Rect:
    return (box.xmin, box.ymin, box.xmax, box.ymax)


class Canvas(RadiographView):
    boxDrawn = Signal(float, float, float, float)
    boxChanged = Signal(int, float, float, float, float)
    selectionChanged = Signal(int)
    boxDoubleClicked = Signal(int)
    rulerMeasured = Signal(float, float, float, float)
    overlayClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._boxes: list[Box] = []
        self._selected = -1
        self._hovered = -1
        self._boxes_visible = True
        self._label_colors: dict[str, QColor] = {}
        self._spacing: tuple[float, float] | None = None
        self._mode = "edit"
        self._overlay: list[OverlayItem] = []
        self._proposals: list[OverlayItem] = []
        self._current_proposal = -1
        self._heatmaps: list[NumpyImage | None] = []
        self._heatmap_opacity = 0.5
        self._heatmaps_visible = True
        self._colormap = "jet"
        self._drag: Drag | None = None  # a left-button gesture: draw, move (any box part) or ruler
        self._pointer: QPointF | None = None
        self._ruler: Rect | None = None

    def set_radiograph(self, radiograph: Radiograph | None) -> None:
        """Show another image. Its boxes come next with ``set_boxes``; everything drawn for the previous
        image (boxes, selection, predictions, ruler) is dropped so it can never show on this one."""
        self._drag = None
        self._ruler = None
        self._boxes, self._selected, self._hovered = [], -1, -1
        self._overlay, self._heatmaps = [], []
        self._proposals, self._current_proposal = [], -1
        self._spacing = radiograph.spacing_mm if radiograph is not None else None
        super().set_radiograph(radiograph)

    # ----------------------------------------------------------------------------------------- boxes
    def set_boxes(self, boxes: Sequence[Box]) -> None:
        self._boxes = list(boxes)
        if self._drag is not None and self._drag.kind == "move":
            self._drag = None  # the boxes changed under the drag (e.g. undo): its index may be stale
        if self._selected >= len(self._boxes):
            self._selected = -1
        self._hovered = -1
        self.viewport().update()

    def set_selected(self, index: int) -> None:
        self._selected = index if 0 <= index < len(self._boxes) else -1
        self.viewport().update()

    def selected(self) -> int:
        return self._selected

    def set_boxes_visible(self, visible: bool) -> None:
        self._boxes_visible = bool(visible)
        self._hovered = -1
        self.viewport().update()

    def set_label_colors(self, mapping: Mapping[str, QColor]) -> None:
        self._label_colors = {label: QColor(color) for label, color in mapping.items()}
        self.viewport().update()

    def set_spacing(self, spacing_mm: tuple[float, float] | None) -> None:
        """Override the radiograph's own spacing (e.g. after a calibration); None shows pixels only."""
        self._spacing = spacing_mm
        self.viewport().update()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown canvas mode {mode!r}; expected one of {MODES}")
        self._mode = mode
        self._drag = None
        self._hovered = -1
        if mode != "ruler":
            self._ruler = None
        self._update_cursor(None)
        self.viewport().update()

    def mode(self) -> str:
        return self._mode

    # --------------------------------------------------------------------------------------- overlay
    def set_overlay(self, items: Sequence[OverlayItem]) -> None:
        self._overlay = list(items)
        self._heatmaps = [self._heatmap_image(item.heatmap) if item.heatmap is not None else None
                          for item in self._overlay]  # fmt: skip
        self.viewport().update()

    def _heatmap_image(self, heatmap: np.ndarray) -> NumpyImage:
        from implant_desk.app.canvas.heatmap import heatmap_rgba  # numpy: not before the window's first paint
        from implant_desk.app.canvas.image_layer import to_qimage

        return to_qimage(heatmap_rgba(heatmap, self._colormap))

    def clear_overlay(self) -> None:
        self.set_overlay([])

    def set_proposals(self, items: Sequence[OverlayItem], current: int = -1) -> None:
        """The proposed boxes still waiting for a decision; ``current`` is the one the review keys act on."""
        self._proposals, self._current_proposal = list(items), current
        self.viewport().update()

    def set_heatmap_opacity(self, opacity: float) -> None:
        self._heatmap_opacity = min(1.0, max(0.0, float(opacity)))
        self.viewport().update()

    def set_heatmaps_visible(self, visible: bool) -> None:
        self._heatmaps_visible = bool(visible)
        self.viewport().update()

    def set_heatmap_colormap(self, name: str) -> None:
        """The heat maps' colours: "jet" (default, the usual saliency look) or "inferno" (perceptual)."""
        from implant_desk.app.canvas.heatmap import COLORMAPS

        if name not in COLORMAPS:
            raise ValueError(f"unknown colour map {name!r}; expected one of {sorted(COLORMAPS)}")
        self._colormap = name
        self.set_overlay(self._overlay)

    # -------------------------------------------------------------------------------------- gestures
    def _visible_rects(self) -> list[Rect]:
        return [_box_rect(box) for box in self._boxes] if self._boxes_visible else []

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None or self._layer is None:
            return
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        if self.navigating():
            return
        geometry = self.geometry_snapshot()
        screen = (event.position().x(), event.position().y())
        image = geometry.to_image(*screen)
        if self._mode in ("create", "ruler"):
            start = geometry.clamp_to_image(*image)
            self._drag = Drag("draw" if self._mode == "create" else "ruler", start, current=(*start, *start))
            self._ruler = None
        else:
            self._press_to_edit(geometry, screen, image)
        self.viewport().update()

    def _press_to_edit(self, geometry: ViewGeometry, screen: tuple[float, float], image: tuple[float, float]) -> None:
        index, part = pick_box(self._visible_rects(), geometry, *screen, self._selected)
        if index != self._selected:
            self._selected = index
            self.selectionChanged.emit(index)
        if index >= 0 and part is not None:
            rect = _box_rect(self._boxes[index])
            self._drag = Drag("move", image, index=index, part=part, original=rect, current=rect)
            if part == MOVE:
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        hit = self._overlay_at(*image)
        if hit >= 0:
            self.overlayClicked.emit(hit)

    def _overlay_at(self, x: float, y: float) -> int:
        """The smallest prediction box containing (x, y), or -1."""
        hits = []
        for index, item in enumerate(self._overlay):
            x1, y1, x2, y2 = item.box
            if x1 <= x <= x2 and y1 <= y <= y2:
                hits.append(((x2 - x1) * (y2 - y1), index))
        return min(hits)[1] if hits else -1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)  # cursorMoved, pan, window/level
        self._pointer = event.position()
        if self._layer is None or self.navigating():
            return
        geometry = self.geometry_snapshot()
        screen = (self._pointer.x(), self._pointer.y())
        image = geometry.to_image(*screen)
        drag = self._drag
        if drag is None:
            if self._hover(geometry, screen) or self._mode == "create":  # else nothing on screen changed
                self.viewport().update()
            return
        if drag.kind == "move":
            dx, dy = image[0] - drag.start_image[0], image[1] - drag.start_image[1]
            drag.current = dragged_rect(drag.original, drag.part, dx, dy, geometry.image_width, geometry.image_height)
        else:
            drag.current = (*drag.start_image, *geometry.clamp_to_image(*image))
        self.viewport().update()

    def _hover(self, geometry: ViewGeometry, screen: tuple[float, float]) -> bool:
        """Track the box under the pointer and set the cursor; True when the highlighted box changed."""
        index, part = (-1, None)
        if self._mode == "edit":
            index, part = pick_box(self._visible_rects(), geometry, *screen, self._selected)
        changed, self._hovered = index != self._hovered, index
        self._update_cursor(part)
        return changed

    def _update_cursor(self, part: str | None) -> None:
        if self._mode in ("create", "ruler"):
            shape = Qt.CursorShape.CrossCursor
        else:
            shape = _PART_CURSORS.get(part, Qt.CursorShape.ArrowCursor) if part else Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(QCursor(shape))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag = self._drag
        if drag is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        self._drag = None
        if drag.kind == "draw":
            x1, y1, x2, y2 = normalized(*drag.current)
            if self._big_enough((x1, y1, x2, y2)):
                self.boxDrawn.emit(x1, y1, x2, y2)
        elif drag.kind == "move" and drag.current != drag.original and self._big_enough(drag.current):
            self.boxChanged.emit(drag.index, *drag.current)  # a box squashed flat snaps back instead
        elif drag.kind == "ruler" and drag.current[:2] != drag.current[2:]:
            self._ruler = drag.current
            self.rulerMeasured.emit(*drag.current)
        self._hover(self.geometry_snapshot(), (event.position().x(), event.position().y()))
        self.viewport().update()

    def _big_enough(self, rect: Rect) -> bool:
        return min(rect[2] - rect[0], rect[3] - rect[1]) * self._zoom >= MIN_BOX_SCREEN_PX

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._layer is None or self._mode != "edit" or event.button() != Qt.MouseButton.LeftButton:
            return
        index, _ = pick_box(self._visible_rects(), self.geometry_snapshot(),
                            event.position().x(), event.position().y(), self._selected)  # fmt: skip
        if index >= 0:
            self.boxDoubleClicked.emit(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and (self._drag is not None or self._ruler is not None):
            self._drag = None  # cancel the gesture; nothing is emitted
            self._ruler = None  # a measured ruler goes too; the ruler tool stays on for the next one
            self.viewport().update()
            return
        super().keyPressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:  # not forwarded to leaveEvent by QAbstractScrollArea
            self._pointer = None
            self._hovered = -1
            self.viewport().update()
        return super().viewportEvent(event)

    # -------------------------------------------------------------------------------------- painting
    def paint_foreground(self, painter: QPainter, geometry: ViewGeometry, viewport: QRectF) -> None:
        tags: list[QRectF] = []  # captions drawn so far, which later ones avoid
        self._paint_overlay(painter, geometry, viewport, tags)
        if self._boxes_visible:
            for index, item in enumerate(self._proposals):
                painting.paint_proposal(painter, self.screen_rect(geometry, item.box), QColor(item.color), item.text,
                                        viewport, current=index == self._current_proposal, occupied=tags)
            self._paint_boxes(painter, geometry, viewport, tags)
        self._paint_gesture(painter, geometry, viewport)

    def _paint_overlay(self, painter: QPainter, geometry: ViewGeometry, viewport: QRectF, tags: list[QRectF]) -> None:
        for item, heatmap in zip(self._overlay, self._heatmaps):
            rect = self.screen_rect(geometry, item.box)
            if heatmap is not None and self._heatmaps_visible and self._heatmap_opacity > 0:
                painting.paint_heatmap(painter, rect, heatmap.qimage, self._heatmap_opacity)
            for box, color in item.parts:
                painting.paint_part(painter, self.screen_rect(geometry, box), QColor(color))
            painting.paint_prediction(painter, rect, QColor(item.color), item.text, viewport, tags,
                                      inferred=item.inferred)

    def _paint_boxes(self, painter: QPainter, geometry: ViewGeometry, viewport: QRectF, tags: list[QRectF]) -> None:
        drag = self._drag
        moving = drag.index if drag is not None and drag.kind == "move" else -1
        # The selected box last, so its handles are on top.
        order = [i for i in range(len(self._boxes)) if i != self._selected]
        order += [self._selected] if self._selected >= 0 else []
        for index in order:
            box = self._boxes[index]
            rect = drag.current if index == moving else _box_rect(box)
            color = painting.label_color(box.label, self._label_colors)
            caption = box_caption(box.label, rect, self._spacing)
            selected, hovered = index == self._selected, index == self._hovered
            painting.paint_box(painter, self.screen_rect(geometry, rect), color, caption, viewport,
                               selected=selected, hovered=hovered, occupied=tags)  # fmt: skip

    def _paint_gesture(self, painter: QPainter, geometry: ViewGeometry, viewport: QRectF) -> None:
        drag = self._drag
        if drag is not None and drag.kind == "draw":
            rect = normalized(*drag.current)
            caption = box_caption("", rect, self._spacing)
            painting.paint_box(painter, self.screen_rect(geometry, rect), DRAW_COLOR, caption, viewport,
                               selected=False, hovered=False)  # fmt: skip
        ruler = drag.current if drag is not None and drag.kind == "ruler" else self._ruler
        if ruler is not None:
            start, end = geometry.to_screen(*ruler[:2]), geometry.to_screen(*ruler[2:])
            painting.paint_ruler(painter, QPointF(*start), QPointF(*end), ruler_caption(ruler, self._spacing), viewport)
        if self._mode == "create" and self._pointer is not None and (drag is None or drag.kind == "draw"):
            image_rect = self.screen_rect(geometry, (0, 0, geometry.image_width, geometry.image_height))
            painting.paint_crosshair(painter, self._pointer, image_rect.intersected(viewport))
