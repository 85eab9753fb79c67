"""The folders' unannotated images reach pre-training, except those of the patients the figures are measured on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from implant_desk.core.learning import fit, pretrain
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import write_voc
from implant_desk.core.learning.dataset import load_dataset
from implant_desk.core.learning.orchestrator import prepare_training_data, pretraining_images, train, training_spec
from implant_desk.core.learning.config import TrainingConfig

SYSTEMS = ("straight-V", "tapered-buttress", "tapered-square")


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((48, 64), np.uint8)).save(path)


@pytest.fixture
def folder(tmp_path) -> Path:
    """12 patients in patients.csv with two annotated images and one unannotated image each, plus an
    unannotated image nobody is listed for."""
    rows = ["file,patient"]
    for p in range(12):
        for visit in range(2):
            name = f"p{p}_{visit}.png"
            _image(tmp_path / name)
            write_voc(tmp_path / f"p{p}_{visit}.xml",
                      ImageAnnotation(name, 64, 48, 1, [Box(SYSTEMS[p % 3], 10, 5, 20, 40)]))
            rows.append(f"{name},patient{p}")
        _image(tmp_path / f"p{p}_plain.png")
        rows.append(f"p{p}_plain.png,patient{p}")
    _image(tmp_path / "unlisted.png")
    (tmp_path / "patients.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_the_dataset_lists_the_images_without_annotations(folder):
    dataset = load_dataset([folder])
    assert len(dataset.samples) == 24
    assert sorted(p.name for p in dataset.unannotated) == sorted([f"p{p}_plain.png" for p in range(12)] + ["unlisted.png"])
    assert dataset.patient_of(folder / "p3_plain.png") == "patient3"
    assert dataset.patient_of(folder / "unlisted.png") == f"{folder.name}/unlisted.png"  # its own patient


def test_sub_folders_name_the_patients_of_unannotated_images_too(tmp_path):
    for patient in ("anna", "ben"):
        _image(tmp_path / patient / "a.png")
        write_voc(tmp_path / patient / "a.xml", ImageAnnotation("a.png", 64, 48, 1, [Box("x", 1, 1, 9, 9)]))
        _image(tmp_path / patient / "b.png")
    dataset = load_dataset([tmp_path])
    assert {dataset.patient_of(p) for p in dataset.unannotated} == {f"{tmp_path.name}/anna", f"{tmp_path.name}/ben"}


def test_held_out_patients_unannotated_images_are_left_out(folder):
    data = prepare_training_data([folder])
    held = {s.patient_id for s in (*data.split.val, *data.split.test)}
    assert held
    chosen = pretraining_images(data)
    patients = {data.dataset.patient_of(p) for p in chosen}
    assert not patients & held
    training_patients = {s.patient_id for s in data.split.train}
    assert training_patients <= patients and folder / "unlisted.png" in chosen
    assert len(chosen) == len(training_patients) + 1


def test_train_passes_them_only_when_pretraining_is_on(folder, monkeypatch, tmp_path):
    data = prepare_training_data([folder])
    passed = []

    class Fitted(Exception):
        """The stand-in fit: what reached pre-training is all this test needs."""

    def stand_in_fit(*_args, **_kwargs):
        raise Fitted()

    monkeypatch.setattr(pretrain, "pretrain_before_fit", lambda network, images, unlabelled, *_: passed.append(unlabelled))
    monkeypatch.setattr(fit, "fit", stand_in_fit)
    spec = training_spec(data.dataset.classes, parent=None, det_size=64)
    tiny = TrainingConfig(pretrained=False, device="cpu")
    for config in (replace(tiny, pretrain_epochs=2, checkpoint_path=str(tmp_path / "a.ckpt")),
                   replace(tiny, checkpoint_path=str(tmp_path / "b.ckpt"))):
        with pytest.raises(Fitted):
            train(data, spec, config)
    assert passed == [pretraining_images(data)]  # and nothing when pre-training is off
