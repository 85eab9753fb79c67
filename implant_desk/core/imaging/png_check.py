"""A complete check of a PNG stream with the standard library, before imagecodecs may decode it.

``imagecodecs.png_decode`` (2026.3.6) drops one reference to ``None`` each time it fails, and after a few
thousand damaged files the interpreter aborts (docs/adr/0008-png-decode-refcount.md). So a PNG reaches it only
when nothing is left for libpng to fail on: signature, every chunk's length and CRC, IHDR, the order of the
critical chunks, IEND, the zlib stream's length and checksum, and every row's filter byte are checked here.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# libpng's default user limit (PNG_USER_WIDTH_MAX / PNG_USER_HEIGHT_MAX): beyond it libpng refuses the file.
MAX_SIDE = 1_000_000
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_KNOWN_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}
# Adam7 passes: (first column, first row, column step, row step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def check_png(data: bytes) -> None:
    """Raise ValueError saying what is wrong unless ``data`` is a PNG libpng decodes without an error."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG signature")
    header, compressed = _chunks(data)
    width, height, depth, colour, interlaced = header
    row_sizes = _row_sizes(width, height, depth * _CHANNELS[colour], interlaced)
    expected = sum(rows * (1 + size) for rows, size in row_sizes)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, expected + 1)
    except zlib.error as exc:
        raise ValueError(f"damaged image data ({exc})") from None
    if len(raw) != expected or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise ValueError("the image data is cut short or too long")
    start = 0
    for rows, size in row_sizes:
        filters = np.frombuffer(raw, np.uint8, rows * (1 + size), start)[:: 1 + size]
        if filters.size and filters.max() > 4:
            raise ValueError("a row has an unknown filter type")
        start += rows * (1 + size)


def _chunks(data: bytes) -> tuple[tuple[int, int, int, int, int], bytes]:
    """(IHDR fields, the joined IDAT data), once every chunk up to IEND has been checked."""
    header = None
    idat: list[bytes] = []
    idat_ended = False
    pos = len(SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise ValueError("the file ends before IEND")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ValueError(f"chunk {kind!r} is cut short")
        body = data[pos + 8 : end - 4]
        if zlib.crc32(kind + body) != int.from_bytes(data[end - 4 : end], "big"):
            raise ValueError(f"chunk {kind!r} fails its CRC")
        if header is None:
            if kind != b"IHDR":
                raise ValueError("the first chunk is not IHDR")
            header = _header(body)
        elif kind == b"IHDR":
            raise ValueError("a second IHDR")
        elif kind == b"IDAT":
            if idat_ended:
                raise ValueError("IDAT chunks are not consecutive")
            idat.append(body)
        elif kind == b"IEND":
            break
        elif kind == b"PLTE" and (idat or length % 3 or not 3 <= length <= 768):
            raise ValueError("a misplaced or malformed PLTE")
        elif not kind.isalpha() or (kind not in _KNOWN_CRITICAL and not kind[0] & 0x20):
            raise ValueError(f"an invalid or unknown critical chunk {kind!r}")
        idat_ended = bool(idat) and kind != b"IDAT"
        pos = end
    if not idat:
        raise ValueError("no image data")
    return header, b"".join(idat)


def _header(body: bytes) -> tuple[int, int, int, int, int]:
    if len(body) != 13:
        raise ValueError("IHDR has the wrong length")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">2I5B", body)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"implausible size {width} x {height}")
    if depth not in _BIT_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise ValueError("IHDR holds values PNG does not define")
    return width, height, depth, colour, interlace


def _row_sizes(width: int, height: int, bits_per_pixel: int, interlaced: int) -> list[tuple[int, int]]:
    """(rows, bytes per row without its filter byte) of each pass; one pass unless Adam7-interlaced."""
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    sizes = []
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            sizes.append((rows, -(-columns * bits_per_pixel // 8)))
    return sizes
