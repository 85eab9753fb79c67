"""GUI responsiveness while the Identify panel runs (issue 5: the GUI never stalls more than 50 ms).

A 10 ms QTimer heartbeat records the gap between its ticks while the panel identifies generated periapicals one
after the other (inference on its worker thread: detect, classify, Grad-CAM, measure; counted from the request
until the result is painted, each image having been shown and rendered first), and, as the baseline in the
same run, while the same predictions run on the GUI thread, and while nothing runs (what the machine's own load
costs). Prints max / p99 / median gap for each, and the panel's time per image.

Model: ``--model DIR``, else the shipped ``models/default`` when it is trained, else an untrained network (random
weights, detector head set to yield a few fixtures per image: the same work per fixture, timing only).

    python benchmarks/bench_gui_heartbeat.py [--images 6] [--seed 11] [--model DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HEARTBEAT_MS = 10
SETTLE_MS = 300  # after showing an image, before identifying it
PAINT_MS = 60  # after the result arrives: its painting belongs to the measurement


class Heartbeat:
    """Records the time between ticks of a 10 ms timer: a long gap is a stall of the GUI thread."""

    def __init__(self):
        self.ticks: list[tuple[float, float]] = []  # (when, gap since the previous tick in ms)
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.ticks.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return [gap for _, gap in self.ticks]

    def gaps_within(self, spans: list[tuple[float, float]]) -> list[float]:
        """Gaps that ended inside one of ``spans`` (perf_counter start, end)."""
        return [gap for when, gap in self.ticks if any(start < when <= end for start, end in spans)]

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append((now, (now - self._last) * 1000))
        self._last = now


def load_predictor(model: Path | None):
    from implant_desk.core.models.predictor import Predictor
    from implant_desk.core.paths import REPO_MODELS_DIR

    default = REPO_MODELS_DIR / "default"
    folder = model or (default if (default / "card.json").is_file() else None)
    if folder is not None:
        return Predictor.from_folder(folder, device="cpu"), str(folder)
    return Predictor.from_folder(untrained_model(Path(tempfile.mkdtemp())), device="cpu"), "untrained network"


def untrained_model(folder: Path) -> Path:
    import torch

    from implant_desk.core.models.identifier import ImplantIdentifier
    from implant_desk.core.models.card import ModelCard
    from implant_desk.core.models.weights import save_model
    from implant_desk.core.models.spec import ModelSpec
    from implant_desk.core.synthetic import load_systems

    torch.manual_seed(0)
    network = ImplantIdentifier(ModelSpec(classes=tuple(s.name for s in load_systems())), pretrained=False)
    with torch.no_grad():  # constant fixture score and large boxes: NMS keeps a few fixtures per image
        network.detector.out.weight.zero_()
        network.detector.out.bias.copy_(torch.tensor([2.0, math.log(12.0), math.log(30.0), 0.0, 0.0]))
    save_model(folder, network, ModelCard(spec=network.spec, training_data={"source": "none (benchmark)"}))
    return folder


def radiographs(count: int, seed: int, classes: tuple[str, ...]):
    """Generated periapicals of the systems a model names (its ``classes``)."""
    from implant_desk.core.catalogue import shipped_catalogue
    from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph
    from implant_desk.core.synthetic import generate_series

    for index, image in enumerate(generate_series(count, seed, shipped_catalogue().named(classes))):
        yield Radiograph(path=f"generated-{index}.png", format="PNG", pixels=image.pixels, bits=16,
                         photometric="MONOCHROME2", window=DisplayWindow(32768, 65535),
                         spacing_mm=(image.spacing_mm, image.spacing_mm), spacing_source="generated")


def wait_ms(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def identify_on_worker(panel, canvas, images) -> tuple[list[float], list[tuple[float, float]]]:
    """Each image is shown and given time to render (opening an image is bench_open's business), then identified.
    Returns the panel's times and the spans from the request until the result is painted."""
    times, spans = [], []
    for radiograph in images:
        canvas.set_radiograph(radiograph)
        panel.image_changed(radiograph)
        wait_ms(SETTLE_MS)
        loop = QEventLoop()
        panel.worker.finished.connect(loop.quit)
        started = time.perf_counter()
        panel.identify()
        loop.exec()
        panel.worker.finished.disconnect(loop.quit)
        wait_ms(PAINT_MS)  # the result is drawn (boxes, heat maps) on the GUI thread
        spans.append((started, time.perf_counter()))
        times.append(panel.controller.elapsed_ms)
    return times, spans


def identify_on_gui_thread(predictor, images) -> None:
    """The baseline: the same predictions, each run from the event loop on the GUI thread."""
    loop = QEventLoop()
    pending = list(images)

    def next_one() -> None:
        if not pending:
            loop.quit()
            return
        predictor.predict(pending.pop(0), explain=True)
        QTimer.singleShot(0, next_one)

    QTimer.singleShot(0, next_one)
    loop.exec()


def idle(beat: Heartbeat, seconds: float) -> list[float]:
    """The heartbeat with nothing running, as long as the worker run took: what the machine alone costs."""
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    beat.start()
    loop.exec()
    return beat.stop()


def describe(name: str, gaps: list[float]) -> str:
    return (f"{name:<34} max {max(gaps):7.1f} ms  p99 {np.percentile(gaps, 99):6.1f} ms  "
            f"median {statistics.median(gaps):5.1f} ms  ({len(gaps)} ticks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--torch-threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    from implant_desk.app.canvas import Canvas
    from implant_desk.app.identify.panel import IdentifyPanel
    from implant_desk.app.identify.worker import PredictorProvider

    predictor, source = load_predictor(args.model)
    images = list(radiographs(args.images, args.seed, predictor.spec.classes))
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    predictor.predict(images[0], explain=True)  # warm-up: the first call pays for allocations

    canvas = Canvas()
    canvas.resize(900, 700)
    panel = IdentifyPanel(canvas, lambda: None, PredictorProvider(lambda: predictor))
    canvas.show()
    panel.show()
    app.processEvents()
    print(f"model: {source} on CPU, {torch.get_num_threads()} torch threads, {os.cpu_count()} cores; "
          f"{len(images)} generated periapicals ({images[0].width}x{images[0].height})")

    beat = Heartbeat()
    beat.start()
    times, spans = identify_on_worker(panel, canvas, images)
    beat.stop()
    worker_gaps = beat.gaps_within(spans)
    idle_gaps = idle(beat, sum(end - start for start, end in spans))
    fixtures = len(panel.controller.fixtures)
    beat.start()
    identify_on_gui_thread(predictor, images)
    gui_gaps = beat.stop()
    panel.shutdown()

    print(f"panel: {statistics.median(times):.0f} ms median per image (detect, classify, Grad-CAM, measure; "
          f"{fixtures} fixture(s) on the last image)")
    print(describe("heartbeat, idle (machine noise)", idle_gaps))
    print(describe("heartbeat, inference on worker", worker_gaps))
    print(describe("heartbeat, inference on GUI thread", gui_gaps))
    print(f"max stall: {max(worker_gaps):.1f} ms vs {max(gui_gaps):.1f} ms on the GUI thread "
          f"({max(gui_gaps) / max(worker_gaps):.1f}x shorter); target <= 50 ms")
    app.processEvents()


if __name__ == "__main__":
    main()
