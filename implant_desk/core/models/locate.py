"""Which model folder a user means: a folder path, or a registry version ("3", "default"); None: the active one."""

from __future__ import annotations

from pathlib import Path


def model_folder(version_or_dir: str | None = None) -> Path:
    if version_or_dir and Path(version_or_dir).is_dir():
        return Path(version_or_dir)
    from implant_desk.core import registry

    return registry.model_folder(version_or_dir)
