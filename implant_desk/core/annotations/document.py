"""The annotation document for one image: boxes, the verified flag, undo/redo and a dirty flag.

Every edit replaces the whole (immutable) state and pushes the previous one on the undo stack, so undo and redo
are exact for every kind of edit, including multi-box steps such as pasting or accepting predictions. Listeners
are plain callables (no Qt), called after each change with the document.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable

from implant_desk.core.annotations.model import Box


@dataclass(frozen=True)
class DocumentState:
    boxes: tuple[Box, ...] = ()
    verified: bool = False


@dataclass(frozen=True)
class HistoryEntry:
    description: str
    state: DocumentState


class AnnotationDocument:
    def __init__(self, boxes: Iterable[Box] = (), verified: bool = False):
        self._state = DocumentState(tuple(boxes), verified)
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
            self._apply("Verify image" if verified else "Unverify image", replace(self._state, verified=verified))

    def undo(self) -> bool:
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        return self._step(self._redo, self._undo)

    def mark_saved(self, state: DocumentState | None = None) -> None:
        """Record ``state`` (default: the current one) as what is on disk."""
        self._saved_state = self._state if state is None else state
        self._notify()

    # ---- internals -----------------------------------------------------------------------------------------
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
