"""QActions built from the shortcut table, and the menus that hold them."""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from implant_desk.app.controllers.shortcuts import BY_ACTION

MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open_file", "open_folder", "change_save_dir", "open_classes", "-", "save", "save_as",
               "cycle_format", "auto_save", "-", "delete_image", "-", "quit")),
    ("&Edit", ("undo", "redo", "-", "create_box", "edit_mode", "ruler", "-", "edit_label", "duplicate_box",
               "delete_box", "toggle_difficult", "copy_previous", "verify", "-", "single_class",
               "edit_taxonomy")),
    ("&View", ("previous_image", "next_image", "-", "zoom_in", "zoom_out", "zoom_original", "fit_window",
               "fit_width", "-", "hide_boxes", "show_boxes", "-", "auto_window", "invert")),
)

# Actions that are not in LabelImg's shortcut table: (menu text, checkable)
EXTRA_ACTIONS = {
    "auto_save": ("Auto-save", True),
    "single_class": ("Single class mode", True),
    "edit_taxonomy": ("Edit the implant taxonomy...", False),
}


def build_actions(window: QMainWindow, handlers: dict[str, Callable[[], None]]) -> dict[str, QAction]:
    """One QAction per handler, with its shortcut(s) and tooltip from the table, added to the menus."""
    actions: dict[str, QAction] = {}
    for name, handler in handlers.items():
        if name in BY_ACTION:
            shortcut = BY_ACTION[name]
            action = QAction(shortcut.text, window)
            action.setShortcuts([QKeySequence(key) for key in shortcut.keys])
            action.setToolTip(f"{shortcut.text} ({shortcut.keys[0]})")
        else:
            text, checkable = EXTRA_ACTIONS[name]
            action = QAction(text, window)
            action.setCheckable(checkable)
        action.triggered.connect(handler)
        window.addAction(action)  # shortcuts work even while a menu is hidden
        actions[name] = action
    for title, names in MENUS:
        menu: QMenu = window.menuBar().addMenu(title)
        for name in names:
            if name == "-":
                menu.addSeparator()
            elif name in actions:
                menu.addAction(actions[name])
    return actions
