"""The canvas driven by real mouse events: what the user does becomes the signals of CANVAS_API.md."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication

from implant_desk.app.canvas import Canvas, OverlayItem, painting
from implant_desk.app.canvas.captions import box_caption, ruler_caption
from implant_desk.app.canvas.image_layer import ImageLayer, to_qimage
from implant_desk.app.canvas.heatmap import heatmap_rgba
from implant_desk.core.annotations.model import Box
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph

LEFT, RIGHT, MIDDLE = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton


def make_radiograph(width: int = 400, height: int = 300, spacing=(0.1, 0.1)) -> Radiograph:
    """A 12-bit grey ramp with a bright bar: enough structure to see that painting changed pixels."""
    ramp = np.linspace(800, 3000, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    ramp[height // 3 : height // 2, :] = 4000
    return Radiograph(path="test.dcm", format="DICOM", pixels=ramp.astype(np.uint16), bits=12,
                      photometric="MONOCHROME2", window=DisplayWindow(2048, 4096), spacing_mm=spacing,
                      spacing_source="PixelSpacing")  # fmt: skip


@pytest.fixture
def canvas(qtbot) -> Canvas:
    widget = Canvas()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.set_radiograph(make_radiograph())
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def screen_point(canvas: Canvas, x: float, y: float) -> QPoint:
    sx, sy = canvas.geometry_snapshot().to_screen(x, y)
    return QPoint(round(sx), round(sy))


def drag(qtbot, canvas: Canvas, start: QPoint, end: QPoint, button=LEFT, steps: int = 4) -> None:
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, button, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, start + (end - start) * i / steps)
    qtbot.mouseRelease(viewport, button, pos=end)


def wheel(canvas: Canvas, pos: QPoint, delta: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    point = QPointF(pos)
    event = QWheelEvent(point, canvas.viewport().mapToGlobal(point), QPoint(), QPoint(0, delta),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(canvas.viewport(), event)


def settle(qtbot, canvas: Canvas) -> None:
    """Wait for the full-resolution render that follows a display change (a timer, so the GUI stays fluid)."""
    qtbot.waitUntil(lambda: canvas._layer.full_is_current, timeout=30_000)


def rendered(canvas: Canvas) -> QImage:
    return canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


# ------------------------------------------------------------------------------------------- drawing
def test_drawing_a_box_emits_image_coordinates_through_zoom_and_scroll(qtbot, canvas):
    canvas.set_mode("create")
    canvas.set_zoom(2.0)
    canvas.horizontalScrollBar().setValue(150)
    canvas.verticalScrollBar().setValue(60)
    with qtbot.waitSignal(canvas.boxDrawn) as signal:
        drag(qtbot, canvas, QPoint(300, 220), QPoint(100, 80))  # drawn right-to-left, bottom-to-top
    # screen = image * 2 - scroll, so image = (screen + scroll) / 2, normalised so x1 < x2
    assert signal.args == pytest.approx([(100 + 150) / 2, (80 + 60) / 2, (300 + 150) / 2, (220 + 60) / 2])


def test_drawing_on_a_centred_image_accounts_for_the_margin_and_clamps_to_the_image(qtbot, canvas):
    canvas.set_mode("create")
    canvas.zoom_original()  # 400x300 image centred in the viewport
    geometry = canvas.geometry_snapshot()
    assert geometry.margin_x > 0 and geometry.margin_y > 0
    with qtbot.waitSignal(canvas.boxDrawn) as signal:
        drag(qtbot, canvas, screen_point(canvas, 50, 40), QPoint(canvas.viewport().width() - 1, 5))
    x1, y1, x2, y2 = signal.args
    assert (x1, x2) == pytest.approx((50, 400))
    assert (y1, y2) == pytest.approx((0, 40))


def test_a_click_in_create_mode_draws_nothing(qtbot, canvas):
    canvas.set_mode("create")
    with qtbot.assertNotEmitted(canvas.boxDrawn):
        drag(qtbot, canvas, QPoint(200, 200), QPoint(201, 201), steps=1)


# --------------------------------------------------------------------------------- edit: select/move
@pytest.fixture
def boxed(canvas) -> Canvas:
    canvas.set_boxes([Box("A", 40, 40, 120, 100), Box("B", 200, 120, 300, 240)])
    canvas.zoom_original()
    return canvas


def test_clicking_a_box_selects_it_and_clicking_empty_image_deselects(qtbot, boxed):
    with qtbot.waitSignal(boxed.selectionChanged) as signal:
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 250, 180))
    assert signal.args == [1] and boxed.selected() == 1
    with qtbot.waitSignal(boxed.selectionChanged) as signal:
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 380, 20))
    assert signal.args == [-1] and boxed.selected() == -1


def test_moving_a_box_emits_one_change_when_the_drag_ends(qtbot, boxed):
    changes = []
    boxed.boxChanged.connect(lambda *args: changes.append(args))
    drag(qtbot, boxed, screen_point(boxed, 80, 70), screen_point(boxed, 110, 90), steps=6)
    assert changes == [(0, 70.0, 60.0, 150.0, 120.0)]


def test_resizing_by_a_corner_and_by_an_edge(qtbot, boxed):
    changes = []
    boxed.boxChanged.connect(lambda *args: changes.append(args))
    drag(qtbot, boxed, screen_point(boxed, 300, 240), screen_point(boxed, 330, 260))  # bottom-right corner
    drag(qtbot, boxed, screen_point(boxed, 40, 70), screen_point(boxed, 20, 75))  # left edge
    assert changes == [(1, 200.0, 120.0, 330.0, 260.0), (0, 20.0, 40.0, 120.0, 100.0)]


def test_a_box_squashed_flat_by_a_resize_snaps_back(qtbot, boxed):
    with qtbot.assertNotEmitted(boxed.boxChanged):
        drag(qtbot, boxed, screen_point(boxed, 120, 70), screen_point(boxed, 40.5, 70))  # right edge onto left


def test_the_canvas_shows_the_pushed_boxes_not_its_own_edit(qtbot, boxed):
    """A rejected edit snaps back: the canvas only previews until the window calls set_boxes."""
    drag(qtbot, boxed, screen_point(boxed, 80, 70), screen_point(boxed, 110, 90))
    assert boxed.selected() == 0
    with qtbot.waitSignal(boxed.selectionChanged) as signal:
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 140, 112))  # only in the moved box
    assert signal.args == [-1]
    with qtbot.waitSignal(boxed.selectionChanged) as signal:
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 50, 50))  # still at its old place
    assert signal.args == [0]


def test_double_click_asks_to_edit_the_label(qtbot, boxed):
    with qtbot.waitSignal(boxed.boxDoubleClicked) as signal:
        qtbot.mouseDClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 250, 180))
    assert signal.args == [1]


def test_hidden_boxes_cannot_be_grabbed(qtbot, boxed):
    boxed.set_boxes_visible(False)
    with qtbot.assertNotEmitted(boxed.boxChanged), qtbot.assertNotEmitted(boxed.selectionChanged):
        drag(qtbot, boxed, screen_point(boxed, 80, 70), screen_point(boxed, 110, 90))


def test_clicking_a_prediction_reports_it(qtbot, boxed):
    boxed.set_overlay([OverlayItem((150, 20, 190, 60), "system X 0.8", "#ff0000")])
    with qtbot.waitSignal(boxed.overlayClicked) as signal:
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 170, 40))
    assert signal.args == [0]


# ------------------------------------------------------------------------------ window, pan, zoom, ruler
def test_right_drag_changes_the_window_but_never_the_pixels(qtbot, canvas):
    radiograph = make_radiograph()
    pixels_before = radiograph.pixels.copy()
    canvas.set_radiograph(radiograph)
    start = canvas.window()
    with qtbot.waitSignal(canvas.windowChanged) as signal:
        drag(qtbot, canvas, QPoint(300, 200), QPoint(400, 150), button=RIGHT)
    after = canvas.window()
    assert after.width > start.width  # right = wider
    assert after.center < start.center  # up = lower center (brighter)
    assert signal.args == pytest.approx([after.center, after.width])
    np.testing.assert_array_equal(radiograph.pixels, pixels_before)


def test_the_window_drag_redraws_the_image(qtbot, canvas):
    before = rendered(canvas)
    drag(qtbot, canvas, QPoint(300, 200), QPoint(300, 50), button=RIGHT)  # much brighter
    assert rendered(canvas) != before
    settle(qtbot, canvas)  # the full-resolution render follows the release


def test_middle_drag_pans_and_ctrl_wheel_zooms_around_the_cursor(qtbot, canvas):
    canvas.set_zoom(4.0)
    hbar, vbar = canvas.horizontalScrollBar(), canvas.verticalScrollBar()
    x0, y0 = hbar.value(), vbar.value()
    drag(qtbot, canvas, QPoint(300, 200), QPoint(250, 170), button=MIDDLE)
    assert (hbar.value(), vbar.value()) == (x0 + 50, y0 + 30)

    under_cursor = canvas.geometry_snapshot().to_image(100, 100)
    with qtbot.waitSignal(canvas.zoomChanged):
        wheel(canvas, QPoint(100, 100), 120, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == pytest.approx(5.0)
    assert canvas.geometry_snapshot().to_image(100, 100) == pytest.approx(under_cursor, abs=0.3)
    y = vbar.value()
    wheel(canvas, QPoint(100, 100), -120)  # a plain wheel scrolls down
    assert vbar.value() > y and canvas.zoom() == pytest.approx(5.0)


def test_fit_and_one_to_one(qtbot, canvas):
    canvas.fit_window()
    area = canvas.maximumViewportSize()
    assert canvas.zoom() == pytest.approx(min(area.width() / 400, area.height() / 300))
    canvas.zoom_original()
    assert canvas.zoom() == 1.0
    canvas.zoom_in()
    assert canvas.zoom() > 1.0
    canvas.fit_width()
    assert canvas.zoom() * 400 <= area.width()
    canvas.resize(900, 700)  # a fit mode follows the window size
    assert canvas.zoom() * 400 == pytest.approx(canvas.maximumViewportSize().width(), abs=1)


def test_ruler_measures_in_image_pixels(qtbot, canvas):
    canvas.set_mode("ruler")
    canvas.zoom_original()
    with qtbot.waitSignal(canvas.rulerMeasured) as signal:
        drag(qtbot, canvas, screen_point(canvas, 10, 10), screen_point(canvas, 40, 50))
    assert signal.args == pytest.approx([10, 10, 40, 50])
    assert ruler_caption((10, 10, 40, 50), (0.1, 0.1)) == "50.0 px  5.00 mm"
    assert ruler_caption((10, 10, 40, 50), (0.2, 0.1)) == "50.0 px  8.54 mm"  # rows 0.2 mm, columns 0.1 mm
    assert ruler_caption((10, 10, 40, 50), None) == "50.0 px"
    assert box_caption("A", (0, 0, 30, 10), (0.2, 0.1)) == "A  3.0 x 2.0 mm"


def test_escape_takes_a_measured_ruler_off_the_image(qtbot, canvas):
    canvas.set_mode("ruler")
    canvas.zoom_original()
    settle(qtbot, canvas)
    without = rendered(canvas)
    drag(qtbot, canvas, screen_point(canvas, 10, 10), screen_point(canvas, 140, 150))
    assert rendered(canvas) != without
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert rendered(canvas) == without and canvas.mode() == "ruler"


def test_cursor_position_is_reported_in_image_pixels(qtbot, canvas):
    canvas.zoom_original()
    positions = []
    canvas.cursorMoved.connect(lambda x, y: positions.append((x, y)))
    qtbot.mouseMove(canvas.viewport(), screen_point(canvas, 123, 45))
    assert positions[-1] == pytest.approx((123, 45))


# ---------------------------------------------------------------------------------------------- paint
def test_fractional_boxes_overlays_and_gestures_paint_without_error(qtbot, canvas):
    """LabelImg 1.8.6 crashed here, passing floats to QPainter's int overloads."""
    canvas.zoom_original()
    before = rendered(canvas)
    canvas.set_spacing((0.1, 0.1))
    canvas.set_boxes([Box("implant", 50.3, 60.7, 150.55, 200.25), Box("apical", 210.5, 20.25, 330.75, 90.5)])
    canvas.set_selected(1)
    canvas.set_overlay([OverlayItem((60.5, 70.25, 140.75, 190.5), "Nobel 0.9", QColor("#ff00ff"))])
    after = rendered(canvas)
    for x, y in ((50.3, 120.0), (330.75, 50.0), (140.75, 130.0)):  # on the box outlines
        point = screen_point(canvas, x, y)
        assert after.pixelColor(point) != before.pixelColor(point)
    canvas.set_mode("create")
    qtbot.mousePress(canvas.viewport(), LEFT, pos=screen_point(canvas, 20.5, 20.5))
    qtbot.mouseMove(canvas.viewport(), screen_point(canvas, 80.5, 90.5))
    canvas.set_zoom(1.37)  # fractional screen coordinates everywhere
    assert rendered(canvas) != after


