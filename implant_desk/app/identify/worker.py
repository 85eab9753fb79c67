"""Inference off the GUI thread.

The predictor is imported and loaded in the worker thread, never at window start-up: when the app is launched on
a film, as soon as the window shows (:meth:`InferenceWorker.preload`), else at the first identification; then
reused. On the CPU it runs ONNX graphs without torch, so the answer is shown first and the heat maps follow
(Grad-CAM loads torch once, seconds on 2 cores). One lock guards the predictor, so the panel and a folder job
never run it at the same time (Grad-CAM hooks a layer for the duration of a call).

Requests for the panel are "latest wins": while one image is being identified, a newer request replaces any
that is still waiting, so flipping through images never builds a queue. Results, and the model each request
ran with, are delivered on the GUI thread (queued signals) with the generation they were requested for; the
controller drops stale ones. A request keeps the predictor it started with to the end (the lock), so a model
activated meanwhile is used from the next request on.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from PySide6.QtCore import QObject, QThreadPool, Signal

from implant_desk.app.background import FunctionRunnable

from implant_desk.app.identify.controller import ExplainRequest, IdentifyRequest, ModelInfo
from implant_desk.core.errors import ImplantDeskError

if TYPE_CHECKING:
    from implant_desk.core.models.predictor import Predictor

_log = logging.getLogger(__name__)
NO_HEAT_MAP = "No heat map: "  # what a failure to explain starts with (the answer is already on screen)


def active_model_folder() -> Path:
    """The registry's active model (the shipped default when nothing else was activated); reads cards only."""
    from implant_desk.core.models.locate import model_folder

    return model_folder(None)


def active_model_info() -> ModelInfo:
    """What the panel says about the active model before it is loaded: its card only (no torch, no device yet).
    Raises ImplantDeskError (ModelFileError) for a missing or damaged card."""
    from implant_desk.core.models.card import read_card

    folder = active_model_folder()
    card = read_card(folder)
    return ModelInfo.from_card(card.version or folder.name, "", card)


def load_predictor(folder: Path) -> Predictor:
    """The model in ``folder`` on the best device (CUDA, MPS, else CPU)."""
    from implant_desk.core.models.predictor import Predictor

    return Predictor.from_folder(folder)


def model_info(predictor: Predictor) -> ModelInfo:
    return ModelInfo.from_card(predictor.name, predictor.device, predictor.card, predictor.runtime)


def describe_failure(error: BaseException) -> str:
    """Words for the panel. An unexpected error (from torch, say) is shown by type and message, and its traceback
    goes to the log for a bug report."""
    if isinstance(error, ImplantDeskError):
        return str(error)
    _log.error("identification failed", exc_info=error)
    return f"Identification failed ({type(error).__name__}: {error})"


class PredictorProvider:
    """Loads the predictor on first use (in the calling thread) and hands it out under one lock.

    Without ``load`` it follows the registry: the active model's folder is looked up at every use (JSON only),
    so a version activated after fine-tuning is what the next identification uses; it is loaded once."""

    def __init__(self, load: Callable[[], Predictor] | None = None):
        self._load = load
        self._lock = threading.Lock()
        self._predictor: Predictor | None = None
        self._folder: Path | None = None  # where the loaded predictor came from (following the registry)

    @contextmanager
    def use(self) -> Iterator[Predictor]:
        with self._lock:
            if self._load is not None:
                if self._predictor is None:
                    self._predictor = self._load()
            else:
                folder = active_model_folder()
                if self._predictor is None or folder != self._folder:
                    self._predictor, self._folder = load_predictor(folder), folder
            yield self._predictor

    def preload(self) -> None:
        """Load the predictor now, so that the first identification does not wait for it. A failure is left for
        that identification to report, in words."""
        try:
            with self.use():
                pass
        except Exception:  # noqa: BLE001 (the same error reaches the panel when the user identifies)
            _log.info("the model could not be loaded ahead of use", exc_info=True)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The lock alone, for a job that keeps the predictor it started with (its report names one model)."""
        with self._lock:
            yield


class InferenceWorker(QObject):
    modelReady = Signal(int, object)  # generation, ModelInfo of the model that request runs with
    finished = Signal(int, object, float)  # generation, list[FixturePrediction], milliseconds
    explained = Signal(int, object)  # generation, {fixture index: Explanation}
    failed = Signal(int, str)  # generation, why in words

    def __init__(self, provider: PredictorProvider, parent: QObject | None = None):
        super().__init__(parent)
        self.provider = provider
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._lock = threading.Lock()
        self._pending: IdentifyRequest | None = None
        self._draining = False
        self._closed = False  # the panel is going: a result still queued for it must start no more work

    def submit(self, request: IdentifyRequest) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending = request
            if self._draining:
                return  # the running loop picks it up next
            self._draining = True
        self._pool.start(FunctionRunnable(self._drain))

    def explain(self, request: ExplainRequest) -> None:
        """Compute heat maps for the result on screen, after the identification running or waiting, if any."""
        if not self._closed:
            self._pool.start(FunctionRunnable(lambda: self._explain(request)))

    def preload(self) -> None:
        """Load the model in the worker thread now (a request submitted meanwhile runs after it)."""
        self._pool.start(FunctionRunnable(self.provider.preload))

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until no request is running (tests)."""
        return self._pool.waitForDone(timeout_ms)

    def close(self) -> None:
        """Take no more requests and wait for the running one (the window is closing)."""
        with self._lock:
            self._closed = True
        self._pool.waitForDone()

    def _drain(self) -> None:
        while True:
            with self._lock:
                request, self._pending = self._pending, None
                if request is None:
                    self._draining = False
                    return
            self._run(request)

    def _run(self, request: IdentifyRequest) -> None:
        stage = ""  # what the panel prefixes to a failure: the answer may already be on screen
        try:
            with self.provider.use() as predictor:
                self.modelReady.emit(request.generation, model_info(predictor))
                started = time.perf_counter()  # the identification itself, not loading the model
                fixtures = predictor.predict(request.radiograph, request.threshold)
                elapsed_ms = (time.perf_counter() - started) * 1000
                self.finished.emit(request.generation, fixtures, elapsed_ms)
                if self._newer_request_waits() or not any(f.candidates for f in fixtures):
                    return
                stage = NO_HEAT_MAP
                explained = predictor.explained(request.radiograph, fixtures)
                self.explained.emit(request.generation, {index: fixture.explanation for index, fixture
                                                         in enumerate(explained) if fixture.explanation is not None})
        except Exception as error:  # noqa: BLE001 (thread boundary: every failure must reach the panel in words)
            self.failed.emit(request.generation, stage + describe_failure(error))

    def _explain(self, request: ExplainRequest) -> None:
        try:
            with self.provider.use() as predictor:
                self.explained.emit(request.generation, {index: predictor.explain(request.radiograph, fixture)
                                                         for index, fixture in request.fixtures.items()})
        except Exception as error:  # noqa: BLE001 (thread boundary, as in _run)
            self.failed.emit(request.generation, NO_HEAT_MAP + describe_failure(error))

    def _newer_request_waits(self) -> bool:
        with self._lock:
            return self._pending is not None
