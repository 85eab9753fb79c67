"""Fixture metrics: the YOLOv3 study's per-system figures and AP against pycocotools (through torchmetrics)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from implant_desk.core.learning.metrics import (
    MISSED,
    ImageResult,
    PredictedFixture,
    TrueFixture,
    box_iou,
    evaluate,
    fixture_outcomes,
)

SYSTEMS = ("Superline", "TS III", "Bone Level")


def _image(truth_systems, claimed, confidence=0.8):
    """One image per fixture: the fixture at a fixed place, detected exactly, classified as ``claimed``."""
    box = (100.0, 100.0, 200.0, 400.0)
    predictions = []
    if claimed is not None:
        others = [s for s in SYSTEMS if s != claimed]
        predictions = [PredictedFixture(box, 0.9, ((claimed, confidence), (others[0], 0.1), (others[1], 0.05)))]
    return ImageResult(predictions, [TrueFixture(box, truth_systems)])


def _study_test_set():
    """The test set of Kim et al. 2022 at 200 epochs, rebuilt from its reported counts.

    Superline 26 fixtures: 23 right, 2 called TS III, 1 not found. TS III 23: 22 right, 1 called Superline.
    Bone Level 22: all right.
    """
    results = [_image("Superline", "Superline", 0.75) for _ in range(23)]
    results += [_image("Superline", "TS III") for _ in range(2)] + [_image("Superline", None)]
    results += [_image("TS III", "TS III", 0.71) for _ in range(22)] + [_image("TS III", "Superline")]
    results += [_image("Bone Level", "Bone Level", 0.79) for _ in range(22)]
    return results


def test_per_system_figures_reproduce_the_yolov3_study():
    report = evaluate(_study_test_set(), classes=SYSTEMS)
    expected = {  # sensitivity, specificity, accuracy in %, as published
        "Superline": (88.5, 97.8, 94.4),
        "TS III": (95.7, 95.8, 95.8),
        "Bone Level": (100.0, 100.0, 100.0),
    }
    for system, (sensitivity, specificity, accuracy) in expected.items():
        figures = report.per_class[system]
        assert round(100 * figures.sensitivity, 1) == sensitivity
        assert round(100 * figures.specificity, 1) == specificity
        assert round(100 * figures.accuracy, 1) == accuracy
    assert (round(100 * report.overall.sensitivity, 1), round(100 * report.overall.specificity, 1),
            round(100 * report.overall.accuracy, 1)) == (94.4, 97.9, 96.7)
    assert report.per_class["Superline"].mean_confidence == pytest.approx(0.75)
    assert report.per_class["TS III"].mean_confidence == pytest.approx(0.71)
    assert report.per_class["Bone Level"].mean_confidence == pytest.approx(0.79)


def test_confusion_matrix_has_a_column_for_fixtures_not_found():
    report = evaluate(_study_test_set(), classes=SYSTEMS)
    assert report.confusion_labels == list(SYSTEMS)
    assert report.confusion.tolist() == [[23, 2, 0, 1], [1, 22, 0, 0], [0, 0, 22, 0]]
    as_json = report.to_dict()
    assert as_json["confusion"]["predicted"][-1] == MISSED
    assert set(as_json) >= {"top1", "top3", "ap50", "map", "per_class"}
    assert set(as_json["per_class"]["TS III"]) >= {"sensitivity", "specificity", "accuracy", "mean_confidence"}


def test_top1_and_top3_rank_candidates_and_count_a_missed_fixture_as_wrong():
    report = evaluate(_study_test_set(), classes=SYSTEMS)
    assert report.top1 == pytest.approx(67 / 71)
    # Every wrongly classified fixture had the truth among its three candidates; only the missed one fails.
    assert report.top3 == pytest.approx(70 / 71)


def test_nothing_is_claimed_under_the_confidence_threshold():
    results = [_image("Superline", "Superline", 0.3), _image("TS III", "TS III", 0.9)]
    outcomes = fixture_outcomes(results, threshold=0.5)
    assert [o.predicted for o in outcomes] == [None, "TS III"]
    report = evaluate(results, classes=SYSTEMS, threshold=0.5)
    assert report.per_class["Superline"].sensitivity == 0.0
    assert report.top1 == 1.0  # ranking is judged whatever the threshold


def test_a_detection_that_misses_the_fixture_leaves_it_not_found_and_counts_as_false_detection():
    truth = TrueFixture((0.0, 0.0, 10.0, 10.0), "TS III")
    far = PredictedFixture((50.0, 50.0, 60.0, 60.0), 0.9, (("TS III", 0.9),))
    report = evaluate([ImageResult([far], [truth])], classes=SYSTEMS)
    assert report.confusion[1].tolist() == [0, 0, 0, 1]
    assert report.false_detections == 1
    assert report.ap50 == 0.0


def test_systems_without_truth_give_nan_that_serialises_as_null():
    report = evaluate([_image("Superline", "Superline")], classes=SYSTEMS)
    assert math.isnan(report.per_class["Bone Level"].sensitivity)
    assert report.per_class["Bone Level"].specificity == 1.0
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["per_class"]["Bone Level"]["sensitivity"] is None


def test_box_iou():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    assert iou.tolist() == [[1.0, pytest.approx(1 / 3), 0.0]]


def _random_results(seed: int, images: int = 30):
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(images):
        truth = []
        for _ in range(rng.integers(0, 4)):
            x, y = rng.uniform(0, 800, 2)
            w, h = rng.uniform(20, 120), rng.uniform(60, 300)
            truth.append(TrueFixture((x, y, x + w, y + h), "fixture"))
        predictions = []
        for t in truth:  # jittered detections of the truth, some duplicated, some missed
            for _ in range(rng.integers(0, 3)):
                jitter = rng.normal(0, 0.08, 4) * (t.box[2] - t.box[0])
                box = tuple(float(v) for v in np.array(t.box) + jitter)
                box = (min(box[0], box[2] - 1), min(box[1], box[3] - 1), box[2], box[3])
                predictions.append(PredictedFixture(box, float(rng.uniform(0.05, 1.0)), (("fixture", 1.0),)))
        for _ in range(rng.integers(0, 3)):  # false detections
            x, y = rng.uniform(0, 800, 2)
            predictions.append(PredictedFixture((x, y, x + 50, y + 150), float(rng.uniform(0.0, 0.7)), ()))
        results.append(ImageResult(predictions, truth))
    return results


def _torchmetrics_map(results):
    torch = pytest.importorskip("torch")
    pytest.importorskip("pycocotools")
    from torchmetrics.detection import MeanAveragePrecision

    # Recall thresholds in float64 as pycocotools has them: torchmetrics' default float32 linspace shifts
    # 0.6 to 0.60000002, which changes the precision sampled where recall lands exactly on a threshold.
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", backend="pycocotools",
                                  rec_thresholds=np.linspace(0.0, 1.0, 101).tolist())
    preds, targets = [], []
    for result in results:
        preds.append({"boxes": torch.tensor([p.box for p in result.predictions], dtype=torch.float64).reshape(-1, 4),
                      "scores": torch.tensor([p.score for p in result.predictions], dtype=torch.float64),
                      "labels": torch.zeros(len(result.predictions), dtype=torch.int64)})
        targets.append({"boxes": torch.tensor([t.box for t in result.truth], dtype=torch.float64).reshape(-1, 4),
                        "labels": torch.zeros(len(result.truth), dtype=torch.int64)})
    metric.update(preds, targets)
    out = metric.compute()
    return float(out["map_50"]), float(out["map"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixture_ap_agrees_with_pycocotools_through_torchmetrics(seed):
    results = _random_results(seed)
    reference_ap50, reference_map = _torchmetrics_map(results)
    report = evaluate(results)
    assert 0.05 < report.ap50 < 0.999  # a non-trivial case
    assert report.ap50 == pytest.approx(reference_ap50, abs=1e-6)
    assert report.map == pytest.approx(reference_map, abs=1e-6)


def test_a_system_absent_from_data_and_claims_does_not_inflate_the_overall_figures():
    report = evaluate([_image("Superline", None)], classes=(*SYSTEMS, "unused"))
    assert math.isnan(report.overall.specificity)  # no negatives among the systems present
    assert report.overall.accuracy == 0.0
    assert report.per_class["unused"].specificity == 1.0


def test_ap_ranks_every_detection_while_recall_and_false_finds_count_those_at_the_floor():
    """A fixture found only at a low score still raises AP (the ranked curve goes on under the floor), but
    a user shown the fixtures above the floor does not see it: it is missed for recall, as is the false find."""
    found_low = ImageResult([PredictedFixture((0.0, 0.0, 10.0, 10.0), 0.2, (("TS III", 0.9),))],
                            [TrueFixture((0.0, 0.0, 10.0, 10.0), "TS III")])
    false_low = ImageResult([PredictedFixture((50.0, 50.0, 60.0, 60.0), 0.1, (("TS III", 0.9),))], [])
    everything = evaluate([found_low, false_low], classes=SYSTEMS)
    at_floor = evaluate([found_low, false_low], classes=SYSTEMS, floor=0.5)
    assert at_floor.ap50 == everything.ap50 == pytest.approx(1.0)
    assert (everything.recall, everything.false_detections) == (1.0, 1)
    assert (at_floor.recall, at_floor.false_detections, at_floor.top1) == (0.0, 0, 0.0)
