"""The radiograph as the canvas shows it: 8-bit renders of the native pixels for the current display window.

Two renders exist. The full-resolution render is what the canvas normally draws (panning and zooming only
re-blit it). While the window changes (a right-drag, a slider) re-rendering millions of pixels per frame is
too slow, so the canvas draws a *preview*: only the visible region, decimated to about one sample per screen
pixel, rendered through the same ``render_8bit``; the full render is redone once the window settles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QImage

from implant_desk.core.imaging import windowing as display
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph

_FORMATS = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}


@dataclass(frozen=True)
class NumpyImage:
    """A QImage that views a numpy buffer; the array is kept here because QImage does not own it."""

    array: np.ndarray
    qimage: QImage


def to_qimage(array: np.ndarray) -> NumpyImage:
    """Wrap an HxW, HxWx3 or HxWx4 uint8 array as a QImage without copying (a copy only if not C-contiguous).

    Qt's image allocation limit applies to decoding with QImageReader only, so very large radiographs work.
    """
    if array.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {array.dtype}")
    array = np.ascontiguousarray(array)
    channels = 1 if array.ndim == 2 else array.shape[2]
    height, width = array.shape[:2]
    qimage = QImage(array.data, width, height, array.strides[0], _FORMATS[channels])
    return NumpyImage(array, qimage)


def _value_range(pixels: np.ndarray) -> float:
    """max - min of a subsample (NaN ignored): window drags scale with it, so a 12-bit and an 8-bit image
    feel the same under the mouse."""
    sample = pixels[::4, ::4]
    if sample.size == 0 or (sample.dtype.kind == "f" and not np.isfinite(sample).any()):
        return 1.0
    spread = float(np.nanmax(sample)) - float(np.nanmin(sample))
    return spread if math.isfinite(spread) and spread > 0 else 1.0


@dataclass(frozen=True)
class Preview:
    """A decimated render of part of the image: ``image`` covers ``rect`` (x1, y1, x2, y2) in image px."""

    key: tuple
    rect: tuple[int, int, int, int]
    image: NumpyImage


class ImageLayer:
    """Holds one radiograph's display state (window, invert, CLAHE) and its 8-bit renders."""

    def __init__(self, radiograph: Radiograph) -> None:
        self.radiograph = radiograph
        self.window = radiograph.window
        self.invert = radiograph.inverted
        self.clahe = False
        self._full: NumpyImage | None = None
        self._full_key: tuple | None = None
        self._preview: Preview | None = None
        self.value_range = _value_range(radiograph.pixels)

    def _key(self) -> tuple:
        return (self.window, self.invert, self.clahe)

    def set_window(self, window: DisplayWindow) -> None:
        """Take a window; its width stays positive (a drag past zero width would invert the picture)."""
        self.window = DisplayWindow(float(window.center), max(self.value_range * 1e-3, float(window.width)))

    @property
    def full_is_current(self) -> bool:
        return self._full is not None and self._full_key == self._key()

    def _render(self, pixels: np.ndarray) -> np.ndarray:
        img8 = display.render_8bit(pixels, self.window, self.invert)
        if self.clahe:
            img8 = display.clahe_8bit(img8)
        return img8

    def full(self) -> NumpyImage:
        """The full-resolution render for the current settings (rendered now if stale)."""
        if not self.full_is_current:
            self._full = to_qimage(self._render(self.radiograph.pixels))
            self._full_key = self._key()
            self._preview = None
        return self._full

    def preview(self, x1: int, y1: int, x2: int, y2: int, step: int) -> Preview:
        """Render rows y1:y2 and columns x1:x2 taking every ``step``-th pixel (cached until anything changes)."""
        key = (self._key(), x1, y1, x2, y2, step)
        if self._preview is None or self._preview.key != key:
            region = self.radiograph.pixels[y1:y2:step, x1:x2:step]
            rows, cols = region.shape[:2]
            # The last sample may stand for fewer than ``step`` pixels: it overhangs by under one screen pixel.
            covered = (x1, y1, x1 + cols * step, y1 + rows * step)
            self._preview = Preview(key, covered, to_qimage(self._render(region)))
        return self._preview
