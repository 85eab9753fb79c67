"""The short texts the canvas writes on the image: a box's size and a ruler's length."""

from __future__ import annotations

import math

Spacing = tuple[float, float] | None  # (row, column) mm per pixel


def box_caption(label: str, rect: tuple[float, float, float, float], spacing_mm: Spacing) -> str:
    """``label``, followed by "w x h mm" when the spacing is known."""
    if spacing_mm is None:
        return label
    row_mm, col_mm = spacing_mm
    size = f"{(rect[2] - rect[0]) * col_mm:.1f} x {(rect[3] - rect[1]) * row_mm:.1f} mm"
    return f"{label}  {size}" if label else size


def ruler_caption(line: tuple[float, float, float, float], spacing_mm: Spacing) -> str:
    """The length of (x1, y1, x2, y2) in px, and in mm when the spacing is known (rows and columns may differ)."""
    dx, dy = line[2] - line[0], line[3] - line[1]
    text = f"{math.hypot(dx, dy):.1f} px"
    if spacing_mm is not None:
        text += f"  {math.hypot(dx * spacing_mm[1], dy * spacing_mm[0]):.2f} mm"
    return text
