""""Pre-annotate folder" in the background: the core's ``propose_images`` on a worker thread, with progress and a
cancel that takes effect between images. The model, and the core's pre-annotation code (which brings numpy's
and scipy's weight), load in that thread on first use, so neither the window's start nor its thread waits on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from implant_desk.app.background import BackgroundJob
from implant_desk.app.identify.worker import describe_failure

if TYPE_CHECKING:
    from implant_desk.core.review.propose import ProposeResult


def load_active_predictor():
    """The registry's active model on the best device (the app's default)."""
    from implant_desk.core.models.locate import model_folder
    from implant_desk.core.models.predictor import Predictor

    return Predictor.from_folder(model_folder(None))


class PreannotateJob(BackgroundJob):
    """Cancelled, it stops after the image in progress; what was pre-annotated stays (each file is complete)."""

    progress = Signal(int, int, object)  # images done, total, ProposeResult of the last one
    finished = Signal(object)  # list[ProposeResult]
    cancelled = Signal(object)  # list[ProposeResult] done before the cancel
    failed = Signal(str)

    def __init__(self, images: Sequence[Path], save_dir: Path | None, load: Callable[[], object] = load_active_predictor,
                 threshold: float = 0.5, parent: QObject | None = None):
        super().__init__(parent)
        self.images, self.save_dir, self.threshold = list(images), save_dir, threshold
        self._load = load

    def _run(self) -> None:
        from implant_desk.core.review.propose import propose_images

        try:
            predictor = self._load()
            results = propose_images(predictor, self.images, self.save_dir, self.threshold,
                                     on_image=lambda done, total, result: self.progress.emit(done, total, result),
                                     should_stop=lambda: self.stopping)
        except Exception as error:  # noqa: BLE001 (thread boundary: the window shows every failure in words)
            self.failed.emit(describe_failure(error))
            return
        (self.cancelled if self.stopping else self.finished).emit(results)


def outcome_text(results: Sequence[ProposeResult], cancelled: bool) -> str:
    proposed = [r for r in results if not r.skipped and not r.error]
    boxes = sum(r.proposals for r in proposed)
    text = (f"{'Stopped: ' if cancelled else ''}{len(proposed)} image(s) pre-annotated with {boxes} proposed box(es); "
            f"{sum(bool(r.skipped) for r in results)} already annotated or in review were left alone")
    errors = [r.error for r in results if r.error]
    return text + (f"; {len(errors)} could not be read (first: {errors[0]})" if errors else "")
