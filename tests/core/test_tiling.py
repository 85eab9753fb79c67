"""Large films seen in overlapping tiles: coverage, merged boxes in image pixels, cut pieces dropped."""

import torch

from implant_desk.core.models.tiling import TILE_OVERLAP, merge_tile_boxes, tile_rects


def test_a_film_near_the_tile_size_is_seen_whole():
    assert tile_rects(1000, 1300, 1000) == [(0, 0, 1000, 1300)]
    assert tile_rects(3000, 1500, 0) == [(0, 0, 3000, 1500)]


def test_tiles_cover_a_panoramic_with_the_overlap_a_fixture_needs():
    tiles = tile_rects(3000, 1500, 800)
    covered = torch.zeros(1500, 3000, dtype=torch.bool)
    for x1, y1, x2, y2 in tiles:
        assert x2 - x1 == 800 and y2 - y1 == 800 and x2 <= 3000 and y2 <= 1500
        covered[y1:y2, x1:x2] = True
    assert covered.all()
    xs = sorted({x1 for x1, *_ in tiles})
    assert all(b - a <= 800 * (1 - TILE_OVERLAP) + 1 for a, b in zip(xs, xs[1:]))


def test_a_fixture_cut_by_one_tile_and_whole_in_another_is_kept_once():
    tiles = [(0, 0, 800, 800), (560, 0, 1360, 800)]
    whole = [600.0, 100.0, 700.0, 400.0]  # inside both tiles
    piece = [560.0, 100.0, 640.0, 400.0]  # what the second tile saw of a fixture starting at x=520: cut at its edge
    full = [520.0, 100.0, 640.0, 400.0]  # the first tile saw that fixture whole
    boxes = torch.tensor([whole, whole, piece, full])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    tile_of = torch.tensor([0, 1, 1, 0])
    kept = merge_tile_boxes(boxes, scores, tile_of, tiles, (1360, 800), 0.45)
    assert kept.tolist() == [0, 3]


def test_a_box_at_the_film_border_is_never_taken_for_a_piece():
    tiles = [(0, 0, 800, 800), (560, 0, 1360, 800)]
    at_border = [0.0, 100.0, 60.0, 400.0]
    kept = merge_tile_boxes(torch.tensor([at_border]), torch.tensor([0.9]), torch.tensor([0]), tiles, (1360, 800), 0.45)
    assert kept.tolist() == [0]
