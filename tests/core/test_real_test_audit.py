"""The held-out real crops' audit (benchmarks/data) covers every box of the test sources, as the shipped model's
card and benchmarks/bench_real.py use it."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from train_default_model import REAL_IMAGES, audited, real_crops_split  # noqa: E402


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
