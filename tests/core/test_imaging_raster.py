"""Opening TIFF, PNG, JPEG and BMP: depth, resolution tags, damaged files, awkward paths and huge images."""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib

import numpy as np
import pytest
import tifffile
from imaging_samples import gradient
from PIL import Image

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.imaging.loading import IMAGE_SUFFIXES, load_radiograph
from implant_desk.core.imaging.radiograph import SPACING_RESOLUTION_TAG, SPACING_UNKNOWN


def test_image_suffixes_are_lower_case_and_include_dicom():
    assert ".dcm" in IMAGE_SUFFIXES
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES)


def test_16bit_png_keeps_depth_and_its_phys_resolution(tmp_path):
    pixels = gradient(top=60000)
    path = tmp_path / "pano.png"
    Image.fromarray(pixels).save(path, dpi=(1270, 1270))  # 1270 dpi = 0.02 mm
    radiograph = load_radiograph(path)
    np.testing.assert_array_equal(radiograph.pixels, pixels)
    assert (radiograph.format, radiograph.bits, radiograph.photometric) == ("PNG", 16, "MONOCHROME2")
    assert radiograph.spacing_mm == pytest.approx((0.02, 0.02), rel=1e-4)
    assert radiograph.spacing_source == SPACING_RESOLUTION_TAG


@pytest.mark.parametrize("channels, photometric", [(3, "RGB"), (4, "RGB"), (2, "MONOCHROME2")])
def test_16bit_png_with_channels_keeps_16_bits(tmp_path, channels, photometric):
    imagecodecs = pytest.importorskip("imagecodecs")
    samples = np.dstack([gradient(top=60000) + 100 * c for c in range(channels)]).astype(np.uint16)
    path = tmp_path / "colour16.png"
    path.write_bytes(imagecodecs.png_encode(samples))
    radiograph = load_radiograph(path)
    expected = samples[..., 0] if channels == 2 else samples[..., :3]
    np.testing.assert_array_equal(radiograph.pixels, expected)
    assert (radiograph.bits, radiograph.photometric) == (16, photometric)


def test_8bit_png_without_phys_has_unknown_spacing(tmp_path):
    path = tmp_path / "plain.png"
    Image.fromarray(gradient(dtype="uint8", top=255)).save(path)
    radiograph = load_radiograph(path)
    assert (radiograph.pixels.dtype, radiograph.bits) == (np.uint8, 8)
    assert (radiograph.spacing_mm, radiograph.spacing_source) == (None, SPACING_UNKNOWN)


@pytest.mark.parametrize("compression", [None, "zlib", "lzw", "packbits", "zstd"])
def test_16bit_tiff_compressed_or_not_with_resolution(tmp_path, compression):
    pixels = gradient(top=4095)
    path = tmp_path / "sensor.tif"
    tifffile.imwrite(path, pixels, compression=compression, resolution=(40.0, 50.0), resolutionunit="CENTIMETER")
    radiograph = load_radiograph(path)
    np.testing.assert_array_equal(radiograph.pixels, pixels)
    assert (radiograph.format, radiograph.bits) == ("TIFF", 16)
    assert radiograph.spacing_mm == pytest.approx((10 / 50, 10 / 40))  # (row from Y, column from X)


def test_8bit_tiff_in_inches_and_big_endian(tmp_path):
    pixels = gradient(dtype="uint8", top=255)
    path = tmp_path / "scan.tif"
    tifffile.imwrite(path, pixels, byteorder=">", resolution=(508, 508), resolutionunit="INCH")
    radiograph = load_radiograph(path)
    np.testing.assert_array_equal(radiograph.pixels, pixels)
    assert radiograph.spacing_mm == pytest.approx((0.05, 0.05))


def test_miniswhite_tiff_is_displayed_inverted(tmp_path):
    path = tmp_path / "negative.tif"
    tifffile.imwrite(path, gradient(), photometric="miniswhite")
    assert load_radiograph(path).inverted


def test_tiff_without_unit_has_unknown_spacing(tmp_path):
    path = tmp_path / "nounit.tif"
    tifffile.imwrite(path, gradient(), resolution=(300, 300), resolutionunit="NONE")
    assert load_radiograph(path).spacing_mm is None


def test_jpeg_opens_as_rgb_or_grey(tmp_path):
    Image.fromarray(gradient(dtype="uint8", top=255)).save(tmp_path / "grey.jpg", quality=95)
    Image.fromarray(np.dstack([gradient(dtype="uint8", top=255)] * 3)).save(tmp_path / "rgb.jpg", quality=95)
    grey, rgb = load_radiograph(tmp_path / "grey.jpg"), load_radiograph(tmp_path / "rgb.jpg")
    assert (grey.format, grey.photometric, grey.pixels.ndim) == ("JPEG", "MONOCHROME2", 2)
    assert (rgb.photometric, rgb.pixels.shape) == ("RGB", (48, 64, 3))


