"""Opening DICOM: every file in ../shared/data/dicom, and dental cases made here with pydicom.

The shared files are pydicom's test files (MIT; NEMA WG04 and public samples, see ../shared/data/README.md).
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from imaging_samples import gradient, write_dicom, write_jpeg_ls_dicom
from pydicom.encaps import encapsulate, get_frame

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.imaging.loading import load_radiograph
from implant_desk.core.imaging.radiograph import SPACING_IMAGER, SPACING_PIXEL_SPACING, SPACING_UNKNOWN

# name -> (height, width, dtype, photometric, frames); the transfer syntax is in the name or the README.
GOOD_FILES = {
    "693_J2KI.dcm": (512, 512, "int16", "MONOCHROME2", 1),
    "CT_small.dcm": (128, 128, "int16", "MONOCHROME2", 1),
    "HTJ2KLossless_08_RGB.dcm": (480, 640, "uint8", "RGB", 1),
    "J2K_pixelrep_mismatch.dcm": (512, 512, "int16", "MONOCHROME2", 1),
    "JLSL_16_15_1_1F.dcm": (128, 128, "int16", "MONOCHROME2", 1),
    "JPEG-LL.dcm": (1024, 256, "int16", "MONOCHROME2", 1),
    "JPEG2000.dcm": (1024, 256, "int16", "MONOCHROME2", 1),
    "JPEGLSNearLossless_16.dcm": (50, 10, "uint16", "MONOCHROME2", 1),
    "JPGExtended.dcm": (1024, 256, "uint16", "MONOCHROME2", 1),
    "JPGLosslessP14SV1_1s_1f_8b.dcm": (768, 1024, "uint8", "MONOCHROME2", 1),
    "MR2_J2KR.dcm": (1024, 1024, "uint16", "MONOCHROME2", 1),
    "MR_small.dcm": (64, 64, "int16", "MONOCHROME2", 1),
    "MR_small_RLE.dcm": (64, 64, "int16", "MONOCHROME2", 1),
    "MR_small_bigendian.dcm": (64, 64, "int16", "MONOCHROME2", 1),
    "MR_small_implicit.dcm": (64, 64, "int16", "MONOCHROME2", 1),
    "MR_small_jp2klossless.dcm": (64, 64, "int16", "MONOCHROME2", 1),
    "MR_small_jpeg_ls_lossless.dcm": (64, 64, "int16", "MONOCHROME2", 1),
    "RG1_J2KI.dcm": (1955, 1841, "uint16", "MONOCHROME1", 1),
    "RG3_J2KR.dcm": (1760, 1760, "uint16", "MONOCHROME1", 1),
    "SC_rgb_rle_16bit_2frame.dcm": (100, 100, "uint16", "RGB", 2),
    "SC_rgb_small_odd.dcm": (3, 3, "uint8", "RGB", 1),
    "eCT_Supplemental.dcm": (512, 512, "uint16", "MONOCHROME2", 2),
    "emri_small_RLE.dcm": (64, 64, "uint16", "MONOCHROME2", 10),
    "examples_overlay.dcm": (300, 484, "uint16", "MONOCHROME2", 1),
    "examples_palette.dcm": (350, 800, "uint16", "RGB", 1),
    "examples_ybr_color.dcm": (240, 320, "uint8", "RGB", 30),
    "image_dfl.dcm": (512, 512, "uint8", "MONOCHROME2", 1),
    "mlut_18.dcm": (512, 512, "uint16", "MONOCHROME2", 1),
    "vlut_04.dcm": (512, 512, "uint8", "MONOCHROME2", 1),
    # Listed as damaged in the README, but the damage is a wrongly encoded private sequence that pydicom
    # repairs while reading; the pixels are intact, so the radiograph opens (docs/adr/0001).
    "bad_sequence.dcm": (512, 512, "uint16", "MONOCHROME2", 1),
}

# name -> words the message must contain.
UNREADABLE_FILES = {
    "MR_truncated.dcm": "damaged",
    "rtplan_truncated.dcm": "holds no image",
    "badVR.dcm": "damaged",
    "no_meta.dcm": "damaged",
    "meta_missing_tsyntax.dcm": "damaged",
    "JPEG-lossy.dcm": "damaged",
    "JPEG2000-embedded-sequence-delimiter.dcm": "damaged",
    "emri_small_jpeg_2k_lossless_too_short.dcm": "damaged",
    "liver_deflate.dcm": "cannot decode",
    "reportsi.dcm": "holds no image",
    "waveform_ecg.dcm": "holds no image",
    "ExplVR_BigEndNoMeta.dcm": "holds no image",
}


def test_every_shared_dicom_file_is_classified(shared_data):
    on_disk = {p.name for p in (shared_data / "dicom").glob("*.dcm")}
    assert on_disk == set(GOOD_FILES) | set(UNREADABLE_FILES)


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_good_shared_file_opens_with_its_shape(shared_data, name):
    height, width, dtype, photometric, frames = GOOD_FILES[name]
    radiograph = load_radiograph(shared_data / "dicom" / name)
    assert (radiograph.height, radiograph.width) == (height, width)
    assert radiograph.pixels.dtype == np.dtype(dtype)
    assert radiograph.pixels.dtype.isnative
    assert radiograph.photometric == photometric
    assert radiograph.frames == frames
    assert radiograph.format == "DICOM"
    assert radiograph.window.width > 0
    if photometric == "RGB":
        assert radiograph.pixels.shape == (height, width, 3)


@pytest.mark.parametrize("name", sorted(UNREADABLE_FILES))
def test_damaged_or_imageless_shared_file_says_why(shared_data, name, capfd):
    path = shared_data / "dicom" / name
    with pytest.raises(UnreadableImageError) as caught:
        load_radiograph(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(str(path))
    assert UNREADABLE_FILES[name] in caught.value.reason
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), "codecs must not print to the console"


@pytest.mark.parametrize("name", ["emri_small_RLE.dcm", "JPEG-LL.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm",
                                  "JPGExtended.dcm", "MR_small_jp2klossless.dcm", "JLSL_16_15_1_1F.dcm",
                                  "HTJ2KLossless_08_RGB.dcm", "examples_ybr_color.dcm", "image_dfl.dcm"])
def test_damaged_variants_of_shared_files_fail_cleanly(shared_data, tmp_path, name, capfd):
    """Truncated and byte-flipped copies either open or raise UnreadableImageError: no panic, no noise."""
    data = (shared_data / "dicom" / name).read_bytes()
    rng = np.random.default_rng(7)
    variants = [data[: int(len(data) * cut)] for cut in (0.5, 0.9, 0.99)]
    for _ in range(3):
        flipped = bytearray(data)
        for at in rng.integers(len(data) // 2, len(data), 8):
            flipped[at] ^= 0xFF
        variants.append(bytes(flipped))
    for number, variant in enumerate(variants):
        path = tmp_path / f"variant{number}.dcm"
        path.write_bytes(variant)
        try:
            load_radiograph(path)
        except UnreadableImageError as error:
            assert error.path == str(path)
    assert capfd.readouterr() == ("", "")


def test_jpeg_lossless_plugin_matches_gdcm(shared_data):
    """Our imagecodecs JPEG Lossless plugin gives GDCM's pixels (GDCM is only the reference here)."""
    pytest.importorskip("gdcm")
    import pydicom
    from pydicom.pixels import pixel_array

    for name in ("JPEG-LL.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm", "bad_sequence.dcm"):
        path = shared_data / "dicom" / name
        reference = pixel_array(pydicom.dcmread(path), decoding_plugin="gdcm")
        np.testing.assert_array_equal(load_radiograph(path).pixels, reference, err_msg=name)


