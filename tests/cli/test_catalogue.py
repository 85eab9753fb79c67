"""``implant-desk catalogue list|show|add|check`` on the shipped table, the lab's copy and files the tests make
(the user folders are a temporary home: tests/conftest.py sets IMPLANT_DESK_HOME)."""

from __future__ import annotations

import json

import pytest

from implant_desk.cli import main
from implant_desk.core.catalogue.store import lab_catalogue_path
from implant_desk.core.catalogue.systems import ATTRIBUTES, default_systems_path, load_systems

NEW = {"name": "straight-V-bone-level-external-hex-round-apex", "body": "straight", "thread": "V", "pitch-mm": "1.2",
       "coronal": "bone-level", "microthreads": "no", "connection": "external", "apical-groove": "no",
       "apical-hole": "none", "apex": "round", "diameter-min-mm": "3.75", "diameter-max-mm": "5",
       "length-min-mm": "7", "length-max-mm": "15"}


def _add(values: dict[str, str], *extra: str) -> int:
    return main(["catalogue", "add", *[part for key, value in values.items() for part in (f"--{key}", value)], *extra])


def test_list_gives_one_line_per_system_and_the_file_it_read(capsys):
    assert main(["catalogue", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    systems = load_systems()
    assert lines[0] == f"catalogue: {default_systems_path()} (24 implant systems)"
    assert [line.split()[0] for line in lines[1:]] == [s.name for s in systems]
    assert lines[1].split(None, 1)[1] == ("bone-level microthreads internal | tapered V-thread regular-pitch | "
                                          "round-apex no-hole groove")


def test_list_json_has_every_system_with_its_attributes(capsys):
    assert main(["catalogue", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["catalogue"] == str(default_systems_path())
    assert [s["name"] for s in listed["systems"]] == [s.name for s in load_systems()]
    assert all(set(s["attributes"]) == set(ATTRIBUTES) for s in listed["systems"])


def test_show_prints_every_column_the_part_labels_and_the_nearest_systems(capsys):
    assert main(["catalogue", "show", "tapered-V-bone-level"]) == 0
    text = capsys.readouterr().out
    for line in ("pitch_mm: 0.8", "connection: internal", "reference: -", "length_max_mm: 13",
                 "part labels: coronal:bone-level+microthreads, middle:tapered+V+pitch-regular, apical:groove+hole-none+apex-round",
                 "  tapered-square-bone-level-microthread-pointed-apex: thread, apex, apical_hole"):
        assert line in text.splitlines()
    nearest = text.split("nearest systems (the design attributes that differ):\n")[1].splitlines()
    assert len([line for line in nearest if line.startswith("  ")]) == 3


def test_show_an_unknown_system_is_one_line_and_exit_1(capsys):
    assert main(["catalogue", "show", "brand-x"]) == 1
    err = capsys.readouterr().err
    assert err == f"implant-desk catalogue: {default_systems_path()}: no implant system is named brand-x\n"


def test_add_writes_the_lab_copy_made_from_the_shipped_table(capsys):
    assert not lab_catalogue_path().exists()
    assert _add({**NEW, "reference": "https://example.org/design"}) == 0
    assert capsys.readouterr().out == f"added {NEW['name']} to {lab_catalogue_path()}\n"
    systems = load_systems(lab_catalogue_path())
    assert [s.name for s in systems[:-1]] == [s.name for s in load_systems()]
    assert systems[-1].connection == "external" and systems[-1].reference == "https://example.org/design"
    assert main(["catalogue", "list"]) == 0  # the lab's copy is now the catalogue in use
    out = capsys.readouterr().out
    assert out.startswith(f"catalogue: {lab_catalogue_path()} (25 implant systems)")
    assert NEW["name"] in out
    assert default_systems_path().read_text(encoding="utf-8").count("\n") == 25  # the shipped table is untouched


@pytest.mark.parametrize(("change", "words"), [
    ({"thread": "triangular"}, "line 26: thread is 'triangular', expected one of V, square"),
    ({"pitch-mm": "fine"}, "line 26: pitch_mm must be a number, not 'fine'"),
    ({"name": "tapered-V-bone-level"}, "a system named tapered-V-bone-level is already in the catalogue"),
    ({"name": "copy", "body": "tapered", "thread": "reverse-buttress", "pitch-mm": "0.9", "apical-hole": "oval"},
     "copy has exactly the design attributes of tapered-reverse-buttress-bone-level-external-hex-round-apex"),
])
def test_add_refuses_a_bad_or_duplicate_system_and_leaves_the_file(tmp_path, capsys, change, words):
    path = tmp_path / "mine.csv"
    path.write_bytes(default_systems_path().read_bytes())
    assert _add({**NEW, **change}, "--catalogue", str(path)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"implant-desk catalogue: {path}: ") and words in err and err.count("\n") == 1
    assert path.read_bytes() == default_systems_path().read_bytes()
    assert not lab_catalogue_path().exists()


def test_add_warns_about_a_system_a_film_could_confuse(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_bytes(default_systems_path().read_bytes())
    close = {**NEW, "name": "tapered-V-bone-level-fine", "body": "tapered", "pitch-mm": "0.6", "microthreads": "yes",
             "connection": "internal", "apical-groove": "yes"}  # tapered-V-bone-level, but a finer pitch
    assert _add(close, "--catalogue", str(path)) == 0
    err = capsys.readouterr().err
    assert err == ("warning: tapered-V-bone-level-fine and tapered-V-bone-level differ only in pitch (fewer than 2): "
                   "one attribute misread on a film makes them look the same\n")
    assert main(["catalogue", "check", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{path}: 25 implant systems, every row valid; 1 pair of them a film could confuse\n"
    assert "differ only in pitch" in captured.err


def test_check_reports_every_bad_row_with_its_line(tmp_path, capsys):
    assert main(["catalogue", "check"]) == 0
    assert capsys.readouterr().out == f"{default_systems_path()}: 24 implant systems, every row valid\n"
    path = tmp_path / "bad.csv"
    rows = default_systems_path().read_text(encoding="utf-8").splitlines()
    rows[3] = rows[3].replace(",pointed,", ",blunt,")
    rows[6] = rows[6].replace(",yes,", ",maybe,", 1)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["catalogue", "check", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: line 4: apex is 'blunt', expected one of flat, round, pointed",
        f"{path}: line 7: microthreads is 'maybe', expected one of yes, no"]


def test_check_without_a_file_checks_the_lab_copy_in_use(capsys):
    lab_catalogue_path().parent.mkdir(parents=True)
    lab_catalogue_path().write_text("name,body\n", encoding="utf-8")
    assert main(["catalogue", "check"]) == 1
    assert capsys.readouterr().err == (f"implant-desk catalogue: {lab_catalogue_path()}: the implant systems file "
                                       "lacks the column(s) thread, pitch_mm, coronal, microthreads, apical_groove, "
                                       "apical_hole, apex, diameter_min_mm, diameter_max_mm, length_min_mm, "
                                       "length_max_mm\n")
    assert main(["catalogue", "list"]) == 0  # the damaged copy is reported, and the shipped table listed
    captured = capsys.readouterr()
    assert "using the built-in implant systems instead" in captured.err
    assert captured.out.startswith(f"catalogue: {default_systems_path()}")


def test_catalogue_is_a_command(capsys):
    assert main(["--help"]) == 0
    assert "  catalogue  list, show, add and check the implant systems" in capsys.readouterr().out
