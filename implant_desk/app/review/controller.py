"""Reviewing proposed boxes by keyboard, and which image comes next. No Qt: the window forwards keys here.

The keys act on the *current* proposal: the one chosen with "next proposed box", else the first still pending.
Every decision is one document step (``AnnotationDocument.accept_proposals`` / ``reject_proposals``), so the
window's undo takes it back. Relabelling by number picks the proposal's ranked candidates: 1 is the top one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.folder import ANNOTATED, PROPOSED, VERIFIED
from implant_desk.core.review.order import UNCERTAINTY, Listed, review_order, to_review

PROPOSAL_COLOR = "#ff8c1a"  # orange: apart from the label palette's colours and Identify's green/amber
CANDIDATE_KEYS = 3  # 1, 2, 3: relabel as the proposal's first, second, third candidate


def document_status(document: AnnotationDocument) -> str:
    """The file list's status of the open image once saved."""
    if document.verified:
        return VERIFIED
    return PROPOSED if document.proposals else ANNOTATED


@dataclass(frozen=True)
class ProposalView:
    box: tuple[float, float, float, float]
    text: str
    color: str = PROPOSAL_COLOR


@dataclass
class RetrainSchedule:
    """"Retrain every N reviewed images": due once ``every`` more images are reviewed than at the baseline (the
    folder's count when it was opened, or when the last such run started)."""

    every: int = 0
    baseline: int = 0

    def due(self, reviewed: int) -> bool:
        return self.every > 0 and reviewed - self.baseline >= self.every


class ReviewController:
    def __init__(self) -> None:
        self.current = -1  # index into the document's proposals; -1: the first pending one
        self.order = UNCERTAINTY
        self.seed = 0

    def image_changed(self) -> None:
        self.current = -1

    # ---- the open image's proposals ---------------------------------------------------------------------------
    def target(self, document: AnnotationDocument | None) -> int:
        """The proposal the keys act on, or -1 when none is pending."""
        if document is None:
            return -1
        pending = document.pending_indices
        if self.current in pending:
            return self.current
        return pending[0] if pending else -1

    def next_proposal(self, document: AnnotationDocument | None) -> int:
        """Move to the pending proposal after the current one (round), and return it."""
        pending = document.pending_indices if document is not None else []
        if not pending:
            self.current = -1
            return -1
        later = [i for i in pending if i > self.target(document)]
        self.current = later[0] if later else pending[0]
        return self.current

    def accept(self, document: AnnotationDocument | None) -> str:
        index = self.target(document)
        if index < 0:
            return "No proposed box is waiting on this image"
        document.accept_proposals([index])
        return f"Accepted {document.proposals[index].label}"

    def reject(self, document: AnnotationDocument | None) -> str:
        index = self.target(document)
        if index < 0:
            return "No proposed box is waiting on this image"
        document.reject_proposals([index])
        return "Rejected the proposed box"

    def relabel(self, document: AnnotationDocument | None, rank: int) -> str:
        """Accept the current proposal as its ``rank``-th candidate (1-based)."""
        index = self.target(document)
        if index < 0:
            return "No proposed box is waiting on this image"
        candidates = document.proposals[index].candidates
        if not 1 <= rank <= len(candidates):
            return f"This proposal has {len(candidates)} candidate system(s); press 1 to {len(candidates)}"
        label = candidates[rank - 1][0]
        document.accept_proposals([index], label, f"Accept proposal as {label}")
        return f"Accepted as {label}"

    def accept_all(self, document: AnnotationDocument | None) -> str:
        pending = document.pending_indices if document is not None else []
        if not pending:
            return "No proposed box is waiting on this image"
        document.accept_proposals(pending, description="Accept all proposals")
        return f"Accepted {len(pending)} proposed box(es)"

    def views(self, document: AnnotationDocument | None) -> tuple[list[ProposalView], int]:
        """What the canvas draws: the pending proposals with their captions, and which of them is current."""
        if document is None:
            return [], -1
        target = self.target(document)
        pending = document.pending_indices
        views = [ProposalView(document.proposals[index].box, document.proposals[index].caption()) for index in pending]
        return views, pending.index(target) if target in pending else -1

    def keys_text(self, document: AnnotationDocument | None) -> str:
        """What the keys do to the current proposal, for the status bar."""
        index = self.target(document)
        if index < 0:
            return "No proposed box is waiting on this image"
        proposal = document.proposals[index]
        ranked = "  ".join(f"{n}: {s} {p:.0%}" for n, (s, p) in enumerate(proposal.candidates[:CANDIDATE_KEYS], 1))
        return f"Y accept {proposal.label} · X reject · Shift+Y accept all" + (f" · as {ranked}" if ranked else "")

    # ---- which image next ---------------------------------------------------------------------------------------
    def next_image(self, entries: Sequence[Listed], current: Path | None) -> Path | None:
        """The image to review next in the chosen order, other than the one shown; None when all are done."""
        ordered = review_order(to_review(entries), self.order, self.seed)
        return next((path for path in ordered if path != current), None)
