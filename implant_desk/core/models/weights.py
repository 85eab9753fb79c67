"""A model on disk: ``model.safetensors`` (weights only, no code) plus ``card.json`` (what it is, see ``card``),
and the same networks as ONNX graphs for fast CPU prediction (``graphs``).

Loading never executes anything from the files: safetensors holds raw tensors, the card is JSON. The card
carries the sha256 of the weights file; loading refuses a file whose hash differs (tampered, damaged, or a
card copied next to other weights) and weights whose tensors do not match the architecture the card
describes, each with a ModelFileError that says so in plain words.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from implant_desk.core.atomic import atomic_write_bytes
from implant_desk.core.errors import ModelFileError
from implant_desk.core.models.card import (
    CARD_FORMAT,
    WEIGHTS_DTYPES,
    WEIGHTS_NAME,
    ModelCard,
    check_weights_digest,
    read_card,
    write_card,
)
from implant_desk.core.models.graphs import export_graphs
from implant_desk.core.models.identifier import ImplantIdentifier

_TORCH_DTYPES = {name: getattr(torch, name) for name in WEIGHTS_DTYPES}


@dataclass
class LoadedModel:
    card: ModelCard
    network: ImplantIdentifier
    folder: Path


def save_model(folder: str | Path, network: ImplantIdentifier, card: ModelCard, dtype: str = "float32") -> ModelCard:
    """Write weights, graphs, then card (each atomically) into ``folder``; returns the card as written.

    ``dtype="float16"`` halves the file; floating tensors are restored to float32 on load."""
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_TORCH_DTYPES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: (t.detach().to("cpu", _TORCH_DTYPES[dtype]) if t.is_floating_point() else t.detach().cpu()).contiguous()
               for name, t in network.state_dict().items()}
    data = save_tensors(tensors, metadata={"format": CARD_FORMAT})
    atomic_write_bytes(folder / WEIGHTS_NAME, data)
    written = replace(card, spec=network.spec, weights_sha256=hashlib.sha256(data).hexdigest(), weights_dtype=dtype,
                      graphs=export_graphs(network, folder),
                      created=card.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    write_card(folder, written)
    return written


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
    check_weights_digest(weights_path, hashlib.sha256(data).hexdigest(), card)
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
