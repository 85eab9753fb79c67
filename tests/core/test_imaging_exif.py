"""EXIF/TIFF orientation is applied exactly as LabelImg 1.8.6 applies it, so boxes land where LabelImg's do.

LabelImg 1.8.6 reads every image with ``QImageReader(path)`` + ``setAutoTransform(True)``. The Qt tests
below run that very call and compare; the Pillow test pins the EXIF semantics without Qt.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

from implant_desk.core.imaging.loading import image_size, load_radiograph

ORIENTATIONS = range(1, 9)


def _marker_image() -> np.ndarray:
    """40 x 24 grey with distinct bright blocks at three corners (every flip and turn looks different)."""
    pixels = np.full((24, 40), 40, np.uint8)
    pixels[:8, :8] = 250
    pixels[:8, -8:] = 160
    pixels[-8:, :8] = 100
    return pixels


def _jpeg_with_orientation(path, orientation: int):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(_marker_image()).save(path, quality=100, exif=exif.tobytes())
    return path


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    path = _jpeg_with_orientation(tmp_path / f"o{orientation}.jpg", orientation)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image))
    np.testing.assert_array_equal(load_radiograph(path).pixels, expected)


def _qt_autotransformed(path) -> np.ndarray:
    """What LabelImg 1.8.6 shows: QImageReader with autoTransform on, as 8-bit grey."""
    qtgui = pytest.importorskip("PySide6.QtGui")
    reader = qtgui.QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read().convertToFormat(qtgui.QImage.Format.Format_Grayscale8)
    assert not image.isNull(), reader.errorString()
    stride = image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * image.height()).reshape(image.height(), stride)
    return rows[:, : image.width()].copy()


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_orientation_matches_labelimgs_qt_reader(tmp_path, orientation):
    path = _jpeg_with_orientation(tmp_path / f"o{orientation}.jpg", orientation)
    ours, qt = load_radiograph(path).pixels, _qt_autotransformed(path)
    assert ours.shape == qt.shape
    assert np.abs(ours.astype(int) - qt).max() <= 2  # two JPEG decoders may round differently


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_tiff_orientation_tag_matches_labelimgs_qt_reader(tmp_path, orientation):
    path = tmp_path / f"o{orientation}.tif"
    tifffile.imwrite(path, _marker_image(), extratags=[(274, "H", 1, orientation, True)])
    np.testing.assert_array_equal(load_radiograph(path).pixels, _qt_autotransformed(path))


def test_png_exif_orientation_is_ignored_like_qt_does(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.png"
    Image.fromarray(_marker_image()).save(path, exif=exif.tobytes())
    ours = load_radiograph(path).pixels
    np.testing.assert_array_equal(ours, _marker_image())
    np.testing.assert_array_equal(ours, _qt_autotransformed(path))


def test_rotated_tiff_swaps_row_and_column_spacing(tmp_path):
    path = tmp_path / "turned.tif"
    tifffile.imwrite(path, _marker_image(), resolution=(200.0, 400.0), resolutionunit="CENTIMETER",
                     extratags=[(274, "H", 1, 6, True)])
    radiograph = load_radiograph(path)
    assert radiograph.pixels.shape == (40, 24)
    assert radiograph.spacing_mm == pytest.approx((0.05, 0.025))  # as stored: 0.025 mm rows, 0.05 mm columns


def _oriented_files(folder):
    """A JPEG and a TIFF for every orientation, a PNG carrying an (ignored) EXIF turn, a colour and a palette BMP."""
    for orientation in ORIENTATIONS:
        yield _jpeg_with_orientation(folder / f"o{orientation}.jpg", orientation)
        tiff = folder / f"o{orientation}.tif"
        tifffile.imwrite(tiff, _marker_image(), extratags=[(274, "H", 1, orientation, True)])
        yield tiff
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_marker_image()).save(folder / "rotated.png", exif=exif.tobytes())
    yield folder / "rotated.png"
    Image.fromarray(np.dstack([_marker_image()] * 3)).save(folder / "colour.bmp")
    yield folder / "colour.bmp"
    Image.fromarray(_marker_image()).convert("P").save(folder / "palette.bmp")
    yield folder / "palette.bmp"


def test_header_size_is_the_size_of_the_decoded_picture(tmp_path):
    """Annotation readers size boxes from the header alone; it must be the grid load_radiograph returns."""
    for path in _oriented_files(tmp_path):
        radiograph = load_radiograph(path)
        assert image_size(path) == (radiograph.width, radiograph.height, 3 if radiograph.is_color else 1), path.name
