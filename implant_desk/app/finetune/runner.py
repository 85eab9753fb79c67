"""The training child process seen from the GUI thread: a timer reads its events and re-emits them as signals.

Reading is non-blocking (``TrainingRun.poll``) and happens on the GUI thread, so every signal arrives there and
no lock is needed; a cancel's kill deadline is enforced by the same timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from implant_desk.core.learning.child_process import TrainingRequest, TrainingRun

POLL_INTERVAL_MS = 100
CLOSE_WAIT_S = 5.0  # a hard cancel ends the child within 2 s; this only bounds a wait that goes wrong


class TrainingRunner(QObject):
    progress = Signal(object)  # every event (implant_desk.core.learning.events) before the final one
    ended = Signal(object)  # the final event: Finished, Cancelled or Failed

    def __init__(self, parent: QObject | None = None,
                 start_run: Callable[[TrainingRequest], TrainingRun] = TrainingRun):
        super().__init__(parent)
        self._start_run = start_run
        self._run: TrainingRun | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self._run is not None and not self._run.done

    def start(self, request: TrainingRequest) -> None:
        if self.running:
            raise RuntimeError("a training run is already going on")
        self._run = self._start_run(request)
        self._timer.start()

    def cancel(self) -> None:
        """Hard cancel: the child stops (or is killed) within 2 s; nothing is registered."""
        if self.running:
            self._run.cancel()
            self._timer.setInterval(POLL_INTERVAL_MS // 2)  # notice the end promptly

    def cancel_and_wait(self, timeout_s: float = CLOSE_WAIT_S) -> None:
        """Hard cancel, then read the child's events here until it is gone: the window is closing, so the timer
        would not get to run again. Returns within about 2 s; ``ended`` has been emitted by then."""
        self.cancel()
        deadline = time.monotonic() + timeout_s
        while self.running and time.monotonic() < deadline:
            self._poll()
            if self.running:
                time.sleep(POLL_INTERVAL_MS / 2000)

    def stop_and_keep_best(self) -> None:
        if self.running:
            self._run.stop_and_keep_best()

    def _poll(self) -> None:
        run = self._run
        if run is None:
            return
        for event in run.poll():
            (self.ended if run.done and event is run.final else self.progress).emit(event)
        if run.done:
            self._timer.stop()
            self._timer.setInterval(POLL_INTERVAL_MS)
