"""The fixture detector's output maps -> boxes and scores, in numpy and OpenCV (no torch).

Prediction decodes here whether ONNX Runtime or torch computed the maps. Keeping torch out of this step is
what makes the CPU path fast: a torch op between two ONNX Runtime calls wakes torch's OpenMP threads, which
then spin on the same 2 cores that ONNX Runtime needs (a 1000x1300 film: 80 ms with a torch decode, 24 ms
without, ``benchmarks/bench_real.py``), and a predictor that never touches torch can answer before torch is
even imported (issue 14's cold start).
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_PEAKS = 16
# The detector's output, per kind of object: a centre logit, then log distances to the left, top, right and bottom
# edges. The fixture's 5 channels come first; a detector that finds parts adds 5 per third, in this order.
CHANNELS_PER_KIND = 5
PART_KINDS = ("coronal", "middle", "apical")
NMS_IOU = 0.45


def unmirrored(maps: np.ndarray) -> np.ndarray:
    """The output (C, H, W) for a left-right mirrored input, put back in the film's own orientation: the columns
    reversed and, for every kind of object, its left and right distances swapped. Exact when the input's width is a
    multiple of the stride (``preprocess.detector_input`` pads to 32)."""
    back = maps[:, :, ::-1].copy()
    for first in range(0, maps.shape[0], CHANNELS_PER_KIND):
        back[[first + 1, first + 3]] = back[[first + 3, first + 1]]
    return back


def decode(maps: np.ndarray, min_score: float, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """One image's output (5, H, W): a fixture-centre logit, then log distances (in cells) to the left, top,
    right and bottom edges -> boxes (K, 4) in input pixels and their scores (K,), best first.

    A fixture is a local maximum of the centre heat map (3x3, as CenterNet's max-pool) scoring at least
    ``min_score``; at most ``MAX_PEAKS`` of them, then boxes overlapping a better one by more than
    ``NMS_IOU`` are dropped."""
    heat = 1.0 / (1.0 + np.exp(-maps[0].astype(np.float32)))
    peaks = heat == cv2.dilate(heat, np.ones((3, 3), np.uint8))  # the border counts as -inf, as max-pool pads
    scores = np.where(peaks, heat, 0.0).ravel()
    count = min(MAX_PEAKS, scores.size)
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[scores[top] >= min_score]
    width = maps.shape[2]
    cx, cy = top % width + 0.5, top // width + 0.5
    left, up, right, down = np.exp(maps[1:5].reshape(4, -1)[:, top].astype(np.float64))
    boxes = np.stack([cx - left, cy - up, cx + right, cy + down], axis=1) * stride
    kept = cv2.dnn.NMSBoxes([(x1, y1, x2 - x1, y2 - y1) for x1, y1, x2, y2 in boxes.tolist()],
                            scores[top].tolist(), 0.0, NMS_IOU)
    kept = np.asarray(kept, dtype=np.int64).reshape(-1)
    return boxes[kept].astype(np.float32), scores[top][kept].astype(np.float32)
