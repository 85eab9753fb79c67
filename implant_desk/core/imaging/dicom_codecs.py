"""Which library decodes which DICOM transfer syntax (see docs/adr/0001-image-decoders.md).

pydicom picks the first plugin that is installed; we pin one permissively licensed plugin per syntax so the
result never depends on what else happens to be installed (pylibjpeg-libjpeg, GPLv3, must never be used).
pydicom has no permissive JPEG plugin that decodes 12-bit JPEG Extended and JPEG Lossless quietly (GDCM
refuses 12-bit and prints libjpeg warnings to the console), so this module adds one on top of imagecodecs'
libjpeg-turbo (BSD-3-Clause / IJG) through pydicom's documented decoder-plugin interface.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np
from pydicom import uid
from pydicom.pixels.decoders.base import DecodeRunner, get_decoder

IMAGECODECS_PLUGIN = "imagecodecs"
_IMAGECODECS_SYNTAXES = (uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1)
JPEG_LS_SYNTAXES = (uid.JPEGLSLossless, uid.JPEGLSNearLossless)

# Syntax -> plugin label, for syntaxes pydicom cannot decode with numpy alone.
_PREFERRED = {
    uid.JPEGBaseline8Bit: "pillow",
    uid.JPEGLossless: IMAGECODECS_PLUGIN,
    uid.JPEGLosslessSV1: IMAGECODECS_PLUGIN,
    uid.JPEGLSLossless: "pyjpegls",
    uid.JPEGLSNearLossless: "pyjpegls",
    uid.JPEG2000Lossless: "pylibjpeg",
    uid.JPEG2000: "pylibjpeg",
    uid.HTJ2KLossless: "pylibjpeg",
    uid.HTJ2KLosslessRPCL: "pylibjpeg",
    uid.HTJ2K: "pylibjpeg",
    # pydicom's numpy RLE decoder: pylibjpeg-rle panics (an uncatchable-by-Exception Rust panic, with a
    # backtrace on stderr) on damaged RLE data.
    uid.RLELossless: "pydicom",
}

# Read by pydicom when the plugin is registered: what the plugin needs, per syntax.
DECODER_DEPENDENCIES = {syntax: ("imagecodecs",) for syntax in _IMAGECODECS_SYNTAXES}

# JPEG markers (ITU T.81 table B.1; 0xF7 is JPEG-LS's SOF55, ITU T.87).
_SOF_SEQUENTIAL = (0xC0, 0xC1)  # baseline and extended sequential DCT
_SOF_ANY = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_SOS = 0xDA
_EOI = b"\xff\xd9"
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length field
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"  # JPEG 2000 codestream: start of codestream, then image and tile size
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"

_registered = False


def register_plugins() -> None:
    """Add the imagecodecs plugin to pydicom's JPEG Extended and JPEG Lossless decoders (idempotent)."""
    global _registered
    if _registered:
        return
    for syntax in _IMAGECODECS_SYNTAXES:
        decoder = get_decoder(syntax)
        if IMAGECODECS_PLUGIN not in decoder.available_plugins and is_available(syntax):
            decoder.add_plugin(IMAGECODECS_PLUGIN, (__name__, "decode_jpeg_frame"))
    _registered = True


def preferred_plugin(transfer_syntax: str, bits_stored: int) -> str:
    """The plugin label to force for this syntax, or "" to let pydicom choose among what is installed."""
    if transfer_syntax == uid.JPEGExtended12Bit:
        label = "pillow" if bits_stored <= 8 else IMAGECODECS_PLUGIN
    else:
        label = _PREFERRED.get(transfer_syntax, "")
    if label and label not in get_decoder(transfer_syntax).available_plugins:
        return ""
    return label


def is_available(transfer_syntax: str) -> bool:
    """pydicom plugin interface: can this plugin decode the syntax here?"""
    if transfer_syntax not in _IMAGECODECS_SYNTAXES:
        return False
    try:
        import imagecodecs
    except ImportError:
        return False
    return bool(imagecodecs.JPEG8.available)


