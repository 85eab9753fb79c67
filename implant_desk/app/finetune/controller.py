"""What the fine-tune dialog offers and says, without Qt: what to train on, which settings (TrainingConfig's
defaults), how results read. The run's states live in ``session``.

The dialog only shows what these functions return, so everything a user reads is tested without a display.
Torch is never imported here: the window must stay light until training starts (in a child process).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.learning.config import TrainingConfig, TrainingRequest
from implant_desk.core.wording import counted

if TYPE_CHECKING:
    from implant_desk.core.learning.events import Cancelled, Failed, Finished

IMAGE_SIZES = (0, 256, 320, 384, 512)  # 0: the size of the model training starts from
DEVICES = (("auto", "Automatic (GPU when there is one)"), ("cpu", "CPU"), ("cuda", "NVIDIA GPU (CUDA)"),
           ("mps", "Apple GPU (MPS)"))
CURVES = (("top1", "Top-1 accuracy"), ("ap50", "Fixtures found (AP50)"))


@dataclass
class FinetuneOptions:
    """What the user may change (the advanced group); the defaults are TrainingConfig's."""

    epochs: int = TrainingConfig.epochs
    freeze_depth: int = TrainingConfig.freeze_depth
    patience: int = TrainingConfig.patience
    lr: float = TrainingConfig.lr  # the new heads'; the pretrained layers learn at a tenth of it
    image_size: int = 0  # detector input in pixels; 0 keeps the starting model's
    device: str = TrainingConfig.device
    time_limit_min: int = 0  # 0: no limit
    start_from_active: bool = True  # False: ImageNet backbones only
    pretrain_epochs: int = TrainingConfig.pretrain_epochs  # self-supervised pre-training first; 0: off
    folds: int = TrainingConfig.folds  # patient-grouped cross-validation folds; 0: off
    implant_labels: tuple[str, ...] = ()  # labels meaning an implant without a system, beyond the common names
    only: tuple[str, ...] = ()  # the labels whose boxes count (the CLI's --only); empty: every label
    retrain_every: int = 0  # start a run in the background after this many more reviewed images; 0: off
    # TrainingConfig and ModelSpec fields beyond the form (tests use a tiny network; power users may too).
    fit_overrides: dict = field(default_factory=dict)
    spec_overrides: dict = field(default_factory=dict)

    def request(self, folder: Path, annotation_dir: Path | None = None) -> TrainingRequest:
        config = TrainingConfig(**{"epochs": self.epochs, "freeze_depth": self.freeze_depth,
                                   "patience": self.patience, "lr": self.lr, "device": self.device,
                                   "image_size": self.image_size or None,
                                   "time_limit_s": self.time_limit_min * 60.0 if self.time_limit_min else None,
                                   "pretrain_epochs": self.pretrain_epochs, "folds": self.folds,
                                   **self.fit_overrides})
        return TrainingRequest((str(folder),), config, parent="active" if self.start_from_active else None,
                               spec_overrides=dict(self.spec_overrides), implant_labels=self.implant_labels,
                               only=self.only or None,
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
    labels: str = ""  # which labels are implants without a system, and which are left out as not implants
    problem: str | None = None
    reviewed: int = 0  # images a person verified (the review's mark)
    hand_made: int = 0  # images annotated by hand, not verified
    unreviewed: int = 0  # pre-annotated images not reviewed yet: left out

    @property
    def can_start(self) -> bool:
        return self.problem is None

    @property
    def sources(self) -> str:
        """What the run learns from, by where the boxes came from."""
        text = f"Trains on {counted(self.reviewed, 'reviewed image')} and {counted(self.hand_made, 'hand-made one')}."
        return f"{text} {unreviewed_text(self.unreviewed)}." if self.unreviewed else text


SPLIT_NAMES = {"train": "Training", "val": "Validation", "test": "Test"}


def make_plan(folder: Path, annotation_dir: Path | None = None, implant_labels: tuple[str, ...] = (),
              only: tuple[str, ...] = ()) -> Plan:
    """Read the folder as the child will (the request's seed and fractions, so the same split)."""
    from implant_desk.core.learning.orchestrator import prepare_training_data

    try:
        data = prepare_training_data([folder], only=only or None, annotation_dir=annotation_dir,
                                     implant_labels=implant_labels)
    except ImplantDeskError as error:
        return Plan(folder, annotation_dir, problem=str(error) + _left_out(folder, annotation_dir))
    if data.dataset.fixtures == 0:
        return Plan(folder, annotation_dir,
                    problem="The annotated images hold no boxes: draw boxes around the fixtures first.")
    splits = tuple((SPLIT_NAMES.get(name, name), figures["images"], figures["fixtures"], figures["patients"])
                   for name, figures in data.summary["splits"].items() if figures["images"])
    counts: dict[str, int] = {}
    for sample in data.dataset.samples:
        for system in sample.systems:
            counts[system] = counts.get(system, 0) + 1
    reviewed = sum(sample.annotation.verified for sample in data.dataset.samples)
    return Plan(folder, annotation_dir, data.describe(), splits, tuple(sorted(counts.items())), tuple(data.warnings),
                labels_text(data.dataset.implant_labels, data.dataset.ignored_labels), reviewed=reviewed,
                hand_made=len(data.dataset.samples) - reviewed, unreviewed=len(data.dataset.unreviewed))


def _left_out(folder: Path, annotation_dir: Path | None) -> str:
    """Why a folder full of proposed boxes has nothing to train on."""
    from implant_desk.core.annotations.folder import PROPOSED, annotation_folder, scan_image_folder

    try:
        unreviewed = sum(e.status == PROPOSED for e in scan_image_folder(folder, annotation_folder(folder, annotation_dir)))
    except ImplantDeskError:
        return ""
    return f". {unreviewed_text(unreviewed)}" if unreviewed else ""


def unreviewed_text(count: int) -> str:
    return (f"{counted(count, 'pre-annotated image')} not reviewed yet {'is' if count == 1 else 'are'} left out: "
            "press Space on an image once its boxes are right")


def labels_text(implants: dict[str, int], ignored: dict[str, int]) -> str:
    """How the folder's labels are read: implants without a system (the detector learns them) and boxes that
    are not implants (left out)."""
    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{label} ({count})" for label, count in sorted(counts.items(), key=lambda kv: -kv[1]))

    parts = []
    if implants:
        parts.append(f"Implants without a system, which teach finding implants only: {listed(implants)}.")
    if ignored:
        parts.append(f"Not implants, left out: {listed(ignored)}.")
    return " ".join(parts)


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


def spread(cross_validation: dict, key: str) -> str:
    """A figure over cross-validation folds, '93% ± 4%' style."""
    mean, std = cross_validation["mean"].get(key), cross_validation["std"].get(key)
    return "–" if mean is None else f"{percent(mean)} ± {percent(std)}"


def outcome_text(final: Finished | Cancelled | Failed) -> str:
    """The one paragraph at the end of a run."""
    from implant_desk.core.learning.events import Cancelled, Failed  # the review tools import this module at start-up

    if isinstance(final, Cancelled):
        return final.text
    if isinstance(final, Failed):
        return final.message
    metrics = final.metrics
    how = {"completed": "finished", "early stopping": "stopped early (no further improvement)",
           "time limit": "stopped at the time limit", "cancelled": "stopped by you; the best epoch was kept"}
    text = (f"Version {final.version} is ready: training {how.get(final.stop_reason, final.stop_reason)} "
            f"after {counted(final.epochs_run, 'epoch')} in {duration_text(final.duration_s)} (best: epoch "
            f"{final.best_epoch}). On {counted(final.held_out_images, 'image')} of "
            f"{counted(final.held_out_patients, 'patient')} it never trained on: top-1 {percent(metrics.get('top1'))}, "
            f"fixtures found (AP50) {percent(metrics.get('ap50'))}.")
    if final.cross_validation:
        folds = final.cross_validation
        text += (f" Over {folds['folds']} patient-grouped cross-validation folds: top-1 "
                 f"{spread(folds, 'top1')}, fixtures found (AP50) {spread(folds, 'ap50')}; this version is the "
                 "fold model with the best validation score.")
    baseline = final.baseline
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


def comparison_rows(final: Finished) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(header, rows): the new model against the active one on the same held-out patients."""
    new = final.metrics
    baseline = final.baseline or {}
    old = baseline.get("metrics")
    active = f"Active (version {baseline['version']})" if old else "Active model"
    header = ("", active, f"New (version {final.version})")
    rows = [(label, percent(old.get(key)) if old else "–", percent(new.get(key))) for key, label in COMPARED]
    for system, figures in new.get("per_class", {}).items():
        before = (old or {}).get("per_class", {}).get(system, {})
        rows.append((f"{system}: sensitivity", percent(before.get("sensitivity")) if old else "–",
                     percent(figures.get("sensitivity"))))
    return header, rows
