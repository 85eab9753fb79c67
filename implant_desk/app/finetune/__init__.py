"""Tools > Fine-tune (issue 6): train a new model version on the open folder's annotations, in a child process."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from implant_desk.app.controllers.shortcuts import BY_ACTION


def install_finetune(window) -> QAction:
    """Add Tools > Fine-tune… to the annotation window. The dialog (and pyqtgraph) load on first use, so the
    window starts as fast as before; one dialog per window, so reopening shows a run in progress."""
    shortcut = BY_ACTION["finetune"]
    action = QAction("Fine-tune…", window)
    action.setShortcuts([QKeySequence(key) for key in shortcut.keys])
    action.setToolTip(f"{shortcut.text} ({shortcut.keys[0]})")
    action.triggered.connect(lambda: open_finetune(window))
    window.addAction(action)
    window.tools_menu().addAction(action)
    return action


def open_finetune(window):
    from implant_desk.app.finetune.dialog import FinetuneDialog

    dialog = getattr(window, "finetune_dialog", None)
    folder, note = current_folder(window)
    if dialog is None:
        dialog = FinetuneDialog(folder, window, note=note)
        window.finetune_dialog = dialog
    elif dialog.state == "setup" and folder != dialog.folder:
        dialog.note = note
        dialog.read_folder(folder)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def current_folder(window) -> tuple[Path | None, str]:
    """The folder the window shows, and a note when its annotations are saved elsewhere (training reads the
    annotations beside the images, or in labels/ beside images/)."""
    item = window.navigator.current_item
    folder = item.path.parent if item is not None else (Path(window.settings.last_folder)
                                                        if window.settings.last_folder else None)
    save_dir = window.session.save_dir
    note = ""
    if folder is not None and save_dir is not None and Path(save_dir).resolve() != folder.resolve():
        note = (f"Annotations saved in {save_dir} are not read: training uses the annotation files next to the "
                "images (or in labels/ beside images/).")
    return folder, note
