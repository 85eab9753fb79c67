"""Implant labels that show no implant: the metal in a box's middle third tells a fixture from a root-filled tooth."""

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.learning.dataset import Sample
from implant_desk.core.learning.label_audit import METAL_SHARE_FLOOR, doubted_labels, keys, metal_share, relabelled
from training_folders import FIXTURE, TOOTH, write_audit_film

NAMED = (100, 10, 120, 90)  # the second tooth, labelled with a system: its annotator saw an implant


def test_a_fixture_is_mostly_metal_in_its_middle_third_and_a_root_filled_tooth_is_not(tmp_path):
    image = write_audit_film(tmp_path / "film.png")
    assert metal_share(image, FIXTURE) > 0.7
    assert metal_share(image, TOOTH) < 0.15 < METAL_SHARE_FLOOR
    assert metal_share(image, (500, 500, 510, 520)) == 0.0  # off the image


def test_implant_boxes_without_metal_are_doubted_and_can_be_left_out_or_ignored(tmp_path):
    write_audit_film(tmp_path / "film.png")
    boxes = [Box("Implant", *FIXTURE), Box("Implant", *TOOTH), Box("Alpha BL", *NAMED),
             Box("Implant", *TOOTH, difficult=True)]
    sample = Sample(tmp_path / "film.png", ImageAnnotation("film.png", 140, 100, boxes=boxes), "film",
                    implant_labels=frozenset({"Implant"}))
    doubted = doubted_labels([sample])
    assert [d.index for d in doubted] == [1]
    assert "box 2 'Implant'" in doubted[0].describe() and "root-filled" in doubted[0].describe()
    dropped, = relabelled([sample], keys(doubted))
    assert [b.label for b in dropped.annotation.boxes] == ["Implant", "Alpha BL", "Implant"]
    ignored, = relabelled([sample], ignored=keys(doubted))
    assert [b.difficult for b in ignored.annotation.boxes] == [False, True, False, True]
    assert sample.annotation.boxes[1].difficult is False  # the caller's samples are left as they were


def test_a_zero_floor_doubts_nothing(tmp_path):
    write_audit_film(tmp_path / "film.png")
    sample = Sample(tmp_path / "film.png", ImageAnnotation("film.png", 140, 100, boxes=[Box("Implant", *TOOTH)]),
                    "film", implant_labels=frozenset({"Implant"}))
    assert doubted_labels([sample], 0.0) == []
