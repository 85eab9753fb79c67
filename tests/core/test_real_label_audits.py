"""The real crops' audits (benchmarks/data): the held-out one covers every box of the test sources, as the shipped
model's card and benchmarks/bench_real.py use it; the training one reads only training and validation sources,
and the shipped model's training takes its verdicts over the metal rule."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from train_default_model import (REAL_IMAGES, TRAIN_AUDIT, audited, checked_label_keys,  # noqa: E402
                                 real_crops_split, verdicts)
from training_folders import FIXTURE, TOOTH, write_audit_film  # noqa: E402


@pytest.mark.skipif(not REAL_IMAGES.is_dir(), reason="../shared/data/dental-xray is absent")
def test_the_audit_gives_a_verdict_on_every_held_out_box():
    test = real_crops_split(REAL_IMAGES).test
    checked = audited(test)
    assert [s.image_path for s in checked] == [s.image_path for s in test]
    boxes = [box for sample in checked for box in sample.annotation.boxes]
    assert sum(len(s.annotation.boxes) for s in test) == 320
    assert (sum(not b.difficult for b in boxes), sum(b.difficult for b in boxes)) == (76, 14)


def test_a_box_the_audit_does_not_cover_is_refused(tmp_path):
    from implant_desk.core.annotations.model import Box, ImageAnnotation
    from implant_desk.core.learning.dataset import Sample

    audit = tmp_path / "audit.csv"
    audit.write_text("image,implant_box,verdict\na.jpg,1,not an implant\na.jpg,2,unsure\n", encoding="utf-8")
    boxes = [Box("Implant", 0, 0, 5, 9), Box("Implant", 10, 0, 15, 9)]
    sample = Sample(tmp_path / "a.jpg", ImageAnnotation("a.jpg", 20, 10, boxes=boxes), "a")
    kept, = audited([sample], audit)
    assert [(b.xmin, b.difficult) for b in kept.annotation.boxes] == [(10, True)]
    with pytest.raises(SystemExit, match="no verdict for box 3 of a.jpg"):
        audited([Sample(tmp_path / "a.jpg", ImageAnnotation("a.jpg", 20, 10, boxes=[*boxes, boxes[0]]), "a")], audit)


@pytest.mark.skipif(not REAL_IMAGES.is_dir(), reason="../shared/data/dental-xray is absent")
def test_the_training_audit_reads_only_training_and_validation_boxes():
    split = real_crops_split(REAL_IMAGES)
    boxes = {(s.image_path.name, i) for s in split.train + split.val for i in range(len(s.annotation.boxes))}
    read = verdicts(TRAIN_AUDIT)
    assert set(read) <= boxes  # no held-out source was looked at for training
    assert set(read.values()) == {"implant", "not an implant", "unsure"}
    assert len(read) == 513


def test_a_verdict_read_by_eye_wins_over_the_metal_rule(tmp_path):
    from implant_desk.core.annotations.model import Box, ImageAnnotation
    from implant_desk.core.annotations.voc import write_voc
    from implant_desk.core.learning.dataset import load_dataset

    write_audit_film(tmp_path / "film.png")
    write_voc(tmp_path / "film.xml", ImageAnnotation("film.png", 140, 100, boxes=[
        Box("Implant", *FIXTURE), Box("Implant", *TOOTH), Box("Implant", *FIXTURE)]))
    sample, = load_dataset([tmp_path]).samples
    audit = tmp_path / "audit.csv"
    audit.write_text("image,implant_box,verdict\nfilm.png,1,not an implant\nother.png,1,unsure\n", encoding="utf-8")
    dropped, ignored, note = checked_label_keys([sample], audit)
    # box 1: metal all along, but read as no implant; box 2: unread, a root-filled tooth by its metal; box 3: kept
    assert (dropped, ignored) == ({("film.png", 0), ("film.png", 1)}, set())
    assert note.startswith("of 3 real 'Implant' boxes, 1 were read by eye") and note.endswith("1 teach implants")
