""""Identify folder": every image of a folder through the predictor, in the background, then a report.

The report is ``report.csv`` (one row per fixture; one row for an image with none or that could not be read)
and ``report.pdf`` (per image a thumbnail with the boxes drawn, the candidates and sizes; the header names the
model, its device and the warning from its card). Both are written atomically into ``<folder>/identify-report``
and only when the whole folder was done: a cancelled job leaves no report (and an earlier report untouched).
Painting into a QImage and a QPdfWriter is allowed outside the GUI thread, so the job never blocks the window.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QObject, QRectF, QSizeF, QThreadPool, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen, QTextDocument

from implant_desk.app.identify.controller import CLAIMED_COLOR, UNCERTAIN_COLOR, ModelInfo, fixture_title, size_text
from implant_desk.app.identify.worker import FunctionRunnable, PredictorProvider, describe_failure, model_info
from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.errors import ImplantDeskError, SaveError

if TYPE_CHECKING:
    from implant_desk.core.models.predictor import FixturePrediction, Predictor

REPORT_DIR = "identify-report"
THUMBNAIL_PX = 300  # longer side of each thumbnail in the PDF (at 96 dpi: about 8 cm)
IMAGES_PER_PAGE = 2
PDF_DPI = 300
CSV_COLUMNS = ("image", "fixture", "x1", "y1", "x2", "y2", "fixture_score", "system", "uncertain", "confidence",
               "candidate_1", "p_1", "candidate_2", "p_2", "candidate_3", "p_3", "length_mm", "diameter_mm",
               "spacing_known", "model", "note")


@dataclass
class ImageResult:
    path: Path
    fixtures: list[FixturePrediction] = field(default_factory=list)
    error: str = ""
    ms: float = 0.0
    spacing_known: bool = False
    thumbnail: np.ndarray | None = None  # uint8 grey, longer side THUMBNAIL_PX
    scale: float = 1.0  # thumbnail px per image px


@dataclass(frozen=True)
class FolderReport:
    folder: Path
    csv_path: Path
    pdf_path: Path
    images: int
    fixtures: int
    unreadable: int


def identify_image(predictor: Predictor, path: Path, threshold: float) -> ImageResult:
    """One image: load, predict (sizes, no explanation maps), thumbnail. A bad file becomes a row, not a crash."""
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.preprocess import grey8

    started = time.perf_counter()
    try:
        radiograph = load_radiograph(path)
        fixtures = predictor.predict(radiograph, threshold)
    except ImplantDeskError as error:
        return ImageResult(path, error=getattr(error, "reason", str(error)))
    ms = (time.perf_counter() - started) * 1000
    thumbnail, scale = _thumbnail(grey8(radiograph))
    return ImageResult(path, fixtures, ms=ms, spacing_known=radiograph.spacing_mm is not None, thumbnail=thumbnail,
                       scale=scale)


def _thumbnail(image: np.ndarray) -> tuple[np.ndarray, float]:
    import cv2

    scale = min(1.0, THUMBNAIL_PX / max(image.shape[:2]))
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA)), scale


# ---- the report files --------------------------------------------------------------------------------------------
def csv_text(results: Sequence[ImageResult], model: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        if result.error or not result.fixtures:
            note = f"unreadable: {result.error}" if result.error else "no fixture found"
            writer.writerow([result.path.name, *[""] * (len(CSV_COLUMNS) - 3), model, note])
            continue
        for number, fixture in enumerate(result.fixtures, 1):
            ranked = [value for system, p in fixture.candidates for value in (system, f"{p:.4f}")]
            ranked += [""] * (6 - len(ranked))
            writer.writerow([result.path.name, number, *(f"{v:.1f}" for v in fixture.box), f"{fixture.score:.4f}",
                             fixture.system or "", "yes" if fixture.uncertain else "no", f"{fixture.confidence:.4f}",
                             *ranked[:6], _mm(fixture.length_mm), _mm(fixture.diameter_mm),
                             "yes" if result.spacing_known else "no", model, ""])
    return out.getvalue()


def _mm(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def overlay_thumbnail(result: ImageResult) -> QImage:
    """The thumbnail with each fixture's box and number (green: system claimed, amber: uncertain)."""
    grey = result.thumbnail
    image = QImage(grey.data, grey.shape[1], grey.shape[0], grey.strides[0], QImage.Format.Format_Grayscale8)
    image = image.convertToFormat(QImage.Format.Format_RGB32)  # a copy: independent of the numpy buffer
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(13)
    font.setBold(True)
    painter.setFont(font)
    for number, fixture in enumerate(result.fixtures, 1):
        color = QColor(UNCERTAIN_COLOR if fixture.uncertain else CLAIMED_COLOR)
        x1, y1, x2, y2 = (v * result.scale for v in fixture.box)
        painter.setPen(QPen(color, 2))
        painter.drawRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        painter.drawText(QRectF(x1 + 3, y1 + 2, 40, 18), str(number))
    painter.end()
    return image


