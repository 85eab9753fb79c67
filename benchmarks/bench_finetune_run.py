"""The fine-tuning child seen from the window (issue 6): how fast cancel ends it, and how long the GUI thread
pauses while it trains. The tests check only that these happen; the figures live here.

- cancel: from ``TrainingRun.cancel()`` to the child reaped, while the child is still starting (importing torch)
  and while it trains; the baseline, in the same run, is SIGKILL and reaping of an idle spawned child.
  Target: ≤ 2 s.
- GUI pauses: the longest gap of a 10 ms QTimer on the GUI thread while a ``TrainingRunner`` polls a small run
  to its end, against the same timer with nothing running (what the machine's own load costs).

A small network (no ImageNet weights, 64 px detector input) on generated periapicals, so it runs in a minute.

    python benchmarks/bench_finetune_run.py [--repeats 3] [--images 12]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SMALL_FIT = {"epochs": 2, "head_epochs": 1, "batch_size": 4, "patience": 0, "pretrained": False, "device": "cpu"}
SMALL_SPEC = {"det_size": 64, "crop_size": [32, 16]}
HEARTBEAT_MS = 10


def request(folder: Path, registry: Path, epochs: int):
    from implant_desk.core.learning.config import TrainingConfig, TrainingRequest

    return TrainingRequest((str(folder),), TrainingConfig(**{**SMALL_FIT, "epochs": epochs}), parent=None,
                           spec_overrides=SMALL_SPEC, registry_root=str(registry),
                           default_model_dir=str(registry / "no-default"))


def cancel_s(run, after_first_step: bool) -> float:
    from implant_desk.core.learning.events import TrainStep

    while after_first_step and not any(isinstance(e, TrainStep) for e in run.poll()):
        time.sleep(0.05)
    started = time.monotonic()
    run.cancel()
    run.wait()
    return time.monotonic() - started


def kill_idle_child_s() -> float:
    process = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(60,), daemon=True)
    process.start()
    time.sleep(1.0)
    started = time.monotonic()
    process.kill()
    process.join()
    return time.monotonic() - started


def longest_pause_ms(app: QApplication, until) -> float:
    """The longest gap between ticks of a 10 ms timer on the GUI thread until ``until()`` holds."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(HEARTBEAT_MS)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    while not until():
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return 1000 * max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()
    from implant_desk.app.finetune.runner import TrainingRunner
    from implant_desk.core.learning.child_process import TrainingRun
    from implant_desk.core.synthetic import generate_series, load_systems, write_dataset

    app = QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMPLANT_DESK_HOME"] = str(Path(tmp) / "home")  # the children's cache too: not the user's
        folder, registry = Path(tmp) / "data", Path(tmp) / "registry"
        systems = load_systems()
        write_dataset(folder, generate_series(args.images, 7, systems), "png", 7, systems)
        figures = {"kill an idle child (baseline)": [kill_idle_child_s() for _ in range(args.repeats)],
                   "cancel while the child starts": [cancel_s(TrainingRun(request(folder, registry, 50)), False)
                                                     for _ in range(args.repeats)],
                   "cancel while the child trains": [cancel_s(TrainingRun(request(folder, registry, 50)), True)
                                                     for _ in range(args.repeats)]}
        for name, seconds in figures.items():
            print(f"{name:<32} median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
        print("target: cancel ends the child within 2 s")
        idle_until = time.monotonic() + 3.0
        idle = longest_pause_ms(app, lambda: time.monotonic() > idle_until)
        runner, ended = TrainingRunner(), []
        runner.ended.connect(ended.append)
        runner.start(request(folder, registry, 2))
        training = longest_pause_ms(app, lambda: bool(ended))
        print(f"GUI thread's longest pause: {training:.0f} ms while a run trains to its end ({ended[0].kind}), "
              f"{idle:.0f} ms idle (baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
