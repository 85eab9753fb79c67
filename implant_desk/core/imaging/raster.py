"""TIFF (tifffile), PNG, JPEG and BMP (Pillow) files -> Radiograph, in their stored depth.

EXIF/TIFF orientation is applied exactly where LabelImg 1.8.6 applies it, so box coordinates agree with
LabelImg's: it reads images with ``QImageReader`` and ``setAutoTransform(True)``, and Qt's JPEG and TIFF
handlers honour the orientation while its PNG and BMP handlers ignore it (docs/adr/0001-image-decoders.md).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.imaging.png_check import check_png
from implant_desk.core.imaging.radiograph import GENERATED_BY, SPACING_RESOLUTION_TAG, SPACING_UNKNOWN, Radiograph
from implant_desk.core.imaging.sanity import check_decoded_size, check_frame, check_pixel_count, plausible_spacing
from implant_desk.core.imaging.windowing import default_window

DAMAGED = "the image data is damaged or incomplete (the file may be cut short)"

# tifffile logs odd tags without installing a handler, so Python would print them on stderr; with this,
# they reach only an application that configures logging.
logging.getLogger("tifffile").addHandler(logging.NullHandler())

# EXIF/TIFF Orientation (tag 274) -> the transform that shows the picture upright (TIFF 6.0, section 8).
_ORIENTATIONS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}
_TRANSPOSING = {5, 6, 7, 8}

# Pillow modes we read as they are; every other mode is converted to RGB.
_GREY_MODES = {"L": 8, "I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16, "I": 32, "F": 32}

# Millimetres per TIFF ResolutionUnit (1 = no absolute unit; 4 and 5 are tifffile's extensions).
_MM_PER_UNIT = {2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The upright picture for an EXIF/TIFF orientation value (1 or unknown values: unchanged)."""
    transform = _ORIENTATIONS.get(orientation)
    return pixels if transform is None else np.ascontiguousarray(transform(pixels))


def read_tiff(path: Path, frame: int = 0) -> Radiograph:
    try:
        with tifffile.TiffFile(path) as tif:
            frames = len(tif.pages)
            check_frame(path, frame, frames)
            page = tif.pages[frame]
            check_pixel_count(path, int(page.imagewidth), int(page.imagelength) * max(int(page.imagedepth), 1))
            check_decoded_size(path, int(page.nbytes))  # from the header: nothing is decoded yet
            _check_segments_inside(path, page)
            stored = page.asarray()
            pixels, photometric = _tiff_display_model(path, page, stored)
            spacing = _tiff_spacing(page)
            orientation = int(page.tags.valueof(274, 1) or 1)
            generated = page.software == GENERATED_BY
    except (UnreadableImageError, MemoryError):
        raise
    except Exception as error:
        raise UnreadableImageError(path, DAMAGED) from error
    pixels = apply_orientation(pixels, orientation)
    if spacing is not None and orientation in _TRANSPOSING:
        spacing = (spacing[1], spacing[0])
    return _radiograph(path, "TIFF", pixels, int(page.bitspersample), photometric, spacing, frames, generated)


def _check_segments_inside(path: Path, page: tifffile.TiffPage) -> None:
    """A strip or tile that points past the end of the file means the file was cut short."""
    size = os.path.getsize(path)
    if any(offset + count > size for offset, count in zip(page.dataoffsets, page.databytecounts)):
        raise UnreadableImageError(path, "the file is cut short: part of the image data is missing")


def _tiff_display_model(path: Path, page: tifffile.TiffPage, stored: np.ndarray) -> tuple[np.ndarray, str]:
    if stored.ndim == 3 and page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
        stored = np.moveaxis(stored, 0, -1)
    stored = _native(stored)
    photometric = page.photometric
    if photometric == tifffile.PHOTOMETRIC.PALETTE:
        return _palette_to_rgb(stored, page.colormap), "RGB"
    if photometric in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.MINISWHITE):
        grey = stored[..., 0] if stored.ndim == 3 else stored  # drop an alpha channel
        return grey, "MONOCHROME1" if photometric == tifffile.PHOTOMETRIC.MINISWHITE else "MONOCHROME2"
    colour = photometric in (tifffile.PHOTOMETRIC.RGB, tifffile.PHOTOMETRIC.YCBCR)
    if colour and (stored.ndim == 2 or stored.shape[-1] < 3):  # "RGB" over one sample: it is a grey picture
        return stored if stored.ndim == 2 else stored[..., 0], "MONOCHROME2"
    if colour:
        return np.ascontiguousarray(stored[..., :3]), "RGB"  # tifffile returns YCbCr JPEG tiles as RGB
    raise UnreadableImageError(path, f"its colour model ({photometric.name}) is not supported")


def _palette_to_rgb(indices: np.ndarray, colormap: np.ndarray) -> np.ndarray:
    rgb = np.moveaxis(colormap[:, indices], 0, -1)
    if indices.dtype == np.uint8:  # TIFF palettes are 16-bit even for 8-bit images
        return (rgb >> 8).astype(np.uint8) if rgb.max() > 255 else rgb.astype(np.uint8)
    return rgb.astype(np.uint16)


def _tiff_spacing(page: tifffile.TiffPage) -> tuple[float, float] | None:
    tags = page.tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return None
    mm_per_unit = _MM_PER_UNIT.get(int(tags.valueof("ResolutionUnit", 2) or 1))
    if mm_per_unit is None:
        return None
    x_res, y_res = (_rational(tags[name].value) for name in ("XResolution", "YResolution"))
    if not x_res or not y_res:
        return None
    return plausible_spacing(mm_per_unit / y_res, mm_per_unit / x_res)


