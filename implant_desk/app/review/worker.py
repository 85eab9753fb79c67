""""Pre-annotate folder" in the background: the core's ``propose_images`` on a worker thread, with progress and a
cancel that takes effect between images. It runs the Identify panel's predictor (loaded once for both, in a worker
thread), taking its lock per image so the panel can identify in between; the core's pre-annotation code (which
brings scipy's weight) loads in that thread too, so neither the window's start nor its thread waits on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from implant_desk.app.background import BackgroundJob
from implant_desk.app.identify.worker import PredictorProvider, describe_failure

if TYPE_CHECKING:
    from implant_desk.core.review.propose import ProposeResult


class PreannotateJob(BackgroundJob):
    """Cancelled, it stops after the image in progress; what was pre-annotated stays (each file is complete)."""

    progress = Signal(int, int, object)  # images done, total, ProposeResult of the last one
    finished = Signal(object)  # list[ProposeResult]
    cancelled = Signal(object)  # list[ProposeResult] done before the cancel
    failed = Signal(str)

    def __init__(self, images: Sequence[Path], save_dir: Path | None, provider: PredictorProvider,
                 threshold: float = 0.5, parent: QObject | None = None):
        super().__init__(parent)
        self.images, self.save_dir, self.threshold = list(images), save_dir, threshold
        self.provider = provider

    def _run(self) -> None:
        from implant_desk.core.review.propose import propose_images

        try:
            with self.provider.use() as predictor:  # loads the model first, so a missing model fails at once
                pass
            results = propose_images(predictor, self.images, self.save_dir, self.threshold,
                                     on_image=lambda done, total, result: self.progress.emit(done, total, result),
                                     should_stop=lambda: self.stopping, each=self.provider.exclusive)
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
