"""User story: "Identify folder" runs in the background, can be cancelled, and writes report.csv + report.pdf."""

from __future__ import annotations

import csv
import threading

import pytest

from implant_desk.app.canvas import Canvas
from implant_desk.app.dialogs import ask
from implant_desk.app.identify.folder_job import REPORT_DIR, FolderJob
from implant_desk.app.identify.panel import IdentifyPanel
from implant_desk.app.identify.worker import PredictorProvider

from identify_helpers import FakePredictor, write_folder


@pytest.fixture
def panel(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    predictor = FakePredictor()
    panel = IdentifyPanel(canvas, lambda: None, PredictorProvider(lambda: predictor))
    qtbot.addWidget(panel)
    panel.predictor = predictor
    yield panel
    panel.shutdown()


def test_identify_folder_writes_csv_and_pdf(qtbot, tmp_path, monkeypatch, panel):
    folder = write_folder(tmp_path / "xrays", 3)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    monkeypatch.setattr(ask, "folder", lambda *args: folder)
    progress = []
    panel.folder_button.click()
    panel.folder_job.progress.connect(lambda done, total, name: progress.append((done, total)))
    with qtbot.waitSignal(panel.folder_job.finished, timeout=30000):
        pass
    report = panel.last_report
    assert (report.images, report.fixtures, report.unreadable) == (4, 6, 1)
    assert report.csv_path == folder / REPORT_DIR / "report.csv"
    assert progress[-1] == (4, 4)
    rows = list(csv.DictReader(report.csv_path.open(encoding="utf-8")))
    assert len(rows) == 7  # two fixtures for each of the three images, one row for the broken file
    clear, doubtful = [r for r in rows if r["image"] == "img1.png"]
    assert (clear["fixture"], clear["system"], clear["candidate_1"], clear["p_1"], clear["length_mm"],
            clear["model"]) == ("1", "Alpha BL", "Alpha BL", "0.8000", "14.00", "fake-7")
    assert (doubtful["uncertain"], doubtful["system"], doubtful["candidate_2"]) == ("yes", "", "Gamma Cone")
    broken = next(r for r in rows if r["image"] == "broken.png")
    assert broken["note"].startswith("unreadable") and broken["fixture"] == ""
    pdf = report.pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Subtype /Image") >= 3  # a thumbnail per readable image
    assert "Open report" in panel.folder_status.text()
    assert f"Report written to {folder / REPORT_DIR}" in panel.folder_status.text()
    assert panel.folder_button.isEnabled() and not panel.folder_row.isVisible()


def test_open_report_without_an_application_for_pdf_says_so_and_shows_the_folder(qtbot, tmp_path, monkeypatch,
                                                                                   panel):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    folder = write_folder(tmp_path / "xrays", 1)
    panel.identify_folder(folder)
    with qtbot.waitSignal(panel.folder_job.finished, timeout=60_000):
        pass
    opened, questions = [], []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or
                        url.toLocalFile().endswith(REPORT_DIR))  # no PDF viewer; a file manager
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text: questions.append(text) or True)
    link = QUrl.fromLocalFile(str(panel.last_report.pdf_path)).toString()
    panel.folder_status.linkActivated.emit(link)
    assert opened == [str(panel.last_report.pdf_path), str(folder / REPORT_DIR)]
    assert questions and "No application opened the report" in questions[0]
    assert panel.message.isVisibleTo(panel) and str(folder / REPORT_DIR) in panel.message.text()


def test_pdf_header_carries_the_model_and_its_warning(tmp_path):
    from implant_desk.core.models.card import GENERATED_WARNING
    from implant_desk.core.reports.folder_report import identify_image, pdf_html

    write_folder(tmp_path, 1)
    identified = identify_image(FakePredictor(), tmp_path / "img1.png", 0.5)
    text = pdf_html([identified], tmp_path, 0.5, model="fake-7", device="cpu", warning=GENERATED_WARNING)
    assert "fake-7 on CPU" in text
    assert GENERATED_WARNING in text
    assert "candidates: Alpha BL 80% &middot; Beta TX 15% &middot; Gamma Cone 5%" in text
    assert "size: spacing unknown" in text  # a PNG does not say how large its pixels are


def test_cancel_stops_the_folder_and_writes_no_report(qtbot, tmp_path, panel):
    folder = write_folder(tmp_path / "xrays", 4)
    panel.predictor.gate = threading.Event()
    panel.identify_folder(folder)
    job = panel.folder_job
    assert panel.predictor.started.wait(60)
    panel.cancel_folder()
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        panel.predictor.gate.set()
    assert panel.predictor.calls == 1
    assert not (folder / REPORT_DIR / "report.csv").exists()
    assert "cancelled" in panel.folder_status.text()


def test_a_folder_without_radiographs_is_said_in_words(qtbot, tmp_path):
    job = FolderJob(PredictorProvider(FakePredictor), tmp_path, 0.5)
    with qtbot.waitSignal(job.failed, timeout=60_000) as blocker:
        job.start()
    assert "no radiographs" in blocker.args[0]
    job.wait()
