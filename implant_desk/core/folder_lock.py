"""One annotation save at a time per folder: a lock file that a save holds while it checks and writes.

A save compares the file on disk with what was loaded, then writes. Without a lock, two saves 30-100 ms apart
(two windows, two colleagues on a share) both pass the comparison and one is lost in silence; two YOLO saves
both append their label to ``classes.txt`` at the same line. Holding this lock from the comparison to the
write makes the second save see the first one's file and report a conflict (issue 16).

The lock is advisory (``flock``; ``msvcrt.locking`` on Windows) on ``.implant-desk.lock`` in the folder. The
operating system releases it when its holder's file is closed, so a process killed mid-save leaves no stale
lock behind, only the (empty) lock file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from implant_desk.core.errors import SaveError

LOCK_FILENAME = ".implant-desk.lock"
# A save takes milliseconds; waiting this long means another program is stuck holding the lock.
DEFAULT_TIMEOUT_S = 5.0
_POLL_S = 0.005

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def folder_lock(folder: str | os.PathLike, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[None]:
    """Hold the folder's save lock; SaveError when the folder cannot be written or the lock stays taken."""
    folder = Path(folder)
    try:
        fd = os.open(folder / LOCK_FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SaveError(folder, f"cannot write in this folder ({exc.strerror or exc}); nothing was saved") from exc
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise SaveError(
                    folder,
                    f"another program has been saving in this folder for over {timeout_s:g} s; "
                    "nothing was saved, try again",
                )
            time.sleep(_POLL_S)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
