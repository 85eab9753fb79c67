"""Work off the GUI thread: a plain function as a thread-pool task, and a job that runs once, stoppable between
its steps (the Identify folder report, pre-annotating a folder)."""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool


class FunctionRunnable(QRunnable):
    """A plain function as a QThreadPool task."""

    def __init__(self, function: Callable[[], None]):
        super().__init__()
        self._function = function

    def run(self) -> None:
        self._function()


class BackgroundJob(QObject):
    """Runs :meth:`_run` once on a worker thread of its own. :meth:`cancel` asks it to stop after the step in
    progress: ``_run`` checks :attr:`stopping` between steps, so what it finished stays finished."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stop = threading.Event()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def start(self) -> None:
        self._pool.start(FunctionRunnable(self._run))

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the job has ended (window closing, tests)."""
        return self._pool.waitForDone(timeout_ms)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        raise NotImplementedError
