"""Implant systems are rows of a CSV file: a fourth system is one more row, and a bad row is reported."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from implant_desk.core.synthetic import SystemsFileError, generate_series, load_systems
from implant_desk.core.catalogue.systems import COLUMNS, default_systems_path

FOURTH = {"name": "tapered-buttress-tissue-level", "body": "tapered", "thread": "buttress", "pitch_mm": "0.9",
          "coronal": "tissue-level", "microthreads": "no", "apical_groove": "no", "apical_hole": "round",
          "apex": "flat", "diameter_min_mm": "3.5", "diameter_max_mm": "4.5", "length_min_mm": "8",
          "length_max_mm": "12"}


def _write_with(tmp_path: Path, extra_rows: list[dict[str, str]]) -> Path:
    rows = list(csv.DictReader(default_systems_path().open(encoding="utf-8")))
    path = tmp_path / "systems.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows + extra_rows)
    return path


def test_the_built_in_systems_are_named_after_their_design():
    systems = load_systems()
    assert len(systems) >= 3
    for system in systems:
        assert system.body in system.name and system.coronal in system.name
    assert len({(s.body, s.thread, s.coronal, s.apex) for s in systems}) == len(systems)


def test_a_fourth_system_is_one_more_row(tmp_path):
    systems = load_systems(_write_with(tmp_path, [FOURTH]))
    assert [s.name for s in systems][-1] == FOURTH["name"]
    fourth = systems[-1]
    assert fourth.part_label("middle") == "middle:tapered+buttress"
    assert fourth.part_label("apical") == "apical:no-groove+hole-round+apex-flat"
    drawn = [f for image in generate_series(4, 3, systems) for f in image.fixtures if f.system == FOURTH["name"]]
    assert drawn
    assert all(3.5 <= f.diameter_mm <= 4.5 and 8 <= f.length_mm <= 12 for f in drawn)


@pytest.mark.parametrize(("column", "value", "words"), [
    ("thread", "triangular", "thread is 'triangular'"),
    ("pitch_mm", "fine", "pitch_mm must be a number"),
    ("diameter_min_mm", "9", "outside"),
    ("name", "has space", "without spaces"),
])
def test_a_bad_cell_is_reported_with_its_line(tmp_path, column, value, words):
    path = _write_with(tmp_path, [{**FOURTH, column: value}])
    with pytest.raises(SystemsFileError) as caught:
        load_systems(path)
    assert "line 5" in str(caught.value) and words in str(caught.value)


def test_a_missing_column_or_file_is_reported(tmp_path):
    path = tmp_path / "systems.csv"
    path.write_text("name,body\nx,straight\n", encoding="utf-8")
    with pytest.raises(SystemsFileError, match="lacks the column"):
        load_systems(path)
    with pytest.raises(SystemsFileError, match="cannot read"):
        load_systems(tmp_path / "missing.csv")
    with pytest.raises(SystemsFileError, match="same name"):
        load_systems(_write_with(tmp_path, [FOURTH, FOURTH]))
