"""Loads the neighbours of the current image in the background, so "next image" is shown from memory.

Decoding a 1500x2000 16-bit file takes longer than the 50 ms budget for showing the next image, so while the
user works on image N, images N+1 and N-1 are decoded on Qt's thread pool into a small LRU cache. Results are
a Radiograph, or the ImplantDeskError saying why the file cannot be shown. ``get`` returns a cached result,
waits for a decode already under way (never decoding the same file twice), or loads synchronously.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Union

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from implant_desk.core.errors import ImplantDeskError, UnreadableImageError
from implant_desk.core.imaging.radiograph import Radiograph

LoadResult = Union[Radiograph, ImplantDeskError]
Loader = Callable[[Path], Radiograph]


def _load(loader: Loader, path: Path) -> LoadResult:
    try:
        return loader(path)
    except ImplantDeskError as error:
        return error
    except Exception as error:  # noqa: BLE001 (a codec bug must not take the window down; it is shown as a problem)
        return UnreadableImageError(path, f"could not be opened ({type(error).__name__}: {error})")


class _Job(QRunnable):
    def __init__(self, prefetcher: "Prefetcher", path: Path):
        super().__init__()
        self._prefetcher, self._path = prefetcher, path

    def run(self) -> None:
        self._prefetcher._finish(self._path, _load(self._prefetcher.loader, self._path))


class Prefetcher(QObject):
    loaded = Signal(object)  # the Path a background decode finished (its result is cached); on the GUI thread

    def __init__(self, loader: Loader, capacity: int = 5, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self._capacity = capacity
        self._lock = threading.Lock()
        self._cache: OrderedDict[Path, LoadResult] = OrderedDict()
        self._pending: dict[Path, threading.Event] = {}
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one decoder: the machine may have two cores, the GUI needs one

    def get(self, path: Path) -> LoadResult:
        path = Path(path)
        with self._lock:
            decoding = self._pending.get(path)
        if decoding is not None:
            decoding.wait()
        with self._lock:
            if path in self._cache:
                self._cache.move_to_end(path)
                return self._cache[path]
        result = _load(self.loader, path)
        self._remember(path, result)
        return result

    def is_cached(self, path: Path) -> bool:
        with self._lock:
            return Path(path) in self._cache

    def prefetch(self, paths: list[Path]) -> None:
        for path in map(Path, paths):
            with self._lock:
                if path in self._cache or path in self._pending:
                    continue
                self._pending[path] = threading.Event()
            self._pool.start(_Job(self, path))

    def when_loaded(self, path: Path, then: Callable[[], None]) -> None:
        """Decode ``path`` in the background (unless it is cached); ``then`` is called on the GUI thread once
        ``get`` has it."""
        path = Path(path)
        if self.is_cached(path):
            then()
            return

        def finished(done: Path) -> None:
            if done == path:
                self.loaded.disconnect(finished)
                then()

        self.loaded.connect(finished)
        self.prefetch([path])

    def forget(self, path: Path) -> None:
        with self._lock:
            self._cache.pop(Path(path), None)

    def wait(self) -> None:
        """Block until queued loads finish (tests, shutdown)."""
        self._pool.waitForDone()

    def _finish(self, path: Path, result: LoadResult) -> None:
        self._remember(path, result)
        with self._lock:
            done = self._pending.pop(path)
        done.set()
        self.loaded.emit(path)

    def _remember(self, path: Path, result: LoadResult) -> None:
        with self._lock:
            self._cache[path] = result
            self._cache.move_to_end(path)
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
