"""Every modal question the window asks, as functions returning plain values (tests monkeypatch these)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from implant_desk.app.controllers.leaving import CANCEL, DISCARD, SAVE


def label(parent: QWidget | None, choices: list[str], proposed: str) -> str | None:
    from implant_desk.app.dialogs.label_dialog import LabelDialog  # not needed before the first box

    dialog = LabelDialog(choices, proposed, parent)
    return dialog.label() if dialog.exec() == LabelDialog.DialogCode.Accepted else None


def unsaved_changes(parent: QWidget | None, text: str) -> str:
    """SAVE, DISCARD or CANCEL."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, "Unsaved changes", text, buttons.Save | buttons.Discard | buttons.Cancel,
                                  buttons.Save)
    return {buttons.Save: SAVE, buttons.Discard: DISCARD}.get(answer, CANCEL)


def stop_training(parent: QWidget | None, text: str) -> bool:
    """True for "Stop and close", False for "Cancel" (the default, and Esc)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Fine-tuning in progress", text, parent=parent)
    stop = box.addButton("Stop and close", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    box.exec()
    return box.clickedButton() is stop


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton
    return QMessageBox.question(parent, title, text, buttons.Yes | buttons.No, buttons.No) == buttons.Yes


def error(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def folder(parent: QWidget | None, title: str, start: str) -> Path | None:
    chosen = QFileDialog.getExistingDirectory(parent, title, start)
    return Path(chosen) if chosen else None


def open_file(parent: QWidget | None, title: str, start: str, file_filter: str) -> Path | None:
    chosen, _ = QFileDialog.getOpenFileName(parent, title, start, file_filter)
    return Path(chosen) if chosen else None
