"""The fine-tune steps around ``fit``: data preparation, the resume key, and publishing with a full card."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from imaging_samples import gradient, write_dicom
from PIL import Image

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import write_voc
from implant_desk.core.learning.config import TrainingConfig
from implant_desk.core.learning.events import EpochEnded
from implant_desk.core.learning.fit import planned_epochs
from implant_desk.core.learning.orchestrator import (
    checkpoint_path,
    evaluate_samples,
    prepare_training_data,
    publish_result,
    training_spec,
)
from implant_desk.core.registry import Registry

SYSTEMS = ("straight-V", "tapered-buttress", "tapered-square")


@pytest.fixture
def folder(tmp_path) -> Path:
    """12 patients, 2 images each, one system per patient; patients listed in patients.csv."""
    rows = ["file,patient"]
    for p in range(12):
        for visit in range(2):
            name = f"p{p}_{visit}.png"
            Image.fromarray(np.zeros((48, 64), np.uint8)).save(tmp_path / name)
            boxes = [Box(SYSTEMS[p % 3], 10, 5, 20, 40), Box(SYSTEMS[p % 3], 30, 5, 40, 40)]
            write_voc(tmp_path / f"p{p}_{visit}.xml", ImageAnnotation(name, 64, 48, 1, boxes))
            rows.append(f"{name},patient{p}")
    (tmp_path / "patients.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_prepared_data_says_what_it_will_train_on(folder):
    data = prepare_training_data([folder], seed=0)
    assert data.describe() == f"24 images, 48 fixtures, 12 patients, 3 systems ({', '.join(SYSTEMS)})"
    splits = data.summary["splits"]
    assert sum(s["patients"] for s in splits.values()) == 12
    assert sum(s["images"] for s in splits.values()) == 24
    assert data.summary["patient_sources"] == {"patients.csv": 24}
    # 2 or 3 patients per held-out split cannot hold all three systems: said, not hidden.
    assert any("patients have no fixture of" in w for w in data.warnings) == any(
        len(s["systems"]) < 3 for name, s in splits.items() if name != "train")


def test_a_damaged_dicom_is_skipped_with_a_warning_that_names_it(folder):
    """One DICOM cut short stopped the whole run when training decoded it (issue 16): data preparation skips
    it, says which file and why, and keeps the others."""
    damaged = write_dicom(folder / "cut.dcm", gradient(48, 64))
    damaged.write_bytes(damaged.read_bytes()[:-1000])
    write_voc(folder / "cut.xml", ImageAnnotation("cut.dcm", 64, 48, 1, [Box(SYSTEMS[0], 10, 5, 20, 40)]))
    data = prepare_training_data([folder], seed=0)
    assert data.describe().startswith("24 images, 48 fixtures")
    reason = "the file is damaged: its image data is shorter than the header says (the file may be cut short)"
    assert [w for w in data.warnings if str(damaged) in w] == [f"skipped: {damaged}: {reason}"]


def test_checkpoint_key_follows_data_and_settings(folder):
    data = prepare_training_data([folder], seed=0)
    spec = training_spec(data.dataset.classes, None)
    config = TrainingConfig(epochs=3)
    first = checkpoint_path(data, spec, config)
    assert first == checkpoint_path(data, spec, replace(config, time_limit_s=60))  # a longer run resumes
    assert first != checkpoint_path(data, spec, replace(config, epochs=4))
    assert first != checkpoint_path(prepare_training_data([folder], seed=1), spec, config)


def test_training_spec_keeps_the_parents_sizes_with_the_new_systems(folder):
    from implant_desk.core.models.card import ModelCard
    from implant_desk.core.models.spec import ModelSpec

    parent_card = ModelCard(spec=ModelSpec(classes=("a",), det_size=256, crop_size=(160, 80)))
    parent = type("Parent", (), {"card": parent_card})()
    spec = training_spec(["x", "y"], parent)
    assert (spec.classes, spec.det_size, spec.crop_size) == (("x", "y"), 256, (160, 80))
    assert training_spec(["x"], None, det_size=128).det_size == 128


def test_publish_result_writes_weights_and_a_complete_card(folder, tmp_path):
    torch = pytest.importorskip("torch")
    from implant_desk.core.models.identifier import ImplantIdentifier
    from implant_desk.core.models.weights import load_model
    from implant_desk.core.models.predictor import Predictor
    from implant_desk.core.learning.fit import FitResult

    torch.manual_seed(0)
    data = prepare_training_data([folder], seed=0)
    spec = training_spec(data.dataset.classes, None, det_size=64)
    network = ImplantIdentifier(spec, pretrained=False).eval()
    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes(b"checkpoint")
    result = FitResult(network=network, history=[EpochEnded(epoch=1, epochs=1, phase="heads", train_loss=1.5,
                                                            val={"top1": 0.5}, monitor="top1", best_epoch=1,
                                                            elapsed_s=3.0, eta_s=0.0)],
                       best_epoch=1, best_metrics={"top1": 0.5}, stop_reason="completed", epochs_run=1,
                       duration_s=3.2, device="cpu", config=TrainingConfig(epochs=1, checkpoint_path=str(checkpoint)).to_dict())
    evaluation = evaluate_samples(Predictor.from_network(network), data.split.test, data.dataset.classes, threshold=0.5)
    registry = Registry(tmp_path / "registry", default_dir=tmp_path / "no-default")
    version = publish_result(result, data, None, evaluation, "test", 0.5, registry)

    assert version.version == "2"
    card = version.card.to_dict()  # as written to card.json
    assert card["version"] == "2" and card["parent_version"] is None
    assert card["classes"] == list(SYSTEMS)
    assert card["training_data"]["splits"] == data.summary["splits"]
    assert card["training_data"]["file_list_sha256"] == data.summary["file_list_sha256"]
    assert card["training"]["hyperparameters"]["epochs"] == 1 and "checkpoint_path" not in card["training"]["hyperparameters"]
    assert (card["training"]["device"], card["training"]["duration_s"]) == ("cpu", 3.2)
    assert card["training"]["history"] == [{"epoch": 1, "phase": "heads", "train_loss": 1.5, "val": {"top1": 0.5},
                                            "elapsed_s": 3.0}]
    assert card["metrics"]["split"] == "test" and card["metrics"]["fixtures"] == evaluation.fixtures
    assert card["created"]
    assert not checkpoint.exists()
    assert load_model(version.folder).card.version == "2"  # the published card still matches its weights


def test_a_time_limit_shortens_the_schedule_so_the_learning_rate_has_decayed_by_it():
    half_hour = TrainingConfig(epochs=30, time_limit_s=1800)
    assert planned_epochs(half_hour, 1, [], 0.0) == 30  # nothing measured yet
    assert planned_epochs(half_hour, 2, [600.0], 600.0) == 3  # 1200 s left: two more 600-s epochs
    assert planned_epochs(half_hour, 3, [600.0, 700.0], 1300.0) == 3  # this one will be cut: never below it
    assert planned_epochs(TrainingConfig(epochs=4, time_limit_s=1800), 2, [60.0], 60.0) == 4  # all fit in time
    assert planned_epochs(TrainingConfig(epochs=30), 2, [600.0], 600.0) == 30  # no limit
