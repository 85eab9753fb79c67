"""The annotation document for one image: boxes, the verified flag, proposed boxes, undo/redo and a dirty flag.

Every edit replaces the whole (immutable) state and pushes the previous one on the undo stack, so undo and redo
are exact for every kind of edit, including multi-box steps such as pasting or accepting predictions. Listeners
are plain callables (no Qt), called after each change with the document.

Proposed boxes (``core.annotations.proposals``) are part of the state but never of ``boxes``: accepting one adds
its box and marks it accepted in one step, so undo takes back both; verifying the image rejects those still
pending (the person has looked at the image and kept what they wanted).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable

from implant_desk.core.annotations.model import Box
from implant_desk.core.annotations.proposals import ACCEPTED, REJECTED, Proposal


@dataclass(frozen=True)
class DocumentState:
    boxes: tuple[Box, ...] = ()
    verified: bool = False
    proposals: tuple[Proposal, ...] = ()


@dataclass(frozen=True)
class HistoryEntry:
    description: str
    state: DocumentState


class AnnotationDocument:
    def __init__(self, boxes: Iterable[Box] = (), verified: bool = False, proposals: Iterable[Proposal] = ()):
        self._state = DocumentState(tuple(boxes), verified, tuple(proposals))
        self._undo: list[HistoryEntry] = []
        self._redo: list[HistoryEntry] = []
        self._saved_state = self._state
        self._listeners: list[Callable[[AnnotationDocument], None]] = []

    # ---- reading -------------------------------------------------------------------------------------------
    @property
    def boxes(self) -> tuple[Box, ...]:
        return self._state.boxes

    @property
    def verified(self) -> bool:
        return self._state.verified

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        return self._state.proposals

    @property
    def pending_indices(self) -> list[int]:
        """The proposals still waiting for a decision, by index."""
        return [i for i, proposal in enumerate(self._state.proposals) if proposal.pending]

    @property
    def state(self) -> DocumentState:
        return self._state

    @property
    def dirty(self) -> bool:
        return self._state != self._saved_state

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1].description if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].description if self._redo else ""

    def subscribe(self, listener: Callable[["AnnotationDocument"], None]) -> None:
        self._listeners.append(listener)

    # ---- editing: each call is one undoable step -----------------------------------------------------------
    def add_box(self, box: Box) -> None:
        self.add_boxes([box], "Create box")

    def add_boxes(self, boxes: Iterable[Box], description: str = "Add boxes") -> None:
        """Several boxes in one step: paste, copy previous image's boxes, accept predictions."""
        boxes = tuple(boxes)
        if boxes:
            self._apply(description, replace(self._state, boxes=self._state.boxes + boxes))

    def update_box(self, index: int, box: Box, description: str = "Edit box") -> None:
        """Move, resize, relabel or toggle difficult: the caller passes the box as it should be."""
        if self._state.boxes[index] == box:
            return
        boxes = list(self._state.boxes)
        boxes[index] = box
        self._apply(description, replace(self._state, boxes=tuple(boxes)))

    def remove_boxes(self, indices: Iterable[int], description: str = "Delete box") -> None:
        drop = set(indices)
        if drop:
            kept = tuple(b for i, b in enumerate(self._state.boxes) if i not in drop)
            self._apply(description, replace(self._state, boxes=kept))

    def set_verified(self, verified: bool) -> None:
        if verified != self._state.verified:
            proposals = self._decided(self.pending_indices, REJECTED) if verified else self._state.proposals
            self._apply("Verify image" if verified else "Unverify image",
                        replace(self._state, verified=verified, proposals=proposals))

    def accept_proposals(self, indices: Iterable[int], label: str | None = None,
                         description: str = "Accept proposal") -> None:
        """Copy the pending proposals at ``indices`` into the boxes (as ``label`` when given, else the label each
        proposes) and mark them accepted, in one step."""
        chosen = [i for i in indices if self._state.proposals[i].pending]
        if chosen:
            boxes = tuple(self._state.proposals[i].as_box(label) for i in chosen)
            proposals = self._decided(chosen, ACCEPTED, label)
            self._apply(description, replace(self._state, boxes=self._state.boxes + boxes, proposals=proposals))

    def reject_proposals(self, indices: Iterable[int], description: str = "Reject proposal") -> None:
        chosen = [i for i in indices if self._state.proposals[i].pending]
        if chosen:
            self._apply(description, replace(self._state, proposals=self._decided(chosen, REJECTED)))

    def undo(self) -> bool:
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        return self._step(self._redo, self._undo)

    def mark_saved(self, state: DocumentState | None = None) -> None:
        """Record ``state`` (default: the current one) as what is on disk."""
        self._saved_state = self._state if state is None else state
        self._notify()

    # ---- internals -----------------------------------------------------------------------------------------
    def _decided(self, indices: Iterable[int], state: str, label: str | None = None) -> tuple[Proposal, ...]:
        chosen = set(indices)
        return tuple(replace(p, state=state, label=label or p.label) if i in chosen else p
                     for i, p in enumerate(self._state.proposals))

    def _apply(self, description: str, new_state: DocumentState) -> None:
        self._undo.append(HistoryEntry(description, self._state))
        self._redo.clear()
        self._state = new_state
        self._notify()

    def _step(self, source: list[HistoryEntry], target: list[HistoryEntry]) -> bool:
        if not source:
            return False
        entry = source.pop()
        target.append(HistoryEntry(entry.description, self._state))
        self._state = entry.state
        self._notify()
        return True

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self)
