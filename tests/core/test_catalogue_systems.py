"""The catalogue of implant systems by design: rows of a CSV file, where a bad row is reported with its line, a lab's
copy wins over the shipped table, and the systems a model knows are picked by name."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from pathlib import Path

import pytest

from implant_desk.core.catalogue.store import (
    add_system, ensure_lab_copy, lab_catalogue_path, load_catalogue, shipped_catalogue)
from implant_desk.core.catalogue.systems import (
    ATTRIBUTES, COLUMNS, MIN_DIFFERENCES, OPTIONAL_COLUMNS, close_pairs, default_systems_path, differing_attributes,
    read_systems)
from implant_desk.core.models.card import read_card
from implant_desk.core.registry import DEFAULT_MODEL_DIR, model_systems
from implant_desk.core.synthetic import SystemsFileError, generate_series, load_systems

FOURTH = {"name": "tapered-buttress-tissue-level", "body": "tapered", "thread": "buttress", "pitch_mm": "0.9",
          "coronal": "tissue-level", "microthreads": "no", "apical_groove": "no", "apical_hole": "round",
          "apex": "flat", "diameter_min_mm": "3.5", "diameter_max_mm": "4.5", "length_min_mm": "8",
          "length_max_mm": "12"}
SHIPPED_ROWS = list(csv.DictReader(default_systems_path().open(encoding="utf-8")))
FIRST_EXTRA_LINE = len(SHIPPED_ROWS) + 2  # after the header and the shipped rows


def _write_with(tmp_path: Path, extra_rows: list[dict[str, str]], columns=(*COLUMNS, *OPTIONAL_COLUMNS)) -> Path:
    path = tmp_path / "systems.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(SHIPPED_ROWS + extra_rows)
    return path


def test_the_built_in_systems_are_named_after_their_design():
    systems = load_systems()
    assert len(systems) >= 3
    for system in systems:
        assert system.body in system.name and system.coronal in system.name
    assert len({(s.body, s.thread, s.coronal, s.apex) for s in systems}) == len(systems)


def test_the_shipped_catalogue_has_24_designs_a_misread_attribute_cannot_confuse():
    systems = load_systems()
    assert len(systems) >= 24
    for first, second in itertools.combinations(systems, 2):
        assert len(differing_attributes(first, second)) >= MIN_DIFFERENCES, (first.name, second.name)
    assert close_pairs(systems) == []
    for attribute, (_, values) in ATTRIBUTES.items():  # every value of every attribute is seen several times
        seen = Counter(system.attributes()[attribute] for system in systems)
        assert set(seen) == set(values) and min(seen.values()) >= 5, (attribute, seen)


def test_the_default_models_systems_stay_in_the_catalogue_unchanged():
    assert [s.name for s in model_systems()] == list(read_card(DEFAULT_MODEL_DIR).classes)
    designs = {s.name: (s.body, s.thread, s.pitch_mm, s.coronal, s.microthreads, s.apical_groove, s.apical_hole,
                        s.apex, s.connection) for s in load_systems()}
    trained_on = {  # the designs of the shipped model's generated training images
        "tapered-V-bone-level": ("tapered", "V", 0.8, "bone-level", True, True, "none", "round", "internal"),
        "straight-square-tissue-level": ("straight", "square", 1.0, "tissue-level", False, False, "round", "flat",
                                         "internal"),
        "straight-reverse-buttress-bone-level": ("straight", "reverse-buttress", 1.2, "bone-level", False, True,
                                                 "oval", "pointed", "internal")}
    assert {name: designs[name] for name in trained_on} == trained_on


def test_systems_are_picked_by_name_and_an_unknown_name_is_an_error():
    catalogue = shipped_catalogue()
    names = [catalogue.systems[5].name, catalogue.systems[1].name]
    assert [s.name for s in catalogue.named(names)] == names
    with pytest.raises(SystemsFileError, match="no implant system is named brand-x"):
        catalogue.named([names[0], "brand-x"])


def test_a_fourth_system_is_one_more_row(tmp_path):
    systems = load_systems(_write_with(tmp_path, [FOURTH]))
    assert [s.name for s in systems][-1] == FOURTH["name"]
    fourth = systems[-1]
    assert fourth.part_label("middle") == "middle:tapered+buttress+pitch-regular"
    assert fourth.part_label("apical") == "apical:no-groove+hole-round+apex-flat"
    drawn = [f for image in generate_series(4, 3, systems[-2:]) for f in image.fixtures if f.system == FOURTH["name"]]
    assert drawn
    assert all(3.5 <= f.diameter_mm <= 4.5 and 8 <= f.length_mm <= 12 for f in drawn)


def test_a_file_without_the_later_columns_still_loads(tmp_path):
    systems = load_systems(_write_with(tmp_path, [FOURTH], columns=COLUMNS))
    assert len(systems) == len(SHIPPED_ROWS) + 1
    assert {s.connection for s in systems} == {"internal"} and {s.reference for s in systems} == {""}
    external = load_systems(_write_with(tmp_path, [{**FOURTH, "connection": "external", "reference": "a, b"}]))[-1]
    assert external.connection == "external" and external.reference == "a, b"
    assert external.part_label("coronal") == "coronal:tissue-level+no-microthreads+external-hex"


@pytest.mark.parametrize(("column", "value", "words"), [
    ("thread", "triangular", "thread is 'triangular'"),
    ("pitch_mm", "fine", "pitch_mm must be a number"),
    ("diameter_min_mm", "9", "outside"),
    ("name", "has space", "without spaces"),
    ("connection", "morse", "connection is 'morse', expected one of internal, external"),
])
def test_a_bad_cell_is_reported_with_its_line(tmp_path, column, value, words):
    path = _write_with(tmp_path, [{**FOURTH, column: value}])
    with pytest.raises(SystemsFileError) as caught:
        load_systems(path)
    assert f"line {FIRST_EXTRA_LINE}" in str(caught.value) and words in str(caught.value)


def test_a_missing_column_or_file_is_reported(tmp_path):
    path = tmp_path / "systems.csv"
    path.write_text("name,body\nx,straight\n", encoding="utf-8")
    with pytest.raises(SystemsFileError, match="lacks the column"):
        load_systems(path)
    with pytest.raises(SystemsFileError, match="cannot read"):
        load_systems(tmp_path / "missing.csv")
    with pytest.raises(SystemsFileError, match="same name"):
        load_systems(_write_with(tmp_path, [FOURTH, FOURTH]))


def test_every_bad_row_is_listed_with_its_own_line(tmp_path):
    path = _write_with(tmp_path, [{**FOURTH, "apex": "blunt"}, FOURTH, FOURTH])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("one-too-many," + ",".join(FOURTH[c] for c in COLUMNS[1:]) + ",internal,,surplus\n")
    systems, problems = read_systems(path)
    assert len(systems) == len(SHIPPED_ROWS) + 1
    assert [str(p).split(": ", 1)[1] for p in problems] == [
        f"line {FIRST_EXTRA_LINE}: apex is 'blunt', expected one of flat, round, pointed",
        f"line {FIRST_EXTRA_LINE + 2}: {FOURTH['name']} has the same name as the system on line {FIRST_EXTRA_LINE + 1}",
        f"line {FIRST_EXTRA_LINE + 3}: more cells than columns (a comma inside a cell needs quotes)"]


def test_the_lab_copy_wins_and_a_damaged_one_gives_the_shipped_table():
    assert load_catalogue().source == default_systems_path()
    path = ensure_lab_copy()
    assert path == lab_catalogue_path() and path.read_bytes() == default_systems_path().read_bytes()
    add_system(path, {**FOURTH, "name": "lab-system-x"})
    assert load_catalogue().source == path and load_catalogue().systems[-1].name == "lab-system-x"
    path.write_text("name\nbroken\n", encoding="utf-8")
    fallback = load_catalogue()
    assert fallback.source == default_systems_path() and fallback.systems == shipped_catalogue().systems
    assert "lacks the column" in fallback.problem and "built-in" in fallback.problem


def test_adding_a_system_keeps_the_file_and_refuses_a_duplicate(tmp_path):
    path = _write_with(tmp_path, [], columns=(*COLUMNS, "lab_notes"))  # an old file, with a column of the lab's
    before = path.read_text(encoding="utf-8").splitlines()
    added = add_system(path, {**FOURTH, "connection": "external", "reference": "https://example.org/x"})
    after = path.read_text(encoding="utf-8").splitlines()
    assert after[0] == ",".join((*COLUMNS, "lab_notes", *OPTIONAL_COLUMNS))
    assert [line.rstrip(",") for line in after[1:-1]] == [line.rstrip(",") for line in before[1:]]
    assert load_systems(path)[-1] == added and added.connection == "external"
    with pytest.raises(SystemsFileError, match="already in the catalogue"):
        add_system(path, FOURTH)
    with pytest.raises(SystemsFileError, match="exactly the design attributes of tapered-buttress-tissue-level"):
        add_system(path, {**FOURTH, "name": "copy", "pitch_mm": "1.0", "connection": "external"})
    with pytest.raises(SystemsFileError, match=f"line {FIRST_EXTRA_LINE + 1}: apex is 'blunt'"):
        add_system(path, {**FOURTH, "name": "other", "apex": "blunt"})
    assert path.read_text(encoding="utf-8").splitlines() == after  # refused: the file is unchanged


def test_adding_to_a_spreadsheets_file_keeps_its_byte_order_mark_and_line_ends(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + default_systems_path().read_bytes().replace(b"\n", b"\r\n"))
    add_system(path, FOURTH)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfname,") and data.count(b"\r\n") == data.count(b"\n") == len(SHIPPED_ROWS) + 2
    assert load_systems(path)[-1].name == FOURTH["name"]
