"""Drawing primitives of the canvas. Every coordinate handed to QPainter is a QPointF/QRectF (never bare
floats to int overloads: LabelImg 1.8.6 crashed on Python >= 3.10 doing that)."""

from __future__ import annotations

import zlib

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

# Distinct, saturated colours that read well on a grey radiograph.
_PALETTE = ("#00c8ff", "#ffb000", "#7cff4f", "#ff4fd8", "#ff5a4f", "#b48cff", "#4fffc4", "#fff34f")
HANDLE_SIZE = 7.0
_LABEL_PAD = 3.0
_TAG_SHIFTS = 3  # at most this many tag heights out of the way of other tags
PART_FILL_ALPHA, PART_LINE_ALPHA = 40, 150  # a fixture's thirds: seen, without hiding the threads under them


def label_color(label: str, overrides: dict[str, QColor] | None = None) -> QColor:
    """The colour of a label: the caller's choice, else a stable pick from the palette (same across runs)."""
    if overrides and label in overrides:
        return QColor(overrides[label])
    return QColor(_PALETTE[zlib.crc32(label.encode("utf-8")) % len(_PALETTE)])


def text_color_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background`` (by perceived luminance)."""
    luminance = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
    return QColor(Qt.GlobalColor.black) if luminance > 140 else QColor(Qt.GlobalColor.white)


def _cosmetic_pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)
    return pen


def paint_tag(
    painter: QPainter,
    anchor: QPointF,
    text: str,
    color: QColor,
    viewport: QRectF,
    *,
    above: bool = True,
    occupied: list[QRectF] | None = None,
) -> None:
    """A filled caption whose top-left corner sits at ``anchor``, raised by its height when ``above``; flipped
    to the other side of the anchor, or shifted left, to stay inside the viewport. Tags already drawn
    (``occupied``, which this one joins) push it further out, so labels of neighbouring boxes stay legible."""
    if not text:
        return
    metrics = QFontMetricsF(painter.font())
    size = QRectF(0, 0, metrics.horizontalAdvance(text) + 2 * _LABEL_PAD, metrics.height() + _LABEL_PAD)
    top = anchor.y() - size.height() if above else anchor.y()
    if top < viewport.top() or top + size.height() > viewport.bottom():
        top, above = (anchor.y(), False) if above else (anchor.y() - size.height(), True)
    left = min(max(anchor.x(), viewport.left()), viewport.right() - size.width())
    rect = QRectF(QPointF(left, top), size.size())
    step = -size.height() if above else size.height()
    for _ in range(_TAG_SHIFTS):
        moved = rect.translated(0, step)
        if not any(rect.intersects(other) for other in occupied or ()) or not viewport.contains(moved):
            break
        rect = moved
    if occupied is not None:
        occupied.append(rect)
    painter.fillRect(rect, color)
    painter.setPen(text_color_on(color))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def paint_box(
    painter: QPainter,
    rect: QRectF,
    color: QColor,
    caption: str,
    viewport: QRectF,
    *,
    selected: bool,
    hovered: bool,
    occupied: list[QRectF] | None = None,
) -> None:
    fill = QColor(color)
    fill.setAlpha(60 if selected else 30 if hovered else 0)
    if fill.alpha():
        painter.fillRect(rect, fill)
    outline = QColor(color).lighter(130) if hovered and not selected else color
    painter.setPen(_cosmetic_pen(outline, 3.0 if selected or hovered else 2.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    paint_tag(painter, rect.topLeft(), caption, color, viewport, occupied=occupied)
    if selected:
        paint_handles(painter, rect, color)


def paint_handles(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """Square handles on the corners and edge midpoints: the places a resize can grab."""
    points = (
        rect.topLeft(), rect.topRight(), rect.bottomRight(), rect.bottomLeft(),
        QPointF(rect.center().x(), rect.top()), QPointF(rect.right(), rect.center().y()),
        QPointF(rect.center().x(), rect.bottom()), QPointF(rect.left(), rect.center().y()),
    )  # fmt: skip
    painter.setPen(_cosmetic_pen(QColor(Qt.GlobalColor.black), 1.0))
    painter.setBrush(QBrush(color))
    half = HANDLE_SIZE / 2
    for point in points:
        painter.drawRect(QRectF(point.x() - half, point.y() - half, HANDLE_SIZE, HANDLE_SIZE))


def paint_prediction(
    painter: QPainter, rect: QRectF, color: QColor, text: str, viewport: QRectF, occupied: list[QRectF] | None = None,
    *, inferred: bool = False,
) -> None:
    """Dashed; dotted when the box was inferred from the fixture's parts rather than detected whole."""
    painter.setPen(_cosmetic_pen(color, 2.0, Qt.PenStyle.DotLine if inferred else Qt.PenStyle.DashLine))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    # Below the box, so it never hides the label of an annotation drawn on the same fixture.
    paint_tag(painter, rect.bottomLeft(), text, color, viewport, above=False, occupied=occupied)


