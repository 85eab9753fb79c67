"""The annotation document: every edit undoable, the dirty flag follows what is on disk."""

from __future__ import annotations

from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box

A = Box("Implant", 10, 10, 50, 50)
B = Box("Crown", 60, 10, 90, 40)


def test_each_kind_of_edit_undoes_and_redoes_exactly():
    document = AnnotationDocument([A])
    steps = [
        lambda: document.add_box(B),
        lambda: document.update_box(1, B.moved(5, 5), "Move box"),
        lambda: document.update_box(0, A.with_label("Nobel"), "Relabel"),
        lambda: document.update_box(0, Box("Nobel", 10, 10, 50, 50, difficult=True), "Difficult"),
        lambda: document.add_boxes([A, B], "Paste"),
        lambda: document.remove_boxes([0, 2]),
        lambda: document.set_verified(True),
    ]
    states = [document.state]
    for step in steps:
        step()
        states.append(document.state)
    assert len(set(states)) == len(states)  # every step changed something
    for expected in reversed(states[:-1]):
        assert document.undo()
        assert document.state == expected
    assert not document.undo()
    for expected in states[1:]:
        assert document.redo()
        assert document.state == expected
    assert document.undo_text == "Verify image"


def test_dirty_follows_the_saved_state_through_undo():
    document = AnnotationDocument([A])
    assert not document.dirty
    document.add_box(B)
    assert document.dirty
    document.undo()
    assert not document.dirty  # back to what is on disk
    document.redo()
    document.mark_saved()
    assert not document.dirty
    document.undo()
    assert document.dirty


def test_no_op_edits_add_no_history_and_listeners_hear_changes():
    document = AnnotationDocument([A])
    heard: list[int] = []
    document.subscribe(lambda doc: heard.append(len(doc.boxes)))
    document.update_box(0, A)
    document.add_boxes([])
    document.remove_boxes([])
    document.set_verified(False)
    assert not document.can_undo and heard == []
    document.add_box(B)
    document.undo()
    assert heard == [2, 1]


def test_a_new_edit_clears_redo():
    document = AnnotationDocument()
    document.add_box(A)
    document.undo()
    document.add_box(B)
    assert not document.can_redo and document.boxes == (B,)