def test_heat_map_paints_over_its_box_with_the_opacity(qtbot, canvas):
    canvas.zoom_original()
    box = (100.0, 150.0, 200.0, 250.0)
    canvas.set_overlay([OverlayItem(box, "", "#ffffff", heatmap=np.ones((7, 5), np.float32))])
    canvas.set_heatmap_opacity(1.0)
    centre = screen_point(canvas, 150, 200)
    hot = rendered(canvas).pixelColor(centre)
    assert hot.red() > 100 and hot.green() < 40 and hot.blue() < 40  # the hot end of the colour map
    canvas.set_heatmap_colormap("inferno")
    pale_yellow = rendered(canvas).pixelColor(centre)
    assert pale_yellow.red() > 200 and pale_yellow.green() > 200 and pale_yellow.blue() > 100
    canvas.set_heatmaps_visible(False)
    assert rendered(canvas).pixelColor(centre) not in (hot, pale_yellow)


def test_a_fixtures_thirds_are_tinted_in_their_zone_colours_and_an_inferred_box_is_dotted(qtbot, canvas):
    canvas.zoom_original()
    box = (100.0, 160.0, 140.0, 295.0)  # under the bright bar, where a tint shows
    thirds = tuple(((100.0, 160.0 + 45 * k, 140.0, 205.0 + 45 * k), color)
                   for k, color in enumerate(("#ff0000", "#00ff00", "#0000ff")))
    plain = rendered(canvas)
    canvas.set_overlay([OverlayItem(box, "", "#ffffff", parts=thirds)])
    tinted = rendered(canvas)
    for (x1, y1, x2, y2), channel in zip((part for part, _ in thirds), ("red", "green", "blue")):
        point = screen_point(canvas, (x1 + x2) / 2, (y1 + y2) / 2)
        before, after = plain.pixelColor(point), tinted.pixelColor(point)
        assert getattr(after, channel)() > getattr(before, channel)() + 10  # its zone's colour, lightly
        assert abs(after.lightness() - before.lightness()) < 60  # the film stays readable under it
    edge = [screen_point(canvas, 100.0, y) for y in range(165, 290)]  # the box's left side
    solid = sum(tinted.pixelColor(point).lightness() > 240 for point in edge)
    canvas.set_overlay([OverlayItem(box, "", "#ffffff", inferred=True)])
    dotted = sum(rendered(canvas).pixelColor(point).lightness() > 240 for point in edge)
    assert dotted < solid  # dashed for a detected box, dotted (more gaps) for one inferred from its parts


