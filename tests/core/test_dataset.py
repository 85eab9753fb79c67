"""Datasets from annotated folders: formats, class list, and where each image's patient id comes from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.store import save_annotation
from implant_desk.core.learning.dataset import DatasetError, load_dataset, patient_warnings, read_patient_id
from real_data import DENTAL_COUNTS, DENTAL_IMAGES


def _png(path: Path, size=(64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size[1], size[0]), np.uint8)).save(path)
    return path


def _dicom(path: Path, patient: str, size=(64, 48)) -> Path:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.3"  # digital intra-oral X-ray
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientID, ds.Modality = patient, "IO"
    ds.Rows, ds.Columns = size[1], size[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.zeros((size[1], size[0]), np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _annotate(image: Path, labels, fmt="voc", size=(64, 48), save_dir: Path | None = None) -> None:
    """Saved as the window saves: beside the image, or in ``save_dir`` (LabelImg's "Change Save Dir")."""
    boxes = [Box(label, 5 + 10 * i, 5, 12 + 10 * i, 40) for i, label in enumerate(labels)]
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
    save_annotation(ImageAnnotation(image.name, size[0], size[1], 1, boxes), image, save_dir, fmt,
                    classes=sorted(set(labels)))


def test_reads_voc_yolo_and_createml_and_lists_the_classes(tmp_path):
    for fmt, label in (("voc", "tapered-V"), ("yolo", "straight-square"), ("createml", "tapered-buttress")):
        _annotate(_png(tmp_path / f"{fmt}.png"), [label, label], fmt)
    _png(tmp_path / "unannotated.png")
    dataset = load_dataset([tmp_path])
    assert sorted(s.image_path.name for s in dataset.samples) == ["createml.png", "voc.png", "yolo.png"]
    assert dataset.classes == ["straight-square", "tapered-V", "tapered-buttress"]
    assert dataset.fixtures == 6
    by_name = {s.image_path.name: s for s in dataset.samples}
    assert by_name["yolo.png"].systems == ["straight-square"] * 2
    assert by_name["yolo.png"].annotation.boxes[0].xmin == pytest.approx(5, abs=0.01)


def test_patient_id_from_dicom_header(tmp_path):
    for i, patient in enumerate(["P-001", "P-001", "P-002"]):
        _annotate(_dicom(tmp_path / f"img{i}.dcm", patient), ["tapered-V"])
    dataset = load_dataset([tmp_path])
    assert [s.patient_id for s in dataset.samples] == ["P-001", "P-001", "P-002"]
    assert dataset.patient_sources == {"dicom": 3}
    assert read_patient_id(tmp_path / "img2.dcm") == "P-002"
    assert not dataset.warnings and not patient_warnings(dataset)


def test_patient_id_from_patients_csv(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        _annotate(_png(tmp_path / name), ["tapered-V"])
    (tmp_path / "patients.csv").write_text("file,patient\na.png,anna\nb.png,anna\nc.png,ben\n")
    dataset = load_dataset([tmp_path])
    assert {s.image_path.name: s.patient_id for s in dataset.samples} == {"a.png": "anna", "b.png": "anna", "c.png": "ben"}
    assert dataset.patient_sources == {"patients.csv": 3}


def test_patient_id_from_one_sub_folder_per_patient(tmp_path):
    for patient, count in (("anna", 2), ("ben", 1)):
        for i in range(count):
            _annotate(_png(tmp_path / patient / f"visit{i}.png"), ["tapered-V"])
    dataset = load_dataset([tmp_path])
    patients = sorted(s.patient_id for s in dataset.samples)
    assert patients == [f"{tmp_path.name}/anna", f"{tmp_path.name}/anna", f"{tmp_path.name}/ben"]
    assert dataset.patient_sources == {"sub-folder": 3}


def test_without_patient_information_each_image_is_its_own_patient_with_a_warning(tmp_path):
    for name in ("a.png", "b.png"):
        _annotate(_png(tmp_path / name), ["tapered-V"])
    dataset = load_dataset([tmp_path])
    assert len(dataset.patients) == 2
    assert any("split is per image" in w for w in patient_warnings(dataset))


def test_several_folders_and_damaged_annotation_skipped_with_a_warning(tmp_path):
    _annotate(_png(tmp_path / "lab1" / "a.png"), ["tapered-V"])
    _annotate(_png(tmp_path / "lab2" / "b.png"), ["straight-square"])
    _png(tmp_path / "lab2" / "broken.png")
    broken = tmp_path / "lab2" / "broken.xml"
    broken.write_text("<annotation><object>")
    dataset = load_dataset([tmp_path / "lab1", tmp_path / "lab2"])
    assert [s.name for s in dataset.samples] == ["lab1/a.png", "lab2/b.png"]
    assert any("broken.xml" in w for w in dataset.warnings)
    assert broken.read_text() == "<annotation><object>"


def test_no_annotated_image_is_a_clear_error(tmp_path):
    _png(tmp_path / "a.png")
    with pytest.raises(DatasetError, match="no annotated image"):
        load_dataset([tmp_path])


def test_yolo_layout_with_images_and_labels_folders(tmp_path):
    """Ultralytics/Roboflow exports keep the txt files in labels/ beside images/: one folder is not a patient."""
    for name in ("a.png", "b.png"):
        _png(tmp_path / "images" / name)
        (tmp_path / "labels").mkdir(exist_ok=True)
        (tmp_path / "labels" / name.replace(".png", ".txt")).write_text("1 0.5 0.5 0.25 0.5\n")
    (tmp_path / "labels" / "classes.txt").write_text("Cavity\nImplant\n")
    dataset = load_dataset([tmp_path])
    assert [s.name for s in dataset.samples] == [f"{tmp_path.name}/images/a.png", f"{tmp_path.name}/images/b.png"]
    assert dataset.classes == [] and dataset.implant_labels == {"Implant": 2}  # implants, system not given
    assert dataset.samples[0].annotation.boxes[0].xmin == pytest.approx(24)
    assert len(dataset.patients) == 2 and dataset.patient_sources == {"image": 2}


def test_real_yolo_export_loads(shared_data):
    dataset = load_dataset([shared_data / "dental-xray"])
    assert len(dataset.samples) == DENTAL_IMAGES
    assert dataset.classes == []  # its implants name no system; the other findings are not implants
    assert dataset.implant_labels == {"Implant": DENTAL_COUNTS["Implant"]}
    assert dataset.ignored_labels == {k: v for k, v in DENTAL_COUNTS.items() if k != "Implant"}
    assert dataset.fixtures == DENTAL_COUNTS["Implant"]
    assert len(dataset.patients) == 525  # source radiographs, as the data's README counts them


def test_only_keeps_the_chosen_labels_and_every_image(tmp_path):
    _annotate(_png(tmp_path / "a.png"), ["Alpha BL", "Beta TX"])
    _annotate(_png(tmp_path / "b.png"), ["Beta TX"])
    dataset = load_dataset([tmp_path], only=["Alpha BL"])
    assert dataset.classes == ["Alpha BL"]
    assert [s.systems for s in dataset.samples] == [["Alpha BL"], []]


def test_annotations_in_a_separate_save_folder_are_read_from_there_only(tmp_path):
    """LabelImg's "Change Save Dir": the window saved the annotations away from the images."""
    data, saved = tmp_path / "xrays", tmp_path / "annotations"
    for name, fmt in (("a.png", "voc"), ("b.png", "yolo"), ("c.png", "createml")):
        _annotate(_png(data / name), ["tapered-V"], fmt, save_dir=saved)
    _png(data / "unannotated.png")
    _annotate(data / "a.png", ["straight-square"])  # an older file beside the image: not what the window shows
    dataset = load_dataset([data], annotation_dir=saved)
    assert sorted(s.image_path.name for s in dataset.samples) == ["a.png", "b.png", "c.png"]
    assert dataset.classes == ["tapered-V"] and dataset.fixtures == 3
    assert [s.systems for s in load_dataset([data]).samples] == [["straight-square"]]  # without it: beside
    with pytest.raises(DatasetError, match=f"no annotated image found in {data} \\(annotations in {tmp_path / 'x'}\\)"):
        load_dataset([data], annotation_dir=tmp_path / "x")


def test_one_flat_save_folder_serves_several_data_folders_and_skips_images_sharing_a_name(tmp_path):
    saved = tmp_path / "annotations"
    for image, label in (("lab1/a.png", "tapered-V"), ("lab2/b.png", "straight-square"),
                         ("lab2/visits/c.png", "tapered-V"), ("lab1/same.png", "tapered-V")):
        _annotate(_png(tmp_path / image), [label], save_dir=saved)
    _png(tmp_path / "lab2" / "same.png")  # same.xml in the save folder could be either image's
    dataset = load_dataset([tmp_path / "lab1", tmp_path / "lab2"], annotation_dir=saved)
    assert [s.name for s in dataset.samples] == ["lab1/a.png", "lab2/b.png", "lab2/visits/c.png"]
    shared = [w for w in dataset.warnings if "same.png" in w]
    assert len(shared) == 1 and str(tmp_path / "lab1" / "same.png") in shared[0]
    assert str(tmp_path / "lab2" / "same.png") in shared[0] and "share one annotation file" in shared[0]
