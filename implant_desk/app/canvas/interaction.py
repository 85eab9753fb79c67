"""Hit-testing and drag arithmetic for boxes, free of widgets so it is tested directly.

Rectangles are (x1, y1, x2, y2) tuples in image pixels. Handles are hit in *screen* pixels so they stay
easy to grab at any zoom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from implant_desk.app.canvas.view import ViewGeometry

Rect = tuple[float, float, float, float]

HANDLE_TOLERANCE = 6.0  # screen px around a corner or an edge that grabs it
MOVE = "move"
# A part names the coordinates it drags: "left" moves x1, "top-right" moves y1 and x2, and so on.
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")
EDGES = ("top", "right", "bottom", "left")


def normalized(x1: float, y1: float, x2: float, y2: float) -> Rect:
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def box_part_at(rect: Rect, geometry: ViewGeometry, sx: float, sy: float) -> str | None:
    """Which part of ``rect`` the screen point (sx, sy) grabs: a corner, an edge, MOVE (inside) or None."""
    left, top = geometry.to_screen(rect[0], rect[1])
    right, bottom = geometry.to_screen(rect[2], rect[3])
    tol = HANDLE_TOLERANCE
    if not (left - tol <= sx <= right + tol and top - tol <= sy <= bottom + tol):
        return None
    near_left, near_right = abs(sx - left) <= tol, abs(sx - right) <= tol
    near_top, near_bottom = abs(sy - top) <= tol, abs(sy - bottom) <= tol
    vertical = "top" if near_top else "bottom" if near_bottom else None
    horizontal = "left" if near_left else "right" if near_right else None
    if vertical and horizontal:
        return f"{vertical}-{horizontal}"
    if vertical or horizontal:
        return vertical or horizontal
    return MOVE


def pick_box(
    rects: Sequence[Rect], geometry: ViewGeometry, sx: float, sy: float, selected: int = -1
) -> tuple[int, str | None]:
    """The box and part under the pointer: the selected box first, then handles before insides, then the
    smallest box (so a box nested in another can still be grabbed). Returns (-1, None) when nothing is hit."""
    if 0 <= selected < len(rects):
        part = box_part_at(rects[selected], geometry, sx, sy)
        if part is not None:
            return selected, part
    best: tuple[int, str | None] = (-1, None)
    best_rank: tuple[int, float] | None = None
    for index, rect in enumerate(rects):
        part = box_part_at(rect, geometry, sx, sy)
        if part is None:
            continue
        rank = (1 if part == MOVE else 0, (rect[2] - rect[0]) * (rect[3] - rect[1]))
        if best_rank is None or rank < best_rank:
            best, best_rank = (index, part), rank
    return best


def dragged_rect(rect: Rect, part: str, dx: float, dy: float, width: float, height: float) -> Rect:
    """``rect`` after dragging ``part`` by (dx, dy) image px, kept inside a width x height image.

    A move keeps the size and stops at the image border; a resize moves the grabbed sides only and may
    cross over (the result is normalised, as a user dragging past the opposite side expects).
    """
    x1, y1, x2, y2 = rect
    if part == MOVE:
        dx = min(max(dx, -x1), width - x2)
        dy = min(max(dy, -y1), height - y2)
        return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
    if "left" in part:
        x1 += dx
    if "right" in part:
        x2 += dx
    if "top" in part:
        y1 += dy
    if "bottom" in part:
        y2 += dy
    x1, x2 = (min(max(x, 0.0), width) for x in (x1, x2))
    y1, y2 = (min(max(y, 0.0), height) for y in (y1, y2))
    return normalized(x1, y1, x2, y2)


@dataclass
class Drag:
    """A left-button gesture in progress: draw, move (any box part) or ruler."""

    kind: str
    start_image: tuple[float, float]
    index: int = -1
    part: str | None = None
    original: Rect | None = None
    current: Rect | None = None
