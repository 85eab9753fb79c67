"""Small image files for the imaging tests, written with pydicom (the DICOM tests share this builder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless, generate_uid

DIGITAL_INTRAORAL_XRAY = "1.2.840.10008.5.1.4.1.1.1.3"  # Digital Intra-Oral X-Ray Image Storage - For Presentation


def write_dicom(path: Path, pixels: np.ndarray, *, bare: bool = False, **elements: object) -> Path:
    """An uncompressed single- or multi-frame greyscale DICOM; ``elements`` set or override any keyword.

    ``bare``: only the dataset, implicit VR little endian, without preamble and file meta (old exports).
    """
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = DIGITAL_INTRAORAL_XRAY
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = DIGITAL_INTRAORAL_XRAY
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "IO"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    if bare:
        del ds.file_meta
        ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=False)
    else:
        ds.save_as(path, enforce_file_format=True)
    return path


def write_jpeg_ls_dicom(path: Path, pixels: np.ndarray) -> Path:
    """write_dicom's greyscale file with its pixels compressed as lossless JPEG-LS (CharLS, through pyjpegls)."""
    write_dicom(path, pixels)
    ds = pydicom.dcmread(path)
    ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
    ds.save_as(path, enforce_file_format=True)
    return path


def gradient(height: int = 48, width: int = 64, dtype: str = "uint16", top: int = 4000) -> np.ndarray:
    """A deterministic ramp whose every row differs, so flips and rotations are detectable."""
    y, x = np.mgrid[0:height, 0:width]
    return ((y * width + x) * top // (height * width)).astype(dtype)
