"""Patient-level splits: no patient on two sides, seeded, stratified by system; k-fold by patient; summaries."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.learning.dataset import (
    Dataset,
    DatasetError,
    Sample,
    check_patients_disjoint,
    data_warnings,
    patient_folds,
    split_by_patient,
    summarize,
)

SYSTEMS = ("straight-V", "tapered-buttress", "tapered-square")


def _dataset(patients: int = 30, seed: int = 0) -> Dataset:
    """Each patient has one implant system and 1-4 images with 1-2 fixtures."""
    rng = np.random.default_rng(seed)
    samples = []
    for p in range(patients):
        system = SYSTEMS[p % len(SYSTEMS)]
        for visit in range(rng.integers(1, 5)):
            boxes = [Box(system, 10.0 * i, 0, 10.0 * i + 8, 30) for i in range(rng.integers(1, 3))]
            name = f"p{p:02d}_v{visit}.png"
            samples.append(Sample(Path(name), ImageAnnotation(name, 100, 100, 1, boxes), f"patient{p:02d}", name))
    return Dataset(samples, list(SYSTEMS))


def _patients(samples):
    return {s.patient_id for s in samples}


def test_split_keeps_every_patient_on_one_side_and_uses_every_image():
    dataset = _dataset()
    split = split_by_patient(dataset, val_fraction=0.2, test_fraction=0.2, seed=3)
    train, val, test = (_patients(part) for part in (split.train, split.val, split.test))
    assert not (train & val) and not (train & test) and not (val & test)
    assert len(split.train) + len(split.val) + len(split.test) == len(dataset.samples)
    assert 4 <= len(test) <= 8 and 4 <= len(val) <= 8  # about a fifth of 30 patients each


def test_split_is_repeatable_from_its_seed_and_changes_with_it():
    dataset = _dataset()
    first, again = split_by_patient(dataset, seed=1), split_by_patient(dataset, seed=1)
    assert [s.name for s in first.test] == [s.name for s in again.test]
    other = split_by_patient(dataset, seed=2)
    assert _patients(other.test) != _patients(first.test)


def test_split_is_stratified_by_system():
    split = split_by_patient(_dataset(), seed=0)
    for part in (split.train, split.val, split.test):
        assert {label for s in part for label in s.systems} == set(SYSTEMS)


def test_a_test_fraction_of_zero_gives_train_and_validation_only():
    split = split_by_patient(_dataset(), val_fraction=0.25, test_fraction=0.0, seed=0)
    assert split.test == [] and split.val and split.train


def test_too_few_patients_to_hold_out_is_a_clear_error():
    with pytest.raises(DatasetError, match="two patients"):
        split_by_patient(_dataset(patients=2), val_fraction=0.2, test_fraction=0.2)


def test_k_fold_tests_every_patient_exactly_once():
    dataset = _dataset()
    folds = patient_folds(dataset, k=5, seed=0)
    assert len(folds) == 5
    tested = Counter(p for _, test in folds for p in _patients(test))
    assert set(tested) == dataset.patients and set(tested.values()) == {1}
    for train, test in folds:
        assert not (_patients(train) & _patients(test))
    with pytest.raises(DatasetError, match="at least 5 patients"):
        patient_folds(_dataset(patients=3), k=5)


def test_a_patient_in_two_splits_is_refused():
    samples = _dataset(patients=2).samples
    leaked = replace(samples[-1], patient_id=samples[0].patient_id)
    with pytest.raises(AssertionError, match="both the train and the test"):
        check_patients_disjoint({"train": samples[:1], "test": [leaked]})


def test_summary_counts_per_split_and_hash_follows_the_data():
    split = split_by_patient(_dataset(), seed=0)
    summary = summarize(split.parts())
    train = summary["splits"]["train"]
    assert train["images"] == len(split.train)
    assert train["fixtures"] == sum(len(s.annotation.boxes) for s in split.train)
    assert train["patients"] == len(_patients(split.train))
    assert sum(train["systems"].values()) == train["fixtures"]
    assert summarize(split.parts())["file_list_sha256"] == summary["file_list_sha256"]
    relabelled = [replace(split.train[0], annotation=replace(split.train[0].annotation, boxes=[]))] + split.train[1:]
    changed = summarize({"train": relabelled, "val": split.val, "test": split.test})
    assert changed["file_list_sha256"] != summary["file_list_sha256"]


def test_warnings_for_a_system_with_too_few_fixtures_and_a_split_without_a_system():
    dataset = _dataset()
    rare = [Sample(Path("rare.png"), ImageAnnotation("rare.png", 100, 100, 1, [Box("one-piece", 0, 0, 5, 5)]),
                   "patient-rare", "rare.png")]
    parts = {"train": dataset.samples + rare, "val": [s for s in dataset.samples if "straight-V" in s.systems][:1]}
    notes = data_warnings(parts, [*SYSTEMS, "one-piece"])
    assert any(n.startswith("one-piece: only 1 fixture") for n in notes)
    assert any("validation patients have no fixture of tapered-buttress, tapered-square, one-piece" in n for n in notes)
    assert data_warnings({"train": dataset.samples}, SYSTEMS) == []
    assert data_warnings({"train": dataset.samples}, [*SYSTEMS, "none-yet"]) == [
        "none-yet: no fixture to learn from; at least 5 are needed for the model to learn this system"]