def test_transfer_syntaxes_decode_to_the_same_pixels(shared_data):
    """MR_small in six encodings (explicit, implicit, big-endian, RLE, JPEG 2000, JPEG-LS lossless) agrees."""
    folder = shared_data / "dicom"
    reference = load_radiograph(folder / "MR_small.dcm").pixels
    for name in ("MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm",
                 "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"):
        np.testing.assert_array_equal(load_radiograph(folder / name).pixels, reference, err_msg=name)


def test_twelve_bit_jpeg_extended_decodes_like_its_lossless_twin(shared_data):
    """JPGExtended (12-bit lossy, decoded by our imagecodecs plugin) stays close to the lossless JPEG-LL."""
    lossy = load_radiograph(shared_data / "dicom" / "JPGExtended.dcm").pixels.astype(float)
    lossless = load_radiograph(shared_data / "dicom" / "JPEG-LL.dcm").pixels.astype(float)
    assert lossy.max() > 200
    assert np.median(np.abs(lossy - lossless)) <= 1
    assert np.corrcoef(lossy.ravel(), lossless.ravel())[0, 1] > 0.98


def test_monochrome1_cr_is_inverted_and_zero_spacing_is_unknown(shared_data):
    radiograph = load_radiograph(shared_data / "dicom" / "RG1_J2KI.dcm")  # PixelSpacing 0\0
    assert radiograph.inverted
    assert radiograph.spacing_mm is None and radiograph.spacing_source == SPACING_UNKNOWN
    assert (radiograph.window.center, radiograph.window.width) == (15000, 30000)
    assert radiograph.patient_id == "9RG1"


