"""The in-memory radiograph every loader returns and every consumer (canvas, predictor, dataset) reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np  # only named: the window imports this module before its first paint, numpy after it


@dataclass(frozen=True)
class DisplayWindow:
    """A linear display window in the image's native units (DICOM Window Center/Width semantics)."""

    center: float
    width: float

    @property
    def low(self) -> float:
        return self.center - self.width / 2

    @property
    def high(self) -> float:
        return self.center + self.width / 2


# Where the pixel spacing came from.
SPACING_PIXEL_SPACING = "PixelSpacing"
SPACING_IMAGER = "ImagerPixelSpacing (measured at the detector)"
SPACING_RESOLUTION_TAG = "resolution tag"
SPACING_UNKNOWN = "unknown"
# What implant_desk's generator writes into each file it makes (DICOM Manufacturer, PNG and TIFF Software), so a
# generated radiograph is never taken for a patient's film.
GENERATED_BY = "implant_desk (generated image)"


@dataclass(frozen=True)
class Radiograph:
    path: str
    format: str  # "DICOM", "TIFF", "PNG", "JPEG", "BMP"
    pixels: np.ndarray  # (H, W) grey in native dtype, or (H, W, 3) uint8/uint16 RGB
    bits: int  # bits per sample as stored (8, 12, 16, ...)
    photometric: str  # "MONOCHROME1" (displayed inverted), "MONOCHROME2" or "RGB"
    window: DisplayWindow  # default display window, in native units
    spacing_mm: tuple[float, float] | None  # (row, column) in mm, None when unknown
    spacing_source: str  # one of the SPACING_* constants
    patient_id: str | None = None
    frames: int = 1
    generated: bool = False  # made by implant_desk's generator (its file says GENERATED_BY), not a patient's film

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 3

    @property
    def inverted(self) -> bool:
        """MONOCHROME1 stores bright as low values: displays invert it so bone is white."""
        return self.photometric == "MONOCHROME1"
