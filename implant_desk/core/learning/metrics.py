"""How good a fixture detector + system classifier is, on plain data (numpy only).

Two families of figures:

- Detection of fixtures, whatever their system: AP at IoU 0.50 and COCO-style mAP over IoU 0.50:0.95,
  computed exactly as pycocotools does for one class (101-point interpolated precision, greedy matching in
  score order, at most 100 detections per image), so the figures compare with published ones. They rank every
  detection down to ``SCORING_FLOOR``, not only those above the model's fixture-score floor (a cut curve would
  understate AP); recall and false finds per image are the figures *at* the floor, what the app shows.
- Classification per fixture, as the YOLOv3 transfer-learning study (Kim et al. 2022) reports it: every true
  fixture is matched to the detection that found it (IoU >= 0.5); its predicted system is that detection's
  top candidate, or nothing when it was missed or its confidence is under the threshold (the study claims
  nothing under its threshold). Per system, one against the rest over all true fixtures:
  sensitivity TP/(TP+FN), specificity TN/(TN+FP), accuracy (TP+TN)/N, and the mean confidence of the
  correct classifications. The study's overall figures are the same counts pooled over systems.
  Detections that match no true fixture do not enter these per-fixture figures; they lower the AP.

A true fixture marked *difficult* (VOC's flag: a box its annotator is unsure of) is ignored, as PASCAL VOC and
pycocotools' ``ignore`` do: it is not counted among the fixtures to find, and a detection on it is neither a hit
nor a false find.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from implant_desk.core.learning.calibration import expected_calibration_error

MISSED = "(not found)"
COCO_IOU_THRESHOLDS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2))
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
MAX_DETECTIONS = 100
SCORING_FLOOR = 0.05  # the lowest detector score ranked for AP


@dataclass(frozen=True)
class PredictedFixture:
    """One detection: its box (x1, y1, x2, y2 in image pixels), fixture score, ranked (system, p) list."""

    box: tuple[float, float, float, float]
    score: float
    candidates: tuple[tuple[str, float], ...] = ()

    @property
    def system(self) -> str | None:
        return self.candidates[0][0] if self.candidates else None

    @property
    def confidence(self) -> float:
        """The classification's confidence: the probability of the top candidate."""
        return float(self.candidates[0][1]) if self.candidates else 0.0


@dataclass(frozen=True)
class TrueFixture:
    box: tuple[float, float, float, float]
    system: str | None  # None: an implant whose system the data does not say (counts for detection only)
    difficult: bool = False  # ignored: neither to be found nor a false find when found


@dataclass(frozen=True)
class ImageResult:
    """What the model said about one image, and the truth."""

    predictions: Sequence[PredictedFixture]
    truth: Sequence[TrueFixture]


@dataclass(frozen=True)
class FixtureOutcome:
    """One true fixture and what the model made of it (``predicted`` is None when nothing was claimed)."""

    truth: str
    predicted: str | None
    confidence: float
    candidates: tuple[str, ...]
    detected: bool


@dataclass(frozen=True)
class ClassMetrics:
    fixtures: int
    sensitivity: float
    specificity: float
    accuracy: float
    mean_confidence: float

    def to_dict(self) -> dict:
        return {"fixtures": self.fixtures, "sensitivity": _finite(self.sensitivity),
                "specificity": _finite(self.specificity), "accuracy": _finite(self.accuracy),
                "mean_confidence": _finite(self.mean_confidence)}


@dataclass
class Evaluation:
    """Every figure at once; ``to_dict`` is the JSON of ``implant-desk evaluate --json`` (NaN -> null)."""

    images: int
    fixtures: int
    top1: float
    top3: float
    ap50: float
    map: float
    per_class: dict[str, ClassMetrics]
    overall: ClassMetrics
    confusion_labels: list[str]
    confusion: np.ndarray
    false_detections: int = 0
    recall: float = math.nan  # share of true fixtures some detection found (IoU >= 0.5)
    calibration_error: float = math.nan  # ECE of the top candidate's confidence on the fixtures found

    @property
    def false_per_image(self) -> float:
        return _ratio(self.false_detections, self.images)

    def to_dict(self) -> dict:
        return {
            "images": self.images, "fixtures": self.fixtures,
            "top1": _finite(self.top1), "top3": _finite(self.top3),
            "ap50": _finite(self.ap50), "map": _finite(self.map),
            "per_class": {name: m.to_dict() for name, m in self.per_class.items()},
            "overall": self.overall.to_dict(),
            "confusion": {"truth": self.confusion_labels, "predicted": [*self.confusion_labels, MISSED],
                          "matrix": self.confusion.tolist()},
            "false_detections": self.false_detections, "false_per_image": _finite(self.false_per_image),
            "recall": _finite(self.recall), "calibration_error": _finite(self.calibration_error),
        }


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N x 4, x1 y1 x2 y2) with every box in ``b`` (M x 4): N x M."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    intersection = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, intersection / union, 0.0)


