"""Every keyboard shortcut of the window, in one table (the README links this module).

LabelImg 1.8.6's keys are kept for everything LabelImg does, so its users need not relearn. Its clashes are
resolved here, on purpose:

- Undo is Ctrl+Z and redo is Ctrl+Shift+Z. LabelImg has no undo; it uses Ctrl+Y to cycle the save format
  (VOC -> YOLO -> CreateML), and that stays, so Ctrl+Y is NOT redo here (unlike many Windows programs).
- LabelImg gives Ctrl+Shift+S to both "Save As" and "Single Class Mode". Save As keeps Ctrl+Shift+S;
  single-class mode has no shortcut (it is a checkbox in the label dock and the Edit menu).
- LabelImg's Ctrl+A "show all boxes" is kept; there is no "select all boxes".
- Deleting the image (Ctrl+Shift+D) asks first and moves the file to the system trash.
- Arrow keys move the selected box by one image pixel (Shift: ten); the window handles them, not the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    action: str
    keys: tuple[str, ...]  # QKeySequence strings; the first one is shown in menus
    text: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open_file", ("Ctrl+O",), "Open an image"),
    Shortcut("open_folder", ("Ctrl+U",), "Open a folder of images"),
    Shortcut("change_save_dir", ("Ctrl+R",), "Change the folder annotations are saved in"),
    Shortcut("open_classes", ("Ctrl+Shift+C",), "Load a classes file (predefined_classes.txt)"),
    Shortcut("save", ("Ctrl+S",), "Save the annotation"),
    Shortcut("save_as", ("Ctrl+Shift+S",), "Save the annotation in another folder"),
    Shortcut("cycle_format", ("Ctrl+Y",), "Cycle the save format (VOC, YOLO, CreateML)"),
    Shortcut("next_image", ("D",), "Next image"),
    Shortcut("previous_image", ("A",), "Previous image"),
    Shortcut("verify", ("Space",), "Mark the image verified (or not)"),
    Shortcut("delete_image", ("Ctrl+Shift+D",), "Move the image to the trash (asks first)"),
    Shortcut("quit", ("Ctrl+Q",), "Quit"),
    Shortcut("create_box", ("W",), "Draw a box"),
    Shortcut("edit_mode", ("Ctrl+J",), "Select, move and resize boxes"),
    Shortcut("ruler", ("M",), "Measure a distance"),
    Shortcut("edit_label", ("Ctrl+E",), "Change the selected box's label"),
    Shortcut("duplicate_box", ("Ctrl+D",), "Duplicate the selected box"),
    Shortcut("delete_box", ("Del",), "Delete the selected box"),
    Shortcut("toggle_difficult", ("Ctrl+Shift+X",), "Mark the selected box difficult (or not)"),
    Shortcut("copy_previous", ("Ctrl+V",), "Copy the previous image's boxes"),
    Shortcut("undo", ("Ctrl+Z",), "Undo"),
    Shortcut("redo", ("Ctrl+Shift+Z",), "Redo"),
    Shortcut("hide_boxes", ("Ctrl+H",), "Hide the boxes"),
    Shortcut("show_boxes", ("Ctrl+A",), "Show the boxes"),
    Shortcut("zoom_in", ("Ctrl++",), "Zoom in"),
    Shortcut("zoom_out", ("Ctrl+-",), "Zoom out"),
    Shortcut("zoom_original", ("Ctrl+=",), "Original size (1:1)"),
    Shortcut("fit_window", ("Ctrl+F",), "Fit the image in the window"),
    Shortcut("fit_width", ("Ctrl+Shift+F",), "Fit the image's width"),
    Shortcut("auto_window", ("Ctrl+L",), "Automatic window/level"),
    Shortcut("invert", ("I",), "Invert the display"),
    Shortcut("finetune", ("Ctrl+Shift+T",), "Fine-tune the model on this folder's annotations"),
    # Reviewing proposed boxes (issue 13); Space (verify) marks the image reviewed.
    Shortcut("preannotate", ("Ctrl+Shift+P",), "Pre-annotate the folder with the model (in the background)"),
    Shortcut("next_proposal", ("N",), "Next proposed box"),
    Shortcut("next_to_review", ("Shift+D",), "Next image to review (in the chosen order)"),
    Shortcut("accept_proposal", ("Y",), "Accept the proposed box"),
    Shortcut("reject_proposal", ("X",), "Reject the proposed box"),
    Shortcut("accept_all_proposals", ("Shift+Y",), "Accept every proposed box of the image"),
    Shortcut("candidate_1", ("1",), "Accept the proposed box as its first candidate system"),
    Shortcut("candidate_2", ("2",), "Accept the proposed box as its second candidate system"),
    Shortcut("candidate_3", ("3",), "Accept the proposed box as its third candidate system"),
)

BY_ACTION: dict[str, Shortcut] = {s.action: s for s in SHORTCUTS}


def clashes(table: tuple[Shortcut, ...] = SHORTCUTS) -> dict[str, list[str]]:
    """Key sequences bound to more than one action (must be empty; a test keeps it so)."""
    seen: dict[str, list[str]] = {}
    for shortcut in table:
        for key in shortcut.keys:
            seen.setdefault(key.lower(), []).append(shortcut.action)
    return {key: actions for key, actions in seen.items() if len(actions) > 1}
