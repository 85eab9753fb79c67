"""From annotated folders to a new registered model version: the steps the CLI and the dialog share.

1. :func:`prepare_training_data`: dataset, patient-level split, summary and warnings (shown before training);
2. :func:`training_spec` and ``training.fit`` (engineer "models"' loop) with progress and stop callbacks;
3. :func:`evaluate_samples` on the held-out patients (test split, else validation);
4. :func:`publish_result`: weights + card into the registry, atomically. A cancelled run is published only
   when the caller explicitly chooses to keep its best weights.

Torch is imported inside the functions that need it, so this module stays cheap to import.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from implant_desk.core.learning.dataset import (
    Dataset,
    Sample,
    Split,
    data_warnings,
    load_dataset,
    patient_warnings,
    split_by_patient,
    summarize,
)
from implant_desk.core.learning.metrics import Evaluation, ImageResult, PredictedFixture, TrueFixture, evaluate
from implant_desk.core.paths import user_cache_dir
from implant_desk.core.registry import ModelVersion, Registry

if TYPE_CHECKING:
    from implant_desk.core.models.spec import ModelSpec
    from implant_desk.core.learning.fit import FitConfig, FitResult

# Per-epoch keys kept in the card (the live curves of a past run); step events are not kept.
_HISTORY_KEYS = ("epoch", "phase", "train_loss", "val", "elapsed_s")


@dataclass
class TrainingData:
    dataset: Dataset
    split: Split
    summary: dict
    warnings: list[str]

    def describe(self) -> str:
        """One line a user reads before training starts."""
        dataset = self.dataset
        return (f"{len(dataset.samples)} images, {dataset.fixtures} fixtures, {len(dataset.patients)} patients, "
                f"{len(dataset.classes)} systems ({', '.join(dataset.classes)})")


def prepare_training_data(folders: Sequence[str | os.PathLike], val_fraction: float = 0.2,
                          test_fraction: float = 0.2, seed: int = 0, only: Sequence[str] | None = None, *,
                          annotation_dir: str | os.PathLike | None = None) -> TrainingData:
    """``annotation_dir``: where the annotations are when not beside the images (see ``load_dataset``)."""
    dataset = load_dataset(folders, only, annotation_dir=annotation_dir)
    split = split_by_patient(dataset, val_fraction, test_fraction, seed)
    summary = summarize(split.parts())
    summary["patient_sources"] = dataset.patient_sources
    notes = dataset.warnings + patient_warnings(dataset) + data_warnings(split.parts(), dataset.classes)
    return TrainingData(dataset, split, summary, notes)


def training_spec(classes: Sequence[str], parent: ModelVersion | None, det_size: int | None = None) -> ModelSpec:
    """The parent's architecture and input sizes (so its weights fit) with this data's systems."""
    from implant_desk.core.models.spec import ModelSpec

    spec = replace(parent.card.spec, classes=tuple(classes)) if parent else ModelSpec(tuple(classes))
    return replace(spec, det_size=det_size) if det_size else spec


def checkpoint_path(data: TrainingData, spec: ModelSpec, config: FitConfig) -> Path:
    """Same data, model and settings -> same checkpoint, so an interrupted run resumes where it stopped."""
    settings = {k: v for k, v in config.to_dict().items() if k not in ("checkpoint_path", "resume", "time_limit_s")}
    key = json.dumps([data.summary["file_list_sha256"], spec.to_dict(), settings], sort_keys=True, default=str)
    return user_cache_dir() / "training" / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.pt"


def train(data: TrainingData, spec: ModelSpec, config: FitConfig,
          on_progress: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None) -> FitResult:
    from implant_desk.core.learning.fit import fit

    if config.checkpoint_path is None:
        config = replace(config, checkpoint_path=str(checkpoint_path(data, spec, config)))
    unlabelled = pretraining_images(data) if config.pretrain_epochs else []
    return fit(spec, data.split.train, data.split.val, config, on_progress, should_stop, unlabelled)


def pretraining_images(data: TrainingData) -> list[Path]:
    """The folders' unannotated images for self-supervised pre-training, less those of validation and test
    patients: the patients the figures are measured on stay unseen, as their annotated images do."""
    held = {s.patient_id for s in (*data.split.val, *data.split.test)}
    if not held:
        return list(data.dataset.unannotated)
    return [image for image in data.dataset.unannotated if data.dataset.patient_of(image) not in held]


def evaluate_samples(predictor, samples: Sequence[Sample], classes: Sequence[str], threshold: float,
                     on_image: Callable[[int, int], None] | None = None) -> Evaluation:
    """Run ``predictor`` (models.predictor.Predictor) on every sample and score it against the annotations."""
    from implant_desk.core.imaging.loading import load_radiograph

    results = []
    for number, sample in enumerate(samples, 1):
        fixtures = predictor.predict(load_radiograph(sample.image_path), threshold=0.0, measure=False)
        results.append(ImageResult(
            [PredictedFixture(tuple(f.box), f.score, tuple(f.candidates)) for f in fixtures],
            [TrueFixture(box, system) for box, system in sample.truth()]))
        if on_image is not None:
            on_image(number, len(samples))
    return evaluate(results, classes, threshold)


def held_out(data: TrainingData) -> tuple[str, list[Sample]]:
    """The patients the model never trained on: the test split, else the validation split."""
    return ("test", data.split.test) if data.split.test else ("val", data.split.val)


def publish_result(result: FitResult, data: TrainingData, parent: ModelVersion | None,
                   evaluation: Evaluation | None, evaluated_on: str, threshold: float,
                   registry: Registry | None = None) -> ModelVersion:
    """Save the trained network with its card into a staging folder and publish it as the next version."""
    from implant_desk.core.models.card import ModelCard
    from implant_desk.core.models.weights import save_model

    registry = registry or Registry()
    hyperparameters = {k: v for k, v in result.config.items() if k not in ("checkpoint_path", "init_from")}
    metrics = evaluation.to_dict() if evaluation is not None else {}
    if metrics:
        metrics.update(split=evaluated_on, threshold=threshold)
    card = ModelCard(
        spec=result.network.spec,
        parent_version=parent.version if parent else None,
        training_data={**data.summary, "warnings": data.warnings},
        metrics=metrics,
        training={"hyperparameters": hyperparameters, "duration_s": round(result.duration_s, 1),
                  "device": result.device, "stop_reason": result.stop_reason, "epochs_run": result.epochs_run,
                  "best_epoch": result.best_epoch,
                  "history": [{k: h[k] for k in _HISTORY_KEYS if k in h} for h in result.history]},
        notes=[f"Fine-tuned from version {parent.version}." if parent else "Trained from ImageNet backbones.",
               f"Figures are on {evaluated_on} patients the model never trained on."],
    )
    with registry.staging() as staged:
        save_model(staged, result.network, card)
        version = registry.publish(staged)
    checkpoint = result.config.get("checkpoint_path")
    if checkpoint:
        Path(checkpoint).unlink(missing_ok=True)  # the run is complete: nothing left to resume
    return version
