"""From annotated folders to a new registered model version: the one run sequence (as MONAI Label's train task)
that ``implant-desk train`` (also under torchrun), the dialog's child process and the tests call.

:func:`run` reads top to bottom:

1. resolve the parent model (the registry's active one, a version, or none) and clamp the head epochs;
2. read the folders and split them by patient (:func:`prepare_training_data`; with ``folds``, one split per
   fold of a patient-grouped k-fold, :func:`cross_validation_folds`);
3. :func:`train`: build the network with the parent's fitting weights, pre-train it when asked, ``fit`` it;
4. score it on the held-out patients (:func:`evaluate_samples`), and the parent on the same ones when asked;
5. :func:`publish_result`: weights + card into the registry, atomically (the best fold's model for k-fold,
   with every figure's mean and standard deviation over the folds).

Progress goes to ``on_event`` as typed events. A hard cancel (``cancelled``) ends the run with nothing
registered; ``should_stop`` alone ends training early and the best epoch so far is scored and published.
Torch is imported inside the functions that need it, so this module stays cheap to import.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from implant_desk.core.learning.config import TrainingConfig, TrainingError, TrainingRequest
from implant_desk.core.learning.dataset import (
    Dataset,
    Sample,
    Split,
    data_warnings,
    load_dataset,
    patient_folds,
    patient_warnings,
    split_by_patient,
    summarize,
)
from implant_desk.core.learning.events import (
    Cancelled,
    DataRead,
    Evaluating,
    Finished,
    FoldStarted,
    OnEvent,
    PhaseStarted,
    ignore,
)
from implant_desk.core.learning.labels import LabelRoles
from implant_desk.core.learning.metrics import (
    SCORING_FLOOR,
    Evaluation,
    ImageResult,
    PredictedFixture,
    evaluate,
    fold_statistics,
)
from implant_desk.core.paths import user_cache_dir
from implant_desk.core.registry import ModelVersion, Registry
from implant_desk.core.wording import counted

if TYPE_CHECKING:
    from implant_desk.core.learning.fit import FitResult
    from implant_desk.core.models.spec import ModelSpec

# Per-epoch fields kept in the card (the live curves of a past run); step events are not kept.
_HISTORY_KEYS = ("epoch", "phase", "train_loss", "val", "elapsed_s")
NOTHING_TO_KEEP = "Stopped before the first epoch finished: there is nothing to keep, nothing was registered."


class RunCancelled(Exception):
    """A hard cancel arrived: the run ends at once and registers nothing."""


@dataclass
class TrainingData:
    dataset: Dataset
    split: Split
    summary: dict
    warnings: list[str]
    designs: list | None = None  # the systems whose names in the labels state a design (None: the catalogue in use)

    def describe(self) -> str:
        """One line a user reads before training starts."""
        dataset = self.dataset
        systems = (f"{counted(len(dataset.classes), 'system')} ({', '.join(dataset.classes)})" if dataset.classes
                   else "no system named (the starting model's are kept)")
        return (f"{counted(len(dataset.samples), 'image')}, {counted(dataset.fixtures, 'fixture')}, "
                f"{counted(len(dataset.patients), 'patient')}, {systems}")


@dataclass
class _ScoredModel:
    """One trained model (of the single split, or of one fold) and its figures on its held-out patients."""

    data: TrainingData
    result: FitResult
    split_name: str
    held_out: list[Sample]
    evaluation: Evaluation
    real_films: Evaluation | None = None  # the real radiographs alone, when the held-out set mixes in generated ones


def run(request: TrainingRequest, on_event: OnEvent = ignore, should_stop: Callable[[], bool] | None = None,
        cancelled: Callable[[], bool] = lambda: False) -> Finished | Cancelled | None:
    """The whole run (see the module docstring). Returns the final event (None on torchrun ranks other than
    0: process 0 alone evaluates and publishes); raises ImplantDeskError for a run that cannot go on."""
    from implant_desk.core.learning import distributed

    def check_cancel() -> None:
        if cancelled():
            raise RunCancelled()

    try:
        registry = Registry(request.registry_root, request.default_model_dir)
        parent = _parent_version(registry, request.parent)
        config = replace(request.config, head_epochs=min(request.config.head_epochs, request.config.epochs))
        on_event(PhaseStarted("loading", "Reading the annotated images"))
        data = prepare_training_data(request.folders, request.val_fraction, request.test_fraction, config.seed,
                                     request.only, annotation_dir=request.annotation_dir,
                                     implant_labels=request.implant_labels)
        on_event(DataRead(data.describe(), data.summary, tuple(data.warnings)))
        spec = training_spec(data.dataset.classes, parent, config.image_size, request.spec_overrides)
        runs = cross_validation_folds(data, config.folds, request.val_fraction) if config.folds else [data]
        threshold = request.threshold if request.threshold is not None else _default_threshold()
        check_cancel()

        scored: list[_ScoredModel] = []
        for number, part in enumerate(runs, 1):
            if config.folds:
                on_event(FoldStarted(number, config.folds))
            on_event(PhaseStarted("training", "Training"))
            result = train(part, spec, config, parent=parent, on_event=on_event, should_stop=should_stop)
            check_cancel()
            if distributed.rank_and_world()[0] != 0:
                continue
            if result.epochs_run == 0:
                if not result.cancelled:
                    raise TrainingError("The time limit ran out before the first epoch finished; nothing was "
                                        "registered.")
                if not scored:
                    return Cancelled(NOTHING_TO_KEEP)
                break  # stopped in a later fold: the folds finished so far count
            scored.append(_score_on_held_out(result, part, threshold, on_event, check_cancel))
            if result.cancelled:
                break  # "stop and keep best": no further folds
        if distributed.rank_and_world()[0] != 0:
            return None

        best = max(scored, key=lambda model: model.result.best_score)  # the first, for equal scores
        cross_validation = fold_statistics([m.evaluation.to_dict() for m in scored]) if config.folds else None
        baseline = (_baseline(parent, best.held_out, data.dataset.classes, threshold, on_event, check_cancel)
                    if request.compare_with_parent else None)
        check_cancel()
        on_event(PhaseStarted("publishing", "Saving the new version"))
        version = publish_result(best.result, best.data, parent, best.evaluation, best.split_name, threshold,
                                 registry, cross_validation=cross_validation, real_films=best.real_films)
        for model in scored:  # the other folds' checkpoints: nothing left to resume either
            Path(model.result.config["checkpoint_path"]).unlink(missing_ok=True)
    except RunCancelled:
        return Cancelled()
    result = best.result
    return Finished(version=version.version, metrics=version.card.metrics, baseline=baseline,
                    parent=parent.version if parent else None, stop_reason=result.stop_reason,
                    epochs_run=result.epochs_run, best_epoch=result.best_epoch, duration_s=result.duration_s,
                    evaluated_on=best.split_name, held_out_images=len(best.held_out),
                    held_out_patients=len({s.patient_id for s in best.held_out}),
                    classes=tuple(data.dataset.classes), cross_validation=cross_validation)


def _parent_version(registry: Registry, parent: str | None) -> ModelVersion | None:
    if parent is None:
        return None
    return registry.active() if parent == "active" else registry.get(parent)


def _default_threshold() -> float:
    from implant_desk.core.models.predictor import DEFAULT_THRESHOLD

    return DEFAULT_THRESHOLD


def prepare_training_data(folders: Sequence[str | os.PathLike], val_fraction: float = TrainingRequest.val_fraction,
                          test_fraction: float = TrainingRequest.test_fraction, seed: int = TrainingConfig.seed,
                          only: Sequence[str] | None = None, *,
                          annotation_dir: str | os.PathLike | None = None,
                          implant_labels: Sequence[str] = ()) -> TrainingData:
    """``annotation_dir``: where the annotations are when not beside the images (see ``load_dataset``);
    ``implant_labels``: the labels that mean an implant without a system, beyond the common names."""
    dataset = load_dataset(folders, only, annotation_dir=annotation_dir,
                           roles=LabelRoles.with_implant_labels(implant_labels))
    return _with_split(dataset, split_by_patient(dataset, val_fraction, test_fraction, seed))


def _with_split(dataset: Dataset, split: Split) -> TrainingData:
    summary = summarize(split.parts())
    summary["patient_sources"] = dataset.patient_sources
    notes = dataset.warnings + patient_warnings(dataset) + data_warnings(split.parts(), dataset.classes)
    return TrainingData(dataset, split, summary, notes)


def cross_validation_folds(data: TrainingData, folds: int, val_fraction: float) -> list[TrainingData]:
    """Patient-grouped k-fold: fold i tests on the i-th group of patients and validates on a share
    (``val_fraction``) of the other patients, carved by patient; every patient is tested exactly once."""
    seed = data.split.seed
    parts = []
    for rest, test in patient_folds(data.dataset, folds, seed):
        inner = split_by_patient(rest, val_fraction, 0.0, seed)
        parts.append(_with_split(data.dataset, Split(inner.train, inner.val, test, seed)))
    return parts


def training_spec(classes: Sequence[str], parent: ModelVersion | None, det_size: int | None = None,
                  overrides: dict | None = None) -> ModelSpec:
    """The parent's architecture and input sizes (so its weights fit) with this data's systems; ``det_size``
    and ``overrides`` (ModelSpec fields) change them. Data that names no system (implants only, as most real
    films' labels) keeps the parent's systems: it teaches the detector, and the classifier stays as it was."""
    from implant_desk.core.models.spec import ModelSpec

    if not classes and parent is None:
        raise TrainingError("No box names an implant system, and there is no model to keep systems from: label "
                            "some fixtures with their system, or start from a model (not from ImageNet alone).")
    spec = parent.card.spec if parent else ModelSpec(tuple(classes))
    if classes:
        spec = replace(spec, classes=tuple(classes))
    fields = dict(overrides or {})
    if "crop_size" in fields:
        fields["crop_size"] = tuple(int(v) for v in fields["crop_size"])
    if det_size:
        fields["det_size"] = det_size
    return replace(spec, **fields)


def checkpoint_path(data: TrainingData, spec: ModelSpec, config: TrainingConfig,
                    parent: ModelVersion | None = None) -> Path:
    """Same data, parent, model and settings -> same checkpoint, so an interrupted run resumes where it stopped."""
    settings = {k: v for k, v in config.to_dict().items() if k not in ("checkpoint_path", "resume", "time_limit_s")}
    key = json.dumps([data.summary["file_list_sha256"], spec.to_dict(), settings,
                      str(parent.folder) if parent else None], sort_keys=True, default=str)
    return user_cache_dir() / "training" / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.pt"


def train(data: TrainingData, spec: ModelSpec, config: TrainingConfig, parent: ModelVersion | None = None,
          on_event: OnEvent = ignore, should_stop: Callable[[], bool] | None = None) -> FitResult:
    """Build the network (the parent's fitting weights on ImageNet backbones), pre-train it when
    ``config.pretrain_epochs`` asks (not again when resuming), then ``fit`` it on ``data``'s split.
    The time limit counts from the start of this step. The classifier's confidences are then calibrated on the
    validation patients (one temperature, kept in the model's spec)."""
    from implant_desk.core.learning.calibration import fit_temperature
    from implant_desk.core.learning.fit import classifier_logits, fit, prepare_images, resumes
    from implant_desk.core.learning.network import build_network
    from implant_desk.core.learning.pretrain import pretrain_before_fit

    started = time.monotonic()
    if config.checkpoint_path is None:
        config = replace(config, checkpoint_path=str(checkpoint_path(data, spec, config, parent)))
    network = build_network(spec, config, parent.folder if parent else None)
    train_images, val_images = (prepare_images(part, spec, data.designs) for part in (data.split.train,
                                                                                       data.split.val))
    fit_config = config
    if config.pretrain_epochs and train_images and not resumes(config):
        def time_is_up() -> bool:
            return config.time_limit_s is not None and time.monotonic() - started > config.time_limit_s

        pretrain_before_fit(network, train_images, pretraining_images(data), config, on_event,
                            lambda: bool(should_stop and should_stop()) or time_is_up())
        if config.time_limit_s is not None:
            fit_config = replace(config, time_limit_s=max(0.0, config.time_limit_s - (time.monotonic() - started)))
    result = fit(network, train_images, val_images, fit_config, on_event, should_stop)
    logits, labels = classifier_logits(result.network, val_images)
    if len(labels):  # else the classifier did not learn here either: the parent's calibration stands
        result.network.spec = replace(result.network.spec, temperature=fit_temperature(logits, labels))
    return replace(result, duration_s=time.monotonic() - started, config=config.to_dict())


def pretraining_images(data: TrainingData) -> list[Path]:
    """The folders' unannotated images for self-supervised pre-training, less those of validation and test
    patients: the patients the figures are measured on stay unseen, as their annotated images do."""
    held = {s.patient_id for s in (*data.split.val, *data.split.test)}
    if not held:
        return list(data.dataset.unannotated)
    return [image for image in data.dataset.unannotated if data.dataset.patient_of(image) not in held]


def held_out(data: TrainingData) -> tuple[str, list[Sample]]:
    """The patients the model never trained on: the test split, else the validation split."""
    return ("test", data.split.test) if data.split.test else ("val", data.split.val)


def evaluate_samples(predictor, samples: Sequence[Sample], classes: Sequence[str], threshold: float,
                     on_image: Callable[[int, int], None] | None = None) -> Evaluation:
    """Run ``predictor`` (models.predictor.Predictor) on every sample and score it against the annotations."""
    return evaluate(predict_samples(predictor, samples, on_image), classes, threshold,
                    predictor.spec.min_fixture_score)


def predict_samples(predictor, samples: Sequence[Sample],
                    on_image: Callable[[int, int], None] | None = None) -> list[ImageResult]:
    """What ``predictor`` finds on each sample's image (every detection down to ``SCORING_FLOOR`` and every
    candidate, whatever its confidence), beside the annotated truth."""
    from implant_desk.core.imaging.loading import load_radiograph

    results = []
    for number, sample in enumerate(samples, 1):
        fixtures = predictor.predict(load_radiograph(sample.image_path), threshold=0.0, measure=False,
                                     min_score=SCORING_FLOOR)
        results.append(ImageResult(
            [PredictedFixture(tuple(f.box), f.score, tuple(f.candidates)) for f in fixtures],
            sample.truth()))
        if on_image is not None:
            on_image(number, len(samples))
    return results


def _evaluate_progress(on_event: OnEvent, model: str, check_cancel: Callable[[], None]) -> Callable[[int, int], None]:
    def on_image(done: int, total: int) -> None:
        check_cancel()
        on_event(Evaluating(model, done, total))

    return on_image


def _score_on_held_out(result: FitResult, data: TrainingData, threshold: float, on_event: OnEvent,
                       check_cancel: Callable[[], None]) -> _ScoredModel:
    from implant_desk.core.models.predictor import Predictor

    split_name, samples = held_out(data)
    on_event(PhaseStarted("evaluating", f"Scoring {len(samples)} held-out images"))
    results = predict_samples(Predictor.from_network(result.network), samples,
                              _evaluate_progress(on_event, "new", check_cancel))
    floor = result.network.spec.min_fixture_score
    evaluation = evaluate(results, data.dataset.classes, threshold, floor)
    real = [r for r, sample in zip(results, samples) if not sample.generated]
    real_films = evaluate(real, data.dataset.classes, threshold, floor) if real and len(real) < len(results) else None
    return _ScoredModel(data, result, split_name, samples, evaluation, real_films)


def _baseline(parent: ModelVersion | None, samples: Sequence[Sample], classes: Sequence[str], threshold: float,
              on_event: OnEvent, check_cancel: Callable[[], None]) -> dict | None:
    """The model in use, scored on the same held-out patients, so the user compares like with like."""
    if parent is None or not samples:
        return None
    from implant_desk.core.errors import ImplantDeskError
    from implant_desk.core.models.predictor import Predictor

    try:
        predictor = Predictor.from_folder(parent.folder, device="cpu")
    except ImplantDeskError as error:
        return {"version": parent.version, "metrics": None, "problem": str(error)}
    evaluation = evaluate_samples(predictor, samples, classes, threshold,
                                  _evaluate_progress(on_event, "active", check_cancel))
    return {"version": parent.version, "metrics": evaluation.to_dict(), "problem": None}


def publish_result(result: FitResult, data: TrainingData, parent: ModelVersion | None,
                   evaluation: Evaluation | None, evaluated_on: str, threshold: float,
                   registry: Registry | None = None, cross_validation: dict | None = None,
                   real_films: Evaluation | None = None) -> ModelVersion:
    """Save the trained network with its card into a staging folder and publish it as the next version;
    ``cross_validation``: the figures over k folds, kept with the model's own in the card's metrics;
    ``real_films``: the held-out real radiographs' own figures, when generated ones were held out with them."""
    from implant_desk.core.models.card import ModelCard
    from implant_desk.core.models.weights import save_model

    registry = registry or Registry()
    hyperparameters = {k: v for k, v in result.config.items() if k != "checkpoint_path"}
    metrics = evaluation.to_dict() if evaluation is not None else {}
    if metrics:
        metrics.update(split=evaluated_on, threshold=threshold)
    if cross_validation:
        metrics["cross_validation"] = cross_validation
    if real_films is not None:
        metrics["real_films"] = real_films.to_dict()
    notes = [f"Fine-tuned from version {parent.version}." if parent else "Trained from ImageNet backbones.",
             f"Figures are on {evaluated_on} patients the model never trained on."]
    if cross_validation:
        notes.append(f"Of {cross_validation['folds']} patient-grouped cross-validation folds, this is the model "
                     "with the best validation score; the card's cross_validation figures are over all folds.")
    card = ModelCard(
        spec=result.network.spec,
        parent_version=parent.version if parent else None,
        training_data={**data.summary, "warnings": data.warnings},
        metrics=metrics,
        training={"hyperparameters": hyperparameters, "duration_s": round(result.duration_s, 1),
                  "device": result.device, "stop_reason": result.stop_reason, "epochs_run": result.epochs_run,
                  "best_epoch": result.best_epoch,
                  "history": [{k: v for k, v in record.to_dict().items() if k in _HISTORY_KEYS}
                              for record in result.history]},
        notes=notes,
    )
    with registry.staging() as staged:
        save_model(staged, result.network, card)
        version = registry.publish(staged)
    checkpoint = result.config.get("checkpoint_path")
    if checkpoint:
        Path(checkpoint).unlink(missing_ok=True)  # the run is complete: nothing left to resume
    return version
