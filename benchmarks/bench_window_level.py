"""Window/level drag frame rate of the canvas on a 2400 x 3200 16-bit radiograph.

Drives synthetic right-drag mouse events offscreen; each event is followed by a synchronous repaint, so a
frame is "event handled + image re-rendered + painted". Prints frames per second for the canvas beside two
baselines measured in the same run on the same frames:
  * naive: re-render the full image in float arithmetic each frame, then paint it scaled (what a simple
    viewer does),
  * full LUT: re-render the full image through render_8bit each frame (the canvas without its preview).
Usage: python benchmarks/bench_window_level.py [--frames N]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QImage, QMouseEvent, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from implant_desk.app.canvas import Canvas  # noqa: E402
from implant_desk.app.canvas.image_layer import to_qimage  # noqa: E402
from implant_desk.core.imaging.windowing import render_8bit  # noqa: E402
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph  # noqa: E402

WIDTH, HEIGHT = 2400, 3200
VIEWPORT = (1280, 960)


def synthetic_radiograph() -> Radiograph:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    img = 1000 + 1500 * np.exp(-(((x - WIDTH / 2) / 900) ** 2 + ((y - HEIGHT / 2) / 1200) ** 2))
    img[1000:2200, 700:820] = 3800
    img += rng.normal(0, 50, img.shape).astype(np.float32)
    pixels = np.clip(img, 0, 4095).astype(np.uint16)
    return Radiograph("bench.dcm", "DICOM", pixels, 12, "MONOCHROME2", DisplayWindow(2000, 3000), (0.1, 0.1),
                      "PixelSpacing")  # fmt: skip


def drag_path(frames: int) -> list[QPointF]:
    """A wobbly right-drag: both width and center change on every frame."""
    t = np.linspace(0, 2 * np.pi, frames)
    return [QPointF(640 + 300 * np.sin(a), 480 + 200 * np.sin(2 * a)) for a in t]


def send_mouse(widget, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons) -> None:
    global_pos = QPointF(widget.mapToGlobal(pos))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def canvas_fps(canvas: Canvas, path: list[QPointF]) -> tuple[float, float]:
    """Frames per second while dragging, and the seconds the full render takes after the release."""
    viewport = canvas.viewport()
    right = Qt.MouseButton.RightButton
    send_mouse(viewport, QEvent.Type.MouseButtonPress, path[0], right, right)
    start = time.perf_counter()
    for pos in path[1:]:
        send_mouse(viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, right)
        viewport.repaint()
    fps = (len(path) - 1) / (time.perf_counter() - start)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, path[-1], right, Qt.MouseButton.NoButton)
    start = time.perf_counter()
    canvas._render_full()  # what the settle timer runs once the drag ends
    viewport.repaint()
    return fps, time.perf_counter() - start


def baseline_fps(radiograph: Radiograph, path: list[QPointF], zoom: float, render) -> float:
    """Each frame: window from the pointer as the canvas does, render the full image, paint it scaled."""
    target = QImage(*VIEWPORT, QImage.Format.Format_RGB32)
    scale = float(radiograph.pixels.max() - radiograph.pixels.min()) / 500
    w0, c0 = radiograph.window.width, radiograph.window.center
    start = time.perf_counter()
    for pos in path[1:]:
        window = DisplayWindow(c0 + (pos.y() - path[0].y()) * scale, max(1.0, w0 + (pos.x() - path[0].x()) * scale))
        image = to_qimage(render(radiograph.pixels, window))
        painter = QPainter(target)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < 1)
        painter.drawImage(QRectF(0, 0, WIDTH * zoom, HEIGHT * zoom), image.qimage)
        painter.end()
    return (len(path) - 1) / (time.perf_counter() - start)


def naive_float_render(pixels: np.ndarray, window: DisplayWindow) -> np.ndarray:
    scaled = (pixels.astype(np.float64) - window.low) / window.width * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    radiograph = synthetic_radiograph()
    canvas = Canvas()
    canvas.resize(*VIEWPORT)
    canvas.set_radiograph(radiograph)
    canvas.show()
    app.processEvents()
    path = drag_path(args.frames)
    print(f"window/level drag on a {WIDTH}x{HEIGHT} uint16 image, canvas {VIEWPORT[0]}x{VIEWPORT[1]}, "
          f"{args.frames} frames")  # fmt: skip
    for label, set_view in (("fit window", canvas.fit_window), ("1:1", canvas.zoom_original)):
        set_view()
        canvas._render_full()
        app.processEvents()
        fps, settle_s = canvas_fps(canvas, path)
        zoom = canvas.zoom()
        naive = baseline_fps(radiograph, path[: max(2, args.frames // 4)], zoom, naive_float_render)
        full_lut = baseline_fps(radiograph, path[: max(2, args.frames // 4)], zoom, render_8bit)
        print(f"  {label:10s} zoom {zoom:.3f}: canvas {fps:6.1f} fps | naive float {naive:5.1f} fps "
              f"(x{fps / naive:.1f}) | full LUT re-render {full_lut:5.1f} fps (x{fps / full_lut:.1f}) | "
              f"full render after release {settle_s * 1000:.0f} ms")  # fmt: skip
    canvas.close()


if __name__ == "__main__":
    main()
