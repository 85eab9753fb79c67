"""``implant-desk models``: list, show, compare, activate, rollback, delete, export and import from the shell."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from model_files import as_safetensors

from implant_desk.cli import main
from implant_desk.core import registry as registry_module
from implant_desk.core.models.card import CARD_FORMAT, CARD_NAME, WEIGHTS_NAME
from implant_desk.core.registry import Registry


def _model(folder: Path, weights: bytes, **card) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    weights = as_safetensors(weights)
    (folder / WEIGHTS_NAME).write_bytes(weights)
    content = {"format": CARD_FORMAT, "created": "2026-11-25T12:00:00+00:00", "classes": ["straight-V", "tapered-V"],
               "spec": {"classes": ["straight-V", "tapered-V"]},
               "weights": {"file": WEIGHTS_NAME, "sha256": hashlib.sha256(weights).hexdigest(), "dtype": "float32"},
               **card}
    (folder / CARD_NAME).write_text(json.dumps(content))


@pytest.fixture
def registry(tmp_path, monkeypatch) -> Registry:
    """The shipped default plus two trained versions in the test's own user folder."""
    monkeypatch.setattr(registry_module, "DEFAULT_MODEL_DIR", tmp_path / "default")
    _model(tmp_path / "default", b"shipped", version="1", metrics={"top1": 0.9})
    reg = Registry()
    for weights, parent in ((b"two", "1"), (b"three", "2")):
        with reg.staging() as staged:
            _model(staged, weights, parent_version=parent, metrics={"top1": 0.5 + len(weights) / 100})
            reg.publish(staged)
    return reg


def test_list_marks_the_active_version(registry, capsys):
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["*", "v1"], ["v2", "2026-11-25T12:00:00"], ["v3", "2026-11-25T12:00:00"]]
    assert "shipped, read-only" in lines[0] and "from v2" in lines[2]
    assert main(["models", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["version"], r["active"]) for r in rows] == [("1", True), ("2", False), ("3", False)]


def test_activate_show_rollback(registry, capsys):
    assert main(["models", "activate", "v3"]) == 0
    assert capsys.readouterr().out.strip() == "active model: v3"
    assert main(["models", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "3"
    assert main(["models", "show", "2"]) == 0
    assert "parent version: 1" in capsys.readouterr().out
    assert main(["models", "rollback"]) == 0
    assert capsys.readouterr().out.strip() == "active model: v1"


def test_show_lists_the_trained_systems_and_says_a_design_model_ranks_the_catalogues_others(registry, capsys):
    from implant_desk.core.catalogue import ATTRIBUTES, load_systems
    from implant_desk.core.models.spec import ModelSpec

    names = [system.name for system in load_systems()]
    spec = ModelSpec.reading_design(names[:3], {name: values for name, (_, values) in ATTRIBUTES.items()})
    with registry.staging() as staged:
        _model(staged, b"design", classes=names[:3], spec=spec.to_dict())
        version = registry.publish(staged).version
    assert main(["models", "show", version]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"systems: {', '.join(names[:3])}" in lines
    design = next(line for line in lines if line.startswith("design: "))
    assert "apical_hole" in design and f"ranks the catalogue's {len(names) - 3} other systems by design" in design
    assert main(["models", "show", "1"]) == 0  # a model that names its systems only
    shown = capsys.readouterr().out
    assert "systems: straight-V, tapered-V" in shown and "design" not in shown


def test_compare_prints_both_columns(registry, capsys):
    assert main(["models", "compare", "2", "3"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["top1"] == ["0.530", "0.550"]
    assert rows["version"] == ["2", "3"]


def test_delete_refuses_the_active_model_with_a_message(registry, capsys):
    assert main(["models", "delete", "1"]) == 1
    assert "cannot be deleted" in capsys.readouterr().err
    assert main(["models", "delete", "2"]) == 0
    assert [v.version for v in registry.versions()] == ["1", "3"]


def test_export_then_import(registry, tmp_path, capsys):
    assert main(["models", "export", "3", str(tmp_path / "lab.idmodel")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "lab.idmodel")
    assert main(["models", "import", str(tmp_path / "lab.idmodel")]) == 0
    assert capsys.readouterr().out.strip() == "imported as v4"
    assert (registry.get(4).folder / WEIGHTS_NAME).read_bytes() == as_safetensors(b"three")
    assert main(["models", "show", "9"]) == 1
    assert "no model version 9" in capsys.readouterr().err
