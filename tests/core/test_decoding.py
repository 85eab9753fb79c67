"""Decoding the detector's maps without torch: peaks, edge distances, overlap suppression, order."""

import numpy as np
import pytest

from implant_desk.core.models.decoding import CHANNELS_PER_KIND, MAX_PEAKS, decode, unmirrored


def _maps(height: int, width: int, peaks: dict[tuple[int, int], float], distance: float = 2.0) -> np.ndarray:
    """A map with the given (row, col) -> probability peaks on a background of 0.001, every cell `distance`
    cells from each edge of its box."""
    maps = np.zeros((5, height, width), np.float32)
    maps[0] = np.log(0.001 / 0.999)
    for (row, col), p in peaks.items():
        maps[0, row, col] = np.log(p / (1 - p))
    maps[1:] = np.log(distance)
    return maps


def test_a_peak_becomes_a_box_around_its_cell_in_input_pixels():
    boxes, scores = decode(_maps(10, 12, {(4, 6): 0.9}), 0.5, stride=4)
    assert scores.tolist() == pytest.approx([0.9])
    # centre (6.5, 4.5) cells, 2 cells to each edge, times the stride
    assert boxes.tolist() == [pytest.approx([18.0, 10.0, 34.0, 26.0])]


def test_scores_under_the_floor_and_cells_beside_a_higher_one_are_not_fixtures():
    maps = _maps(10, 12, {(4, 6): 0.9, (4, 7): 0.8, (1, 1): 0.3})
    boxes, scores = decode(maps, 0.5, stride=4)
    assert scores.tolist() == pytest.approx([0.9])
    assert decode(maps, 0.2, stride=4)[1].tolist() == pytest.approx([0.9, 0.3])


def test_overlapping_boxes_keep_the_better_one_and_distant_ones_both_best_first():
    maps = _maps(20, 20, {(5, 5): 0.6, (5, 7): 0.95, (15, 15): 0.7}, distance=3.0)
    boxes, scores = decode(maps, 0.5, stride=8)
    assert scores.tolist() == pytest.approx([0.95, 0.7])
    assert boxes[0, 0] == pytest.approx((7.5 - 3) * 8)


def test_at_most_max_peaks_and_an_empty_map_gives_empty_arrays():
    many = {(row, col): 0.9 for row in range(0, 40, 4) for col in range(0, 40, 4)}
    boxes, scores = decode(_maps(40, 40, many, distance=1.0), 0.5, stride=4)
    assert len(scores) == MAX_PEAKS and boxes.shape == (MAX_PEAKS, 4)
    boxes, scores = decode(_maps(6, 6, {}), 0.5, stride=4)
    assert boxes.shape == (0, 4) and scores.shape == (0,)


def test_maps_of_a_mirrored_input_put_back_decode_to_the_same_boxes_for_every_kind():
    width = 12
    maps = np.concatenate([_maps(10, width, {(4, 2): 0.9}), _maps(10, width, {(6, 8): 0.7})])
    maps[1], maps[3] = np.log(1.0), np.log(3.0)  # a box leaning to the right of its centre
    mirrored = maps[:, :, ::-1].copy()  # what the detector sees on the mirrored input: centre and edges mirrored
    mirrored[[1, 3, 6, 8]] = mirrored[[3, 1, 8, 6]]
    back = unmirrored(mirrored)
    np.testing.assert_array_equal(back, maps)
    for first in (0, CHANNELS_PER_KIND):
        boxes, _ = decode(back[first:first + CHANNELS_PER_KIND], 0.5, stride=4)
        np.testing.assert_allclose(boxes, decode(maps[first:first + CHANNELS_PER_KIND], 0.5, stride=4)[0])
    assert decode(maps[:5], 0.5, stride=4)[0].tolist() == [pytest.approx([(2.5 - 1) * 4, 2.5 * 4, 5.5 * 4, 6.5 * 4])]