def test_a_new_image_drops_the_previous_boxes_and_predictions(qtbot, boxed):
    boxed.set_selected(1)
    boxed.set_overlay([OverlayItem((150, 20, 190, 60), "system X 0.8", "#ff0000")])
    boxed.set_radiograph(make_radiograph())
    boxed.zoom_original()
    assert boxed.selected() == -1
    with qtbot.assertNotEmitted(boxed.overlayClicked), qtbot.assertNotEmitted(boxed.selectionChanged):
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 170, 40))
        qtbot.mouseClick(boxed.viewport(), LEFT, pos=screen_point(boxed, 80, 70))


def test_label_colours_can_be_chosen(qtbot, boxed):
    boxed.set_label_colors({"A": QColor("#ff0000")})
    outline = rendered(boxed).pixelColor(screen_point(boxed, 40, 70))
    assert outline.red() > 200 and outline.green() < 60 and outline.blue() < 60


def test_heatmap_colouring_is_transparent_where_cold():
    rgba = heatmap_rgba(np.array([[0.0, 0.5], [1.0, np.nan]]))
    assert rgba.shape == (2, 2, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, 3] == 0 and rgba[1, 1, 3] == 0 and rgba[1, 0, 3] == 255


def test_an_unreadable_image_shows_its_message(qtbot, canvas):
    canvas.set_message("This file is not a readable image: the JPEG data ends early.")
    image = rendered(canvas)
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert len(colours) > 2  # background plus anti-aliased text
    canvas.set_message("")
    blank = rendered(canvas)
    assert len({blank.pixel(x, y) for x in range(0, blank.width(), 7) for y in range(0, blank.height(), 7)}) == 1


