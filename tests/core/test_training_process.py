"""Training in a real child process: progress streams back, the result arrives, cancel is hard, crashes are reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from implant_desk.core.learning.child_process import TrainingRun
from implant_desk.core.learning.config import TrainingConfig, TrainingRequest
from implant_desk.core.learning.events import (
    Cancelled,
    DataRead,
    EpochEnded,
    Failed,
    Finished,
    TrainingEvent,
    TrainStep,
)
from implant_desk.core.registry import Registry

from training_folders import TINY_FIT, TINY_SPEC, write_training_folder


@pytest.fixture
def request_for(tmp_path):
    folder = write_training_folder(tmp_path / "lab", patients=6)

    def make(**fit) -> TrainingRequest:
        return TrainingRequest((str(folder),), TrainingConfig(**{**TINY_FIT, **fit}), parent=None,
                               spec_overrides=TINY_SPEC,
                               val_fraction=0.34, test_fraction=0.0, registry_root=str(tmp_path / "registry"),
                               default_model_dir=str(tmp_path / "no-default"))

    return make


def _registry(request: TrainingRequest) -> Registry:
    return Registry(request.registry_root, request.default_model_dir)


def _wait_for(run: TrainingRun, kind: type, timeout: float = 240) -> list[TrainingEvent]:
    events: list[TrainingEvent] = []
    deadline = time.monotonic() + timeout
    while not any(isinstance(e, kind) for e in events):
        assert time.monotonic() < deadline, f"no {kind!r} event within {timeout} s"
        assert not run.done, f"the run ended before a {kind!r} event: {run.final}"
        events.extend(run.poll())
        time.sleep(0.05)
    return events


def _cancel(run: TrainingRun) -> list[TrainingEvent]:
    """Cancel and wait for the end (how fast it ends is benchmarks/bench_cancel.py's figure, not a test's)."""
    pid = run.pid
    run.cancel()
    events = run.wait(timeout=60)
    with pytest.raises(ProcessLookupError):  # the child is gone and reaped: its memory is back
        os.kill(pid, 0)
    return events


@pytest.mark.slow
def test_a_run_streams_progress_and_registers_a_new_version(request_for):
    request = request_for()
    run = TrainingRun(request)
    events = run.wait(timeout=300)
    final = run.final
    assert isinstance(final, Finished), final
    kinds = [e.kind for e in events]
    assert kinds[-1] == "finished" and kinds.count("epoch") == 2 and kinds.count("step") == 4
    data = next(e for e in events if isinstance(e, DataRead))
    assert data.describe.startswith("12 images, 24 fixtures, 6 patients, 2 systems")
    steps = [e for e in events if isinstance(e, TrainStep)]
    assert all({"epoch", "step", "loss", "eta_s", "phase"} <= e.to_dict().keys() for e in steps)
    assert [e.phase for e in events if isinstance(e, EpochEnded)] == ["heads", "whole"]
    assert {"top1", "ap50"} <= next(e for e in events if isinstance(e, EpochEnded)).val.keys()

    version = _registry(request).get(final.version)
    assert version.card.metrics["fixtures"] == final.metrics["fixtures"] > 0
    assert set(final.metrics["per_class"]) == {"coarse-thread", "fine-thread"}
    assert final.evaluated_on == "val" and final.baseline is None  # started from ImageNet: no parent


@pytest.mark.slow
def test_cancel_during_training_stops_it_and_registers_nothing(request_for):
    request = request_for(epochs=50)
    run = TrainingRun(request)
    _wait_for(run, TrainStep)
    events = _cancel(run)
    assert isinstance(run.final, Cancelled)
    assert not any(isinstance(e, Finished) for e in events)
    assert _registry(request).versions() == []
    assert not list(Path(request.registry_root).glob("v*"))


def test_cancel_while_the_child_is_still_starting_kills_it(request_for):
    request = request_for()
    run = TrainingRun(request)
    _cancel(run)  # the child is importing torch: it cannot answer, so it is killed
    assert isinstance(run.final, Cancelled)
    assert _registry(request).versions() == []


def test_a_killed_child_is_reported_and_the_caller_goes_on(request_for):
    request = request_for()
    run = TrainingRun(request)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    assert isinstance(run.final, Failed)
    assert "stopped by the system" in run.final.message and "Nothing was registered" in run.final.message
    assert _registry(request).versions() == []


def test_wrong_settings_fail_before_any_process_starts():
    with pytest.raises(ValueError, match="monitor must be one of"):
        TrainingConfig(monitor="no-such-metric")


def test_an_exception_in_the_child_is_reported_with_its_traceback(request_for):
    request = request_for()
    run = TrainingRun(replace(request, spec_overrides={**request.spec_overrides, "det_size": 63}))
    run.wait(timeout=120)
    assert isinstance(run.final, Failed)
    assert run.final.message.startswith("Training failed (ValueError: det_size must be a multiple of 32")
    assert "Traceback" in run.final.detail


@pytest.mark.slow
def test_a_folder_without_annotations_is_reported_in_words(tmp_path):
    (tmp_path / "empty").mkdir()
    run = TrainingRun(TrainingRequest((str(tmp_path / "empty"),), TrainingConfig(**TINY_FIT), parent=None,
                                      registry_root=str(tmp_path / "registry")))
    run.wait(timeout=120)
    assert run.final == Failed(f"no annotated image found in {tmp_path / 'empty'}", "")


@pytest.mark.slow
def test_keeping_the_best_so_far_is_an_explicit_choice_that_registers_it(request_for):
    request = request_for(epochs=50)
    run = TrainingRun(request)
    _wait_for(run, EpochEnded)
    run.stop_and_keep_best()
    run.wait(timeout=240)
    assert isinstance(run.final, Finished) and run.final.stop_reason == "cancelled"
    assert run.final.epochs_run < 50
    assert [v.version for v in _registry(request).versions()] == [run.final.version]


@pytest.mark.slow
def test_the_child_reads_annotations_kept_in_a_separate_folder(request_for, tmp_path):
    request = request_for()
    saved = tmp_path / "annotations"
    saved.mkdir()
    for xml in Path(request.folders[0]).glob("*.xml"):
        xml.rename(saved / xml.name)
    run = TrainingRun(replace(request, annotation_dir=str(saved)))
    data = next(e for e in _wait_for(run, DataRead) if isinstance(e, DataRead))
    assert data.describe.startswith("12 images, 24 fixtures, 6 patients, 2 systems")
    _cancel(run)


def test_the_child_ends_itself_when_the_window_process_dies(request_for, tmp_path):
    request = request_for(epochs=50)
    script = tmp_path / "window.py"
    script.write_text(
        "import sys, time\n"
        "from implant_desk.core.learning.child_process import TrainingRun\n"
        "from implant_desk.core.learning.config import TrainingConfig, TrainingRequest\n"
        "if __name__ == '__main__':\n"
        f"    run = TrainingRun({request!r})\n"
        "    print(run.pid, flush=True)\n"
        "    time.sleep(600)\n")
    window = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(window.stdout.readline())
    window.kill()  # as a crash would: no cancel, no clean-up
    window.wait()
    deadline = time.monotonic() + 120
    while _alive(child):
        assert time.monotonic() < deadline, "the training process outlived its window"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # an exited orphan is a zombie until init reaps it
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
