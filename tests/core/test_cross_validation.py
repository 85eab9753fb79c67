"""Patient-grouped k-fold through the orchestrator: every patient tested once, every figure as mean ± std over
the folds, one version registered (the fold model with the best validation score)."""

from __future__ import annotations

import pytest

from implant_desk.core.learning.config import TrainingConfig, TrainingRequest
from implant_desk.core.learning.events import Finished, FoldStarted
from implant_desk.core.learning.metrics import fold_statistics
from implant_desk.core.learning.orchestrator import cross_validation_folds, prepare_training_data, run
from implant_desk.core.registry import Registry

from training_folders import SYSTEMS, TINY_FIT, TINY_SPEC, write_training_folder


def test_each_fold_tests_other_patients_and_validates_apart(tmp_path):
    data = prepare_training_data([write_training_folder(tmp_path / "lab", patients=6)])
    folds = cross_validation_folds(data, 3, 0.2)
    tested = [{s.patient_id for s in fold.split.test} for fold in folds]
    assert set().union(*tested) == data.dataset.patients and sum(map(len, tested)) == 6  # each patient once
    for fold in folds:
        parts = [{s.patient_id for s in part} for part in (fold.split.train, fold.split.val, fold.split.test)]
        assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_fold_statistics_are_mean_and_standard_deviation_of_every_figure():
    folds = [{"top1": 0.8, "top3": 1.0, "ap50": 0.5, "map": 0.3,
              "per_class": {"A": {"sensitivity": 0.5, "specificity": 1.0, "accuracy": 0.75}}},
             {"top1": 1.0, "top3": 1.0, "ap50": 0.7, "map": 0.5, "per_class": {"A": {"sensitivity": None}}}]
    figures = fold_statistics(folds)
    assert figures["folds"] == 2
    assert figures["mean"]["top1"] == pytest.approx(0.9) and figures["std"]["top1"] == pytest.approx(0.1)
    assert figures["mean"]["per_class"]["A"]["sensitivity"] == 0.5  # a fold without the figure does not count
    assert figures["std"]["per_class"]["A"]["sensitivity"] == 0.0


@pytest.mark.slow
def test_a_cross_validated_run_registers_the_best_fold_with_the_figures_over_folds(tmp_path):
    folder = write_training_folder(tmp_path / "lab", patients=6)
    request = TrainingRequest((str(folder),), TrainingConfig(**{**TINY_FIT, "epochs": 1, "folds": 3}), parent=None,
                              val_fraction=0.25, spec_overrides=TINY_SPEC, registry_root=str(tmp_path / "registry"),
                              default_model_dir=str(tmp_path / "no-default"))
    events = []
    final = run(request, events.append)
    assert isinstance(final, Finished)
    assert [(e.fold, e.folds) for e in events if isinstance(e, FoldStarted)] == [(1, 3), (2, 3), (3, 3)]
    cross = final.cross_validation
    assert cross["folds"] == 3 and set(cross["mean"]) >= {"top1", "top3", "ap50", "map", "per_class"}
    assert set(cross["std"]["per_class"]) == set(SYSTEMS)
    assert set(cross["mean"]["per_class"][SYSTEMS[0]]) == {"sensitivity", "specificity", "accuracy"}
    versions = Registry(request.registry_root, request.default_model_dir).versions()
    assert [v.version for v in versions] == [final.version]  # one version for the whole cross-validation
    assert versions[0].card.metrics["cross_validation"] == cross and versions[0].card.metrics["split"] == "test"
