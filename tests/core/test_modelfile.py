"""Model files: safetensors + JSON card; loading checks the hash and the architecture and runs no code."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from implant_desk.core.errors import ModelFileError
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.card import CARD_NAME, WEIGHTS_NAME, ModelCard, read_card, sha256_file
from implant_desk.core.models.weights import load_model, save_model
from implant_desk.core.models.spec import ModelSpec

from tiny_radiographs import one_torch_thread  # noqa: F401 (autouse fixture)

SPEC = ModelSpec(classes=("a", "b", "c"), det_size=64, crop_size=(32, 16))


def _saved(folder: Path, spec: ModelSpec = SPEC, dtype: str = "float32") -> tuple[ImplantIdentifier, ModelCard]:
    torch.manual_seed(0)
    network = ImplantIdentifier(spec, pretrained=False).eval()
    card = save_model(folder, network, ModelCard(spec=spec, version="7", metrics={"top1": 0.5}), dtype=dtype)
    return network, card


def _outputs(network: ImplantIdentifier) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    with torch.no_grad():
        return network.detector(torch.randn(1, 1, 64, 64)), network.classifier(torch.randn(2, 1, 32, 16))


def test_round_trip_gives_the_same_network_and_card(tmp_path):
    network, card = _saved(tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.card == card
    assert loaded.card.classes == ("a", "b", "c")
    assert card.weights_sha256 == sha256_file(tmp_path / WEIGHTS_NAME)
    for expected, actual in zip(_outputs(network), _outputs(loaded.network)):
        torch.testing.assert_close(actual, expected)
    on_disk = json.loads((tmp_path / CARD_NAME).read_text())
    assert on_disk["weights"]["sha256"] == card.weights_sha256
    assert on_disk["classes"] == ["a", "b", "c"] and on_disk["spec"]["det_size"] == 64
    assert "not for diagnosis" in on_disk["intended_use"]


def test_float16_storage_halves_the_file_and_loads_as_float32(tmp_path):
    _saved(tmp_path / "32")
    network, _ = _saved(tmp_path / "16", dtype="float16")
    size32 = (tmp_path / "32" / WEIGHTS_NAME).stat().st_size
    size16 = (tmp_path / "16" / WEIGHTS_NAME).stat().st_size
    assert size16 < 0.55 * size32
    loaded = load_model(tmp_path / "16")
    assert all(p.dtype == torch.float32 for p in loaded.network.parameters())
    for expected, actual in zip(_outputs(network), _outputs(loaded.network)):
        torch.testing.assert_close(actual, expected, rtol=0.02, atol=0.02)


def test_changed_weights_are_refused(tmp_path):
    _saved(tmp_path)
    data = bytearray((tmp_path / WEIGHTS_NAME).read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / WEIGHTS_NAME).write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(tmp_path)


def test_a_card_next_to_other_weights_is_refused(tmp_path):
    _saved(tmp_path / "three")
    _saved(tmp_path / "two", ModelSpec(classes=("a", "b"), det_size=64, crop_size=(32, 16)))
    (tmp_path / "three" / CARD_NAME).write_bytes((tmp_path / "two" / CARD_NAME).read_bytes())
    with pytest.raises(ModelFileError, match="do not match their card"):
        load_model(tmp_path / "three")


def test_a_card_describing_another_architecture_is_refused(tmp_path):
    _saved(tmp_path)
    card = json.loads((tmp_path / CARD_NAME).read_text())
    card["spec"]["classes"] = card["classes"] = ["a", "b"]  # hash still right: only the description lies
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="do not fit the network"):
        load_model(tmp_path)


def test_a_card_of_an_unknown_architecture_is_refused(tmp_path):
    _saved(tmp_path)
    card = json.loads((tmp_path / CARD_NAME).read_text())
    card["spec"]["architecture"] = "some-future-network/9"
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="not supported"):
        load_model(tmp_path)


@pytest.mark.parametrize("damage", ["missing card", "missing weights", "not json", "not a card", "huge card"])
def test_damaged_model_folders_give_a_clear_error(tmp_path, damage):
    _saved(tmp_path)
    card_path = tmp_path / CARD_NAME
    if damage == "missing card":
        card_path.unlink()
    elif damage == "missing weights":
        (tmp_path / WEIGHTS_NAME).unlink()
    elif damage == "not json":
        card_path.write_text("{ this is not json")
    elif damage == "not a card":
        card_path.write_text(json.dumps({"format": "something else"}))
    else:
        card_path.write_text(" " * 2_000_000)
    with pytest.raises(ModelFileError):
        load_model(tmp_path)


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_posing_as_weights_never_runs(tmp_path):
    _saved(tmp_path)
    marker = tmp_path / "pwned"
    (tmp_path / WEIGHTS_NAME).write_bytes(pickle.dumps({"x": _Exploit(marker)}))
    card = json.loads((tmp_path / CARD_NAME).read_text())
    card["weights"]["sha256"] = sha256_file(tmp_path / WEIGHTS_NAME)  # even with a matching hash
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(tmp_path)
    assert not marker.exists()


def test_read_card_alone(tmp_path):
    _, card = _saved(tmp_path)
    assert read_card(tmp_path) == card
