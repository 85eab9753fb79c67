"""``implant-desk train`` then ``evaluate`` end to end on generated radiographs (a tiny, real run)."""

from __future__ import annotations

import json

import pytest

from implant_desk.cli import main
from implant_desk.core.paths import user_cache_dir
from implant_desk.core.registry import Registry


@pytest.mark.slow
def test_train_registers_a_version_that_evaluate_scores(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", str(data), "--images", "8", "--seed", "5", "--format", "png"]) == 0
    capsys.readouterr()

    assert main(["train", str(data), "--epochs", "1", "--image-size", "128", "--batch-size", "4", "--from", "none",
                 "--val-fraction", "0.25", "--test-fraction", "0.25", "--json"]) == 0
    captured = capsys.readouterr()
    last = json.loads(captured.out.strip().splitlines()[-1])
    assert set(last) == {"version", "metrics"}
    assert "training on 8 images" in captured.err and "epoch 1/1" in captured.err

    version = Registry().get(last["version"])
    card = version.card
    assert card["training_data"]["splits"]["train"]["images"] >= 1
    assert len(card["training_data"]["file_list_sha256"]) == 64
    assert card["training"]["hyperparameters"]["epochs"] == 1
    assert card["training"]["device"] == "cpu" and card["training"]["duration_s"] > 0
    assert card["metrics"]["split"] == "test"
    assert card["parent_version"] is None
    assert not list((user_cache_dir() / "training").glob("*.pt"))  # the finished run left no checkpoint

    assert main(["evaluate", str(data), "--model", last["version"], "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"top1", "top3", "ap50", "map", "per_class"} <= set(report)
    assert sum(m["fixtures"] for m in report["per_class"].values()) == report["fixtures"] > 0
    for figures in report["per_class"].values():
        assert {"sensitivity", "specificity", "accuracy", "mean_confidence"} <= set(figures)


def test_train_on_a_folder_without_annotations_is_a_clear_error(tmp_path, capsys):
    assert main(["train", str(tmp_path)]) == 1
    assert "no annotated image found" in capsys.readouterr().err
    assert Registry().versions() == [] or all(v.read_only for v in Registry().versions())


def test_evaluate_refuses_a_threshold_outside_0_to_1(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path), "--threshold", "1.5"]) == 1
    assert "between 0 and 1" in capsys.readouterr().err