def decode_jpeg_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """pydicom plugin interface: one JPEG Extended (12-bit grey) or JPEG Lossless frame -> sample bytes."""
    import imagecodecs

    if runner.transfer_syntax == uid.JPEGExtended12Bit and runner.samples_per_pixel != 1:
        raise NotImplementedError("colour 12-bit JPEG Extended is not supported")
    check_sequential_scan_header(src)
    decoded = imagecodecs.jpeg8_decode(src)  # lossless JPEG is never colour-transformed by libjpeg-turbo
    container = np.uint16 if runner.bits_allocated > 8 else np.uint8
    return decoded.astype(container, copy=False).tobytes()


def check_sequential_scan_header(src: bytes) -> None:
    """Reject a sequential-DCT JPEG whose scan header breaks ITU T.81 B.2.3 (Ss=0, Se=63, Ah=Al=0).

    libjpeg-turbo decodes such a stream anyway, silently guessing; a damaged radiograph must not be shown
    as if it were intact. Lossless (SOF3) scan headers carry a predictor there and are not checked.
    """
    sequential = False
    for marker, pos in _jpeg_segments(src):
        if marker in _SOF_SEQUENTIAL:
            sequential = True
        if marker == _SOS:
            spectral = pos + 5 + 2 * src[pos + 4]  # after the component list
            if sequential and src[spectral : spectral + 3] != b"\x00\x3f\x00":
                raise ValueError("invalid scan header for sequential JPEG")
            return
    raise ValueError("JPEG stream ends before its first scan")


def encoded_frame_size(src: bytes) -> tuple[int, int] | None:
    """(rows, columns) a JPEG, JPEG-LS or JPEG 2000 frame declares in its own header, None if it has none.

    Read before decoding: a frame that claims more pixels than the DICOM header would make the decoder
    allocate for them first (a decompression bomb inside a small, valid-looking file).
    """
    if src[:4] == _J2K_SOC_SIZ and len(src) >= 24:
        width, height, x_offset, y_offset = struct.unpack(">4I", src[8:24])
        return height - y_offset, width - x_offset
    if src[:12] == _JP2_SIGNATURE:
        header = src.find(b"ihdr")
        if header >= 0 and len(src) >= header + 12:
            height, width = struct.unpack(">2I", src[header + 4 : header + 12])
            return height, width
        return None
    if src[:2] == b"\xff\xd8":
        for marker, pos in _jpeg_segments(src):
            if marker in _SOF_ANY and len(src) >= pos + 9:
                height, width = struct.unpack(">2H", src[pos + 5 : pos + 9])
                return height, width
    return None


def jpeg_ls_is_complete(src: bytes) -> bool:
    """Does this JPEG-LS frame reach its end-of-image marker? False for a frame cut short.

    CharLS refuses a stream without one, but only after seconds of work (3 s idle, 10 to 24 s on a loaded
    machine, for frames of 10 x 50 to 640 x 480; CharLS 2.4); checked first, a cut frame is refused at once.
    In JPEG-LS scan data a 0xFF byte is always followed by one below 0x80 (ITU T.87 bit stuffing), so 0xFFD9
    after the first scan header is the end marker. What follows it (DICOM's even-length padding, stray bytes)
    CharLS ignores, and so do we.
    """
    for marker, pos in _jpeg_segments(src):
        if marker == _SOS:
            scan_data = pos + 2 + int.from_bytes(src[pos + 2 : pos + 4], "big")
            return src.find(_EOI, scan_data) >= 0
    return False


def _jpeg_segments(src: bytes) -> Iterator[tuple[int, int]]:
    """(marker, offset) of each marker segment after SOI, up to and including the first SOS."""
    pos = 2
    while pos + 4 <= len(src):
        if src[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = src[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        yield marker, pos
        if marker == _SOS:
            return
        pos += 2 + int.from_bytes(src[pos + 2 : pos + 4], "big")
