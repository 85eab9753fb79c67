"""Reads the labels of every annotated image in the background, so the file list can filter by label.

The folder scan only sniffs statuses; parsing 10,000 annotation files takes seconds, so it runs on a pool
thread and reports in chunks. Opening another folder cancels the running index (its results are dropped).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from implant_desk.core.annotations import store
from implant_desk.core.errors import ImplantDeskError

CHUNK = 200
ANY_SIZE = (1, 1, 1)  # labels do not depend on the image size; YOLO/CreateML need some size to read


def labels_of(image_path: Path, save_dir: Path | None) -> frozenset[str]:
    try:
        loaded = store.load_annotation(image_path, save_dir, ANY_SIZE)
    except ImplantDeskError:
        return frozenset()
    return frozenset(box.label for box in loaded.annotation.boxes) if loaded else frozenset()


class _IndexJob(QRunnable):
    def __init__(self, owner: "LabelIndexer", generation: int, work: list[Path], save_dir: Path | None):
        super().__init__()
        self._owner, self._generation, self._work, self._save_dir = owner, generation, work, save_dir

    def run(self) -> None:
        chunk: dict[Path, frozenset[str]] = {}
        for path in self._work:
            if self._owner.cancelled(self._generation):
                return
            chunk[path] = labels_of(path, self._save_dir)
            if len(chunk) >= CHUNK:
                self._owner.found.emit(self._generation, chunk)
                chunk = {}
        self._owner.found.emit(self._generation, chunk)


class LabelIndexer(QObject):
    found = Signal(int, object)  # generation, {image path: labels}; queued onto the GUI thread
    labelsFound = Signal(object)  # {image path: labels} of the current folder only

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._generation = 0
        self._lock = threading.Lock()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.found.connect(self._deliver)

    def start(self, work: list[Path], save_dir: Path | None) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        if work:
            self._pool.start(_IndexJob(self, generation, work, save_dir))

    def cancel(self) -> None:
        self.start([], None)

    def cancelled(self, generation: int) -> bool:
        with self._lock:
            return generation != self._generation

    def wait(self) -> None:
        self._pool.waitForDone()

    def _deliver(self, generation: int, chunk: dict[Path, frozenset[str]]) -> None:
        if not self.cancelled(generation) and chunk:
            self.labelsFound.emit(chunk)
