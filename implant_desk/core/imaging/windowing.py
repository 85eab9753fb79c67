"""Native-depth pixels -> 8-bit display images: windowing, default windows, local contrast.

Windowing integer images goes through a lookup table (one ``np.take`` per pixel) instead of float
arithmetic over the whole image: for a 2400 x 3200 uint16 radiograph that is the difference between a
sluggish and an instant window drag.
"""

from __future__ import annotations

import numpy as np

from implant_desk.core.imaging.radiograph import DisplayWindow

# Percentiles for the default window: wide enough to keep the dentine-to-metal range, narrow enough that a
# few saturated or dead detector pixels do not flatten the picture.
AUTO_LOW_PERCENTILE = 0.5
AUTO_HIGH_PERCENTILE = 99.5
# Percentiles are estimated on a regular subsample of about this many pixels: plenty for a histogram,
# and a few milliseconds instead of tens on a 2400 x 3200 image.
AUTO_SAMPLE_PIXELS = 250_000


def render_8bit(pixels: np.ndarray, window: DisplayWindow, invert: bool = False) -> np.ndarray:
    """Map ``window.low..window.high`` linearly onto 0..255 (clipped); same shape as ``pixels``, uint8.

    RGB stays RGB (the window applies to each channel). ``invert`` flips the result, as MONOCHROME1 needs.
    """
    unsigned = _UNSIGNED_VIEW.get(pixels.dtype)
    if unsigned is None:
        return _render_float(pixels, window, invert)
    lut = _window_lut(pixels.dtype, window, invert)
    indices = np.ascontiguousarray(pixels).view(unsigned).reshape(-1)
    out = np.empty(indices.size, dtype=np.uint8)
    # np.take first widens all indices to intp: done in one go that is a 60 MB temporary for a 2400 x 3200
    # image and three times slower than taking L2-cache-sized slices.
    for start in range(0, indices.size, _TAKE_CHUNK):
        stop = start + _TAKE_CHUNK
        np.take(lut, indices[start:stop], out=out[start:stop])
    return out.reshape(pixels.shape)


_UNSIGNED_VIEW = {np.dtype(np.uint8): np.uint8, np.dtype(np.uint16): np.uint16, np.dtype(np.int16): np.uint16}
_TAKE_CHUNK = 1 << 17


def _window_lut(dtype: np.dtype, window: DisplayWindow, invert: bool) -> np.ndarray:
    """The 8-bit output for every possible stored value, indexed by the value's unsigned bit pattern.

    For int16 the table is indexed by the uint16 view of the pixels, so no pass over the image is spent
    on offsetting signed values.
    """
    bits = np.dtype(dtype).itemsize * 8
    values = np.arange(2**bits, dtype=f"uint{bits}").view(dtype)
    return _scale(values, window, invert)


def _render_float(pixels: np.ndarray, window: DisplayWindow, invert: bool) -> np.ndarray:
    return _scale(np.nan_to_num(pixels.astype(np.float32, copy=False)), window, invert)


def _scale(values: np.ndarray, window: DisplayWindow, invert: bool) -> np.ndarray:
    low = window.low
    width = max(float(window.width), 1e-6)
    out = (values.astype(np.float32) - np.float32(low)) * np.float32(255.0 / width)
    np.clip(out, 0.0, 255.0, out=out)
    out = np.rint(out).astype(np.uint8)
    if invert:
        np.subtract(255, out, out=out)
    return out


def default_window(pixels: np.ndarray) -> DisplayWindow:
    """The window for a file that names none: 8-bit colour is shown as stored, anything else auto-windowed."""
    if pixels.ndim == 3 and pixels.dtype == np.uint8:
        return DisplayWindow(center=127.5, width=255.0)
    return auto_window(pixels)


def auto_window(pixels: np.ndarray) -> DisplayWindow:
    """A robust default window: the 0.5th to 99.5th percentile of the pixel values (NaN ignored)."""
    sample = _subsample(pixels)
    if sample.dtype in (np.uint8, np.uint16):
        low, high = _histogram_percentiles(sample)
    else:
        finite = sample[np.isfinite(sample)] if sample.dtype.kind == "f" else sample
        if finite.size == 0:
            return DisplayWindow(center=0.5, width=1.0)
        low, high = (float(v) for v in np.percentile(finite, (AUTO_LOW_PERCENTILE, AUTO_HIGH_PERCENTILE)))
    if high <= low:  # a flat image: any non-zero width shows it as one grey
        high = low + 1.0
    return DisplayWindow(center=(low + high) / 2, width=high - low)


def _subsample(pixels: np.ndarray) -> np.ndarray:
    step = max(1, round(np.sqrt(pixels.shape[0] * pixels.shape[1] / AUTO_SAMPLE_PIXELS)))
    return np.ascontiguousarray(pixels[::step, ::step]).ravel()


def _histogram_percentiles(sample: np.ndarray) -> tuple[float, float]:
    """Exact percentiles of small unsigned integers from a histogram (much cheaper than sorting)."""
    cumulative = np.cumsum(np.bincount(sample))
    total = cumulative[-1]
    low = int(np.searchsorted(cumulative, total * AUTO_LOW_PERCENTILE / 100, side="right"))
    high = int(np.searchsorted(cumulative, total * AUTO_HIGH_PERCENTILE / 100, side="left"))
    return float(low), float(min(high, cumulative.size - 1))


def clahe_8bit(img8: np.ndarray, clip_limit: float = 2.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of an 8-bit display image (grey or RGB).

    RGB images are equalised on their lightness only, so colours (and grey stored as RGB) keep their hue.
    """
    import cv2  # lazy: OpenCV costs ~0.1 s to import and only this view option needs it

    clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles))
    if img8.ndim == 2:
        return clahe.apply(np.ascontiguousarray(img8))
    lab = cv2.cvtColor(np.ascontiguousarray(img8), cv2.COLOR_RGB2LAB)
    lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
