"""Generated radiographs: deterministic, and their truth agrees with their pixels and geometry."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from implant_desk.core.synthetic import generate_series, load_systems
from implant_desk.core.synthetic.fixture import HEX_HEIGHT_MM, FixturePlacement, render_fixture
from implant_desk.core.catalogue.systems import PART_NAMES

SYSTEMS = load_systems()


@pytest.fixture(scope="module")
def series():
    return list(generate_series(14, 11, SYSTEMS))


def _truth(images):
    return [json.dumps([f.to_json() for f in image.fixtures]) + image.patient_id for image in images]


def _fixture_mask(image, fixture) -> np.ndarray:
    full = np.zeros(image.pixels.shape, bool)
    x0, y0 = fixture.mask_origin
    h, w = fixture.mask.shape
    full[y0:y0 + h, x0:x0 + w] = fixture.mask
    return full


def _axis(fixture):
    (px, py), (ax, ay) = fixture.platform_px, fixture.apex_px
    length = math.hypot(ax - px, ay - py)
    return (px, py), ((ax - px) / length, (ay - py) / length), length


def test_same_seed_gives_the_same_images_and_truth(series):
    again = list(generate_series(4, 11, SYSTEMS))
    for first, second in zip(series[:4], again):
        assert first.pixels.dtype == np.uint16
        assert first.pixels.tobytes() == second.pixels.tobytes()
    assert _truth(series[:4]) == _truth(again)


def test_different_seeds_give_different_images(series):
    other = next(generate_series(1, 12, SYSTEMS))
    assert other.pixels.shape != series[0].pixels.shape or not np.array_equal(other.pixels, series[0].pixels)
    assert other.patient_id != series[0].patient_id


def test_images_are_periapical_sized_with_sensor_spacing(series):
    assert {image.height > image.width for image in series} == {True, False}
    for image in series:
        short, long = sorted(image.pixels.shape)
        assert 900 <= short <= 1100 and 1200 <= long <= 1400  # portrait or landscape sensors
        assert 0.02 <= image.spacing_mm <= 0.04
        assert 1 <= len(image.fixtures) <= 3
        assert image.pixels.min() < 20000 and image.pixels.max() > 60000  # uses the 16-bit range


def test_the_fixture_is_the_radiopaque_region_inside_its_box(series):
    for image in series:
        for fixture in image.fixtures:
            x1, y1, x2, y2 = fixture.box
            inside = image.pixels[y1:y2, x1:x2].astype(np.float64) / 65535
            mask = _fixture_mask(image, fixture)[y1:y2, x1:x2]
            assert mask.any(axis=0).all() and mask.any(axis=1).all(), "the box is tight around the fixture"
            metal, rest = inside[mask], inside[~mask]
            assert np.median(metal) > 0.9
            assert metal.mean() > rest.mean() + 0.3


def test_sizes_in_mm_agree_with_the_drawn_outline_and_the_spacing(series):
    by_name = {system.name: system for system in SYSTEMS}
    checked = 0
    for image in series:
        for fixture in image.fixtures:
            (px, py), (dx, dy), length_px = _axis(fixture)
            assert length_px * image.spacing_mm == pytest.approx(fixture.length_mm, rel=1e-9)
            assert math.degrees(math.atan2(dx, dy)) == pytest.approx(fixture.angle_deg, abs=1e-6)
            tilt = min(abs(fixture.angle_deg), 180 - abs(fixture.angle_deg))
            assert tilt <= 25.0 + 1e-9
            if fixture.truncated:
                continue
            rows, cols = np.nonzero(_fixture_mask(image, fixture))
            # pixel centres in edge coordinates, in the fixture's own frame
            along = (cols + 0.5 - px) * dx + (rows + 0.5 - py) * dy
            across = (cols + 0.5 - px) * dy - (rows + 0.5 - py) * dx
            pixel = image.spacing_mm
            # the length runs from the platform to the apex; an external hex stands on the platform
            hex_mm = HEX_HEIGHT_MM if by_name[fixture.system].connection == "external" else 0.0
            assert (along.max() - along.min() + 1) * pixel == pytest.approx(fixture.length_mm + hex_mm, abs=2 * pixel)
            assert (across.max() - across.min() + 1) * pixel == pytest.approx(fixture.diameter_mm, abs=2 * pixel)
            checked += 1
    assert checked >= 10


def test_part_boxes_lie_in_the_fixture_box_and_stack_along_the_axis(series):
    by_name = {system.name: system for system in SYSTEMS}
    for image in series:
        for fixture in image.fixtures:
            x1, y1, x2, y2 = fixture.box
            (px, py), (dx, dy), _ = _axis(fixture)
            positions = []
            for part in fixture.parts:
                a1, b1, a2, b2 = part.box
                assert x1 <= a1 < a2 <= x2 and y1 <= b1 < b2 <= y2
                assert part.label == by_name[fixture.system].part_label(part.name)
                positions.append(((a1 + a2) / 2 - px) * dx + ((b1 + b2) / 2 - py) * dy)
            names = [part.name for part in fixture.parts]
            assert names == [n for n in PART_NAMES if n in names]
            assert positions == sorted(positions), "coronal, middle, apical from platform to apex"
            if not fixture.truncated:
                assert names == list(PART_NAMES)


def test_a_patient_keeps_its_fixtures_across_its_images(series):
    by_patient: dict[str, list] = {}
    for image in series:
        by_patient.setdefault(image.patient_id, []).append(image)
    assert len(by_patient) >= 3
    assert sum(len(images) >= 2 for images in by_patient.values()) >= len(by_patient) - 1
    for images in by_patient.values():
        assert len({image.spacing_mm for image in images}) == 1
        assert len({tuple(sorted((f.system, f.length_mm, f.diameter_mm) for f in image.fixtures))
                    for image in images}) == 1


def test_a_fixture_cut_by_the_image_edge_is_clipped_and_marked_truncated():
    fluence = np.ones((400, 300), np.float32)
    placement = FixturePlacement(SYSTEMS[0], 4.0, 10.0, (10.0, 50.0), 0.0, "crown", 5.0, 1)
    rendered = render_fixture(fluence, placement, 0.03)
    assert rendered.truncated
    assert rendered.box[0] == 0 and rendered.box[2] == pytest.approx(10 + 2.0 / 0.03, abs=2)
    inside = render_fixture(np.ones((600, 300), np.float32),
                            FixturePlacement(SYSTEMS[0], 4.0, 10.0, (150.0, 150.0), 0.0, "crown", 5.0, 1), 0.03)
    assert not inside.truncated
    assert inside.box[1] == 150 and inside.box[3] == pytest.approx(150 + 10.0 / 0.03, abs=1)


def test_systems_differ_in_their_drawn_outline():
    """Same size and place, different design: the silhouettes must differ (threads, taper, apex, collar)."""
    masks = []
    for system in SYSTEMS:
        fluence = np.ones((500, 200), np.float32)
        masks.append(render_fixture(fluence, FixturePlacement(system, 4.0, 10.0, (100.0, 60.0), 0.0,
                                                                  "cover-screw", 0.4, 1), 0.025).mask)
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            a, b = masks[i], masks[j]
            h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
            differing = np.logical_xor(a[:h, :w], b[:h, :w]).sum() / a[:h, :w].sum()
            assert differing > 0.05


def test_the_sensor_shows_dense_as_bright_and_is_noisier_with_fewer_photons():
    from dataclasses import replace

    from implant_desk.core.synthetic.sensor import Exposure, motion_blur, read_out

    exposure = Exposure(photons=4000, read_noise=4, gradient=(0, 0), vignette=0, cone=None, blur_px=1, motion=None,
                        low=0.1, high=2.5, gamma=1.0)
    density = np.repeat(np.linspace(0.2, 2.0, 5, dtype=np.float32), 2000).reshape(5, 2000)
    rng = np.random.default_rng(0)
    shown = read_out(np.exp(-density), exposure, rng).astype(np.float64)
    means = shown.mean(axis=1)
    assert np.all(np.diff(means) > 0), "denser rows must be brighter (MONOCHROME2)"
    expected = (density[:, 0] - 0.1) / 2.4 * 65535
    assert means == pytest.approx(expected, rel=0.02)
    dim = read_out(np.exp(-density), replace(exposure, photons=400), rng).astype(np.float64)
    assert dim.std(axis=1)[2] > 2 * shown.std(axis=1)[2], "fewer photons, more quantum noise"

    fluence = np.ones((50, 50), np.float32)
    fluence[:, 25:] = 0.2
    blurred = motion_blur(fluence, 9, 0.0)
    assert blurred.mean() == pytest.approx(fluence.mean(), rel=0.01)
    assert 0.2 < blurred[25, 25] < 1.0 and blurred[25, 5] == pytest.approx(1.0)
