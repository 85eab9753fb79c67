"""The real user's implant_desk folders, watched so that no test writes there (the session guard in conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from implant_desk.core.paths import APP_NAME


def real_user_folders() -> tuple[Path, ...]:
    """Where the app keeps this user's data (registry, demo), settings and cache without ``IMPLANT_DESK_HOME``."""
    return tuple(find(APP_NAME, appauthor=False) for find in
                 (platformdirs.user_data_path, platformdirs.user_config_path, platformdirs.user_cache_path))


class FolderWatch:
    """Every path under some folders with its modification time and size; ``changes()`` names what differs."""

    def __init__(self, folders: tuple[Path, ...]):
        self.folders = folders
        self._before = self._listing()

    def changes(self) -> list[str]:
        """What was created, changed or removed since the watch began (or since the last call)."""
        now = self._listing()
        changed = sorted(path for path in now.keys() | self._before.keys() if now.get(path) != self._before.get(path))
        self._before = now
        return changed

    def _listing(self) -> dict[str, tuple[int, int]]:
        listing = {}
        for folder in self.folders:
            for path in (folder, *_below(folder)):
                try:
                    stat = os.lstat(path)
                except OSError:
                    continue
                listing[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return listing


def _below(folder: Path):
    for parent, folders, files in os.walk(folder):  # nothing when the folder does not exist
        for name in (*folders, *files):
            yield Path(parent, name)