def test_labelimg_palette_bmp(shared_data):
    radiograph = load_radiograph(shared_data / "labelimg" / "tests" / "test.512.512.bmp")
    assert (radiograph.format, radiograph.width, radiograph.height) == ("BMP", 512, 512)


@pytest.mark.parametrize("grey", [True, False])
def test_palette_bmp_becomes_grey_or_rgb(tmp_path, grey):
    indices = gradient(dtype="uint8", top=255)
    image = Image.fromarray(indices, mode="L").convert("P")
    palette = [v for i in range(256) for v in ((i, i, i) if grey else (i, 255 - i, i // 2))]
    image.putpalette(palette)
    image.save(tmp_path / "palette.bmp")
    radiograph = load_radiograph(tmp_path / "palette.bmp")
    if grey:
        np.testing.assert_array_equal(radiograph.pixels, indices)
    else:
        assert radiograph.photometric == "RGB"
        assert tuple(radiograph.pixels[0, 10]) == (indices[0, 10], 255 - indices[0, 10], indices[0, 10] // 2)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tif"])
def test_pixels_are_a_writable_native_array(tmp_path, suffix):
    path = tmp_path / f"any{suffix}"
    pixels = gradient(dtype="uint8", top=255)
    if suffix == ".tif":
        tifffile.imwrite(path, pixels)
    else:
        Image.fromarray(pixels).save(path)
    loaded = load_radiograph(path).pixels
    assert loaded.flags.writeable and loaded.dtype.isnative


def test_format_comes_from_the_bytes_not_the_name(tmp_path):
    path = tmp_path / "exported.jpg"
    Image.fromarray(gradient(dtype="uint8", top=255)).save(path, format="PNG")
    assert load_radiograph(path).format == "PNG"


def test_non_ascii_path(tmp_path, shared_data):
    folder = tmp_path / "Zahnärztin Çelik" / "患者"
    folder.mkdir(parents=True)
    path = folder / "röntgen 歯.tif"
    tifffile.imwrite(path, gradient())
    assert load_radiograph(path).width == 64
    assert load_radiograph(shared_data / "labelimg" / "tests" / "臉書.jpg").format == "JPEG"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_read_only_folder_opens_and_nothing_is_written_next_to_the_image(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    Image.fromarray(gradient(top=60000)).save(folder / "a.png")
    tifffile.imwrite(folder / "b.tif", gradient())
    folder.chmod(0o555)
    try:
        assert load_radiograph(folder / "a.png").bits == 16
        assert load_radiograph(folder / "b.tif").format == "TIFF"
        assert sorted(p.name for p in folder.iterdir()) == ["a.png", "b.tif"]
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_unreadable_permissions_say_so(tmp_path):
    path = tmp_path / "locked.png"
    Image.fromarray(gradient(dtype="uint8")).save(path)
    path.chmod(0)
    try:
        with pytest.raises(UnreadableImageError, match="permission"):
            load_radiograph(path)
    finally:
        path.chmod(0o644)


def _encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "TIFF":
        tifffile.imwrite(buffer, gradient(96, 128), compression="zlib", rowsperstrip=8)
    else:
        Image.fromarray(gradient(96, 128, dtype="uint8", top=255)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif"), ("BMP", ".bmp")])
def test_truncated_file_is_reported_as_cut_short(tmp_path, fmt, suffix, capfd):
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(_encoded(fmt)[: len(_encoded(fmt)) // 2])
    with pytest.raises(UnreadableImageError) as caught:
        load_radiograph(path)
    assert caught.value.path == str(path)
    assert "cut short" in caught.value.reason
    assert capfd.readouterr() == ("", "")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(UnreadableImageError, match="empty"):
        load_radiograph(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UnreadableImageError, match="does not exist"):
        load_radiograph(tmp_path / "gone.png")
    with pytest.raises(UnreadableImageError, match="folder"):
        load_radiograph(tmp_path)


def test_unknown_content_with_image_suffix(tmp_path):
    path = tmp_path / "readme.png"
    path.write_text("not a picture")
    with pytest.raises(UnreadableImageError, match="not an image file"):
        load_radiograph(path)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_png_decompression_bomb_is_refused_from_its_header(tmp_path):
    """30000 x 30000 pixels announced by a 100-byte file: refused before any decoding."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 30001 * 4)
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
                     + _png_chunk(b"IEND", b""))
    with pytest.raises(UnreadableImageError, match="implausibly large|megapixels"):
        load_radiograph(path)


def test_tiff_decompression_bomb_is_refused_from_its_header(tmp_path):
    """A 16 x 16 TIFF whose ImageWidth/ImageLength tags are rewritten to claim 30000 x 30000."""
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((16, 16), np.uint8), compression="zlib")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + 12 * entry
        tag, kind = struct.unpack_from("<HH", data, at)
        if tag in (256, 257):  # ImageWidth, ImageLength
            struct.pack_into("<HHII" if kind == 4 else "<HHIHxx", data, at, tag, kind, 1, 30000)
    path = tmp_path / "bomb.tif"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableImageError, match="megapixels"):
        load_radiograph(path)


def test_12000_square_16bit_tiff_opens(tmp_path):
    """Very large sensors and stitched scans: 144 MP uint16 (288 MB) opens, nothing depends on Qt limits."""
    path = tmp_path / "huge.tif"
    row = np.arange(12000, dtype=np.uint16) % 4096
    side, tile = 12000, 2000
    tiles = (np.broadcast_to(row[x : x + tile], (tile, tile))
             for _y in range(0, side, tile) for x in range(0, side, tile))
    tifffile.imwrite(path, tiles, shape=(side, side), dtype="uint16", tile=(tile, tile), compression="zlib")
    radiograph = load_radiograph(path)
    assert radiograph.pixels.shape == (12000, 12000) and radiograph.pixels.dtype == np.uint16
    assert radiograph.pixels[11999, 4097] == 1


def test_damaged_16bit_colour_png_never_reaches_the_decoder_that_loses_references_to_none(tmp_path):
    """imagecodecs.png_decode drops a reference to None on each failure; after ~10,000 the process aborts
    (docs/adr/0008-png-decode-refcount.md). The stream is checked first, so a damaged file never gets there."""
    imagecodecs = pytest.importorskip("imagecodecs")
    samples = np.random.default_rng(0).integers(0, 65535, (64, 64, 3), dtype=np.uint16)
    path = tmp_path / "cut.png"
    path.write_bytes(imagecodecs.png_encode(samples)[:1000])
    with pytest.raises(UnreadableImageError):
        load_radiograph(path)  # the first load imports plugins, which holds references to None
    references = sys.getrefcount(None)
    for _ in range(300):
        with pytest.raises(UnreadableImageError, match="damaged"):
            load_radiograph(path)
    assert sys.getrefcount(None) > references - 100


@pytest.mark.parametrize("damage", ["cut", "crc", "no IEND", "extra data", "bad filter"])
def test_png_check_refuses_what_libpng_would_fail_on(damage):
    imagecodecs = pytest.importorskip("imagecodecs")
    from implant_desk.core.imaging.png_check import check_png

    samples = np.arange(5 * 7 * 3, dtype=np.uint16).reshape(5, 7, 3)
    data = imagecodecs.png_encode(samples)
    check_png(data)
    header, idat_start = data[:33], 33
    rows = zlib.decompress(data[idat_start + 8 : -16])

    def with_idat(raw: bytes) -> bytes:
        body = zlib.compress(raw)
        idat = struct.pack(">I", len(body)) + b"IDAT" + body + struct.pack(">I", zlib.crc32(b"IDAT" + body))
        return header + idat + data[-12:]

    damaged = {
        "cut": data[:-20],
        "crc": data[:40] + bytes([data[40] ^ 1]) + data[41:],
        "no IEND": data[:-12],
        "extra data": with_idat(rows + b"\0"),
        "bad filter": with_idat(b"\x05" + rows[1:]),
    }[damage]
    check_png(with_idat(rows))
    with pytest.raises(ValueError):
        check_png(damaged)


def test_tiff_saying_rgb_over_one_sample_is_read_as_grey(tmp_path):
    path = tmp_path / "rgb1.tif"
    pixels = np.arange(400, dtype=np.uint8).reshape(20, 20)
    tifffile.imwrite(path, pixels, photometric="minisblack")
    data = bytearray(path.read_bytes())
    (entries,) = struct.unpack("<H", data[8:10])
    for entry in range(entries):  # PhotometricInterpretation (262) := RGB (2), one sample per pixel kept
        offset = 10 + 12 * entry
        if struct.unpack("<H", data[offset : offset + 2])[0] == 262:
            data[offset + 8 : offset + 10] = struct.pack("<H", 2)
    path.write_bytes(bytes(data))
    radiograph = load_radiograph(path)
    assert radiograph.photometric == "MONOCHROME2" and not radiograph.is_color
    np.testing.assert_array_equal(radiograph.pixels, pixels)


def test_tiff_whose_header_claims_gigabytes_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.tif"
    tifffile.imwrite(path, np.zeros((16, 16, 4), np.uint16), photometric="rgb", extrasamples=[2])
    monkeypatch.setattr(tifffile.TiffPage, "nbytes", property(lambda page: 16384 * 16384 * 8))
    monkeypatch.setattr(tifffile.TiffPage, "asarray", lambda *a, **k: pytest.fail("decoded before the check"))
    with pytest.raises(UnreadableImageError, match="GB once decoded"):
        load_radiograph(path)
