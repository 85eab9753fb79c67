"""What happens to unsaved work when the user moves to another image or folder, or quits. No Qt.

Auto-save on: save silently; only a failed save asks. Auto-save off: ask. The question offers save (retry),
discard or cancel (stay), and repeats with the new reason while saving keeps failing, so work is only ever
dropped by an explicit "discard".
"""

from __future__ import annotations

from typing import Callable

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def may_leave(dirty: bool, auto_save: bool, name: str, save: Callable[[], bool], last_error: Callable[[], str],
              ask: Callable[[str], str]) -> bool:
    """True when the current image may be left: saved, clean, or discarded by the user."""
    if not dirty or (auto_save and save()):
        return True
    question = f"{name} has unsaved changes."
    if last_error():
        question += f"\n\nSaving failed: {last_error()}"
    while True:
        answer = ask(question)
        if answer == DISCARD:
            return True
        if answer != SAVE:
            return False
        if save():
            return True
        question = f"{name} could not be saved:\n{last_error()}"
