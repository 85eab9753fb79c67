"""``implant-desk train`` then ``evaluate`` end to end on generated radiographs (a tiny, real run)."""

from __future__ import annotations

import json

import pytest

from implant_desk.cli import main
from implant_desk.core.paths import user_cache_dir
from implant_desk.core.registry import Registry

from training_folders import write_training_folder


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
    card = version.card.to_dict()  # as written to card.json
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


@pytest.fixture
def saved_elsewhere(tmp_path):
    """A lab folder whose annotations the window saved in a separate folder (LabelImg's "Change Save Dir")."""
    images = write_training_folder(tmp_path / "lab", patients=2)
    saved = tmp_path / "annotations"
    saved.mkdir()
    for xml in images.glob("*.xml"):
        xml.rename(saved / xml.name)
    return images, saved


def test_evaluate_reads_the_annotations_from_the_annotations_folder(saved_elsewhere, capsys):
    images, saved = saved_elsewhere
    assert main(["evaluate", str(images), "--model", "default", "--device", "cpu", "--annotations", str(saved),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 4 and report["fixtures"] == 8  # every box saved in the annotations folder


def test_train_reads_the_annotations_folder_and_says_where_it_looked(saved_elsewhere, tmp_path, capsys):
    images, saved = saved_elsewhere
    assert main(["train", str(images)]) == 1  # beside the images there is nothing
    assert "no annotated image found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", str(images), "--annotations", str(empty)]) == 1
    assert f"(annotations in {empty})" in capsys.readouterr().err


def test_help_says_how_one_annotations_folder_serves_several_data_folders(capsys):
    for command in ("train", "evaluate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--annotations DIR" in text and "serves the images of every DATA folder" in text
