"""User story: Edit the implant taxonomy… opens the lab's copy, or says where it is when nothing can open it."""

from __future__ import annotations

from PySide6.QtGui import QDesktopServices

from implant_desk.core.catalogue.store import lab_catalogue_path


def test_without_an_application_for_csv_the_window_says_where_the_taxonomy_is(window, answers, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or False)
    answers.confirmations.append(False)  # "Show that folder?" No
    window.actions["edit_taxonomy"].trigger()
    path = lab_catalogue_path()
    assert path.is_file() and opened == [str(path)]
    assert "No application opened the implant taxonomy" in answers.asked[0]
    assert window.statusBar().currentMessage().startswith(f"The implant taxonomy was not opened; it is at {path}")
