"""The fine-tune dialog's policy, without Qt: what to train on, which settings, how progress and results read.

The dialog only shows what these functions return, so everything a user reads is tested without a display.
Torch is never imported here: the window must stay light until training starts (in a child process).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.learning.child_process import TrainingRequest

# The same defaults as implant_desk.core.learning.fit.FitConfig (a test keeps them equal); repeated here so that
# opening the dialog does not import torch.
DEFAULT_EPOCHS = 30
DEFAULT_FREEZE_DEPTH = 3
DEFAULT_PATIENCE = 6
VAL_FRACTION = 0.2
TEST_FRACTION = 0.2
SPLIT_SEED = 0
IMAGE_SIZES = (0, 256, 320, 384, 512)  # 0: the size of the model training starts from
DEVICES = (("auto", "Automatic (GPU when there is one)"), ("cpu", "CPU"), ("cuda", "NVIDIA GPU (CUDA)"),
           ("mps", "Apple GPU (MPS)"))
CURVES = (("top1", "Top-1 accuracy"), ("ap50", "Fixtures found (AP50)"))

SETUP, RUNNING, CANCELLING = "setup", "running", "cancelling"
FINISHED, CANCELLED, FAILED = "finished", "cancelled", "failed"


@dataclass
class FinetuneOptions:
    """What the user may change (the advanced group), with defaults that suit a small lab's folder."""

    epochs: int = DEFAULT_EPOCHS
    freeze_depth: int = DEFAULT_FREEZE_DEPTH
    patience: int = DEFAULT_PATIENCE
    image_size: int = 0  # detector input in pixels; 0 keeps the starting model's
    device: str = "auto"
    time_limit_min: int = 0  # 0: no limit
    start_from_active: bool = True  # False: ImageNet backbones only
    pretrain_epochs: int = 0  # self-supervised pre-training on the folder's images first; 0: off (FitConfig's)
    # Settings for FitConfig / ModelSpec beyond the form (tests use a tiny network; power users may too).
    fit_overrides: dict = field(default_factory=dict)
    spec_overrides: dict = field(default_factory=dict)

    def request(self, folder: Path, annotation_dir: Path | None = None) -> TrainingRequest:
        fit = {"epochs": self.epochs, "freeze_depth": self.freeze_depth, "patience": self.patience,
               "device": self.device}
        if self.time_limit_min:
            fit["time_limit_s"] = self.time_limit_min * 60.0
        if self.pretrain_epochs:
            fit["pretrain_epochs"] = self.pretrain_epochs
        spec = {"det_size": self.image_size} if self.image_size else {}
        return TrainingRequest((str(folder),), fit={**fit, **self.fit_overrides},
                               parent="active" if self.start_from_active else None,
                               spec={**spec, **self.spec_overrides}, seed=SPLIT_SEED, val_fraction=VAL_FRACTION,
                               test_fraction=TEST_FRACTION,
                               annotation_dir=str(annotation_dir) if annotation_dir is not None else None)


@dataclass(frozen=True)
class Plan:
    """What a run would train on, said before it starts. ``problem``: why it cannot start."""

    folder: Path
    annotation_dir: Path | None = None  # where the annotations are read from; None: beside the images
    describe: str = ""
    splits: tuple[tuple[str, int, int, int], ...] = ()  # (name, images, fixtures, patients)
    systems: tuple[tuple[str, int], ...] = ()  # (system, fixtures)
    warnings: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def can_start(self) -> bool:
        return self.problem is None


SPLIT_NAMES = {"train": "Training", "val": "Validation", "test": "Test"}


