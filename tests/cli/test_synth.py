"""``implant-desk synth`` and ``implant-desk demo --no-gui`` end to end, in temporary folders."""

from __future__ import annotations

import json

from implant_desk.cli import main
from implant_desk.core.annotations.voc import read_voc
from implant_desk.core.catalogue.store import add_system, ensure_lab_copy
from implant_desk.core.catalogue.systems import ATTRIBUTES, default_systems_path, load_systems
from implant_desk.core.imaging.loading import load_radiograph
from implant_desk.core.models.card import read_card
from implant_desk.core.paths import user_data_dir
from implant_desk.core.registry import DEFAULT_MODEL_DIR
from implant_desk.core.synthetic import demo

FOURTH = "tapered-buttress-tissue-level"


def test_synth_writes_images_annotations_and_truth(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["synth", str(out), "--images", "3", "--seed", "4", "--format", "tiff"]) == 0
    assert "3 images" in capsys.readouterr().out
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert len(truth["images"]) == 3 and truth["seed"] == 4
    for record in truth["images"]:
        image = out / record["path"]
        assert image.suffix == ".tif"
        assert load_radiograph(image).spacing_mm is not None
        assert len(read_voc(image.with_suffix(".xml")).boxes) == len(record["fixtures"])
        assert (out / "parts" / image.with_suffix(".xml").name).is_file()
    assert (out / "patients.csv").read_text(encoding="utf-8").startswith("file,patient\n")


def test_synth_draws_from_the_whole_catalogue_and_its_truth_lists_it(tmp_path):
    out = tmp_path / "out"
    assert main(["synth", str(out), "--images", "12", "--seed", "2", "--format", "tiff"]) == 0
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    catalogue = {s.name: s for s in load_systems()}
    assert [s["name"] for s in truth["systems"]] == list(catalogue)
    for listed in truth["systems"]:
        assert listed["attributes"] == catalogue[listed["name"]].attributes()
        assert set(listed["attributes"]) == set(ATTRIBUTES)
    drawn = {f["system"] for record in truth["images"] for f in record["fixtures"]}
    assert len(drawn) >= 3 and drawn <= set(catalogue)  # each patient's main system: the least seen so far
    assert drawn - set(read_card(DEFAULT_MODEL_DIR).classes)  # not only those the shipped model names


def test_synth_draws_from_the_lab_copy_when_there_is_one(tmp_path, capsys):
    lab = ensure_lab_copy()
    add_system(lab, {"name": FOURTH, "body": "tapered", "thread": "buttress", "pitch_mm": "0.9",
                     "coronal": "tissue-level", "microthreads": "no", "connection": "internal", "apical_groove": "no",
                     "apical_hole": "none", "apex": "pointed", "diameter_min_mm": "3.5", "diameter_max_mm": "4.5",
                     "length_min_mm": "8", "length_max_mm": "12"})
    assert main(["synth", str(tmp_path / "out"), "--images", "1", "--format", "png"]) == 0
    truth = json.loads((tmp_path / "out" / "truth.json").read_text(encoding="utf-8"))
    assert truth["systems"][-1]["name"] == FOURTH
    lab.write_text("name\nbroken\n", encoding="utf-8")
    assert main(["synth", str(tmp_path / "again"), "--images", "1", "--format", "png"]) == 0
    assert "using the built-in implant systems instead" in capsys.readouterr().err
    truth = json.loads((tmp_path / "again" / "truth.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in truth["systems"]] == [s.name for s in load_systems()]


def test_synth_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["synth", str(tmp_path), "--images", "1"]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_synth_takes_a_systems_file_with_a_fourth_system(tmp_path):
    systems = tmp_path / "systems.csv"
    row = f"{FOURTH},tapered,buttress,0.9,tissue-level,no,no,round,flat,3.5,4.5,8,12\n"
    shipped = default_systems_path().read_text(encoding="utf-8").splitlines(keepends=True)
    systems.write_text("".join(shipped[:4]) + row, encoding="utf-8")  # the first three systems and a fourth
    out = tmp_path / "out"
    assert main(["synth", str(out), "--images", "3", "--seed", "3", "--format", "tiff", "--systems", str(systems)]) == 0
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert FOURTH in [s["name"] for s in truth["systems"]]
    assert FOURTH in {f["system"] for record in truth["images"] for f in record["fixtures"]}


def test_synth_reports_a_bad_systems_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nx\n", encoding="utf-8")
    assert main(["synth", str(tmp_path / "out"), "--systems", str(bad)]) == 1
    assert "lacks the column" in capsys.readouterr().err


def test_demo_no_gui_makes_the_folder_once(monkeypatch, capsys):
    monkeypatch.setattr(demo, "DEMO_IMAGES", 3)
    assert main(["demo", "--no-gui"]) == 0
    folder = user_data_dir() / "demo"
    assert capsys.readouterr().out.strip() == str(folder)
    made = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len([name for name in made if name.endswith(".dcm")]) == 3
    assert read_voc(folder / "image_0001.xml").path == str(folder.resolve() / "image_0001.dcm")
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    # the shipped model names the demo's fixtures: they are of its systems alone
    assert [s["name"] for s in truth["systems"]] == list(read_card(DEFAULT_MODEL_DIR).classes)
    assert main(["demo", "--no-gui"]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == made
    assert [p.name for p in user_data_dir().iterdir()] == ["demo"]  # no temporary folder left behind
