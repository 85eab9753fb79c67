"""The files of a model folder, shared by the model loader (torch) and the registry (no torch)."""

from __future__ import annotations

WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "card.json"
CARD_FORMAT = "implant-desk-model-card/1"
MAX_CARD_BYTES = 1_000_000  # a card is a small JSON; anything larger is not one