def make_plan(folder: Path, annotation_dir: Path | None = None) -> Plan:
    """Read the folder as the child will (same seed and fractions, so the same split)."""
    from implant_desk.core.learning.orchestrator import prepare_training_data

    try:
        data = prepare_training_data([folder], VAL_FRACTION, TEST_FRACTION, SPLIT_SEED, annotation_dir=annotation_dir)
    except ImplantDeskError as error:
        return Plan(folder, annotation_dir, problem=str(error))
    if data.dataset.fixtures == 0:
        return Plan(folder, annotation_dir,
                    problem="The annotated images hold no boxes: draw boxes around the fixtures first.")
    splits = tuple((SPLIT_NAMES.get(name, name), figures["images"], figures["fixtures"], figures["patients"])
                   for name, figures in data.summary["splits"].items() if figures["images"])
    counts: dict[str, int] = {}
    for sample in data.dataset.samples:
        for system in sample.systems:
            counts[system] = counts.get(system, 0) + 1
    return Plan(folder, annotation_dir, data.describe(), splits, tuple(sorted(counts.items())), tuple(data.warnings))


def annotations_text(annotation_dir: Path | None) -> str:
    """Where the annotations are read from, said under the folder."""
    if annotation_dir is None:
        return "Annotations: beside the images (or in labels/ beside images/)"
    return f"Annotations: in {annotation_dir} (the window's save folder)"