def test_window_is_moved_into_stored_units_through_rescale(shared_data):
    """MR2_J2KR: Window 1000/2000 in rescaled units, RescaleSlope 3.774 -> about 265/530 stored units."""
    radiograph = load_radiograph(shared_data / "dicom" / "MR2_J2KR.dcm")
    assert radiograph.window.center == pytest.approx((1000 - 0.000061) / 3.774114)
    assert radiograph.window.width == pytest.approx(2000 / 3.774114)


def test_voi_lut_sequence_gives_the_window_it_spans(shared_data):
    radiograph = load_radiograph(shared_data / "dicom" / "vlut_04.dcm")  # linear LUT over inputs 0..255
    assert (radiograph.window.low, radiograph.window.high) == (0, 255)


def test_palette_colour_becomes_rgb(shared_data):
    radiograph = load_radiograph(shared_data / "dicom" / "examples_palette.dcm")
    assert radiograph.is_color and radiograph.photometric == "RGB"
    channels = radiograph.pixels.reshape(-1, 3)
    assert (channels[:, 0] != channels[:, 2]).any()


def test_multi_frame_opens_the_first_frame_and_others_on_request(shared_data):
    path = shared_data / "dicom" / "emri_small_RLE.dcm"
    first, third = load_radiograph(path), load_radiograph(path, frame=2)
    assert first.frames == 10
    assert not np.array_equal(first.pixels, third.pixels)
    with pytest.raises(UnreadableImageError, match="frame 11 does not exist"):
        load_radiograph(path, frame=10)


def test_intraoral_dx_with_imager_spacing_and_patient_id(tmp_path):
    pixels = gradient()
    path = write_dicom(tmp_path / "io.dcm", pixels, ImagerPixelSpacing=[0.0185, 0.019], PatientID=" P-007 ",
                       WindowCenter=2000, WindowWidth=1000, BitsStored=12, HighBit=11)
    radiograph = load_radiograph(path)
    np.testing.assert_array_equal(radiograph.pixels, pixels)
    assert radiograph.spacing_mm == (0.0185, 0.019)
    assert radiograph.spacing_source == SPACING_IMAGER == "ImagerPixelSpacing (measured at the detector)"
    assert radiograph.patient_id == "P-007"
    assert radiograph.bits == 12
    assert (radiograph.window.center, radiograph.window.width) == (2000, 1000)


@pytest.mark.parametrize("height", [48, 800])
def test_bits_above_bits_stored_are_ignored(tmp_path, height):
    pixels = gradient(height, 700, top=4000)
    path = write_dicom(tmp_path / "overlay_bits.dcm", pixels | 0xF000, BitsStored=12, HighBit=11)
    np.testing.assert_array_equal(load_radiograph(path).pixels, pixels)


def test_signed_values_are_sign_extended_from_bits_stored(tmp_path):
    values = np.array([[-2048, -1, 0, 2047]], np.int16)
    stored = (values.view(np.uint16) & 0x0FFF).view(np.int16)  # 12-bit two's complement, top bits clear
    path = write_dicom(tmp_path / "signed12.dcm", stored, BitsStored=12, HighBit=11)
    np.testing.assert_array_equal(load_radiograph(path).pixels, values)


def test_pixel_spacing_wins_over_imager_spacing(tmp_path):
    path = write_dicom(tmp_path / "dx.dcm", gradient(), Modality="DX", PixelSpacing=[0.1, 0.12],
                       ImagerPixelSpacing=[0.15, 0.15])
    radiograph = load_radiograph(path)
    assert (radiograph.spacing_mm, radiograph.spacing_source) == ((0.1, 0.12), SPACING_PIXEL_SPACING)


@pytest.mark.filterwarnings("ignore:Invalid value for VR DS")  # pydicom, while writing the 'nan' case
@pytest.mark.parametrize("bad", [[0, 0], [-0.1, 0.1], [10, 10], [0.0001, 0.0001], ["nan", "nan"], [0.1]])
def test_implausible_spacing_falls_back_then_counts_as_unknown(tmp_path, bad):
    path = write_dicom(tmp_path / "bad.dcm", gradient(), PixelSpacing=bad)
    assert load_radiograph(path).spacing_mm is None
    fallback = write_dicom(tmp_path / "fallback.dcm", gradient(), PixelSpacing=bad, ImagerPixelSpacing=[0.02, 0.02])
    assert load_radiograph(fallback).spacing_source == SPACING_IMAGER


