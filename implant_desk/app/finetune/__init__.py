"""Tools > Fine-tune (issue 6): train a new model version on the open folder's annotations, in a child process."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from implant_desk.app.controllers.shortcuts import BY_ACTION
from implant_desk.core.annotations.folder import annotation_folder


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
    folder, annotation_dir = current_folder(window)
    if dialog is None:
        dialog = FinetuneDialog(folder, window, annotation_dir=annotation_dir)
        # "Use this model": the Identify panel switches to the new version at once, not on its next run.
        dialog.modelActivated.connect(window.identify_panel.model_changed)
        window.finetune_dialog = dialog
    elif dialog.state == "setup" and (folder, annotation_dir) != (dialog.folder, dialog.annotation_dir):
        dialog.read_folder(folder, annotation_dir)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def current_folder(window) -> tuple[Path | None, Path | None]:
    """The folder the window shows, and the window's save folder when its annotations are kept there (LabelImg's
    "Change Save Dir") rather than where the folder's layout puts them (beside the images, or YOLO's labels/)."""
    item = window.navigator.current_item
    folder = item.path.parent if item is not None else (Path(window.settings.last_folder)
                                                        if window.settings.last_folder else None)
    save_dir = window.session.save_dir
    if folder is None or save_dir is None:
        return folder, None
    if Path(save_dir).resolve() == (annotation_folder(folder) or folder).resolve():
        return folder, None
    return folder, Path(save_dir)


def may_close(window) -> bool:
    """Before the window closes: a run in progress is stopped the hard way if the user agrees; False: stay."""
    dialog = getattr(window, "finetune_dialog", None)
    if dialog is None:
        return True
    from implant_desk.app.dialogs import ask

    return dialog.session.may_close(lambda text: ask.stop_training(window, text), dialog.cancel_and_wait)
