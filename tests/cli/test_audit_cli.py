"""``implant-desk audit``: one line per implant box that shows no implant, nothing written."""

from __future__ import annotations

from implant_desk.cli import main
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import write_voc
from training_folders import FIXTURE, TOOTH, write_audit_film


def test_audit_lists_the_root_filled_tooth_labelled_implant_and_writes_nothing(tmp_path, capsys):
    write_audit_film(tmp_path / "film.png")
    write_voc(tmp_path / "film.xml", ImageAnnotation("film.png", 140, 100, boxes=[
        Box("Implant", *FIXTURE), Box("Implant", *TOOTH), Box("Fillings", *TOOTH)]))
    before = (tmp_path / "film.xml").read_bytes()
    assert main(["audit", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith("film.png: box 2 'Implant'")]
    assert len(out.splitlines()) == 1 and "1 implant box of 2 without a system doubted in 1 image" in err
    assert (tmp_path / "film.xml").read_bytes() == before
