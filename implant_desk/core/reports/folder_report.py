""""Identify folder" without Qt: each image through the predictor, then the report's CSV text and the PDF's HTML.

A file that cannot be read becomes a row that says so, never a crash. The app paints the thumbnails
(``thumbnail_source`` names them in the HTML) and prints the HTML to PDF.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.reports.fixture_text import candidate_text, fixture_title, size_text

if TYPE_CHECKING:  # the predictor module imports torch
    from implant_desk.core.models.predictor import FixturePrediction, Predictor

THUMBNAIL_PX = 300  # longer side of each thumbnail in the PDF (at 96 dpi: about 8 cm)
IMAGES_PER_PAGE = 2
CLAIMED_PRINT_COLOR = "#1b7f3b"  # darker than the panel's green: it is printed on white paper
UNCERTAIN_PRINT_COLOR = "#ffb300"
CSV_COLUMNS = ("image", "fixture", "x1", "y1", "x2", "y2", "fixture_score", "system", "uncertain", "confidence",
               "candidate_1", "p_1", "candidate_2", "p_2", "candidate_3", "p_3", "length_mm", "diameter_mm",
               "spacing_known", "model", "note")


@dataclass
class IdentifiedImage:
    """One image of the folder as identified: its fixtures, or why it could not be read."""

    path: Path
    fixtures: list[FixturePrediction] = field(default_factory=list)
    error: str = ""
    ms: float = 0.0
    spacing_known: bool = False
    thumbnail: np.ndarray | None = None  # uint8 grey, longer side THUMBNAIL_PX
    scale: float = 1.0  # thumbnail px per image px


def identify_image(predictor: Predictor, path: Path, threshold: float) -> IdentifiedImage:
    """One image: load, predict (sizes, no explanation maps), thumbnail. A bad file becomes a row, not a crash."""
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.preprocess import grey8

    started = time.perf_counter()
    try:
        radiograph = load_radiograph(path)
        fixtures = predictor.predict(radiograph, threshold)
    except ImplantDeskError as error:
        return IdentifiedImage(path, error=getattr(error, "reason", str(error)))
    ms = (time.perf_counter() - started) * 1000
    thumbnail, scale = _thumbnail(grey8(radiograph))
    return IdentifiedImage(path, fixtures, ms=ms, spacing_known=radiograph.spacing_mm is not None,
                           thumbnail=thumbnail, scale=scale)


def _thumbnail(image: np.ndarray) -> tuple[np.ndarray, float]:
    import cv2

    scale = min(1.0, THUMBNAIL_PX / max(image.shape[:2]))
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA)), scale


def csv_text(images: Sequence[IdentifiedImage], model: str) -> str:
    """One row per fixture; one row for an image with none or that could not be read."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for image in images:
        if image.error or not image.fixtures:
            note = f"unreadable: {image.error}" if image.error else "no fixture found"
            writer.writerow([image.path.name, *[""] * (len(CSV_COLUMNS) - 3), model, note])
            continue
        for number, fixture in enumerate(image.fixtures, 1):
            offered = fixture.candidates if fixture.nameable else ()  # a generated design is no identification
            ranked = [value for system, p in offered for value in (system, f"{p:.4f}")]
            ranked += [""] * (6 - len(ranked))
            writer.writerow([image.path.name, number, *(f"{v:.1f}" for v in fixture.box), f"{fixture.score:.4f}",
                             fixture.system or "", "yes" if fixture.uncertain else "no", f"{fixture.confidence:.4f}",
                             *ranked[:6], _mm(fixture.length_mm), _mm(fixture.diameter_mm),
                             "yes" if image.spacing_known else "no", model, "" if fixture.nameable else fixture.status])
    return out.getvalue()


def _mm(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def thumbnail_source(index: int) -> str:
    """The name the HTML gives the thumbnail of ``images[index]``; the PDF printer supplies the picture."""
    return f"thumb:{index}"


def pdf_html(images: Sequence[IdentifiedImage], folder: Path, threshold: float, *, model: str, device: str,
             warning: str) -> str:
    """The report as HTML: a header naming the model, its device and the card's warning, then each image."""
    found = sum(len(image.fixtures) for image in images)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        "<h2>Implant identification report</h2>",
        f"<p><b>Folder:</b> {html.escape(str(folder))}<br><b>Images:</b> {len(images)}, fixtures found: {found}"
        f"<br><b>Model:</b> {html.escape(model)} on {device.upper()}<br><b>Threshold:</b> "
        f"{threshold:.0%} (no system is claimed for a fixture under it)<br><b>Date:</b> {when}</p>",
        f"<p style='color:#a15c00'><b>{html.escape(warning)}</b></p><hr>",
    ]
    for index, image in enumerate(images):
        # Qt cannot keep a table row on one page, so each page holds a fixed number of images.
        page_break = " style='page-break-before: always'" if index and index % IMAGES_PER_PAGE == 0 else ""
        parts.append(f"<h3{page_break}>{html.escape(image.path.name)}</h3>")
        if image.error:
            parts.append(f"<p>Not read: {html.escape(image.error)}</p>")
            continue
        lines = [_fixture_html(number, fixture, image.spacing_known)
                 for number, fixture in enumerate(image.fixtures, 1)] or ["No fixture found."]
        parts.append(f"<table width='100%' cellspacing='0' cellpadding='4'><tr><td width='1' valign='top'>"
                     f"<img src='{thumbnail_source(index)}'></td><td valign='top'>{'<br><br>'.join(lines)}<br><br>"
                     f"<i style='color:#777'>{image.ms:.0f} ms</i></td></tr></table>")
    return "\n".join(parts)


def _fixture_html(number: int, fixture: FixturePrediction, spacing_known: bool) -> str:
    color = CLAIMED_PRINT_COLOR if fixture.identified else UNCERTAIN_PRINT_COLOR
    ranked = " &middot; ".join(html.escape(candidate_text(fixture, *c)) for c in fixture.candidates)
    said = f"candidates: {ranked}" if fixture.nameable else html.escape(fixture.status)
    return (f"<b style='color:{color}'>{number}. {html.escape(fixture_title(fixture))}</b><br>"
            f"{said}<br>{size_text(fixture, spacing_known)}; fixture score {fixture.score:.2f}")
