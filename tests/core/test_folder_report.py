"""The folder report without Qt: each image identified (or its error kept), the CSV rows and the PDF's HTML."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

from implant_desk.core.models.predictor import FixturePrediction
from implant_desk.core.reports.folder_report import (
    CSV_COLUMNS,
    THUMBNAIL_PX,
    IdentifiedImage,
    csv_text,
    identify_image,
    pdf_html,
    thumbnail_source,
)

CLEAR = FixturePrediction(box=(10.0, 20.0, 30.0, 90.0), score=0.9, candidates=(("Alpha BL", 0.8), ("Beta TX", 0.2)),
                          uncertain=False, length_mm=11.5, diameter_mm=4.1)
DOUBTFUL = FixturePrediction(box=(50.0, 20.0, 70.0, 90.0), score=0.6, candidates=(("Beta TX", 0.4),), uncertain=True)


class _OneFixturePredictor:
    def predict(self, radiograph, threshold):
        return [CLEAR]


def test_identify_image_keeps_a_thumbnail_and_turns_a_bad_file_into_an_error(tmp_path):
    Image.fromarray(np.full((600, 400), 30000, dtype=np.uint16)).save(tmp_path / "big.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    good = identify_image(_OneFixturePredictor(), tmp_path / "big.png", 0.5)
    assert good.fixtures == [CLEAR] and not good.error and not good.spacing_known
    assert good.thumbnail.shape == (THUMBNAIL_PX, 200) and good.scale == 0.5
    bad = identify_image(_OneFixturePredictor(), tmp_path / "broken.png", 0.5)
    assert bad.error and bad.fixtures == [] and bad.thumbnail is None


def test_csv_has_a_row_per_fixture_and_one_for_an_empty_or_unreadable_image():
    images = [IdentifiedImage(Path("a.png"), [CLEAR, DOUBTFUL], spacing_known=True), IdentifiedImage(Path("b.png")),
              IdentifiedImage(Path("c.png"), error="not an image")]
    rows = list(csv.DictReader(io.StringIO(csv_text(images, "v3"))))
    assert list(rows[0]) == list(CSV_COLUMNS) and len(rows) == 4
    assert (rows[0]["system"], rows[0]["length_mm"], rows[0]["spacing_known"], rows[0]["model"]) == \
        ("Alpha BL", "11.50", "yes", "v3")
    assert (rows[1]["system"], rows[1]["uncertain"], rows[1]["candidate_2"]) == ("", "yes", "")
    assert (rows[2]["note"], rows[3]["note"]) == ("no fixture found", "unreadable: not an image")


def test_pdf_html_names_each_image_its_fixtures_and_thumbnail():
    images = [IdentifiedImage(Path("a.png"), [CLEAR, DOUBTFUL], spacing_known=True, thumbnail=np.zeros((4, 4))),
              IdentifiedImage(Path("b <odd>.png"), error="not an image")]
    text = pdf_html(images, Path("/xrays"), 0.5, model="v3", device="cuda", warning="Research only.")
    assert "v3 on CUDA" in text and "Research only." in text and "fixtures found: 2" in text
    assert f"<img src='{thumbnail_source(0)}'>" in text
    assert "1. Alpha BL 80%" in text and "2. uncertain (best: Beta TX 40%)" in text
    assert "length 11.5 mm, diameter 4.1 mm" in text
    assert "b &lt;odd&gt;.png" in text and "Not read: not an image" in text
