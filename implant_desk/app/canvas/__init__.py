"""The image canvas of the annotation window (contract: CANVAS_API.md)."""

from __future__ import annotations

from implant_desk.app.canvas.canvas import MODES, Canvas
from implant_desk.app.canvas.overlay import OverlayItem

__all__ = ["MODES", "Canvas", "OverlayItem"]
