"""Open any radiograph a clinic has: ``load_radiograph(path)`` -> Radiograph, or UnreadableImageError.

The format is decided by the file's first bytes, not its name (exports often carry the wrong suffix); a
file without a DICOM preamble is still tried as DICOM when its name ends in .dcm or has no suffix. The
readers are imported on first use, so listing a folder with ``IMAGE_SUFFIXES`` costs no codec imports.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.imaging.radiograph import Radiograph

# Lower-case suffixes a folder scan offers; files without a suffix may be DICOM too.
IMAGE_SUFFIXES = (".dcm", ".dicom", ".dic", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")

_log = logging.getLogger(__name__)

# First bytes -> format (PNG, JPEG, TIFF/BigTIFF in both byte orders, BMP).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
)
_DICOM_MAGIC_OFFSET = 128


def load_radiograph(path: str | os.PathLike, frame: int = 0) -> Radiograph:
    """Read one frame (0-based; multi-frame DICOM and TIFF open frame 0 by default) in its stored depth."""
    path = Path(path)
    image_format = sniff_format(path)
    try:
        return _read(path, image_format, frame)
    except UnreadableImageError:
        raise
    except MemoryError as error:
        raise UnreadableImageError(path, "the image is too large to fit in this computer's memory") from error
    except Exception as error:  # a codec failure nobody anticipated must still reach the user as words
        _log.debug("unexpected failure reading %s", path, exc_info=True)
        raise UnreadableImageError(path, "the image data is damaged and cannot be decoded") from error


def image_size(path: str | os.PathLike) -> tuple[int, int, int]:
    """(width, height, depth) of the picture ``load_radiograph`` returns (the grid annotations live in), read
    from the header where the format allows, else by decoding. Raises UnreadableImageError."""
    path = Path(path)
    image_format = sniff_format(path)
    if image_format != "DICOM":
        from implant_desk.core.imaging.raster import header_size

        size = header_size(path, image_format)
        if size is not None:
            return size
    radiograph = load_radiograph(path)
    return radiograph.width, radiograph.height, 3 if radiograph.is_color else 1


def sniff_format(path: Path) -> str:
    """"DICOM", "TIFF", "PNG", "JPEG" or "BMP" from the file's first bytes; UnreadableImageError otherwise."""
    head = _read_head(path)
    if len(head) >= _DICOM_MAGIC_OFFSET + 4 and head[_DICOM_MAGIC_OFFSET:_DICOM_MAGIC_OFFSET + 4] == b"DICM":
        return "DICOM"
    for signature, image_format in _SIGNATURES:
        if head.startswith(signature):
            return image_format
    if path.suffix.lower() in DICOM_SUFFIXES or not path.suffix:
        return "DICOM"  # a bare dataset without preamble; the DICOM reader decides whether it is one
    raise UnreadableImageError(path, "this is not an image file this program can open (DICOM, TIFF, PNG, JPEG, BMP)")


def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            head = file.read(_DICOM_MAGIC_OFFSET + 4)
    except FileNotFoundError as error:
        raise UnreadableImageError(path, "the file does not exist (it may have been moved or deleted)") from error
    except IsADirectoryError as error:
        raise UnreadableImageError(path, "this is a folder, not an image file") from error
    except PermissionError as error:
        raise UnreadableImageError(path, "you do not have permission to read this file") from error
    except OSError as error:
        raise UnreadableImageError(path, f"the file cannot be read ({error.strerror or error})") from error
    if not head:
        raise UnreadableImageError(path, "the file is empty (0 bytes)")
    return head


def _read(path: Path, image_format: str, frame: int) -> Radiograph:
    if image_format == "DICOM":
        from implant_desk.core.imaging.dicom import read_dicom

        return read_dicom(path, frame)
    if image_format == "TIFF":
        from implant_desk.core.imaging.raster import read_tiff

        return read_tiff(path, frame)
    from implant_desk.core.imaging.raster import read_pillow

    return read_pillow(path, image_format, frame)