def pdf_html(results: Sequence[ImageResult], info: ModelInfo, folder: Path, threshold: float) -> str:
    found = sum(len(r.fixtures) for r in results)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<h2>Implant identification report</h2>",
        f"<p><b>Folder:</b> {html.escape(str(folder))}<br><b>Images:</b> {len(results)}, fixtures found: {found}"
        f"<br><b>Model:</b> {html.escape(info.name)} on {info.device.upper()}<br><b>Threshold:</b> "
        f"{threshold:.0%} (no system is claimed for a fixture under it)<br><b>Date:</b> {when}</p>",
        f"<p style='color:#a15c00'><b>{html.escape(info.warning)}</b></p><hr>",
    ]
    for index, result in enumerate(results):
        # Qt cannot keep a table row on one page, so each page holds a fixed number of images.
        page_break = " style='page-break-before: always'" if index and index % IMAGES_PER_PAGE == 0 else ""
        parts.append(f"<h3{page_break}>{html.escape(result.path.name)}</h3>")
        if result.error:
            parts.append(f"<p>Not read: {html.escape(result.error)}</p>")
            continue
        lines = [_fixture_html(number, fixture, result.spacing_known)
                 for number, fixture in enumerate(result.fixtures, 1)] or ["No fixture found."]
        parts.append(f"<table width='100%' cellspacing='0' cellpadding='4'><tr><td width='1' valign='top'>"
                     f"<img src='thumb:{index}'></td><td valign='top'>{'<br><br>'.join(lines)}<br><br>"
                     f"<i style='color:#777'>{result.ms:.0f} ms</i></td></tr></table>")
    return "\n".join(parts)


def _fixture_html(number: int, fixture: FixturePrediction, spacing_known: bool) -> str:
    color = UNCERTAIN_COLOR if fixture.uncertain else "#1b7f3b"
    ranked = " &middot; ".join(f"{html.escape(system)} {p:.0%}" for system, p in fixture.candidates)
    size = size_text(fixture) if spacing_known else "size: spacing unknown"
    return (f"<b style='color:{color}'>{number}. {html.escape(fixture_title(fixture))}</b><br>"
            f"candidates: {ranked}<br>{size}; fixture score {fixture.score:.2f}")


def pdf_bytes(results: Sequence[ImageResult], info: ModelInfo, folder: Path, threshold: float) -> bytes:
    document = QTextDocument()
    for index, result in enumerate(results):
        if result.thumbnail is not None:
            document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"thumb:{index}"),
                                 overlay_thumbnail(result))
    document.setHtml(pdf_html(results, info, folder, threshold))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    writer.setTitle("Implant identification report")
    writer.setCreator("implant_desk")
    writer.setResolution(PDF_DPI)
    # Laid out at the screen's 96 dpi over the page's printable area; print_ scales it up to the writer's dpi.
    printable = writer.pageLayout().paintRect(QPageLayout.Unit.Point)
    document.setPageSize(QSizeF(printable.width() * 96 / 72, printable.height() * 96 / 72))
    document.setDocumentMargin(0)
    document.print_(writer)
    del writer  # finishes the PDF into the buffer
    buffer.close()
    return bytes(data.data())


# ---- the background job --------------------------------------------------------------------------------------------
class FolderJob(QObject):
    progress = Signal(int, int, str)  # images done, total, the name of the next one
    finished = Signal(object)  # FolderReport
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, provider: PredictorProvider, folder: Path, threshold: float, parent: QObject | None = None):
        super().__init__(parent)
        self.provider = provider
        self.folder = Path(folder)
        self.out_dir = self.folder / REPORT_DIR
        self.threshold = threshold
        self._stop = threading.Event()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def start(self) -> None:
        self._pool.start(FunctionRunnable(self._run))

    def cancel(self) -> None:
        """Stop after the image in progress; no report is written."""
        self._stop.set()

    def wait(self, timeout_ms: int = -1) -> bool:
        return self._pool.waitForDone(timeout_ms)

    def _run(self) -> None:
        try:
            report = self._identify_all()
        except Exception as error:  # noqa: BLE001 (thread boundary: the panel shows every failure in words)
            self.failed.emit(describe_failure(error))
            return
        if report is None:
            self.cancelled.emit()
        else:
            self.finished.emit(report)

    def _identify_all(self) -> FolderReport | None:
        from implant_desk.core.annotations.folder import scan_image_folder

        paths = [entry.path for entry in scan_image_folder(self.folder)]
        if not paths:
            raise ImplantDeskError(f"There are no radiographs in {self.folder}")
        with self.provider.use() as predictor:  # loads the model first, so a missing model fails at once
            info = model_info(predictor)
        results = []
        for done, path in enumerate(paths):
            if self._stop.is_set():
                return None
            self.progress.emit(done, len(paths), path.name)
            with self.provider.exclusive():  # per image, so the panel may take its turn in between
                results.append(identify_image(predictor, path, self.threshold))
        if self._stop.is_set():
            return None
        self.progress.emit(len(paths), len(paths), "")
        csv_path, pdf_path = self.out_dir / "report.csv", self.out_dir / "report.pdf"
        try:
            self.out_dir.mkdir(exist_ok=True)
        except OSError as error:
            raise SaveError(self.out_dir, f"the report folder cannot be created ({error.strerror or error})") from error
        atomic_write_text(csv_path, csv_text(results, info.name))
        atomic_write_bytes(pdf_path, pdf_bytes(results, info, self.folder, self.threshold))
        return FolderReport(self.folder, csv_path, pdf_path, len(results), sum(len(r.fixtures) for r in results),
                            sum(1 for r in results if r.error))
