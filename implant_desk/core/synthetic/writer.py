"""Writes generated radiographs as a dataset folder that every part of the app reads.

Layout of ``OUT``:
- ``<stem>.dcm|.png|.tif``: the image, 16-bit MONOCHROME2 with its pixel spacing (DICOM PixelSpacing and
  ImagerPixelSpacing, PNG pHYs, TIFF resolution tags) and, for DICOM, PatientID;
- ``<stem>.xml``: Pascal VOC in LabelImg's layout, one box per fixture labelled with its system (LabelImg's
  default: the XML next to the image);
- ``parts/<stem>.xml``: the same for the coronal, middle and apical thirds, labelled with design attributes;
- ``patients.csv`` (file, patient): the patient of each image, for formats without a PatientID;
- ``truth.json``: everything: the catalogue the images were drawn from (every system with its design
  attributes), and each fixture's system, size in mm, axis and parts (see ``truth_record``).
Every file is written atomically, and the bytes depend on the seed alone (no clocks, deterministic UIDs).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import write_voc
from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.imaging.radiograph import GENERATED_BY
from implant_desk.core.synthetic.generator import SyntheticImage
from implant_desk.core.catalogue.systems import ImplantSystem

FORMATS = ("dicom", "png", "tiff")
SUFFIXES = {"dicom": ".dcm", "png": ".png", "tiff": ".tif"}
PARTS_FOLDER = "parts"
TRUTH_FILE = "truth.json"
GENERATOR = "implant_desk.core.synthetic"  # truth.json's "generator": the folder holds generated images
PATIENTS_FILE = "patients.csv"
IO_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1.3"  # Digital Intra-Oral X-Ray Image Storage - For Presentation
COORDINATES = ("pixel edges: pixel (column i, row j) covers [i, i+1) x [j, j+1); boxes are "
               "[first column, first row, last column + 1, last row + 1]")


def write_dataset(out: Path, images: Iterable[SyntheticImage], image_format: str, seed: int,
                  systems: list[ImplantSystem], progress: Callable[[int], None] | None = None,
                  final_folder: Path | None = None) -> Path:
    """Write every image with its annotations into ``out``; returns the path of ``truth.json``.

    ``final_folder`` is where ``out`` will be renamed to, when it is built in a temporary folder: the VOC files
    record the image's folder and path, as LabelImg does, and must name the final place.
    """
    final_folder = (final_folder or out).resolve()
    if image_format not in FORMATS:
        raise ValueError(f"unknown image format {image_format!r}")
    out.mkdir(parents=True, exist_ok=True)
    (out / PARTS_FOLDER).mkdir(exist_ok=True)
    records, visits = [], {}
    for index, image in enumerate(images):
        visit = visits[image.patient_id] = visits.get(image.patient_id, -1) + 1
        name = f"image_{index + 1:04d}{SUFFIXES[image_format]}"
        atomic_write_bytes(out / name, encode_image(image, image_format, seed, visit))
        write_voc(out / Path(name).with_suffix(".xml"), fixture_annotation(image, name, final_folder))
        write_voc(out / PARTS_FOLDER / Path(name).with_suffix(".xml"), parts_annotation(image, name, final_folder))
        records.append(truth_record(image, name, image_format))
        if progress is not None:
            progress(index + 1)
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(["file", "patient"])
    writer.writerows([record["path"], record["patient_id"]] for record in records)
    atomic_write_text(out / PATIENTS_FILE, lines.getvalue())
    truth = {
        "generator": GENERATOR, "seed": seed, "format": image_format,
        "coordinates": COORDINATES,
        "annotations": {"fixtures": "<stem>.xml beside each image", "parts": f"{PARTS_FOLDER}/<stem>.xml"},
        "systems": [system.to_json() for system in systems],
        "images": records,
    }
    atomic_write_text(out / TRUTH_FILE, json.dumps(truth, indent=1) + "\n")
    return out / TRUTH_FILE


def truth_record(image: SyntheticImage, name: str, image_format: str) -> dict:
    return {
        "path": name, "patient_id": image.patient_id, "spacing_mm": [image.spacing_mm, image.spacing_mm],
        "width": image.width, "height": image.height, "jaw": image.jaw, "format": image_format,
        "fixtures": [fixture.to_json() for fixture in image.fixtures],
    }


def fixture_annotation(image: SyntheticImage, name: str, folder: Path) -> ImageAnnotation:
    boxes = [Box(f.system, *map(float, f.box), truncated=f.truncated) for f in image.fixtures]
    return _annotation(image, name, folder, boxes)


def parts_annotation(image: SyntheticImage, name: str, folder: Path) -> ImageAnnotation:
    boxes = [Box(p.label, *map(float, p.box), truncated=p.truncated) for f in image.fixtures for p in f.parts]
    return _annotation(image, name, folder, boxes)


def _annotation(image: SyntheticImage, name: str, folder: Path, boxes: list[Box]) -> ImageAnnotation:
    return ImageAnnotation(filename=name, width=image.width, height=image.height, depth=1, boxes=boxes,
                           folder=folder.name, path=str(folder / name))


def encode_image(image: SyntheticImage, image_format: str, seed: int, visit: int) -> bytes:
    if image_format == "dicom":
        return _dicom_bytes(image, seed, visit)
    pixels_per_metre = round(1000.0 / image.spacing_mm)
    buffer = io.BytesIO()
    if image_format == "png":
        from PIL import Image

        # Pillow writes pHYs in pixels per metre from dots per inch, rounding back to our integer exactly.
        dpi = pixels_per_metre * 0.0254
        from PIL.PngImagePlugin import PngInfo

        text = PngInfo()
        text.add_text("Software", GENERATED_BY)
        Image.fromarray(image.pixels).save(buffer, format="PNG", dpi=(dpi, dpi), compress_level=1, pnginfo=text)
    else:
        import tifffile

        per_cm = (pixels_per_metre, 100)
        tifffile.imwrite(buffer, image.pixels, photometric="minisblack", resolution=(per_cm, per_cm),
                         resolutionunit="CENTIMETER", software=GENERATED_BY)
    return buffer.getvalue()


def _dicom_bytes(image: SyntheticImage, seed: int, visit: int) -> bytes:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    def uid(*parts: object) -> str:
        return generate_uid(entropy_srcs=["implant_desk synthetic", str(seed), image.patient_id, *map(str, parts)])

    sop_uid = uid("image", visit)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = IO_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = IO_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = uid("study", visit)
    ds.SeriesInstanceUID = uid("series", visit)
    ds.Modality = "IO"
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.PatientID = image.patient_id
    ds.PatientName = f"Synthetic^{image.patient_id}"
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    study_day = date(2024, 1, 8) + timedelta(days=91 * visit)  # one visit a quarter
    ds.StudyDate = ds.ContentDate = study_day.strftime("%Y%m%d")
    ds.StudyID = str(visit + 1)
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = visit + 1
    ds.Manufacturer = GENERATED_BY
    ds.ImageComments = "Generated radiograph with exact ground truth; not a real patient."
    ds.BurnedInAnnotation = "NO"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = image.pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    spacing = f"{image.spacing_mm:.10f}".rstrip("0")
    ds.PixelSpacing = [spacing, spacing]
    ds.ImagerPixelSpacing = [spacing, spacing]
    low, high = np.percentile(image.pixels[::8, ::8], [0.5, 99.5])
    ds.WindowCenter = f"{(low + high) / 2:.1f}"
    ds.WindowWidth = f"{max(high - low, 1.0):.1f}"
    ds.PixelData = image.pixels.astype("<u2", copy=False).tobytes()
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()