def duration_text(seconds: float | None) -> str:
    """'about 3 min' style, rounded the way people say it; '' when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def wrap_label(text: str, width: int = 20) -> str:
    """A long system name over several lines, broken after hyphens, so table headers need not cut it."""
    lines = [""]
    for part in text.replace("-", "-\n").split("\n"):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def percent(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.0f}%"


@dataclass
class RunProgress:
    """The live picture of a run, fed one child event at a time."""

    epochs: int = 0
    epoch: int = 0
    step: int = 0
    steps: int = 0
    phase: str = ""
    best_epoch: int = 0  # the epoch whose weights are kept (by the monitored validation figure)
    status: str = "Starting the training process…"
    eta_s: float | None = None
    step_loss: list[tuple[float, float]] = field(default_factory=list)  # (epochs done, loss)
    epoch_loss: list[tuple[float, float]] = field(default_factory=list)
    val: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {key: [] for key, _ in CURVES})

    def apply(self, event: dict) -> None:
        kind = event["event"]
        if kind == "phase":
            self.phase, self.status = event["phase"], event["text"] + "…"
        elif kind == "step":
            self.epochs, self.epoch = event["epochs"], event["epoch"]
            self.step, self.steps = event["step"], event["steps"]
            self.eta_s = event["eta_s"]
            self.step_loss.append((event["epoch"] - 1 + event["step"] / event["steps"], event["loss"]))
            self.status = self._training_status(event["phase"])
        elif kind == "epoch":
            self.epochs, self.epoch, self.eta_s = event["epochs"], event["epoch"], event["eta_s"]
            self.best_epoch = event.get("best_epoch", 0)
            self.epoch_loss.append((float(event["epoch"]), event["train_loss"]))
            for key, points in self.val.items():
                if key in event["val"]:
                    points.append((float(event["epoch"]), event["val"][key]))
            self.status = self._training_status(event["phase"])
        elif kind == "pretrain":
            # No epochs or time left yet: those of the supervised epochs come with their first step.
            self.status = f"Self-supervised pre-training, epoch {event['epoch']}/{event['epochs']}"
        elif kind == "evaluate":
            model = "the new model" if event["model"] == "new" else "the active model"
            self.status = f"Scoring {model} on held-out patients: image {event['done']} of {event['total']}"

    def _training_status(self, phase: str) -> str:
        part = "new layers only" if phase == "heads" else "whole network"
        step = f", step {self.step} of {self.steps}" if self.steps and self.step < self.steps else ""
        return f"Epoch {self.epoch} of {self.epochs} ({part}){step}"

    @property
    def fraction(self) -> float:
        """Share of the planned training done (early stopping may end it sooner)."""
        if not self.epochs or not self.steps:
            return 0.0
        return min(1.0, (self.epoch - 1 + self.step / self.steps) / self.epochs)

    @property
    def eta_text(self) -> str:
        left = duration_text(self.eta_s)
        return f"about {left} left" if left and self.phase == "training" else ""


def outcome_text(final: dict) -> str:
    """The one paragraph at the end of a run."""
    kind = final["event"]
    if kind == "cancelled":
        return final["text"]
    if kind == "failed":
        return final["message"]
    metrics = final["metrics"]
    how = {"completed": "finished", "early stopping": "stopped early (no further improvement)",
           "time limit": "stopped at the time limit", "cancelled": "stopped by you; the best epoch was kept"}
    text = (f"Version {final['version']} is ready: training {how.get(final['stop_reason'], final['stop_reason'])} "
            f"after {final['epochs_run']} epochs in {duration_text(final['duration_s'])} (best: epoch "
            f"{final['best_epoch']}). On {final['held_out_images']} images of {final['held_out_patients']} "
            f"patients it never trained on: top-1 {percent(metrics.get('top1'))}, fixtures found (AP50) "
            f"{percent(metrics.get('ap50'))}.")
    baseline = final.get("baseline")
    if baseline and baseline.get("metrics"):
        before, after = baseline["metrics"].get("top1"), metrics.get("top1")
        text += (f" The active model (version {baseline['version']}) scores top-1 {percent(before)} on the same "
                 "patients")
        worse = before is not None and after is not None and after < before
        text += (f": the new version is not better there, so keeping version {baseline['version']} in use is the "
                 "safer choice." if worse else ".")
    elif baseline and baseline.get("problem"):
        text += f" The active model could not be scored: {baseline['problem']}"
    return text


PER_SYSTEM_HEADER = ("System", "Fixtures", "Sensitivity", "Specificity", "Accuracy", "Mean confidence")


def per_system_rows(metrics: dict) -> list[tuple[str, ...]]:
    """One row per system, then the pooled figures, as the YOLOv3 transfer-learning study reports them."""
    rows = []
    for name, figures in [*metrics.get("per_class", {}).items(), ("All systems", metrics.get("overall", {}))]:
        rows.append((name, str(figures.get("fixtures", 0)), percent(figures.get("sensitivity")),
                     percent(figures.get("specificity")), percent(figures.get("accuracy")),
                     percent(figures.get("mean_confidence"))))
    return rows


def confusion(metrics: dict) -> tuple[list[str], list[str], list[list[int]]]:
    """(true systems, predicted columns incl. 'not found', counts)."""
    table = metrics.get("confusion") or {}
    return list(table.get("truth", [])), list(table.get("predicted", [])), [list(r) for r in table.get("matrix", [])]


COMPARED = (("top1", "Top-1 accuracy"), ("top3", "Top-3 accuracy"), ("ap50", "Fixtures found (AP50)"),
            ("map", "Box precision (COCO mAP)"))


def comparison_rows(final: dict) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(header, rows): the new model against the active one on the same held-out patients."""
    new = final["metrics"]
    baseline = final.get("baseline") or {}
    old = baseline.get("metrics")
    active = f"Active (version {baseline['version']})" if old else "Active model"
    header = ("", active, f"New (version {final['version']})")
    rows = [(label, percent(old.get(key)) if old else "–", percent(new.get(key))) for key, label in COMPARED]
    for system, figures in new.get("per_class", {}).items():
        before = (old or {}).get("per_class", {}).get(system, {})
        rows.append((f"{system}: sensitivity", percent(before.get("sensitivity")) if old else "–",
                     percent(figures.get("sensitivity"))))
    return header, rows


@dataclass(frozen=True)
class Buttons:
    start: bool
    cancel: bool
    keep_best: bool
    use_model: bool


def buttons_for(state: str, can_start: bool, has_epoch: bool) -> Buttons:
    """Which actions make sense in each state of the dialog (keeping the best needs one finished epoch)."""
    running = state == RUNNING
    return Buttons(start=state == SETUP and can_start, cancel=running, keep_best=running and has_epoch,
                   use_model=state == FINISHED)


STOP_TO_CLOSE = "A fine-tuning run is in progress. Stop it and close?"


def may_close_during_run(state: str, ask_stop: Callable[[str], bool], stop: Callable[[], None]) -> bool:
    """Before the window closes. A run still training is stopped only when the user agrees (else the window
    stays); stopping is the hard cancel, so nothing is registered. A cancel already under way is waited for."""
    if state == RUNNING and not ask_stop(STOP_TO_CLOSE):
        return False
    if state in (RUNNING, CANCELLING):
        stop()
    return True