def paint_part(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """A third of a predicted fixture: a faint fill and a hairline in its zone's colour, no caption, so that the
    thirds of every fixture on a panoramic stay under the fixtures' own boxes and captions."""
    fill = QColor(color)
    fill.setAlpha(PART_FILL_ALPHA)
    painter.fillRect(rect, fill)
    line = QColor(color)
    line.setAlpha(PART_LINE_ALPHA)
    painter.setPen(_cosmetic_pen(line, 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)


def paint_proposal(painter: QPainter, rect: QRectF, color: QColor, text: str, viewport: QRectF, *, current: bool,
                   occupied: list[QRectF] | None = None) -> None:
    """A proposed box: dash-dot, so it never reads as an annotation (solid) or an Identify result (dashed); the
    one the review keys act on is wider and lightly filled, its caption above it."""
    if current:
        fill = QColor(color)
        fill.setAlpha(40)
        painter.fillRect(rect, fill)
    painter.setPen(_cosmetic_pen(color, 3.0 if current else 1.5, Qt.PenStyle.DashDotLine))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    paint_tag(painter, rect.topLeft() if current else rect.bottomLeft(), text, color, viewport, above=current,
              occupied=occupied)


def paint_heatmap(painter: QPainter, rect: QRectF, image: QImage, opacity: float) -> None:
    painter.save()
    painter.setOpacity(opacity)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(rect, image, QRectF(image.rect()))
    painter.restore()


def paint_crosshair(painter: QPainter, point: QPointF, bounds: QRectF) -> None:
    """LabelImg's guide lines across the image while creating a box."""
    painter.setPen(_cosmetic_pen(QColor(255, 255, 255, 170), 1.0, Qt.PenStyle.DashLine))
    painter.drawLine(QPointF(bounds.left(), point.y()), QPointF(bounds.right(), point.y()))
    painter.drawLine(QPointF(point.x(), bounds.top()), QPointF(point.x(), bounds.bottom()))


def paint_ruler(painter: QPainter, start: QPointF, end: QPointF, text: str, viewport: QRectF) -> None:
    color = QColor("#ffe14f")
    painter.setPen(_cosmetic_pen(color, 2.0))
    painter.drawLine(start, end)
    painter.setBrush(QBrush(color))
    for point in (start, end):
        painter.drawEllipse(point, 3.0, 3.0)
    paint_tag(painter, QPointF(end.x() + 8, end.y()), text, color, viewport)


def paint_message(painter: QPainter, area: QRectF, text: str) -> None:
    """A centred, word-wrapped message (e.g. why an image cannot be shown)."""
    font = QFont(painter.font())
    font.setPointSizeF(font.pointSizeF() * 1.3)
    painter.setFont(font)
    painter.setPen(QColor("#e6e6e6"))
    margin = min(40.0, area.width() / 10)
    painter.drawText(area.adjusted(margin, margin, -margin, -margin),
                     Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)  # fmt: skip
