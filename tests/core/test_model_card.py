"""The model card: one torch-free type that reads and writes card.json and keeps what a newer card adds."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import replace

import pytest
from model_files import as_safetensors

from implant_desk.core.errors import ModelFileError
from implant_desk.core.models.card import CARD_NAME, WEIGHTS_NAME, ModelCard, read_card, write_card
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.registry import DEFAULT_MODEL_DIR, Registry

SPEC = ModelSpec(classes=("straight-V", "tapered-V"), det_size=64, crop_size=(32, 16))


def _card(**fields) -> ModelCard:
    return replace(ModelCard(spec=SPEC, weights_sha256=hashlib.sha256(b"weights").hexdigest(), version="4",
                             parent_version="2", created="2026-11-25T12:00:00+00:00", training_data={"images": 30},
                             metrics={"top1": 0.75}, training={"device": "cpu"}, notes=["a note"]), **fields)


def test_a_card_survives_the_round_trip_through_json(tmp_path):
    card = _card(imported_from={"file": "lab.idmodel", "version": "3"})
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card
    write_card(tmp_path, card)
    assert read_card(tmp_path) == card
    on_disk = json.loads((tmp_path / CARD_NAME).read_text(encoding="utf-8"))
    assert list(on_disk) == ["format", "version", "parent_version", "created", "classes", "spec", "weights",
                             "intended_use", "training_data", "licence", "metrics", "training", "notes",
                             "imported_from"]
    assert on_disk["weights"] == {"file": WEIGHTS_NAME, "sha256": card.weights_sha256, "dtype": "float32"}
    assert "imported_from" not in _card().to_dict()  # written only for imported models, as before


def test_the_shipped_default_card_loads_and_writes_back_the_same_json():
    data = json.loads((DEFAULT_MODEL_DIR / CARD_NAME).read_text(encoding="utf-8"))
    card = read_card(DEFAULT_MODEL_DIR)
    assert card.version == "1" and card.parent_version is None
    assert card.classes == tuple(data["classes"]) and card.weights_sha256 == data["weights"]["sha256"]
    assert card.to_dict() == data


def test_keys_of_a_newer_card_are_kept_when_it_is_rewritten(tmp_path):
    newer = {**_card().to_dict(), "calibration": {"temperature": 1.3}}
    newer["spec"]["input_channels"] = 1
    newer["weights"]["shards"] = 1
    card = ModelCard.from_dict(newer)
    assert card.unknown == {"calibration": {"temperature": 1.3}, "spec": {"input_channels": 1},
                            "weights": {"shards": 1}}
    assert replace(card, version="9").to_dict() == {**newer, "version": "9"}


def test_publish_and_import_keep_the_keys_of_a_newer_card(tmp_path):
    registry = Registry(tmp_path / "registry", default_dir=tmp_path / "no-default")
    newer = {**_card(version=None).to_dict(), "calibration": {"temperature": 1.3}}
    newer["spec"]["input_channels"] = 1
    weights = as_safetensors(b"weights")
    newer["weights"]["sha256"] = hashlib.sha256(weights).hexdigest()
    with registry.staging() as staged:
        (staged / WEIGHTS_NAME).write_bytes(weights)
        (staged / CARD_NAME).write_text(json.dumps(newer), encoding="utf-8")
        published = registry.publish(staged)
    other = Registry(tmp_path / "other", default_dir=tmp_path / "no-default")
    imported = other.import_file(registry.export(published.version, tmp_path))
    on_disk = json.loads((imported.folder / CARD_NAME).read_text(encoding="utf-8"))
    assert on_disk["calibration"] == {"temperature": 1.3} and on_disk["spec"]["input_channels"] == 1
    assert (on_disk["version"], on_disk["imported_from"]) == ("2", {"file": "implant-desk-model-v2.idmodel",
                                                                    "version": "2"})


@pytest.mark.parametrize("damage", [{"weights": {"sha256": "x", "dtype": "int8"}}, {"spec": {}},
                                    {"format": "implant-desk-model-card/9"}])
def test_a_card_this_version_cannot_read_is_refused_in_words(tmp_path, damage):
    (tmp_path / CARD_NAME).write_text(json.dumps({**_card().to_dict(), **damage}), encoding="utf-8")
    with pytest.raises(ModelFileError, match="card"):
        read_card(tmp_path)


def test_the_registry_reads_cards_without_importing_torch():
    script = ("import sys\n"
              "from implant_desk.core.registry import Registry\n"
              "from implant_desk.core.models.card import read_card\n"
              "versions = Registry().versions()\n"
              "assert versions and versions[0].card.classes\n"
              "assert read_card(versions[0].folder).version == '1'\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'safetensors')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