def _ranked(predictions: Sequence[PredictedFixture]) -> list[PredictedFixture]:
    """Highest score first, stable on ties (as pycocotools), at most MAX_DETECTIONS."""
    order = np.argsort([-p.score for p in predictions], kind="mergesort")
    return [predictions[i] for i in order[:MAX_DETECTIONS]]


def _match(ranked: Sequence[PredictedFixture], truth: Sequence[TrueFixture], iou_threshold: float) -> list[int]:
    """For each ranked detection, the index of the true fixture it finds, or -1 (greedy, as pycocotools): a
    fixture not yet found first; else a difficult one, which takes any number of detections (all ignored)."""
    if not ranked or not truth:
        return [-1] * len(ranked)
    ious = box_iou(np.array([p.box for p in ranked]), np.array([t.box for t in truth]))
    ignored = np.array([t.difficult for t in truth])
    found = np.zeros(len(truth), bool)
    result = []
    for row in ious:
        best = _best_over(row, iou_threshold, ~ignored & ~found)
        if best >= 0:
            found[best] = True
        else:
            best = _best_over(row, iou_threshold, ignored)
        result.append(best)
    return result


def _best_over(ious: np.ndarray, iou_threshold: float, allowed: np.ndarray) -> int:
    """The allowed fixture overlapping most, at ``iou_threshold`` or more (the last on ties, as pycocotools), or
    -1."""
    candidates = np.where(allowed & (ious >= min(iou_threshold, 1 - 1e-10)), ious, -1.0)
    best = len(candidates) - 1 - int(np.argmax(candidates[::-1]))
    return best if candidates[best] >= 0 else -1


def _outcomes(result: ImageResult, ranked: Sequence[PredictedFixture], iou_threshold: float) -> list[bool | None]:
    """Per ranked detection: True when it finds a fixture, False when it is a false find, None when it lies on
    a difficult fixture (ignored)."""
    return [None if index >= 0 and result.truth[index].difficult else index >= 0
            for index in _match(ranked, result.truth, iou_threshold)]


def _to_find(result: ImageResult) -> int:
    """The true fixtures a model should find on the image (difficult ones are not counted)."""
    return sum(not t.difficult for t in result.truth)


def at_score(results: Sequence[ImageResult], floor: float) -> list[ImageResult]:
    """The same images with only the detections scoring ``floor`` or more: recall and false finds at a
    detector threshold, from one prediction pass."""
    return [ImageResult([p for p in r.predictions if p.score >= floor], r.truth) for r in results]


def average_precision(results: Sequence[ImageResult], iou_threshold: float = 0.5) -> float:
    """Class-agnostic fixture detection AP at one IoU threshold; NaN when there is no true fixture."""
    scores: list[float] = []
    hits: list[bool] = []
    positives = 0
    for result in results:
        ranked = _ranked(result.predictions)
        positives += _to_find(result)
        for prediction, hit in zip(ranked, _outcomes(result, ranked, iou_threshold)):
            if hit is not None:
                scores.append(prediction.score)
                hits.append(hit)
    if positives == 0:
        return math.nan
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    tp = np.cumsum(np.asarray(hits, dtype=np.float64)[order])
    fp = np.cumsum(1.0 - np.asarray(hits, dtype=np.float64)[order])
    recall = tp / positives
    precision = tp / (tp + fp + np.spacing(1))
    # The precision envelope: at each recall, the best precision reachable at that recall or beyond.
    precision = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    indices = np.searchsorted(recall, _RECALL_POINTS, side="left")
    sampled = np.array([precision[i] if i < len(precision) else 0.0 for i in indices])
    return float(sampled.mean())


def mean_average_precision(results: Sequence[ImageResult]) -> float:
    """COCO-style mAP: the mean AP over IoU 0.50, 0.55, ..., 0.95."""
    return float(np.mean([average_precision(results, t) for t in COCO_IOU_THRESHOLDS]))


def fixture_outcomes(results: Iterable[ImageResult], threshold: float = 0.0,
                     iou_threshold: float = 0.5) -> list[FixtureOutcome]:
    """What became of every true fixture: matched to a detection (or not) and the system claimed for it."""
    outcomes = []
    for result in results:
        ranked = _ranked(result.predictions)
        found = {truth_index: ranked[i] for i, truth_index in enumerate(_match(ranked, result.truth, iou_threshold))
                 if truth_index >= 0}
        for index, fixture in enumerate(result.truth):
            if fixture.system is None or fixture.difficult:
                continue
            detection = found.get(index)
            if detection is None:
                outcomes.append(FixtureOutcome(fixture.system, None, 0.0, (), detected=False))
                continue
            claimed = detection.system if detection.confidence >= threshold else None
            outcomes.append(FixtureOutcome(fixture.system, claimed, detection.confidence,
                                           tuple(name for name, _ in detection.candidates), detected=True))
    return outcomes


def confusion_matrix(outcomes: Sequence[FixtureOutcome], labels: Sequence[str]) -> np.ndarray:
    """Rows: true system (in ``labels`` order); columns: claimed system, then one for "not found"."""
    index = {name: i for i, name in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels) + 1), dtype=np.int64)
    for outcome in outcomes:
        column = len(labels) if outcome.predicted is None else index[outcome.predicted]
        matrix[index[outcome.truth], column] += 1
    return matrix