def _rational(value: object) -> float:
    if isinstance(value, tuple):
        numerator, denominator = value
        return numerator / denominator if denominator else 0.0
    return float(value)  # type: ignore[arg-type]


def read_pillow(path: Path, image_format: str, frame: int = 0) -> Radiograph:
    """PNG, JPEG or BMP. ``formats=`` keeps Pillow from trying any other decoder on the bytes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: our own limit applies
            with Image.open(path, formats=[image_format]) as image:
                check_pixel_count(path, image.width, image.height)
                frames = int(getattr(image, "n_frames", 1))
                check_frame(path, frame, frames)
                image.seek(frame)
                if image_format == "PNG" and frame == 0 and _is_16bit_png_with_channels(path):
                    pixels, photometric, bits = _16bit_png_with_channels(path)
                else:
                    image.load()
                    pixels, photometric, bits = _pillow_pixels(image)
                spacing = _png_spacing(image) if image_format == "PNG" else None
                orientation = _exif_orientation(image) if image_format == "JPEG" else 1
                generated = image.info.get("Software") == GENERATED_BY
    except (UnreadableImageError, MemoryError):
        raise
    except Image.DecompressionBombError as error:
        reason = "the image is implausibly large; it is damaged or made to exhaust memory"
        raise UnreadableImageError(path, reason) from error
    except Exception as error:
        raise UnreadableImageError(path, DAMAGED) from error
    pixels = apply_orientation(pixels, orientation)
    return _radiograph(path, image_format, pixels, bits, photometric, spacing, frames, generated)


def _pillow_pixels(image: Image.Image) -> tuple[np.ndarray, str, int]:
    if image.mode in ("1", "LA") or (image.mode in ("P", "PA") and _palette_is_grey(image)):
        image = image.convert("L")
    # np.array, not np.asarray: Pillow exports read-only buffers, and every reader returns writable pixels
    if image.mode in _GREY_MODES:
        pixels = _native(np.array(image))
        bits = _GREY_MODES[image.mode]
        if image.mode == "I" and pixels.size and pixels.min() >= 0 and pixels.max() <= 0xFFFF:
            pixels, bits = pixels.astype(np.uint16), 16  # 16-bit PNGs from some writers arrive as mode "I"
        return pixels, "MONOCHROME2", bits
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.array(image), "RGB", 8


def _is_16bit_png_with_channels(path: Path) -> bool:
    """16-bit RGB, RGBA or grey+alpha: Pillow would reduce these to 8 bits per sample."""
    with open(path, "rb") as file:
        ihdr = file.read(26)  # signature, IHDR length and type, width, height, bit depth, colour type
    return len(ihdr) == 26 and ihdr[24] == 16 and ihdr[25] in (2, 4, 6)


def _16bit_png_with_channels(path: Path) -> tuple[np.ndarray, str, int]:
    import imagecodecs

    data = path.read_bytes()
    check_png(data)  # a failing png_decode corrupts the interpreter (see png_check)
    samples = imagecodecs.png_decode(data)
    if samples.shape[-1] == 2:  # grey + alpha
        return np.ascontiguousarray(samples[..., 0]), "MONOCHROME2", 16
    return np.ascontiguousarray(samples[..., :3]), "RGB", 16


def _palette_is_grey(image: Image.Image) -> bool:
    palette = np.asarray(image.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
    return bool(palette.size) and bool((palette == palette[:, :1]).all())


def _png_spacing(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")  # Pillow reports pHYs in pixels per inch when its unit is the metre
    if not dpi:
        return None
    x_dpi, y_dpi = (float(v) for v in dpi)
    if x_dpi <= 0 or y_dpi <= 0:
        return None
    return plausible_spacing(25.4 / y_dpi, 25.4 / x_dpi)


def _exif_orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # damaged EXIF: Qt shows the picture as stored, so do we
        return 1


def _native(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(pixels.dtype.newbyteorder("="), copy=False)


def _radiograph(path: Path, image_format: str, pixels: np.ndarray, bits: int, photometric: str,
                spacing: tuple[float, float] | None, frames: int, generated: bool) -> Radiograph:
    return Radiograph(
        path=str(path),
        format=image_format,
        pixels=pixels,
        bits=bits,
        photometric=photometric,
        window=default_window(pixels),
        spacing_mm=spacing,
        spacing_source=SPACING_RESOLUTION_TAG if spacing is not None else SPACING_UNKNOWN,
        frames=frames,
        generated=generated,
    )


def header_size(path: Path, image_format: str) -> tuple[int, int, int] | None:
    """(width, height, depth) as ``read_tiff``/``read_pillow`` will return the picture, from the header alone
    and with the same orientation rules; None when the header cannot tell (the caller then decodes)."""
    try:
        if image_format == "TIFF":
            with tifffile.TiffFile(path) as tif:
                page = tif.pages[0]
                width, height = int(page.imagewidth), int(page.imagelength)
                orientation = int(page.tags.valueof(274, 1) or 1)
                grey = page.samplesperpixel == 1 and page.photometric != tifffile.PHOTOMETRIC.PALETTE
        else:
            with Image.open(path) as image:
                width, height = image.size
                orientation = _exif_orientation(image) if image_format == "JPEG" else 1
                grey = image.mode in _GREY_MODES or image.mode == "1" or (
                    image.mode == "P" and _palette_is_grey(image))
    except Exception:  # damaged or unusual header: decoding gives the precise reason
        return None
    if orientation in _TRANSPOSING:
        width, height = height, width
    return width, height, 1 if grey else 3
