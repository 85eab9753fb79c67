"""Weights files for the registry tests, which never load them but check their safetensors layout."""

from __future__ import annotations

import json


def as_safetensors(data: bytes) -> bytes:
    """``data`` as the one uint8 tensor of a safetensors file."""
    header = json.dumps({"w": {"dtype": "U8", "shape": [len(data)], "data_offsets": [0, len(data)]}}).encode()
    return len(header).to_bytes(8, "little") + header + data
