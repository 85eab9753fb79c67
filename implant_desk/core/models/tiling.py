"""Detection on films larger than the model's view: overlapping tiles, then one set of boxes in image pixels.

A full panoramic (2000-3300 px wide) scaled whole to the detector's input makes a fixture a few cells long;
tiles of about the size of the films the model learnt from keep fixtures at the scale it knows. Tiles overlap
by more than a fixture's length, so every fixture lies whole in at least one tile; the pieces of it that other
tiles cut at their edges are dropped when a box from another tile covers them, and what remains goes through
non-maximum suppression, as boxes from one pass do.
"""

from __future__ import annotations

import math

import torch
from torchvision.ops import box_area, nms

Rect = tuple[int, int, int, int]  # x1, y1, x2, y2 in image pixels
TILE_OVERLAP = 0.3  # of the tile's side: more than a fixture's length at the scale tiles are chosen for
TILE_WHEN_LARGER = 1.4  # tile only images whose longer side exceeds the tile by this factor
_EDGE_PX = 3.0  # a box this close to a tile edge inside the image may be a cut piece of a fixture
_COVERED = 0.6  # share of a cut box's area inside another tile's box that marks it as a piece


def tile_rects(width: int, height: int, tile: int, overlap: float = TILE_OVERLAP) -> list[Rect]:
    """Square tiles of side ``tile`` (clipped to the image) covering it with at least ``overlap`` shared between
    neighbours; one rect for the whole image when tiling is not worth it."""
    if tile <= 0 or max(width, height) <= tile * TILE_WHEN_LARGER:
        return [(0, 0, width, height)]
    xs, ys = _origins(width, tile, overlap), _origins(height, tile, overlap)
    return [(x, y, min(x + tile, width), min(y + tile, height)) for y in ys for x in xs]


def _origins(length: int, tile: int, overlap: float) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / (tile * (1 - overlap))) + 1
    step = (length - tile) / (count - 1)
    return [round(i * step) for i in range(count)]


def merge_tile_boxes(boxes: torch.Tensor, scores: torch.Tensor, tile_of: torch.Tensor, tiles: list[Rect],
                     image_size: tuple[int, int], iou: float) -> torch.Tensor:
    """Indices of the boxes (N x 4, image pixels) to keep, best first: pieces cut by an inner tile edge and
    mostly inside another tile's box are dropped, then non-maximum suppression across tiles."""
    width, height = image_size
    rects = torch.tensor(tiles, dtype=boxes.dtype)[tile_of]
    cut = (((rects[:, 0] > 0) & (boxes[:, 0] - rects[:, 0] < _EDGE_PX))
           | ((rects[:, 1] > 0) & (boxes[:, 1] - rects[:, 1] < _EDGE_PX))
           | ((rects[:, 2] < width) & (rects[:, 2] - boxes[:, 2] < _EDGE_PX))
           | ((rects[:, 3] < height) & (rects[:, 3] - boxes[:, 3] < _EDGE_PX)))
    top_left = torch.maximum(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = torch.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inside = (bottom_right - top_left).clamp(min=0).prod(dim=2)  # [i, j]: area of box i inside box j
    covered = inside >= _COVERED * box_area(boxes).clamp(min=1e-6)[:, None]
    piece = cut & (covered & (tile_of[:, None] != tile_of[None, :])).any(dim=1)
    candidates = torch.nonzero(~piece).flatten()
    return candidates[nms(boxes[candidates], scores[candidates], iou)]
