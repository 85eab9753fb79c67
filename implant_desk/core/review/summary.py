"""A folder's review state in counts, the same in the window's file list and in ``implant-desk review``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from implant_desk.core.annotations.folder import ANNOTATED, NOT_ANNOTATED, PROPOSED, VERIFIED, FileEntry
from implant_desk.core.wording import counted


@dataclass(frozen=True)
class ReviewCounts:
    not_annotated: int = 0
    proposed: int = 0  # pre-annotated, not reviewed yet
    annotated: int = 0  # hand-made, not verified
    reviewed: int = 0  # verified (LabelImg's flag; YOLO's in the proposals file)
    pending_boxes: int = 0  # proposed boxes waiting for a decision

    @classmethod
    def of(cls, statuses: Sequence[str], pending_boxes: int = 0) -> ReviewCounts:
        counts = Counter(statuses)
        return cls(counts[NOT_ANNOTATED], counts[PROPOSED], counts[ANNOTATED], counts[VERIFIED], pending_boxes)

    @classmethod
    def of_entries(cls, entries: Sequence[FileEntry]) -> ReviewCounts:
        return cls.of([e.status for e in entries], sum(e.pending for e in entries))

    def text(self) -> str:
        return (f"{self.reviewed} reviewed · {self.proposed} proposed ({counted(self.pending_boxes, 'box', 'boxes')}"
                f" to decide) · {self.annotated} hand-made · {self.not_annotated} not annotated")

    def to_json(self) -> dict:
        return {"not_annotated": self.not_annotated, "proposed": self.proposed, "annotated": self.annotated,
                "reviewed": self.reviewed, "pending_boxes": self.pending_boxes}