def test_hovering_a_box_highlights_it(qtbot, boxed):
    inside = screen_point(boxed, 80, 90)
    plain = rendered(boxed).pixelColor(inside)
    qtbot.mouseMove(boxed.viewport(), inside)
    assert rendered(boxed).pixelColor(inside) != plain


def test_invert_and_clahe_change_the_display_only(qtbot, canvas):
    radiograph = make_radiograph()
    pixels_before = radiograph.pixels.copy()
    canvas.set_radiograph(radiograph)
    settle(qtbot, canvas)
    point = screen_point(canvas, 200, 250)
    normal = rendered(canvas).pixelColor(point)
    canvas.set_invert(True)
    settle(qtbot, canvas)
    inverted = rendered(canvas).pixelColor(point)
    assert inverted.red() == pytest.approx(255 - normal.red(), abs=2)
    canvas.set_clahe(True)
    settle(qtbot, canvas)
    assert rendered(canvas).pixelColor(point) != inverted
    np.testing.assert_array_equal(radiograph.pixels, pixels_before)
    canvas.set_radiograph(make_radiograph())  # the next image shows as its file says
    settle(qtbot, canvas)
    assert rendered(canvas).pixelColor(point) == normal


def test_setting_the_window_from_outside_does_not_echo_a_signal(qtbot, canvas):
    with qtbot.assertNotEmitted(canvas.windowChanged):
        canvas.set_window(DisplayWindow(1000, 500))
    assert canvas.window() == DisplayWindow(1000, 500)


