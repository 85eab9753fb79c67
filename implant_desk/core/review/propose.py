"""Pre-annotating: the model's fixtures on each image become proposed boxes in its proposals file, never in its
annotation file. ``implant-desk predict FOLDER --propose`` and the window's "Pre-annotate folder" both call this.

An image a person has already worked on is left alone: one with an annotation file keeps its boxes untouched
and gets no proposals, and one whose proposals were already acted on (a proposal accepted or rejected, or the
image marked reviewed) keeps them. Proposals nobody has looked at yet are replaced (a newer model, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from implant_desk.core.annotations.folder import annotation_folder, scan_image_folder
from implant_desk.core.annotations.proposals import ImageProposals, Proposal, read_proposals, write_proposals
from implant_desk.core.annotations.store import find_annotation
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.folder_lock import folder_lock
from implant_desk.core.review.uncertainty import image_uncertainty

ANNOTATED_ALREADY = "already annotated: its boxes are kept, nothing is proposed"
REVIEWED_ALREADY = "its proposals are being reviewed: they are kept"


@dataclass(frozen=True)
class ProposeResult:
    image: Path
    proposals: int = 0
    uncertainty: float = 0.0
    skipped: str = ""  # why the image was left alone
    error: str = ""  # why it could not be pre-annotated


def proposals_for(predictor, radiograph, image_name: str, threshold: float) -> ImageProposals:
    """The predictor's fixtures on one radiograph as proposals, with the image's uncertainty (two passes: the
    image and its left-right mirror)."""
    from implant_desk.core.models.preprocess import grey8

    floor = predictor.spec.min_fixture_score
    image = grey8(radiograph)
    found = predictor.identify(image, threshold, generated_film=radiograph.generated, min_score=floor / 2)
    fixtures = [f for f in found if f.score >= floor]
    near_misses = [f for f in found if f.score < floor]
    flipped = predictor.identify(np.ascontiguousarray(image[:, ::-1]), threshold,
                                 generated_film=radiograph.generated)
    uncertainty = image_uncertainty(fixtures, near_misses, flipped, image.shape[1], floor)
    proposals = tuple(Proposal(tuple(f.box), f.label,
                               tuple(f.candidates) if f.nameable else (), f.score, predictor.name)
                      for f in fixtures)
    return ImageProposals(image_name, proposals, predictor.name, uncertainty)


def propose_image(predictor, image_path: Path, save_dir: Path | None, threshold: float) -> ProposeResult:
    """Pre-annotate one image (see the module docstring for which images are left alone)."""
    from implant_desk.core.imaging.loading import load_radiograph

    reason = _leave_alone(image_path, save_dir)
    if reason:
        return ProposeResult(image_path, skipped=reason)
    try:
        proposals = proposals_for(predictor, load_radiograph(image_path), image_path.name, threshold)
    except ImplantDeskError as error:
        return ProposeResult(image_path, error=str(error))
    # Checked again under the annotation folder's save lock, held to the write: a person may have saved the image
    # while the model was running, and a save waits for the lock.
    try:
        with folder_lock(Path(save_dir) if save_dir is not None else image_path.parent):
            reason = _leave_alone(image_path, save_dir)
            if reason:
                return ProposeResult(image_path, skipped=reason)
            write_proposals(image_path, save_dir, proposals)
    except ImplantDeskError as error:
        return ProposeResult(image_path, error=str(error))
    return ProposeResult(image_path, len(proposals.proposals), proposals.uncertainty)


def propose_folder(predictor, folder: Path, save_dir: Path | None = None, threshold: float = 0.5,
                   on_image: Callable[[int, int, ProposeResult], None] | None = None,
                   should_stop: Callable[[], bool] = lambda: False) -> list[ProposeResult]:
    """Pre-annotate every image of ``folder`` (annotations where the editor keeps them: ``save_dir``, else the
    folder's layout); ``on_image(done, total, result)`` after each; stops between images when asked."""
    save = annotation_folder(folder, save_dir)
    return propose_images(predictor, [entry.path for entry in scan_image_folder(folder, save)], save, threshold,
                          on_image, should_stop)


def propose_images(predictor, images: Iterable[Path], save_dir: Path | None, threshold: float = 0.5,
                   on_image: Callable[[int, int, ProposeResult], None] | None = None,
                   should_stop: Callable[[], bool] = lambda: False,
                   each: Callable[[], AbstractContextManager] = nullcontext) -> list[ProposeResult]:
    """``each``: entered around every image (the window's lock on a predictor it shares with the Identify panel,
    which then takes its turn between images)."""
    images = list(images)
    results = []
    for image in images:
        if should_stop():
            break
        with each():
            results.append(propose_image(predictor, image, save_dir, threshold))
        if on_image is not None:
            on_image(len(results), len(images), results[-1])
    return results


def _leave_alone(image_path: Path, save_dir: Path | None) -> str:
    if find_annotation(image_path, save_dir) is not None:
        return ANNOTATED_ALREADY
    try:
        existing = read_proposals(image_path, save_dir)
    except ImplantDeskError as error:
        return f"{error}; it is left untouched"
    return REVIEWED_ALREADY if existing is not None and existing.decided else ""

