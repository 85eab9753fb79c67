"""User story: on a DICOM with pixel spacing, boxes, the cursor and the ruler read in millimetres."""

import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from app_helpers import draw_box

SPACING = (0.05, 0.04)  # mm per row, per column


def write_intraoral_dicom(path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.3"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID = "IO", "P1"
    pixels = np.full((200, 300), 1000, np.uint16)
    pixels[50:150, 100:140] = 3500
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelSpacing = [str(v) for v in SPACING]
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_box_cursor_and_ruler_in_mm(window, tmp_path, answers):
    write_intraoral_dicom(tmp_path / "io.dcm")
    window.open_folder(tmp_path)
    answers.labels = ["implant"]
    draw_box(window, 100, 50, 140, 150)
    box = window.session.document.boxes[0]
    expected = f"{box.width * SPACING[1]:.1f} x {box.height * SPACING[0]:.1f} mm"
    assert window.boxes.table.item(0, 2).text() == expected
    window.canvas.cursorMoved.emit(100, 50)
    assert "(4.00, 2.50 mm)" in window.cursor_label.text() and "value 3500" in window.cursor_label.text()
    window.canvas.rulerMeasured.emit(100, 50, 100, 150)
    assert window.statusBar().currentMessage().startswith("Distance 5.00 mm")
