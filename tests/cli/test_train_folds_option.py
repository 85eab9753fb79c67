"""``implant-desk train --folds K``: reaches the run's configuration and prints every figure as mean ± std."""

from __future__ import annotations

import json

from implant_desk.cli import main
from implant_desk.core.learning import orchestrator
from implant_desk.core.learning.events import Finished

CROSS = {"folds": 5, "mean": {"top1": 0.93, "top3": 1.0, "ap50": 0.8, "map": 0.5,
                              "per_class": {"A": {"sensitivity": 0.9, "specificity": 0.95, "accuracy": 0.92}}},
         "std": {"top1": 0.04, "top3": 0.0, "ap50": 0.1, "map": 0.05,
                 "per_class": {"A": {"sensitivity": 0.05, "specificity": 0.02, "accuracy": 0.03}}}}


def _stand_in(requests):
    def run(request, on_event, **_):
        requests.append(request)
        return Finished(version="7", metrics={"top1": 0.9, "ap50": 0.8, "cross_validation": CROSS}, baseline=None,
                        parent=None, stop_reason="completed", epochs_run=3, best_epoch=3, duration_s=9.0,
                        evaluated_on="test", held_out_images=4, held_out_patients=2, classes=("A",),
                        cross_validation=CROSS)

    return run


def test_folds_reach_the_request_and_the_figures_read_as_mean_and_spread(tmp_path, monkeypatch, capsys):
    requests = []
    monkeypatch.setattr(orchestrator, "run", _stand_in(requests))
    assert main(["train", str(tmp_path), "--folds", "5", "--from", "none"]) == 0
    out = capsys.readouterr().out
    assert requests[0].config.folds == 5 and requests[0].parent is None
    assert "top-1 0.93 ± 0.04" in out and "AP50 0.80 ± 0.10" in out
    assert "A: sensitivity 0.90 ± 0.05, specificity 0.95 ± 0.02, accuracy 0.92 ± 0.03" in out
    assert main(["train", str(tmp_path), "--folds", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["metrics"]["cross_validation"] == CROSS


def test_one_fold_is_refused_in_words(tmp_path, capsys):
    assert main(["train", str(tmp_path), "--folds", "1"]) == 1
    assert "folds must be 0 (off) or at least 2" in capsys.readouterr().err
