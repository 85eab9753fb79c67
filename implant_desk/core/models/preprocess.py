"""From a radiograph to what the networks see: an 8-bit grey image, the detector's input, fixture crops.

Training and prediction both go through these functions, so a model sees the same pixels in both.
"""

from __future__ import annotations

import cv2
import numpy as np

from implant_desk.core.imaging.radiograph import Radiograph

Box = tuple[float, float, float, float]
# The input scale of the EfficientNet-Lite weights (TFLite's convention): (x - 127) / 128.
INPUT_MEAN = 127.0
INPUT_STD = 128.0


def grey8(radiograph: Radiograph) -> np.ndarray:
    """Robust auto window (ignoring the file's own window, which varies by device) to uint8, metal white."""
    from implant_desk.core.imaging.windowing import auto_window, render_8bit

    pixels = radiograph.pixels
    image = render_8bit(pixels, auto_window(pixels), invert=radiograph.inverted)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image)


def detector_input(image: np.ndarray, det_size: int, square: bool = False) -> tuple[np.ndarray, float]:
    """Scale so the longer side is ``det_size``, pad (black, bottom/right) to multiples of 32, or to a
    ``det_size`` square when ``square`` (batches in training). Returns the padded image and the scale."""
    h, w = image.shape[:2]
    scale = det_size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out_h, out_w = (det_size, det_size) if square else (-(-new_h // 32) * 32, -(-new_w // 32) * 32)
    padded = np.zeros((out_h, out_w), dtype=np.uint8)
    padded[:new_h, :new_w] = resized
    return padded, scale


def network_input(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 at the networks' input scale (``backbones.normalize_uint8`` for torch tensors)."""
    return (images.astype(np.float32) - INPUT_MEAN) / INPUT_STD


def crop_region(box: Box, margin: float) -> Box:
    """The box enlarged by ``margin`` of its size on every side (the classifier sees a little context)."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    return x1 - mx, y1 - my, x2 + mx, y2 + my


def fixture_crop(image: np.ndarray, box: Box, crop_size: tuple[int, int], margin: float) -> tuple[np.ndarray, Box]:
    """The enlarged box, scaled to fit ``crop_size`` (height, width) keeping its aspect, centred on black.

    Returns the crop and the region of the image it shows (for mapping an explanation back)."""
    out_h, out_w = crop_size
    x1, y1, x2, y2 = crop_region(box, margin)
    h, w = image.shape[:2]
    ix1, iy1 = int(np.floor(x1)), int(np.floor(y1))
    ix2, iy2 = max(int(np.ceil(x2)), ix1 + 1), max(int(np.ceil(y2)), iy1 + 1)
    # Parts of the region outside the image (a fixture cut by the edge) stay black.
    region = np.zeros((iy2 - iy1, ix2 - ix1), dtype=np.uint8)
    sx1, sy1, sx2, sy2 = max(ix1, 0), max(iy1, 0), min(ix2, w), min(iy2, h)
    if sx2 > sx1 and sy2 > sy1:
        region[sy1 - iy1:sy2 - iy1, sx1 - ix1:sx2 - ix1] = image[sy1:sy2, sx1:sx2]
    scale = min(out_h / region.shape[0], out_w / region.shape[1])
    new_w, new_h = max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale))
    resized = cv2.resize(region, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    crop = np.zeros((out_h, out_w), dtype=np.uint8)
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    crop[top:top + new_h, left:left + new_w] = resized
    # The image region the whole crop covers, padding included.
    shown = (ix1 - left / scale, iy1 - top / scale, ix1 + (out_w - left) / scale, iy1 + (out_h - top) / scale)
    return crop, shown