def test_escape_cancels_a_box_being_drawn(qtbot, canvas):
    canvas.set_mode("create")
    viewport = canvas.viewport()
    with qtbot.assertNotEmitted(canvas.boxDrawn):
        qtbot.mousePress(viewport, LEFT, pos=QPoint(100, 100))
        qtbot.mouseMove(viewport, QPoint(250, 220))
        qtbot.keyClick(canvas, Qt.Key.Key_Escape)
        qtbot.mouseRelease(viewport, LEFT, pos=QPoint(250, 220))


def test_arrow_keys_are_left_to_the_window(qtbot, canvas):
    """The window moves the selected box with the arrows; the canvas must not scroll with them."""
    event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)
    assert not event.isAccepted()


def test_boxes_replaced_during_a_move_cancel_it(qtbot, boxed):
    viewport = boxed.viewport()
    with qtbot.assertNotEmitted(boxed.boxChanged):
        qtbot.mousePress(viewport, LEFT, pos=screen_point(boxed, 80, 70))
        qtbot.mouseMove(viewport, screen_point(boxed, 100, 90))
        boxed.set_boxes([Box("C", 10, 10, 20, 20)])  # e.g. an undo arrives mid-drag
        qtbot.mouseRelease(viewport, LEFT, pos=screen_point(boxed, 100, 90))


def test_colour_and_very_wide_images_display(qtbot, canvas):
    rgb = np.zeros((50, 4000, 3), np.uint8)
    rgb[..., 0] = 200
    canvas.set_radiograph(Radiograph("c.jpg", "JPEG", rgb, 8, "RGB", DisplayWindow(127.5, 255), None, "unknown"))
    settle(qtbot, canvas)
    colour = rendered(canvas).pixelColor(QPoint(canvas.viewport().width() // 2, canvas.viewport().height() // 2))
    assert (colour.red(), colour.green(), colour.blue()) == (200, 0, 0)


def test_float_images_with_missing_values_display_and_take_a_window_drag(qtbot, canvas):
    pixels = np.linspace(0.0, 0.01, 300 * 400, dtype=np.float32).reshape(300, 400)
    pixels[:10] = np.nan
    canvas.set_radiograph(Radiograph("f.tif", "TIFF", pixels, 32, "MONOCHROME2", DisplayWindow(0.005, 0.01),
                                     None, "unknown"))  # fmt: skip
    settle(qtbot, canvas)
    drag(qtbot, canvas, QPoint(300, 200), QPoint(400, 200), button=RIGHT)
    assert canvas.window().width == pytest.approx(0.01 * (1 + 100 / 500), rel=0.05)  # the range per 500 px
    assert rendered(canvas).pixelColor(QPoint(320, 240)).isValid()


def test_qimage_views_the_numpy_buffer_without_a_copy():
    array = np.zeros((3, 5), np.uint8)  # 5 bytes per line: not a multiple of 4
    image = to_qimage(array)
    array[1, 2] = 200
    assert image.qimage.pixelColor(2, 1).red() == 200 and image.qimage.bytesPerLine() == 5


def test_the_preview_renders_only_the_visible_part_decimated():
    layer = ImageLayer(make_radiograph(400, 300))
    preview = layer.preview(10, 20, 110, 81, step=4)
    assert preview.rect == (10, 20, 110, 84)
    assert (preview.image.qimage.width(), preview.image.qimage.height()) == (25, 16)
    assert layer.preview(10, 20, 110, 81, step=4) is preview  # repainting without a change renders nothing


def test_labels_of_neighbouring_boxes_do_not_cover_each_other(qtbot):
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    tags: list[QRectF] = []
    for _ in range(3):
        painting.paint_tag(painter, QPointF(50, 150), "Fillings", QColor("#b48cff"), QRectF(image.rect()),
                           occupied=tags)  # fmt: skip
    painter.end()
    assert len(tags) == 3
    assert not any(a.intersects(b) for i, a in enumerate(tags) for b in tags[i + 1 :])
