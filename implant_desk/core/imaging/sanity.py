"""Limits and plausibility rules shared by every image reader.

Kept apart from the readers so DICOM, TIFF and Pillow formats refuse the same things with the same words.
"""

from __future__ import annotations

import math
import os

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.wording import counted

# 400 megapixels: far above any dental sensor or panoramic unit (a 12000 x 12000 scan is 144 MP), far
# below what a forged header can claim. Checked from the header, before a single pixel is decoded.
MAX_PIXELS = 400_000_000

# What one decoded frame may occupy: a 400 MP 16-bit grey film is 800 MB. Checked from the header too, since
# samples, bit depth and (TIFF) image depth multiply the pixel count (a 9.5 KB TIFF claimed 1.9 GB).
MAX_DECODED_BYTES = 1_000_000_000

# A pixel smaller than 1 micrometre or larger than 5 mm is not a radiograph's pixel: it is a placeholder
# (0\0, 1\1 written by a converter), a unit mix-up, or a damaged value. Such a spacing counts as unknown.
MIN_SPACING_MM = 0.001
MAX_SPACING_MM = 5.0


def check_pixel_count(path: str | os.PathLike, width: int, height: int) -> None:
    """Refuse an image whose header claims an empty or implausibly large picture (a decompression bomb)."""
    if width <= 0 or height <= 0:
        raise UnreadableImageError(path, f"the file says the image is {width} x {height} pixels, which is empty")
    if width * height > MAX_PIXELS:
        raise UnreadableImageError(
            path,
            f"the file says the image is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels), "
            f"more than the {MAX_PIXELS // 1_000_000} megapixels this program opens; "
            "it is damaged or made to exhaust memory",
        )


def check_decoded_size(path: str | os.PathLike, decoded_bytes: int) -> None:
    if decoded_bytes > MAX_DECODED_BYTES:
        raise UnreadableImageError(
            path,
            f"the file says its picture takes {decoded_bytes / 1e9:.1f} GB once decoded, more than the "
            f"{MAX_DECODED_BYTES / 1e9:.0f} GB this program opens; it is damaged or made to exhaust memory",
        )


def plausible_spacing(row_mm: object, col_mm: object) -> tuple[float, float] | None:
    """``(row, col)`` in mm when both values are numbers in the plausible range, else None (unknown)."""
    try:
        row, col = float(row_mm), float(col_mm)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) and MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in (row, col)):
        return None
    return row, col


def check_frame(path: str | os.PathLike, frame: int, frames: int) -> None:
    if not 0 <= frame < frames:
        raise UnreadableImageError(path, f"it holds {counted(frames, 'frame')}; frame {frame + 1} does not exist")
