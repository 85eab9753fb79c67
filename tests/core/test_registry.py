"""Model registry: atomic publishing of numbered versions, activate/rollback/delete, export and import."""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from model_files import as_safetensors

from implant_desk.core.errors import ModelFileError
from implant_desk.core.paths import user_data_dir
from implant_desk.core.models.card import CARD_FORMAT, CARD_NAME, WEIGHTS_NAME
from implant_desk.core.registry import (
    Registry,
    RegistryError,
    compare,
)


def write_model(folder: Path, weights: bytes = b"weights", classes=("straight-V", "tapered-V"), **card) -> Path:
    """A model folder as modelfile.save_model lays it out (the registry never parses the weights)."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = as_safetensors(weights)
    (folder / WEIGHTS_NAME).write_bytes(weights)
    content = {"format": CARD_FORMAT, "version": None, "parent_version": None, "created": "2026-11-25T12:00:00+00:00",
               "classes": list(classes), "spec": {"classes": list(classes)},
               "weights": {"file": WEIGHTS_NAME, "sha256": hashlib.sha256(weights).hexdigest(), "dtype": "float32"},
               "metrics": {}, "training": {}, "training_data": {}, **card}
    (folder / CARD_NAME).write_text(json.dumps(content))
    return folder


@pytest.fixture
def registry(tmp_path) -> Registry:
    write_model(tmp_path / "shipped" / "default", b"default weights", version="1")
    return Registry(default_dir=tmp_path / "shipped" / "default")


def publish(registry: Registry, weights: bytes = b"trained", **card):
    with registry.staging() as staged:
        write_model(staged, weights, **card)
        return registry.publish(staged)


def test_the_shipped_default_is_version_1_and_active_until_another_is_chosen(registry):
    assert registry.root == user_data_dir() / "models"
    [default] = registry.versions()
    assert (default.version, default.read_only) == ("1", True)
    assert registry.active().version == "1"


def test_publishing_numbers_versions_and_leaves_no_staging_folder(registry):
    second = publish(registry, b"a", parent_version="1")
    third = publish(registry, b"b", parent_version="2")
    assert (second.version, third.version) == ("2", "3")
    assert [v.version for v in registry.versions()] == ["1", "2", "3"]
    assert json.loads((third.folder / CARD_NAME).read_text())["version"] == "3"
    assert registry.get("v3").card.parent_version == "2"
    assert sorted(p.name for p in registry.root.iterdir()) == ["v2", "v3"]
    assert registry.active().version == "1"  # training does not switch models behind the user's back


def test_a_failed_build_publishes_nothing(registry):
    with pytest.raises(RuntimeError):
        with registry.staging() as staged:
            write_model(staged)
            raise RuntimeError("training crashed")
    assert [v.version for v in registry.versions()] == ["1"]
    assert list(registry.root.iterdir()) == []


def test_weights_that_do_not_match_their_card_are_not_published(registry):
    with registry.staging() as staged:
        write_model(staged, b"good")
        (staged / WEIGHTS_NAME).write_bytes(b"tampered")
        with pytest.raises(ModelFileError, match="sha256"):
            registry.publish(staged)
    assert [v.version for v in registry.versions()] == ["1"]


def test_activate_rollback_and_the_active_file(registry):
    publish(registry, b"a")
    publish(registry, b"b")
    registry.activate("2")
    registry.activate("v3")
    assert registry.active().version == "3"
    assert json.loads((registry.root / "active.json").read_text())["active"] == "3"
    assert registry.rollback().version == "2"
    assert registry.rollback().version == "1"
    with pytest.raises(RegistryError, match="no earlier"):
        registry.rollback()


def test_delete_never_removes_the_active_or_the_shipped_model(registry):
    publish(registry, b"a")
    publish(registry, b"b")
    registry.activate(3)
    with pytest.raises(RegistryError, match="active"):
        registry.delete(3)
    with pytest.raises(RegistryError, match="came with the app"):
        registry.delete(1)
    registry.delete(2)
    assert [v.version for v in registry.versions()] == ["1", "3"]
    assert sorted(p.name for p in registry.root.iterdir()) == ["active.json", "v3"]
    with pytest.raises(RegistryError, match="no model version 2"):
        registry.get(2)


def test_export_then_import_gives_a_new_version_with_the_same_weights(registry, tmp_path):
    version = publish(registry, b"lab weights", classes=("one", "two"))
    exported = registry.export(version.version, tmp_path)
    assert exported.name == "implant-desk-model-v2.idmodel"
    other = Registry(tmp_path / "other-registry", default_dir=tmp_path / "none")
    imported = other.import_file(exported)
    assert imported.version == "2" and imported.card.classes == ("one", "two")
    assert (imported.folder / WEIGHTS_NAME).read_bytes() == as_safetensors(b"lab weights")
    assert imported.card.imported_from == {"file": exported.name, "version": "2"}


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_import_refuses_tampered_weights_extra_members_and_non_zip_files(registry, tmp_path):
    version = publish(registry, b"honest")
    card = (version.folder / CARD_NAME).read_bytes()
    tampered = _zip(tmp_path / "tampered.idmodel", {CARD_NAME: card, WEIGHTS_NAME: b"evil"})
    with pytest.raises(ModelFileError, match="sha256"):
        registry.import_file(tampered)
    smuggled = _zip(tmp_path / "smuggled.idmodel",
                    {CARD_NAME: card, WEIGHTS_NAME: as_safetensors(b"honest"), "../../evil.py": b"x"})
    with pytest.raises(ModelFileError, match="exactly"):
        registry.import_file(smuggled)
    not_zip = tmp_path / "notes.idmodel"
    not_zip.write_text("hello")
    with pytest.raises(ModelFileError, match="not a readable zip"):
        registry.import_file(not_zip)
    assert [v.version for v in registry.versions()] == ["1", "2"]
    assert not (tmp_path.parent / "evil.py").exists()
    assert [p.name for p in registry.root.iterdir() if p.name.startswith(".")] == []


def test_compare_puts_two_versions_side_by_side(registry):
    first = publish(registry, b"a", metrics={"top1": 0.8, "per_class": {"straight-V": {"sensitivity": 0.7}}},
                    training={"device": "cpu", "hyperparameters": {"epochs": 5}},
                    training_data={"splits": {"train": {"images": 30}}, "file_list_sha256": "abc"})
    second = publish(registry, b"b", metrics={"top1": 0.9, "per_class": {"straight-V": {"sensitivity": 0.9}}},
                     training={"device": "cuda", "hyperparameters": {"epochs": 8}}, parent_version="2")
    rows = {what: (a, b) for what, a, b in compare(first, second)}
    assert rows["top1"] == (0.8, 0.9)
    assert rows["straight-V sensitivity"] == (0.7, 0.9)
    assert rows["epochs"] == (5, 8)
    assert rows["device"] == ("cpu", "cuda")
    assert rows["train images"] == (30, None)
    assert rows["parent version"] == (None, "2")


def test_staging_left_by_a_killed_run_is_swept_once_old(registry):
    registry.root.mkdir(parents=True)
    old, recent = registry.root / ".staging-old", registry.root / ".staging-recent"
    for folder in (old, recent):
        write_model(folder)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    publish(registry)
    assert not old.exists() and recent.exists()
    assert [v.version for v in registry.versions()] == ["1", "2"]


def test_an_archive_whose_weights_are_a_pickle_is_refused_at_import(registry, tmp_path):
    import pickle

    weights = pickle.dumps({"w": [1.0, 2.0]})
    card = {"format": CARD_FORMAT, "spec": {"classes": ["a"]}, "classes": ["a"],
            "weights": {"file": WEIGHTS_NAME, "sha256": hashlib.sha256(weights).hexdigest(), "dtype": "float32"}}
    archive = _zip(tmp_path / "pickle.idmodel", {CARD_NAME: json.dumps(card).encode(), WEIGHTS_NAME: weights})
    with pytest.raises(ModelFileError, match="not a safetensors file"):
        registry.import_file(archive)
    assert [v.version for v in registry.versions()] == ["1"]


@pytest.mark.parametrize("card", ["[" * 100_000 + "]" * 100_000, '{"format": %s, "weights": {"sha256": "x"}}',
                                  '{"format": %s, "weights": {"sha256": "x", "dtype": []}}',
                                  '{"format": %s, "weights": {"sha256": "x", "dtype": "float32"}, "spec": 3}',
                                  '{"format": %s, "weights": {"sha256": "x", "dtype": "float32"}, '
                                  '"spec": {"classes": ["a"]}, "notes": 5}'])
def test_one_bad_card_is_reported_and_skipped_while_the_others_are_listed(registry, card, capsys):
    from implant_desk.cli import main

    publish(registry, b"good")
    bad = registry.root / "v3"
    bad.mkdir()
    (bad / CARD_NAME).write_text(card.replace("%s", json.dumps(CARD_FORMAT)) if "%s" in card else card)
    assert [v.version for v in registry.versions()] == ["1", "2"]
    assert [str(p.path) for p in registry.unreadable()] == [str(bad / CARD_NAME)]
    assert main(["models", "list"]) == 0
    captured = capsys.readouterr()
    assert "v3" in captured.err and "Traceback" not in captured.err and len(captured.out.splitlines()) == 2


def test_an_export_carries_the_graphs_and_an_import_checks_them(registry, tmp_path):
    graphs = {"detector.onnx": b"detector graph", "classifier.onnx": b"classifier graph"}
    version = publish(registry, b"lab weights", graphs={n: hashlib.sha256(d).hexdigest() for n, d in graphs.items()})
    for name, data in graphs.items():
        (version.folder / name).write_bytes(data)
    exported = registry.export(version.version, tmp_path)
    with zipfile.ZipFile(exported) as archive:
        assert sorted(archive.namelist()) == sorted([CARD_NAME, WEIGHTS_NAME, *graphs])
    imported = Registry(tmp_path / "other", default_dir=tmp_path / "none").import_file(exported)
    assert imported.card.graphs == version.card.graphs  # the importing lab predicts without torch at once
    assert all((imported.folder / name).read_bytes() == data for name, data in graphs.items())

    card = (version.folder / CARD_NAME).read_bytes()
    weights = as_safetensors(b"lab weights")
    altered = _zip(tmp_path / "altered.idmodel", {CARD_NAME: card, WEIGHTS_NAME: weights,
                                                  "detector.onnx": b"other graph", "classifier.onnx": b"classifier graph"})
    with pytest.raises(ModelFileError, match="graphs do not match"):
        registry.import_file(altered)
    half = _zip(tmp_path / "half.idmodel", {CARD_NAME: card, WEIGHTS_NAME: weights, "detector.onnx": b"detector graph"})
    with pytest.raises(ModelFileError, match="exactly"):
        registry.import_file(half)
    older = Registry(tmp_path / "third", default_dir=tmp_path / "none").import_file(
        _zip(tmp_path / "older.idmodel", {CARD_NAME: card, WEIGHTS_NAME: weights}))
    assert older.card.graphs == {}  # an export made before graphs travelled: its card promises none
