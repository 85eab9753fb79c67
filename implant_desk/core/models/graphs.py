"""The model's two networks as ONNX graphs, which ONNX Runtime runs for prediction on the CPU.

Why: on 2 CPU cores ONNX Runtime's kernels run the detector several times faster than eager PyTorch
(``benchmarks/bench_real.py`` measures both in one run), and a graph needs no torch to run. ``save_model``
writes the graphs beside the weights (exporting needs torch) and their sha256 into the card. A predictor on
the CPU uses them when onnxruntime is installed, the files are there and their hashes match; otherwise it
runs the torch networks, which stay the reference (training, explanations, GPUs).

An ONNX file is protobuf data: loading it runs no Python code, and no custom operator library is ever
registered, so a graph can only call ONNX Runtime's own kernels.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from implant_desk.core.atomic import atomic_write_bytes

DETECTOR_GRAPH = "detector.onnx"
CLASSIFIER_GRAPH = "classifier.onnx"
_OPSET = 17

log = logging.getLogger(__name__)


def export_graphs(network, folder: str | Path) -> dict[str, str]:
    """Write ``network``'s detector and classifier (an ``ImplantIdentifier``) into ``folder`` as ONNX graphs,
    each atomically; returns {file name: sha256}, what the card records."""
    import copy

    import torch

    network = copy.deepcopy(network).cpu().eval()  # the caller's network keeps its device and mode
    crop_height, crop_width = network.spec.crop_size
    graphs = {
        # Any film size: the detector is fully convolutional; inputs are multiples of 32 (detector_input).
        DETECTOR_GRAPH: (network.detector, torch.zeros(1, 1, 64, 96), {"image": {2: "height", 3: "width"}}),
        CLASSIFIER_GRAPH: (network.classifier, torch.zeros(2, 1, crop_height, crop_width), {"image": {0: "crops"}}),
    }
    digests = {}
    for name, (module, example, dynamic) in graphs.items():
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript-based exporter announces its deprecation
            torch.onnx.export(module, (example,), buffer, dynamo=False, input_names=["image"],
                              output_names=["output"], dynamic_axes=dynamic, opset_version=_OPSET)
        data = buffer.getvalue()
        atomic_write_bytes(Path(folder) / name, data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


@dataclass(frozen=True)
class Graphs:
    """ONNX Runtime sessions of the detector and the classifier; inputs as the torch networks take them."""

    detector: object  # onnxruntime.InferenceSession
    classifier: object

    def detect(self, images: np.ndarray) -> np.ndarray:
        """(1, 1, H, W) float32 normalised -> the detector's maps (1, 5, H/stride, W/stride)."""
        return self.detector.run(None, {"image": images})[0]

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """(N, 1, S, S) float32 normalised crops -> system logits (N, classes)."""
        return self.classifier.run(None, {"image": crops})[0]


def load_graphs(folder: str | Path, digests: dict[str, str], threads: int = 0) -> Graphs | None:
    """The graphs the card lists (``digests``), checked against their hashes, run on ``threads`` threads (0: one
    per core); None when the card lists none, onnxruntime is not installed, or a file is missing, altered or not
    a graph (the torch networks then run)."""
    if set(digests) != {DETECTOR_GRAPH, CLASSIFIER_GRAPH}:
        return None
    try:
        import onnxruntime
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(threads, 0)
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: spinning took the cores from the GUI, the image prefetcher and other
    # programs, and on 2 busy cores doubled a periapical's detector pass (51 ms against 24 ms, bench_real).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: a fallback is logged here, in words
    sessions = {}
    for name, expected in digests.items():
        path = Path(folder) / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # e.g. a model imported from an archive of its weights and card
            log.info("%s: absent; the torch networks run instead", path)
            return None
        except OSError as exc:
            log.warning("%s: not used (%s); the torch networks run instead", path, exc.strerror or exc)
            return None
        if hashlib.sha256(data).hexdigest() != expected:
            log.warning("%s: its sha256 differs from the card's; the torch networks run instead", path)
            return None
        try:
            sessions[name] = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types, not a common base
            log.warning("%s: not a usable graph (%s); the torch networks run instead", path, exc)
            return None
    return Graphs(sessions[DETECTOR_GRAPH], sessions[CLASSIFIER_GRAPH])
