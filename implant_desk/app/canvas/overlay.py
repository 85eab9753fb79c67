"""Prediction overlay items: what the canvas draws over the image (``heatmap`` colours their heat maps)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class OverlayItem:
    """One prediction drawn over the image: a dashed box with text (dotted when ``inferred`` from its parts),
    optionally an explanation heat map and the fixture's thirds, lightly, one colour per zone.

    ``box`` is (x1, y1, x2, y2) in image pixels; ``heatmap`` holds floats in 0..1 of any size and is stretched
    over the box; ``parts`` are (box, colour) pairs.
    """

    box: tuple[float, float, float, float]
    text: str
    color: QColor | str
    heatmap: np.ndarray | None = None
    parts: tuple[tuple[tuple[float, float, float, float], QColor | str], ...] = ()
    inferred: bool = False
