"""DICOM files -> Radiograph: one frame in its stored depth, with its window, spacing and patient id.

Every way a DICOM file can fail is turned into an UnreadableImageError that says, in plain words, which
of three things is wrong: the file is damaged, it holds no image, or its compression is not supported.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_color_lut, apply_modality_lut, pixel_array
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.imaging.dicom_codecs import (
    JPEG_LS_SYNTAXES,
    encoded_frame_size,
    jpeg_ls_is_complete,
    preferred_plugin,
    register_plugins,
)
from implant_desk.core.imaging.radiograph import (
    GENERATED_BY,
    SPACING_IMAGER,
    SPACING_PIXEL_SPACING,
    SPACING_UNKNOWN,
    DisplayWindow,
    Radiograph,
)
from implant_desk.core.imaging.sanity import check_frame, check_pixel_count, plausible_spacing
from implant_desk.core.imaging.windowing import default_window

register_plugins()

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
# Values larger than this are read from disk only when used: a non-DICOM file read with force=True cannot
# make pydicom allocate gigabytes for one garbage "element length", and uncompressed pixel data is read
# once, straight into its array (_read_raw_frame).
_DEFER_SIZE = "1 MB"
_RAW_SYNTAXES = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
DAMAGED = "the file is damaged or is not a DICOM file"


def read_dicom(path: Path, frame: int = 0) -> Radiograph:
    with warnings.catch_warnings():
        # pydicom warns about every non-conforming value (common in clinic exports, harmless to us)
        warnings.simplefilter("ignore")
        ds, header = _checked_dataset(path, frame)
        stored = _decode_frame(path, ds, header, frame)
        pixels, photometric, bits = _to_display_model(path, ds, stored, header)
        spacing, source = _spacing(ds)
        return Radiograph(
            path=str(path),
            format="DICOM",
            pixels=pixels,
            bits=bits,
            photometric=photometric,
            window=_default_window(ds, pixels, photometric),
            spacing_mm=spacing,
            spacing_source=source,
            patient_id=_patient_id(ds),
            frames=header.frames,
            generated=str(ds.get("Manufacturer", "")) == GENERATED_BY,
        )


def check_dicom(path: Path) -> None:
    """Raise the UnreadableImageError read_dicom would raise for the header, or for pixel data that is missing,
    shorter than the header says or a compressed frame cut short, without decoding: milliseconds where
    decoding takes up to seconds. Damage inside a compressed frame is only found by decoding it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, header = _checked_dataset(path, 0)
        _check_stored_data(path, ds, header, 0)


def _checked_dataset(path: Path, frame: int) -> tuple[Dataset, _ImageHeader]:
    ds = _read_dataset(path)
    _require_image(path, ds)
    header = _ImageHeader.from_dataset(path, ds)
    check_frame(path, frame, header.frames)
    return ds, header


def _read_dataset(path: Path) -> Dataset:
    try:
        try:
            return pydicom.dcmread(path, defer_size=_DEFER_SIZE)
        except InvalidDicomError:
            # No preamble or file meta: old exports and some sensors write bare datasets.
            ds = pydicom.dcmread(path, force=True, defer_size=_DEFER_SIZE)
    except MemoryError:
        raise
    except Exception as error:
        raise UnreadableImageError(path, DAMAGED) from error
    _adopt_detected_encoding(ds)
    return ds


def _adopt_detected_encoding(ds: Dataset) -> None:
    """A bare dataset has no file meta to name its transfer syntax: use the encoding pydicom detected.

    A file meta group without a transfer syntax is different: that header is damaged and stays refused.
    """
    implicit, little_endian = ds.original_encoding
    if len(ds.file_meta) or implicit is None:
        return
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian if little_endian else ExplicitVRBigEndian


def _require_image(path: Path, ds: Dataset) -> None:
    if any(keyword in ds for keyword in PIXEL_KEYWORDS):
        return
    sop_class = ds.get("SOPClassUID") or ds.get("file_meta", Dataset()).get("MediaStorageSOPClassUID")
    kind = getattr(sop_class, "name", "").removesuffix(" Storage") if sop_class else ""
    if "Image" in kind:
        raise UnreadableImageError(path, "the file is damaged: its image data is missing (the file may be cut short)")
    if sop_class or "Modality" in ds:
        described = f" (it is a DICOM {kind})" if kind and kind != str(sop_class) else ""  # unnamed UID: say nothing
        raise UnreadableImageError(path, f"this file holds no image{described}")
    raise UnreadableImageError(path, DAMAGED)


