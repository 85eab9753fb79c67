"""Atomic file writes: a temporary file in the same folder, fsync, then ``os.replace``.

Either the new content is completely on disk under the final name, or the old file is untouched and no
temporary file is left behind. See docs/adr/0002-atomic-saves.md.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from implant_desk.core.errors import SaveError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SaveError(path, f"cannot write in this folder ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _copy_permissions(tmp_name, path)
        os.replace(tmp_name, path)
    except BaseException as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SaveError(path, f"could not be saved ({exc.strerror or exc}); the previous file is unchanged") from exc
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def _copy_permissions(tmp_name: str, path: Path) -> None:
    """mkstemp makes the file private (0600); keep the replaced file's mode, or the usual 0644 for a new one, so
    colleagues sharing the folder can still read the annotations. Best effort: some shares refuse chmod."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o644
    try:
        os.chmod(tmp_name, mode)
    except OSError:
        pass


def _fsync_directory(folder: Path) -> None:
    """Make the rename durable; not every platform lets a folder be opened, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
