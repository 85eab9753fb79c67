"""Generated datasets on disk: images our loader reads with their spacing, VOC files our reader reads, truth."""

from __future__ import annotations

import csv
import json

import numpy as np
import pydicom
import pytest

from implant_desk.core.annotations.voc import read_voc
from implant_desk.core.imaging.loading import load_radiograph
from implant_desk.core.synthetic import generate_series, load_systems, write_dataset
from implant_desk.core.synthetic.writer import IO_IMAGE_STORAGE, PARTS_FOLDER

SYSTEMS = load_systems()
IMAGES = list(generate_series(3, 21, SYSTEMS))


@pytest.mark.parametrize("image_format", ["dicom", "png", "tiff"])
def test_images_round_trip_with_spacing_and_annotations(tmp_path, image_format):
    out = tmp_path / "out"
    write_dataset(out, IMAGES, image_format, 21, SYSTEMS)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert [record["patient_id"] for record in truth["images"]] == [image.patient_id for image in IMAGES]
    patients = list(csv.DictReader((out / "patients.csv").open(encoding="utf-8")))
    for image, record, row in zip(IMAGES, truth["images"], patients):
        assert row == {"file": record["path"], "patient": image.patient_id}
        radiograph = load_radiograph(out / record["path"])
        assert radiograph.photometric == "MONOCHROME2" and radiograph.bits == 16
        assert radiograph.generated  # never taken for a patient's film
        assert np.array_equal(radiograph.pixels, image.pixels)
        assert radiograph.spacing_mm == pytest.approx((image.spacing_mm, image.spacing_mm), rel=1e-6)
        assert record["spacing_mm"] == [image.spacing_mm, image.spacing_mm]
        if image_format == "dicom":
            assert radiograph.patient_id == image.patient_id

        fixtures = read_voc((out / record["path"]).with_suffix(".xml"))
        assert (fixtures.filename, fixtures.width, fixtures.height) == (record["path"], image.width, image.height)
        assert [(b.label, b.xmin, b.ymin, b.xmax, b.ymax) for b in fixtures.boxes] == \
            [(f.system, *map(float, f.box)) for f in image.fixtures]
        parts = read_voc(out / PARTS_FOLDER / f"{record['path'].rsplit('.', 1)[0]}.xml")
        assert [b.label for b in parts.boxes] == [p.label for f in image.fixtures for p in f.parts]

        for written, fixture in zip(record["fixtures"], image.fixtures):
            assert set(written) >= {"system", "box", "length_mm", "diameter_mm", "axis", "parts", "truncated"}
            assert written["box"] == list(fixture.box)
            assert written["axis"]["platform"] == pytest.approx(fixture.platform_px, abs=1e-3)
            assert [p["name"] for p in written["parts"]] == [p.name for p in fixture.parts]


def test_dicom_is_an_intra_oral_16_bit_image_with_file_meta(tmp_path):
    write_dataset(tmp_path, IMAGES[:1], "dicom", 21, SYSTEMS)
    ds = pydicom.dcmread(tmp_path / "image_0001.dcm")
    assert ds.file_meta.MediaStorageSOPClassUID == IO_IMAGE_STORAGE == ds.SOPClassUID
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert (ds.Modality, ds.PhotometricInterpretation, ds.BitsAllocated, ds.BitsStored) == ("IO", "MONOCHROME2", 16, 16)
    assert float(ds.PixelSpacing[0]) == pytest.approx(IMAGES[0].spacing_mm, rel=1e-6)
    assert ds.PatientID == IMAGES[0].patient_id


@pytest.mark.parametrize("image_format", ["dicom", "png", "tiff"])
def test_the_same_seed_writes_the_same_bytes(tmp_path, image_format):
    for name in ("a", "b"):
        write_dataset(tmp_path / name / "out", generate_series(2, 5, SYSTEMS), image_format, 5, SYSTEMS)
    first = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert first == second
    for relative in first:
        a, b = (tmp_path / "a" / relative).read_bytes(), (tmp_path / "b" / relative).read_bytes()
        if relative.suffix == ".xml":  # LabelImg records the absolute image path, which differs here
            a, b = (x.replace(str(tmp_path / n).encode(), b"") for x, n in ((a, "a"), (b, "b")))
        assert a == b, relative


def test_a_film_the_generator_did_not_make_is_not_generated(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(tmp_path / "film.png")
    assert not load_radiograph(tmp_path / "film.png").generated