@dataclass(frozen=True)
class _ImageHeader:
    """The group 0028 values decoding depends on, validated before any pixel is decoded."""

    transfer_syntax: pydicom.uid.UID
    rows: int
    columns: int
    frames: int
    bits_stored: int
    photometric: str

    @classmethod
    def from_dataset(cls, path: Path, ds: Dataset) -> _ImageHeader:
        syntax = ds.get("file_meta", Dataset()).get("TransferSyntaxUID")
        if not syntax:
            raise UnreadableImageError(
                path, "the file is damaged: its header does not say how the image is encoded (no transfer syntax)"
            )
        _require_decoder(path, syntax)
        try:
            header = cls(
                transfer_syntax=syntax,
                rows=int(ds.Rows),
                columns=int(ds.Columns),
                frames=int(ds.get("NumberOfFrames") or 1),
                bits_stored=int(ds.get("BitsStored") or ds.BitsAllocated),
                photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper(),
            )
        except (AttributeError, TypeError, ValueError) as error:
            reason = "the file is damaged: its image description is missing or invalid"
            raise UnreadableImageError(path, reason) from error
        check_pixel_count(path, header.columns, header.rows)
        if header.frames < 1:
            raise UnreadableImageError(path, "the file is damaged: it says it holds no frames")
        return header


def _require_decoder(path: Path, syntax: pydicom.uid.UID) -> None:
    if syntax.is_transfer_syntax and not syntax.is_compressed:
        return
    label = syntax.name if syntax.name != str(syntax) else f"transfer syntax {syntax}"
    try:
        available = get_decoder(syntax).is_available
    except NotImplementedError:
        available = False
    if not available:
        raise UnreadableImageError(path, f"its image is compressed with a method this program cannot decode ({label})")


def _decode_frame(path: Path, ds: Dataset, header: _ImageHeader, frame: int) -> np.ndarray:
    _check_stored_data(path, ds, header, frame)
    plugin = preferred_plugin(header.transfer_syntax, header.bits_stored)
    try:
        stored = _read_raw_frame(path, ds, header, frame)
        if stored is None:
            # pydicom's own unused-bits correction copies and shifts every pixel; ours only runs when needed
            stored = pixel_array(ds, index=frame, decoding_plugin=plugin, correct_unused_bits=False)
    except MemoryError:
        raise
    except Exception as error:
        raise UnreadableImageError(path, "the image data is damaged and cannot be decoded") from error
    if stored.shape[:2] != (header.rows, header.columns):
        raise UnreadableImageError(path, "the image data is damaged: it does not match the size in the header")
    stored = stored.astype(stored.dtype.newbyteorder("="), copy=False)
    _clear_unused_bits(stored, header.bits_stored)
    return stored


def _check_stored_data(path: Path, ds: Dataset, header: _ImageHeader, frame: int) -> None:
    """The pixel data is whole as far as can be told before decoding: the compressed frame is (see
    _check_encoded_frame), uncompressed data holds as many bytes as the header describes."""
    if header.transfer_syntax.is_encapsulated:
        _check_encoded_frame(path, ds, header, frame)
        return
    element = ds.get_item(next(keyword for keyword in PIXEL_KEYWORDS if keyword in ds))
    value = getattr(element, "value", None)
    stored = len(value) if value is not None else element.length  # a deferred value is not read yet
    try:
        expected = get_expected_length(ds)
    except (AttributeError, TypeError, ValueError):
        return  # the header lacks what the length needs (Samples per Pixel): decoding says what is wrong
    if stored < expected:
        raise UnreadableImageError(path, "the file is damaged: its image data is shorter than the header says "
                                         "(the file may be cut short)")


def _check_encoded_frame(path: Path, ds: Dataset, header: _ImageHeader, frame: int) -> None:
    """The compressed frame must be whole and declare the picture the DICOM header describes, checked before
    decoding."""
    try:
        src = get_frame(ds.PixelData, frame, number_of_frames=header.frames)
        size = encoded_frame_size(src)
        complete = header.transfer_syntax not in JPEG_LS_SYNTAXES or jpeg_ls_is_complete(src)
    except Exception as error:
        raise UnreadableImageError(path, "the image data is damaged and cannot be decoded") from error
    if not complete:
        raise UnreadableImageError(path, "the image data is damaged: the compressed picture is cut short")
    if size is not None and size != (header.rows, header.columns):
        rows, columns = size
        raise UnreadableImageError(
            path,
            f"the image data is damaged: the compressed picture says it is {columns} x {rows} pixels, "
            f"the file header {header.columns} x {header.rows}",
        )


def _read_raw_frame(path: Path, ds: Dataset, header: _ImageHeader, frame: int) -> np.ndarray | None:
    """An uncompressed little-endian greyscale frame read from disk straight into its array, or None.

    pydicom would read the pixel data into bytes and then copy them into an array; reading once saves a
    pass over the largest thing in the file. Everything else goes through pydicom.
    """
    element = ds.get_item("PixelData")
    bits_allocated = int(ds.get("BitsAllocated") or 0)
    if (
        header.transfer_syntax not in _RAW_SYNTAXES
        or int(ds.get("SamplesPerPixel") or 1) != 1
        or bits_allocated not in (8, 16)
        or getattr(element, "value", b"") is not None  # only a deferred (not yet read) value has a file offset
    ):
        return None
    signed = int(ds.get("PixelRepresentation") or 0) == 1
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits_allocated // 8}")
    count = header.rows * header.columns
    offset = element.value_tell + frame * count * dtype.itemsize
    pixels = np.fromfile(path, dtype=dtype, count=count, offset=offset)
    if pixels.size != count:
        raise ValueError("the file ends inside the pixel data")
    return pixels.reshape(header.rows, header.columns)