def class_metrics(outcomes: Sequence[FixtureOutcome], labels: Sequence[str]) -> tuple[dict[str, ClassMetrics], ClassMetrics]:
    """Per system (one against the rest over all true fixtures) and pooled over the systems present, as in the
    study (a model's system absent from the data is left out of the pool: it would only add true negatives)."""
    matrix = confusion_matrix(outcomes, labels)
    total = int(matrix.sum())
    per_class = {}
    pooled = np.zeros(4)  # tp, fn, fp, tn
    for i, name in enumerate(labels):
        tp = matrix[i, i]
        fn = matrix[i].sum() - tp
        fp = matrix[:, i].sum() - tp
        tn = total - tp - fn - fp
        if tp + fn + fp:  # a system neither in the truth nor claimed would only add true negatives
            pooled += (tp, fn, fp, tn)
        confidences = [o.confidence for o in outcomes if o.truth == name and o.predicted == name]
        per_class[name] = ClassMetrics(int(matrix[i].sum()), _ratio(tp, tp + fn), _ratio(tn, tn + fp),
                                       _ratio(tp + tn, total), float(np.mean(confidences)) if confidences else math.nan)
    tp, fn, fp, tn = pooled
    correct = [o.confidence for o in outcomes if o.predicted is not None and o.truth == o.predicted]
    overall = ClassMetrics(total, _ratio(tp, tp + fn), _ratio(tn, tn + fp), _ratio(tp + tn, tp + fn + fp + tn),
                           float(np.mean(correct)) if correct else math.nan)
    return per_class, overall


def top_k_accuracy(outcomes: Sequence[FixtureOutcome], k: int) -> float:
    """Share of true fixtures whose system is among the first ``k`` candidates (a missed fixture is wrong).

    Ranked candidates are scored whatever their confidence: top-k measures the ranking, not the threshold.
    """
    if not outcomes:
        return math.nan
    return sum(o.truth in o.candidates[:k] for o in outcomes) / len(outcomes)


def evaluate(results: Sequence[ImageResult], classes: Sequence[str] = (), threshold: float = 0.0,
             floor: float = 0.0) -> Evaluation:
    """All the figures for a set of images; ``classes`` fixes the order (systems seen only in data follow).
    AP and mAP rank every detection in ``results``; the other figures count those scoring ``floor`` or more
    (the model's fixture-score floor: the fixtures a user is shown)."""
    shown = at_score(results, floor)
    outcomes = fixture_outcomes(shown, threshold)
    seen = {o.truth for o in outcomes} | {o.predicted for o in outcomes if o.predicted is not None}
    labels = list(dict.fromkeys(classes)) + sorted(seen - set(classes))
    per_class, overall = class_metrics(outcomes, labels)
    true_fixtures = sum(_to_find(r) for r in shown)
    hits = [hit for r in shown for hit in _outcomes(r, _ranked(r.predictions), 0.5)]
    found, false_detections = hits.count(True), hits.count(False)
    classified = [o for o in outcomes if o.detected and o.candidates]
    return Evaluation(
        images=len(results), fixtures=true_fixtures,
        top1=top_k_accuracy(outcomes, 1), top3=top_k_accuracy(outcomes, 3),
        ap50=average_precision(results, 0.5), map=mean_average_precision(results),
        per_class=per_class, overall=overall, confusion_labels=labels,
        confusion=confusion_matrix(outcomes, labels), false_detections=false_detections,
        recall=_ratio(found, true_fixtures),
        calibration_error=expected_calibration_error([o.confidence for o in classified],
                                                     [o.candidates[0] == o.truth for o in classified]),
    )


# Per-system figures summarised over cross-validation folds (with the pooled top-k, AP50 and mAP).
FOLD_FIGURES = ("top1", "top3", "ap50", "map")
FOLD_SYSTEM_FIGURES = ("sensitivity", "specificity", "accuracy")


def fold_statistics(folds: Sequence[dict]) -> dict:
    """``{"folds", "mean", "std"}`` over folds' ``Evaluation.to_dict()``: each figure's mean and (population)
    standard deviation over the folds where it is defined (a system absent from a fold's patients has none)."""
    def spread(values: list) -> tuple[float | None, float | None]:
        present = [v for v in values if v is not None]
        if not present:
            return None, None
        return round(float(np.mean(present)), 6), round(float(np.std(present)), 6)

    mean: dict = {"per_class": {}}
    std: dict = {"per_class": {}}
    for name in FOLD_FIGURES:
        mean[name], std[name] = spread([fold.get(name) for fold in folds])
    systems = sorted({system for fold in folds for system in fold.get("per_class", {})})
    for system in systems:
        mean["per_class"][system], std["per_class"][system] = {}, {}
        for name in FOLD_SYSTEM_FIGURES:
            values = [fold.get("per_class", {}).get(system, {}).get(name) for fold in folds]
            mean["per_class"][system][name], std["per_class"][system][name] = spread(values)
    return {"folds": len(folds), "mean": mean, "std": std}
