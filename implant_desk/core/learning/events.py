"""What a training run tells its caller while it runs, as typed, picklable values (no torch, no Qt).

``fit``, ``pretrain`` and the orchestrator send them to an ``on_event`` callback; the child process sends the
same objects through its pipe, and the CLI's progress bar and the fine-tune dialog read their attributes.
Exactly one of :data:`FINAL_EVENTS` ends a run. ``to_dict`` gives plain JSON-able data (``"event"``: the kind).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import ClassVar


@dataclass(frozen=True)
class _Event:
    kind: ClassVar[str]

    def to_dict(self) -> dict:
        return {"event": self.kind, **asdict(self)}


@dataclass(frozen=True)
class PhaseStarted(_Event):
    """``phase``: loading, pretraining, training, evaluating or publishing; ``text`` says it to a user."""

    kind: ClassVar[str] = "phase"
    phase: str
    text: str


@dataclass(frozen=True)
class DataRead(_Event):
    """What the run trains on, once the folders are read."""

    kind: ClassVar[str] = "data"
    describe: str
    summary: dict
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class FoldStarted(_Event):
    """Cross-validation: fold ``fold`` of ``folds`` starts (its own pretraining, epochs and scoring follow)."""

    kind: ClassVar[str] = "fold"
    fold: int
    folds: int


@dataclass(frozen=True)
class PretrainStep(_Event):
    kind: ClassVar[str] = "pretrain"
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float
    det_loss: float
    cls_loss: float
    images: int
    step_s: float
    eta_s: float
    unreadable: int = 0  # unlabelled images that could not be read and were left out


@dataclass(frozen=True)
class TrainStep(_Event):
    kind: ClassVar[str] = "step"
    epoch: int
    epochs: int
    step: int
    steps: int
    phase: str  # "heads" (new layers only) or "whole"
    loss: float
    det_loss: float
    cls_loss: float
    lr: float
    step_s: float
    data_s: float  # of step_s, preparing the batch (augmenting, cropping)
    eta_s: float


@dataclass(frozen=True)
class EpochEnded(_Event):
    kind: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    phase: str
    train_loss: float
    val: dict  # monitored figure -> value on the validation patients; empty without validation
    monitor: str
    best_epoch: int
    elapsed_s: float
    eta_s: float


@dataclass(frozen=True)
class Evaluating(_Event):
    """Scoring held-out images: ``model`` "new" or "active" (the parent, for comparison)."""

    kind: ClassVar[str] = "evaluate"
    model: str
    done: int
    total: int


@dataclass(frozen=True)
class Finished(_Event):
    kind: ClassVar[str] = "finished"
    version: str
    metrics: dict
    baseline: dict | None  # the parent on the same patients: {"version", "metrics", "problem"}
    parent: str | None
    stop_reason: str
    epochs_run: int
    best_epoch: int
    duration_s: float
    evaluated_on: str
    held_out_images: int
    held_out_patients: int
    classes: tuple[str, ...]
    # k-fold runs: {"folds": K, "mean": {...}, "std": {...}}; None for one split
    cross_validation: dict | None = None


@dataclass(frozen=True)
class Cancelled(_Event):
    kind: ClassVar[str] = "cancelled"
    text: str = "Training was cancelled; nothing was registered."


@dataclass(frozen=True)
class Failed(_Event):
    kind: ClassVar[str] = "failed"
    message: str  # in words
    detail: str = ""  # the traceback, if any


FINAL_EVENTS = (Finished, Cancelled, Failed)
TrainingEvent = (PhaseStarted | DataRead | FoldStarted | PretrainStep | TrainStep | EpochEnded | Evaluating
                 | Finished | Cancelled | Failed)
OnEvent = Callable[[TrainingEvent], None]


def ignore(_event: TrainingEvent) -> None:
    """The ``on_event`` of a caller that does not listen."""
