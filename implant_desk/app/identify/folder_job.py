""""Identify folder": every image of a folder through the predictor, in the background, then a report.

The report is ``report.csv`` (one row per fixture; one row for an image with none or that could not be read)
and ``report.pdf`` (per image a thumbnail with the boxes drawn, the candidates and sizes; the header names the
model, its device and the warning from its card). Both are written atomically into ``<folder>/identify-report``
and only when the whole folder was done: a cancelled job leaves no report (and an earlier report untouched).
What the report says is built without Qt (``implant_desk.core.reports.folder_report``); this module paints the
thumbnails and prints the PDF. Painting into a QImage and a QPdfWriter is allowed outside the GUI thread, so
the job never blocks the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QObject, QRectF, QSizeF, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen, QTextDocument

from implant_desk.app.identify.controller import CLAIMED_COLOR, UNCERTAIN_COLOR, ModelInfo
from implant_desk.app.background import BackgroundJob
from implant_desk.app.identify.worker import PredictorProvider, describe_failure, model_info
from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.errors import ImplantDeskError, SaveError
from implant_desk.core.reports.folder_report import (
    IdentifiedImage,
    csv_text,
    identify_image,
    pdf_html,
    thumbnail_source,
)

REPORT_DIR = "identify-report"
PDF_DPI = 300


@dataclass(frozen=True)
class FolderReport:
    folder: Path
    csv_path: Path
    pdf_path: Path
    images: int
    fixtures: int
    unreadable: int


# ---- painting and printing -------------------------------------------------------------------------------------
def overlay_thumbnail(identified: IdentifiedImage) -> QImage:
    """The thumbnail with each fixture's box and number (green: system claimed, amber: uncertain)."""
    grey = identified.thumbnail
    image = QImage(grey.data, grey.shape[1], grey.shape[0], grey.strides[0], QImage.Format.Format_Grayscale8)
    image = image.convertToFormat(QImage.Format.Format_RGB32)  # a copy: independent of the numpy buffer
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(13)
    font.setBold(True)
    painter.setFont(font)
    for number, fixture in enumerate(identified.fixtures, 1):
        color = QColor(CLAIMED_COLOR if fixture.identified else UNCERTAIN_COLOR)
        x1, y1, x2, y2 = (v * identified.scale for v in fixture.box)
        painter.setPen(QPen(color, 2))
        painter.drawRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        painter.drawText(QRectF(x1 + 3, y1 + 2, 40, 18), str(number))
    painter.end()
    return image


def pdf_bytes(images: Sequence[IdentifiedImage], info: ModelInfo, folder: Path, threshold: float) -> bytes:
    document = QTextDocument()
    for index, identified in enumerate(images):
        if identified.thumbnail is not None:
            document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(thumbnail_source(index)),
                                 overlay_thumbnail(identified))
    document.setHtml(pdf_html(images, folder, threshold, model=info.name, device=info.device, warning=info.warning))
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
class FolderJob(BackgroundJob):
    """Every image of the folder, then the report; cancelled, it stops after the image in progress and writes none."""

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
        images = []
        for done, path in enumerate(paths):
            if self.stopping:
                return None
            self.progress.emit(done, len(paths), path.name)
            with self.provider.exclusive():  # per image, so the panel may take its turn in between
                images.append(identify_image(predictor, path, self.threshold))
        if self.stopping:
            return None
        self.progress.emit(len(paths), len(paths), "")
        csv_path, pdf_path = self.out_dir / "report.csv", self.out_dir / "report.pdf"
        try:
            self.out_dir.mkdir(exist_ok=True)
        except OSError as error:
            raise SaveError(self.out_dir, f"the report folder cannot be created ({error.strerror or error})") from error
        atomic_write_text(csv_path, csv_text(images, info.name))
        atomic_write_bytes(pdf_path, pdf_bytes(images, info, self.folder, self.threshold))
        return FolderReport(self.folder, csv_path, pdf_path, len(images), sum(len(i.fixtures) for i in images),
                            sum(1 for i in images if i.error))
