"""A box marked difficult (VOC's flag: its annotator is unsure it is an implant) is ignored, as PASCAL VOC does:
not a fixture to find, not a false find when found, and in training neither fixture nor background."""

import numpy as np
import pytest
import torch

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.learning.dataset import Sample
from implant_desk.core.learning.fit import PreparedImage, _make_batch
from implant_desk.core.learning.metrics import ImageResult, PredictedFixture, TrueFixture, evaluate
from implant_desk.core.models.detector import detection_loss, make_targets
from implant_desk.core.models.spec import ModelSpec

SURE, UNSURE = (0.0, 0.0, 10.0, 30.0), (50.0, 0.0, 60.0, 30.0)


def _found(*boxes_scores):
    return [PredictedFixture(box, score) for box, score in boxes_scores]


def test_a_detection_on_a_difficult_fixture_is_neither_a_hit_nor_a_false_find():
    truth = [TrueFixture(SURE, None), TrueFixture(UNSURE, None, difficult=True)]
    # The difficult fixture found with the best score: ignored, so the ranking is perfect.
    on_both = evaluate([ImageResult(_found((UNSURE, 0.9), (SURE, 0.8)), truth)])
    assert on_both.ap50 == pytest.approx(1.0)
    assert on_both.fixtures == 1 and on_both.recall == 1.0 and on_both.false_detections == 0
    # Missing it costs nothing either; a find elsewhere is still false.
    missed = evaluate([ImageResult(_found((SURE, 0.8), ((100.0, 0, 110.0, 30.0), 0.9)), truth)])
    assert missed.recall == 1.0 and missed.false_detections == 1 and missed.ap50 < 1.0
    # The same boxes without the flag: the finds on it count.
    plain = evaluate([ImageResult(_found((SURE, 0.8)), [TrueFixture(SURE, None), TrueFixture(UNSURE, None)])])
    assert plain.fixtures == 2 and plain.recall == 0.5


def test_a_fixture_overlapping_a_difficult_one_is_still_found_first():
    truth = [TrueFixture(UNSURE, None, difficult=True), TrueFixture((50.0, 0.0, 60.0, 28.0), None)]
    result = evaluate([ImageResult(_found(((50.0, 0.0, 60.0, 29.0), 0.9)), truth)])
    assert result.recall == 1.0 and result.false_detections == 0


def test_a_sample_carries_the_difficult_flag_of_its_boxes(tmp_path):
    annotation = ImageAnnotation("a.png", 100, 40, boxes=[Box("Implant", *SURE), Box("Implant", *UNSURE, difficult=True)])
    sample = Sample(tmp_path / "a.png", annotation, "a", implant_labels=frozenset({"Implant"}))
    assert [(f.system, f.difficult) for f in sample.truth()] == [(None, False), (None, True)]


def test_training_teaches_no_background_inside_a_difficult_box():
    targets = make_targets([torch.tensor([SURE])], (8, 16), 4, [torch.tensor([UNSURE])])
    assert targets["ignore"][0, :, 12:15].all() and targets["ignore"][0, :, :12].sum() == 0
    # A confident output on the difficult box costs nothing; on plain background it does.
    logits = torch.full((1, 5, 8, 16), -6.0)
    baseline = detection_loss(logits, targets)
    on_unsure, elsewhere = logits.clone(), logits.clone()
    on_unsure[0, 0, 2:6, 12:15] = 4.0
    elsewhere[0, 0, 2:6, 6:9] = 4.0
    assert detection_loss(on_unsure, targets) == pytest.approx(float(baseline), rel=1e-4)
    assert detection_loss(elsewhere, targets) > baseline + 1


def test_a_difficult_fixture_is_ignored_by_the_detector_and_teaches_the_classifier_nothing():
    image = np.full((64, 64), 30, np.uint8)
    boxes = np.array([[4, 4, 12, 50], [40, 4, 48, 50]], np.float32)
    item = PreparedImage(det_image=image, det_boxes=boxes, image=image, boxes=boxes, labels=np.array([0, 1]),
                         difficult=np.array([False, True]))
    batch = _make_batch([item], ModelSpec(classes=("a", "b"), det_size=64, crop_size=(32, 16)), None,
                        np.random.default_rng(0))
    assert batch.boxes[0].tolist() == [boxes[0].tolist()] and batch.ignored[0].tolist() == [boxes[1].tolist()]
    assert batch.labels.tolist() == [0]
