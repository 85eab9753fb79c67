"""The files of a model folder, shared by the model loader (torch) and the registry (no torch).

Reading a card and checking weights against it live here once, so both give the same answers and messages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from implant_desk.core.errors import ModelFileError

WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "card.json"
CARD_FORMAT = "implant-desk-model-card/1"
MAX_CARD_BYTES = 1_000_000  # a card is a small JSON; anything larger is not one


def read_card_json(folder: str | Path) -> dict:
    """The card as JSON (no torch): format and the weights' sha256 checked to be present."""
    path = Path(folder) / CARD_NAME
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            raise ModelFileError(path, "the model card is too large to be a model card")
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(path, "the model card is missing: this folder does not hold a model") from exc
    except OSError as exc:
        raise ModelFileError(path, f"the model card cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError
        raise ModelFileError(path, f"the model card is damaged ({exc})") from exc
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ModelFileError(path, "this is not an implant_desk model card")
    if not isinstance(card.get("weights"), dict) or not card["weights"].get("sha256"):
        raise ModelFileError(path, "the model card does not say which weights belong to it")
    return card


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_weights_digest(weights_path: str | Path, actual_sha256: str, card_sha256: str) -> None:
    if actual_sha256 != card_sha256:
        raise ModelFileError(weights_path, "the weights do not match their card (sha256 differs): the file was "
                             "changed or damaged, or the card belongs to another model")
