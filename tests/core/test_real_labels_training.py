"""Training on real films whose labels name no system: the labels' roles reach the run, the parent's systems
stay, the classifier is calibrated on named fixtures only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from implant_desk.app.finetune.controller import FinetuneOptions, labels_text, make_plan
from implant_desk.cli import main
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import write_voc
from implant_desk.core.learning import orchestrator
from implant_desk.core.learning.config import TrainingError
from implant_desk.core.learning.fit import PreparedImage, classifier_logits
from implant_desk.core.models.card import ModelCard
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.registry import ModelVersion


def _films(folder, labels_per_image):
    folder.mkdir(parents=True, exist_ok=True)
    import cv2

    for index, labels in enumerate(labels_per_image):
        name = f"{index:04d}_jpg.rf.{index:010x}.png"
        cv2.imwrite(str(folder / name), np.full((64, 64), 40, np.uint8))
        boxes = [Box(label, 4 + 12 * i, 4, 12 + 12 * i, 50) for i, label in enumerate(labels)]
        write_voc(folder / name.replace(".png", ".xml"), ImageAnnotation(name, 64, 64, 1, boxes))
    return folder


def test_the_plan_says_which_labels_are_implants_and_which_are_left_out(tmp_path):
    folder = _films(tmp_path / "films", [["Implant", "Fillings"], ["Implant", "Implant", "Cavity"], ["Screw"]] * 2)
    plan = make_plan(folder)
    assert plan.can_start and plan.systems == (("Screw", 2),)  # an unknown label is taken for a system name
    assert plan.labels == ("Implants without a system, which teach finding implants only: Implant (6). "
                           "Not implants, left out: Fillings (2), Cavity (2).")
    said_once = make_plan(folder, implant_labels=("Screw",))
    assert "Implant (6), Screw (2)" in said_once.labels
    assert FinetuneOptions(implant_labels=("Screw",)).request(folder).implant_labels == ("Screw",)
    assert labels_text({}, {}) == ""


def test_the_cli_passes_the_implant_labels_to_the_run(tmp_path, monkeypatch):
    requests = []
    monkeypatch.setattr(orchestrator, "run", lambda request, **_: requests.append(request))
    main(["train", str(tmp_path), "--implant-labels", "Screw", "--implant-labels", "Titanium post"])
    assert requests[0].implant_labels == ("Screw", "Titanium post")


def test_data_that_names_no_system_keeps_the_parents_systems():
    spec = ModelSpec(classes=("a", "b"), det_size=128, temperature=1.7)
    parent = ModelVersion("3", None, ModelCard(spec=spec))
    assert orchestrator.training_spec([], parent) == spec
    assert orchestrator.training_spec([], parent, det_size=384).det_size == 384
    with pytest.raises(TrainingError, match="No box names an implant system"):
        orchestrator.training_spec([], None)


def test_calibration_sees_the_crops_of_named_fixtures_only():
    torch.manual_seed(0)
    network = ImplantIdentifier(ModelSpec(classes=("a", "b"), det_size=64, crop_size=(32, 16)), pretrained=False)
    image = np.full((64, 64), 30, np.uint8)
    named = PreparedImage(det_image=image, det_boxes=np.zeros((3, 4), np.float32), image=image,
                          boxes=np.array([[4, 4, 12, 50], [20, 4, 28, 50], [40, 4, 48, 50]], np.float32),
                          labels=np.array([1, -1, 0]))
    logits, labels = classifier_logits(network, [named])
    assert logits.shape == (2, 2) and labels.tolist() == [1, 0]
    assert classifier_logits(network, [])[0].shape == (0, 2)
