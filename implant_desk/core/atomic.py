"""Atomic file writes: a temporary file in the same folder, fsync, then ``os.replace``.

Either the new content is completely on disk under the final name, or the old file is untouched and no
temporary file is left behind, except by a process killed mid-write: ``remove_orphan_temporaries`` finds
those by their exact name pattern. A write-protected file is never replaced (``os.replace`` would, since
only the folder's permissions count for a rename). See docs/adr/0002-atomic-saves.md.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from implant_desk.core.errors import SaveError

# mkstemp's names: our prefix ".<final name>.", 8 characters of tempfile's alphabet, our suffix ".tmp".
_TEMPORARY = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    _refuse_write_protected(path)
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


def remove_orphan_temporaries(folder: str | os.PathLike, target_suffixes: Iterable[str]) -> list[Path]:
    """Delete the temporaries of writes to ``<name><suffix>`` that were killed before they finished.

    Only call it while no other write to such a file can be running in ``folder`` (``core.folder_lock``): a
    temporary being written looks the same as an orphan. Returns what was removed."""
    suffixes = tuple(target_suffixes)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match and match["target"].endswith(suffixes) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


def _refuse_write_protected(path: Path) -> None:
    """A file without write permission was protected on purpose (chmod 444, a read-only attribute)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # no file yet, or one we cannot see: the write itself reports what is wrong
        return
    if stat.S_ISREG(mode) and (not mode & 0o222 or not os.access(path, os.W_OK)):
        raise SaveError(path, "is write-protected, so it was not replaced; make it writable to save it")


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
