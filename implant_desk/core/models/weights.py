"""A model on disk: ``model.safetensors`` (weights only, no code) plus ``card.json`` (what it is).

Loading never executes anything from the files: safetensors holds raw tensors, the card is JSON. The card
carries the sha256 of the weights file; loading refuses a file whose hash differs (tampered, damaged, or a
card copied next to other weights) and weights whose tensors do not match the architecture the card
describes, each with a ModelFileError that says so in plain words.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.errors import ModelFileError
from implant_desk.core.models.card import (
    CARD_FORMAT,
    CARD_NAME,
    WEIGHTS_NAME,
    check_weights_digest,
    read_card_json,
)
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.spec import ModelSpec

_DTYPES = {"float32": torch.float32, "float16": torch.float16}


@dataclass(frozen=True)
class ModelCard:
    spec: ModelSpec
    weights_sha256: str = ""
    weights_dtype: str = "float32"
    version: str | None = None
    parent_version: str | None = None
    created: str = ""
    intended_use: str = ("Demonstration and research only, not for diagnosis. System names describe implant "
                         "designs, not commercial brands.")
    training_data: dict = field(default_factory=dict)  # what it saw, licence, seeds or data summary
    licence: str = "Apache-2.0"
    metrics: dict = field(default_factory=dict)  # held-out figures (implant_desk.core.learning.metrics Evaluation)
    training: dict = field(default_factory=dict)  # hyper-parameters, duration, device
    notes: list[str] = field(default_factory=list)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.spec.classes

    @property
    def systems_learnt_from_real_films(self) -> tuple[str, ...]:
        """The systems it was trained on with real radiographs labelled with them; the others it learnt from
        generated images only, and it does not name them on a real film."""
        counts = self.training_data.get("real_fixtures_per_system") or {}
        return tuple(system for system in self.spec.classes if counts.get(system, 0) > 0)

    def to_dict(self) -> dict:
        return {"format": CARD_FORMAT, "version": self.version, "parent_version": self.parent_version,
                "created": self.created, "classes": list(self.spec.classes), "spec": self.spec.to_dict(),
                "weights": {"file": WEIGHTS_NAME, "sha256": self.weights_sha256, "dtype": self.weights_dtype},
                "intended_use": self.intended_use, "training_data": self.training_data, "licence": self.licence,
                "metrics": self.metrics, "training": self.training, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelCard":
        if data.get("format") != CARD_FORMAT:
            raise ValueError(f"unknown card format {data.get('format')!r}")
        weights = data["weights"]
        if weights.get("dtype") not in _DTYPES:
            raise ValueError(f"unsupported weights dtype {weights.get('dtype')!r}")
        return cls(
            spec=ModelSpec.from_dict(data["spec"]), weights_sha256=str(weights["sha256"]),
            weights_dtype=weights["dtype"], version=data.get("version"), parent_version=data.get("parent_version"),
            created=str(data.get("created", "")), intended_use=str(data.get("intended_use", "")),
            training_data=dict(data.get("training_data") or {}), licence=str(data.get("licence", "")),
            metrics=dict(data.get("metrics") or {}), training=dict(data.get("training") or {}),
            notes=[str(n) for n in data.get("notes") or []],
        )


@dataclass
class LoadedModel:
    card: ModelCard
    network: ImplantIdentifier
    folder: Path


def save_model(folder: str | Path, network: ImplantIdentifier, card: ModelCard, dtype: str = "float32") -> ModelCard:
    """Write weights then card (each atomically) into ``folder``; returns the card as written.

    ``dtype="float16"`` halves the file; floating tensors are restored to float32 on load."""
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: (t.detach().to("cpu", _DTYPES[dtype]) if t.is_floating_point() else t.detach().cpu()).contiguous()
               for name, t in network.state_dict().items()}
    data = save_tensors(tensors, metadata={"format": CARD_FORMAT})
    atomic_write_bytes(folder / WEIGHTS_NAME, data)
    written = replace(card, spec=network.spec, weights_sha256=hashlib.sha256(data).hexdigest(), weights_dtype=dtype,
                      created=card.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    atomic_write_text(folder / CARD_NAME, json.dumps(written.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return written


def read_card(folder: str | Path) -> ModelCard:
    """The card alone (fast: lists and registry views); does not check the weights."""
    data = read_card_json(folder)
    try:
        return ModelCard.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFileError(Path(folder) / CARD_NAME, f"the model card is damaged or not a model card ({exc})") from exc


def load_model(folder: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    """Card, hash check, weights, architecture check; the network comes back in eval mode on ``device``."""
    folder = Path(folder)
    card = read_card(folder)
    weights_path = folder / WEIGHTS_NAME
    try:
        data = weights_path.read_bytes()
    except FileNotFoundError as exc:
        raise ModelFileError(weights_path, "the model weights are missing next to the card") from exc
    except OSError as exc:
        raise ModelFileError(weights_path, f"the model weights cannot be read ({exc.strerror or exc})") from exc
    check_weights_digest(weights_path, hashlib.sha256(data).hexdigest(), card.weights_sha256)
    try:
        tensors = load_tensors(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelFileError(weights_path, f"the weights file is damaged ({exc})") from exc
    network = ImplantIdentifier(card.spec, pretrained=False)
    expected = network.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong_shape = sorted(k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if missing or unexpected or wrong_shape:
        first = (missing or unexpected or wrong_shape)[0]
        raise ModelFileError(weights_path, f"the weights do not fit the network the card describes "
                             f"({len(missing)} missing, {len(unexpected)} unexpected, {len(wrong_shape)} of "
                             f"another shape, e.g. {first!r})")
    network.load_state_dict({k: t.to(expected[k].dtype) for k, t in tensors.items()})
    network.eval()
    return LoadedModel(card=card, network=network.to(device), folder=folder)