def test_monochrome1_dental_file_without_window_gets_robust_percentiles(tmp_path):
    pixels = gradient(top=4000)
    pixels[0, 0] = 65535  # one dead pixel must not decide the window
    path = write_dicom(tmp_path / "m1.dcm", pixels, PhotometricInterpretation="MONOCHROME1")
    radiograph = load_radiograph(path)
    assert radiograph.inverted
    assert 0 <= radiograph.window.low and radiograph.window.high < 4100


def test_missing_or_bad_window_falls_back_to_percentiles(tmp_path):
    path = write_dicom(tmp_path / "w.dcm", gradient(), WindowCenter=100, WindowWidth=0)
    window = load_radiograph(path).window
    assert window.width > 1000


@pytest.mark.parametrize("height", [48, 800])  # small: pydicom's path; over 1 MB: read straight from disk
def test_bare_dataset_without_file_meta_or_suffix_opens(tmp_path, height):
    pixels = gradient(height, 700)
    path = write_dicom(tmp_path / "IMG0001", pixels, bare=True)
    assert path.read_bytes()[:2] == b"\x08\x00"  # starts with the dataset itself
    np.testing.assert_array_equal(load_radiograph(path).pixels, pixels)


def test_large_multi_frame_reads_each_frame_from_disk(tmp_path):
    frames = np.stack([gradient(600, 1000, dtype="int16", top=3000) - 1500 + 7 * i for i in range(3)])
    path = write_dicom(tmp_path / "frames.dcm", frames)
    for index in range(3):
        radiograph = load_radiograph(path, frame=index)
        np.testing.assert_array_equal(radiograph.pixels, frames[index])
        assert radiograph.pixels.flags.writeable and radiograph.frames == 3


def test_header_claiming_a_gigantic_image_is_refused_before_decoding(tmp_path):
    path = write_dicom(tmp_path / "bomb.dcm", gradient(2, 2), Rows=65535, Columns=65535)
    with pytest.raises(UnreadableImageError, match="megapixels"):
        load_radiograph(path)


@pytest.mark.parametrize("name, marker, size_at", [
    ("MR_small_jp2klossless.dcm", b"\xff\x4f\xff\x51", slice(8, 16)),  # J2K SIZ: Xsiz, Ysiz (4 bytes each)
    ("JPEG-LL.dcm", b"\xff\xc3", slice(5, 9)),  # JPEG SOF3: height, width (2 bytes each)
    ("MR_small_jpeg_ls_lossless.dcm", b"\xff\xf7", slice(5, 9)),  # JPEG-LS SOF55
])
def test_compressed_frame_claiming_a_huge_picture_is_refused_before_decoding(shared_data, tmp_path, name, marker,
                                                                              size_at):
    data = bytearray((shared_data / "dicom" / name).read_bytes())
    at = data.index(marker)
    field = size_at.stop - size_at.start
    data[at + size_at.start : at + size_at.stop] = (60000).to_bytes(field // 2, "big") * 2
    path = tmp_path / name
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableImageError, match="says it is 60000 x 60000 pixels"):
        load_radiograph(path)


def test_text_file_named_dcm_is_not_dicom(tmp_path):
    path = tmp_path / "notes.dcm"
    path.write_text("Patient called, reschedule the implant review to Friday.\n" * 20)
    with pytest.raises(UnreadableImageError, match="not a DICOM file"):
        load_radiograph(path)


@pytest.mark.parametrize("height", [48, 800])
def test_truncated_uncompressed_dicom_is_damaged(tmp_path, height):
    path = write_dicom(tmp_path / "whole.dcm", gradient(height, 700))
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(UnreadableImageError, match="damaged"):
        load_radiograph(cut)


def test_jpeg_ls_frame_cut_short_is_refused_before_decoding(tmp_path):
    """CharLS takes seconds to refuse a JPEG-LS frame cut short (issue 16): its missing end marker refuses it
    first (the time is in benchmarks/fuzz_formats.py). Bytes after the end marker are still accepted."""
    pixels = gradient(96, 128)
    ds = pydicom.dcmread(write_jpeg_ls_dicom(tmp_path / "whole.dcm", pixels))
    frame = get_frame(ds.PixelData, 0)
    ds.PixelData = encapsulate([frame + b"pad"])
    ds.save_as(tmp_path / "trailing.dcm")
    np.testing.assert_array_equal(load_radiograph(tmp_path / "trailing.dcm").pixels, pixels)
    for keep in (len(frame) // 2, len(frame) - 2):
        ds.PixelData = encapsulate([frame[:keep]])
        ds.save_as(tmp_path / "cut.dcm")
        with pytest.raises(UnreadableImageError, match="cut short"):
            load_radiograph(tmp_path / "cut.dcm")
