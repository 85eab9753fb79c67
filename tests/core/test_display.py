"""8-bit display rendering: the LUT path agrees with plain float arithmetic for every depth."""

from __future__ import annotations

import numpy as np
import pytest

from implant_desk.core.imaging.windowing import auto_window, clahe_8bit, default_window, render_8bit
from implant_desk.core.imaging.radiograph import DisplayWindow


def _reference(pixels: np.ndarray, window: DisplayWindow, invert: bool = False) -> np.ndarray:
    scaled = np.clip((pixels.astype(np.float64) - window.low) / window.width * 255, 0, 255)
    out = np.rint(scaled).astype(np.uint8)
    return 255 - out if invert else out


@pytest.mark.parametrize("dtype, low, high", [("uint8", 0, 255), ("uint16", 0, 65535), ("int16", -32768, 32767),
                                              ("int32", -100000, 100000), ("float32", -5.0, 5.0)])
@pytest.mark.parametrize("invert", [False, True])
def test_render_matches_float_reference(dtype, low, high, invert):
    rng = np.random.default_rng(0)
    pixels = rng.uniform(low, high, (300, 257)).astype(dtype)
    window = DisplayWindow(center=float(np.median(pixels)), width=float(high - low) / 3)
    out = render_8bit(pixels, window, invert)
    assert out.dtype == np.uint8 and out.shape == pixels.shape
    assert np.abs(out.astype(int) - _reference(pixels, window, invert)).max() <= 1  # float32 vs float64 rounding


def test_render_clips_and_keeps_rgb_shape():
    rgb = np.stack([np.array([[0, 100, 200, 300]], np.uint16)] * 3, axis=-1)
    out = render_8bit(rgb, DisplayWindow(center=150, width=100))
    assert out.shape == (1, 4, 3)
    assert out[0, :, 0].tolist() == [0, 0, 255, 255]
    assert (out[..., 0] == out[..., 2]).all()


def test_render_accepts_non_contiguous_views():
    pixels = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    window = DisplayWindow(center=2000, width=4000)
    np.testing.assert_array_equal(render_8bit(pixels.T, window), render_8bit(pixels, window).T)


def test_float_nan_renders_black():
    out = render_8bit(np.array([[np.nan, 1.0]], np.float32), DisplayWindow(center=0.5, width=1.0))
    assert out.tolist() == [[0, 255]]


def test_auto_window_ignores_a_few_outliers():
    pixels = np.tile(np.arange(1000, 3000, dtype=np.uint16), (100, 1))
    pixels[0, :5] = 65535
    window = auto_window(pixels)
    assert 1000 <= window.low < 1020 and 2980 < window.high <= 3000


@pytest.mark.parametrize("pixels", [np.full((10, 10), 7, np.uint16), np.full((10, 10), np.nan, np.float32),
                                    np.full((10, 10), -3, np.int16)])
def test_auto_window_of_flat_or_empty_image_has_positive_width(pixels):
    assert auto_window(pixels).width > 0


def test_default_window_shows_8bit_colour_as_stored():
    assert default_window(np.zeros((4, 4, 3), np.uint8)) == DisplayWindow(center=127.5, width=255.0)


def test_clahe_raises_local_contrast_and_keeps_shape():
    rng = np.random.default_rng(1)
    flat = (120 + rng.integers(0, 8, (256, 256))).astype(np.uint8)
    grey = clahe_8bit(flat)
    assert grey.shape == flat.shape and grey.dtype == np.uint8
    assert grey.std() > flat.std()
    assert clahe_8bit(np.dstack([flat] * 3)).shape == (256, 256, 3)
