"""Fixtures shared by every test: the read-only ``../shared`` data, offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from user_folders import FolderWatch, real_user_folders

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``, the real files no one on the project made; skips when a checkout lacks it."""
    data = SHARED_DIR / "data"
    if not data.is_dir():
        pytest.skip(f"shared data not found at {data} (it sits beside the project root in CI)")
    return data


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory):
    """Keep settings, the demo cache and the model registry of every test away from the real user's. Its own
    MonkeyPatch, so a test's ``monkeypatch.undo()`` cannot lift it (a window closing after that wrote the real
    user's settings)."""
    home = tmp_path_factory.mktemp("user")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMPLANT_DESK_HOME", str(home))
        yield


@pytest.fixture(scope="session")
def _real_user_folders_watch() -> FolderWatch:
    return FolderWatch(real_user_folders())


@pytest.fixture(autouse=True)
def _real_user_folders_untouched(_real_user_folders_watch):
    """Session-wide guard: a test that writes under the real user's settings, registry, demo or cache folder
    fails (and names what it wrote), whatever isolation it went around."""
    yield
    written = _real_user_folders_watch.changes()
    if written:
        pytest.fail("this test wrote under the real user's implant_desk folders: " + ", ".join(written))