def _clear_unused_bits(stored: np.ndarray, bits_stored: int) -> None:
    """Ignore bits above Bits Stored (PS3.5 8.1.1): some writers keep overlays or garbage in them."""
    unused = stored.dtype.itemsize * 8 - bits_stored
    if stored.dtype.kind not in "iu" or unused <= 0:
        return
    if stored.dtype.kind == "u":
        if stored.max() >> bits_stored:
            np.bitwise_and(stored, (1 << bits_stored) - 1, out=stored)
    elif stored.min() < -(1 << (bits_stored - 1)) or stored.max() >= 1 << (bits_stored - 1):
        np.left_shift(stored, unused, out=stored)  # shifting back sign-extends the top stored bit
        np.right_shift(stored, unused, out=stored)


def _to_display_model(path: Path, ds: Dataset, stored: np.ndarray, header: _ImageHeader) -> tuple[np.ndarray, str, int]:
    """(pixels, photometric, bits) with colour as RGB and a Modality LUT, when present, applied."""
    photometric = header.photometric
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        if "ModalityLUTSequence" in ds:
            # A non-linear LUT cannot be folded into a linear window: its output is what the values mean.
            lut_bits = int(ds.ModalityLUTSequence[0].LUTDescriptor[2])
            return apply_modality_lut(stored, ds).astype(np.uint16 if lut_bits > 8 else np.uint8), photometric, lut_bits
        return stored, photometric, header.bits_stored
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(stored, ds)
        return rgb, "RGB", 8 if rgb.dtype == np.uint8 else 16
    if photometric == "RGB" or photometric.startswith("YBR"):  # pydicom has already converted YBR to RGB
        return stored, "RGB", header.bits_stored
    raise UnreadableImageError(path, f"its colour model ({photometric}) is not supported")


def _default_window(ds: Dataset, pixels: np.ndarray, photometric: str) -> DisplayWindow:
    window = _header_window(ds) if photometric != "RGB" else None
    return window if window is not None else default_window(pixels)


def _header_window(ds: Dataset) -> DisplayWindow | None:
    """The file's own window (Window Center/Width, else a VOI LUT), in stored pixel units."""
    window = _first_window(ds) or _voi_lut_window(ds)
    if window is None or "ModalityLUTSequence" in ds:
        return window  # with a Modality LUT the pixels already are in the window's units
    try:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(slope) and math.isfinite(intercept)) or slope <= 0:
        return None
    return DisplayWindow(center=(window.center - intercept) / slope, width=window.width / slope)


def _first_window(ds: Dataset) -> DisplayWindow | None:
    try:
        center = float(_first(ds.get("WindowCenter")))
        width = float(_first(ds.get("WindowWidth")))
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(center) and math.isfinite(width)) or width <= 0:
        return None
    return DisplayWindow(center=center, width=width)


def _voi_lut_window(ds: Dataset) -> DisplayWindow | None:
    """The linear window spanning the input range over which a VOI LUT rises from its minimum to its maximum."""
    try:
        item = ds.VOILUTSequence[0]
        first_mapped = int(item.LUTDescriptor[1])
        data = np.asarray(item.LUTData, dtype=np.float64)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    if data.size < 2:
        return None
    rising = np.flatnonzero(data > data.min())
    low = first_mapped + (rising[0] - 1 if rising.size else 0)
    high = first_mapped + int(np.flatnonzero(data >= data.max())[0])
    if high <= low:
        return None
    return DisplayWindow(center=(low + high) / 2, width=float(high - low))


def _spacing(ds: Dataset) -> tuple[tuple[float, float] | None, str]:
    for keyword, source in (("PixelSpacing", SPACING_PIXEL_SPACING), ("ImagerPixelSpacing", SPACING_IMAGER)):
        try:
            values = list(ds.get(keyword) or [])
        except (TypeError, ValueError):
            continue
        if len(values) == 2:
            spacing = plausible_spacing(values[0], values[1])
            if spacing is not None:
                return spacing, source
    return None, SPACING_UNKNOWN


def _patient_id(ds: Dataset) -> str | None:
    try:
        value = str(ds.get("PatientID") or "").strip()
    except (TypeError, ValueError):
        return None
    return value or None


def _first(value: object) -> object:
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return value[0] if value else None
    return value
