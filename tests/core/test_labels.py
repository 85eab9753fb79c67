"""Which label is which: systems, implants without a system, design parts, other findings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.store import save_annotation
from implant_desk.core.learning.dataset import SOURCE_NAME, load_dataset, split_by_patient, summarize
from implant_desk.core.learning.labels import IMPLANT, OTHER, PART, SYSTEM, LabelRoles
from implant_desk.core.learning.metrics import ImageResult, PredictedFixture, TrueFixture, evaluate


@pytest.mark.parametrize("label, role", [
    ("Implant", IMPLANT), ("dental_implant", IMPLANT), ("FIXTURE", IMPLANT),
    ("Fillings", OTHER), ("Impacted Tooth", OTHER), ("caries", OTHER),
    ("coronal:bone-level+microthreads", PART), ("apical", PART),
    ("tapered-V-bone-level", SYSTEM), ("Alpha BL", SYSTEM),
])
def test_common_names_need_no_mapping(label, role):
    assert LabelRoles().role(label) == role


def test_a_lab_says_once_which_of_its_labels_mean_an_implant():
    roles = LabelRoles.with_implant_labels(["Titanium screw"])
    assert roles.role("titanium-screw") == IMPLANT and roles.role("Alpha BL") == SYSTEM


def _image(path, labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((64, 64), dtype=np.uint8)).save(path)
    boxes = [Box(label, 4 + 10 * i, 4, 12 + 10 * i, 40) for i, label in enumerate(labels)]
    save_annotation(ImageAnnotation(path.name, 64, 64, 1, boxes), path, None, "voc")


def test_other_findings_never_count_as_implants_and_unnamed_implants_train_the_detector_only(tmp_path):
    _image(tmp_path / "a.png", ["Implant", "Fillings", "Cavity", "Alpha BL"])
    _image(tmp_path / "b.png", ["Fillings"])
    _image(tmp_path / "c.png", ["Titanium screw", "coronal:x"])
    dataset = load_dataset([tmp_path], roles=LabelRoles.with_implant_labels(["Titanium screw"]))
    assert dataset.classes == ["Alpha BL"]
    assert dataset.fixtures == 3  # Implant, Alpha BL, Titanium screw
    assert dataset.ignored_labels == {"Fillings": 2, "Cavity": 1, "coronal:x": 1}
    assert dataset.implant_labels == {"Implant": 1, "Titanium screw": 1}
    first = next(s for s in dataset.samples if s.image_path.name == "a.png")
    assert first.systems == ["Alpha BL"] and [f.system for f in first.truth()] == [None, "Alpha BL"]
    assert len(dataset.samples) == 3  # an image of fillings only stays, as a negative


def test_roboflow_copies_of_one_source_radiograph_are_one_patient(tmp_path):
    for name in ("0026_jpg.rf.52fac0a1b2.jpg", "0026_jpg.rf.9e1d3c4f5a.jpg", "0101_jpg.rf.00aa11bb22.jpg",
                 "0207_jpg.rf.aa00bb11cc.jpg", "0311_jpg.rf.bb11cc22dd.jpg"):
        _image(tmp_path / "images" / name, ["Implant"])
    dataset = load_dataset([tmp_path])
    assert dataset.patient_sources == {SOURCE_NAME: 5} and len(dataset.patients) == 4
    split = split_by_patient(dataset, 0.25, 0.25, seed=0)
    sides = {s.image_path.name[:4]: name for name, part in split.parts().items() for s in part}
    assert len(sides) == 4  # both copies of 0026 fell on one side (the split checks it, too)


def test_the_summary_says_what_was_learnt_from_real_films(tmp_path):
    _image(tmp_path / "real" / "a.png", ["Alpha BL", "Implant"])
    generated = tmp_path / "generated"
    _image(generated / "b.png", ["Alpha BL", "Beta TX"])
    (generated / "truth.json").write_text('{"generator": "implant_desk.core.synthetic"}')
    dataset = load_dataset([tmp_path / "real", generated])
    summary = summarize({"train": dataset.samples})
    assert summary["real_fixtures_per_system"] == {"Alpha BL": 1}
    assert summary["splits"]["train"]["implants_without_system"] == 1
    assert summary["splits"]["train"]["fixtures"] == 4 and summary["splits"]["train"]["real_images"] == 1
    assert summary["real_parts"] == 0  # no thirds labelled on the real film
    with_thirds = [replace(s, parts=(Box("coronal", 1, 1, 5, 5),)) for s in dataset.samples]
    assert summarize({"train": with_thirds})["real_parts"] == 1  # the generated film's thirds do not count


def test_implants_without_a_system_count_for_detection_not_for_naming():
    truth = [TrueFixture((0, 0, 10, 30), None), TrueFixture((20, 0, 30, 30), "A")]
    found = [PredictedFixture((0, 0, 10, 30), 0.9, (("B", 0.9),)), PredictedFixture((20, 0, 30, 30), 0.8, (("A", 0.7),)),
             PredictedFixture((50, 0, 60, 30), 0.3, (("A", 0.5),))]
    evaluation = evaluate([ImageResult(found, truth)], ["A", "B"])
    assert evaluation.fixtures == 2 and evaluation.recall == 1.0
    assert evaluation.top1 == 1.0  # only the named fixture is judged for its system
    assert evaluation.false_detections == 1 and evaluation.false_per_image == 1.0
    assert evaluation.to_dict()["recall"] == 1.0


def test_recall_and_false_finds_at_a_detector_threshold_come_from_one_pass():
    from implant_desk.core.learning.metrics import at_score

    truth = [TrueFixture((0, 0, 10, 30), None)]
    found = [PredictedFixture((0, 0, 10, 30), 0.45), PredictedFixture((50, 0, 60, 30), 0.35)]
    results = [ImageResult(found, truth)]
    assert evaluate(at_score(results, 0.3)).false_per_image == 1.0
    at_half = evaluate(at_score(results, 0.5))
    assert at_half.recall == 0.0 and at_half.false_per_image == 0.0
    assert len(results[0].predictions) == 2  # the original is left as it was
