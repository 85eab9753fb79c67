"""Where the app keeps its own files: settings, the demo cache, the model registry.

``IMPLANT_DESK_HOME`` overrides the platform's user folders (tests, portable installs); otherwise platformdirs
decides (see docs/adr/0003-settings-storage.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "implant_desk"
REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def _root(kind: str) -> Path:
    override = os.environ.get("IMPLANT_DESK_HOME")
    if override:
        return Path(override) / kind
    finder = {"data": platformdirs.user_data_path, "config": platformdirs.user_config_path,
              "cache": platformdirs.user_cache_path}[kind]
    return finder(APP_NAME, appauthor=False)


def user_data_dir() -> Path:
    """The model registry and the demo folder live here."""
    return _root("data")


def user_config_dir() -> Path:
    return _root("config")


def user_cache_dir() -> Path:
    return _root("cache")
