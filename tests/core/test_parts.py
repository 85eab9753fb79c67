"""Design parts (coronal, middle, apical thirds) grouped into fixtures, and fixture boxes inferred from them:
hand-made geometry (tilted, close together, apex up or down) and the generator's exact truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from implant_desk.core.catalogue import PART_NAMES
from implant_desk.core.learning.metrics import box_iou
from implant_desk.core.models.parts import AssembledFixture, PartDetection, assemble_fixtures
from implant_desk.core.synthetic import generate_series, load_systems


def thirds(platform: tuple[float, float], angle_deg: float, length: float = 300.0,
           diameter: float = 120.0, score: float = 0.9) -> list[PartDetection]:
    """The three parts of a cylindrical fixture from its platform along ``angle_deg`` (0: apex straight down,
    180: straight up; image y grows downwards)."""
    angle = math.radians(angle_deg)
    along, across = np.array([math.sin(angle), math.cos(angle)]), np.array([math.cos(angle), -math.sin(angle)])
    parts = []
    for k, name in enumerate(PART_NAMES):
        corners = np.array([np.asarray(platform) + v * along + u * across
                            for v in (k * length / 3, (k + 1) * length / 3) for u in (-diameter / 2, diameter / 2)])
        parts.append(PartDetection(name, (*corners.min(axis=0), *corners.max(axis=0)), score))
    return parts


def union(parts: list[PartDetection]) -> tuple[float, float, float, float]:
    boxes = np.array([p.box for p in parts])
    return (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))


def iou(a, b) -> float:
    return float(box_iou(np.array([a]), np.array([b]))[0, 0])


def fixture_of(assembled: list[AssembledFixture], part: PartDetection) -> AssembledFixture:
    return next(fixture for fixture in assembled if part in fixture.parts)


def test_parts_go_to_the_fixture_they_lie_in_and_a_strong_detection_keeps_its_box():
    left, right = thirds((200, 100), 10), thirds((380, 100), -10)
    detections = [(union(right), 0.95), (union(left), 0.8)]
    assembled = assemble_fixtures(detections, left + right)
    assert [(f.detection, f.parts, f.inferred, f.score) for f in assembled] == [
        (0, tuple(right), False, 0.95), (1, tuple(left), False, 0.9)]  # 0.9: three parts at 0.9 outweigh 0.8
    assert assembled[0].box == pytest.approx(union(right))
    # a detection with no part is kept as it is
    alone = assemble_fixtures([((0, 0, 50, 150), 0.7)], [])
    assert alone == [AssembledFixture((0.0, 0.0, 50.0, 150.0), 0.7, (), False, 0)]


@pytest.mark.parametrize("tilt", [0.0, 12.0, 22.0])
def test_close_tilted_neighbours_of_both_jaws_are_chained_into_their_own_fixtures(tilt):
    # a panoramic: two rows of fixtures whose platforms are 30 px apart (their boxes overlap when tilted),
    # maxillary ones with the apex up, mandibular ones with the apex down; the order of the parts is mixed
    rng = np.random.default_rng(int(tilt))
    fixtures = [thirds((150 + 150 * i, 560), tilt + rng.uniform(-3, 3)) for i in range(6)]
    fixtures += [thirds((150 + 150 * i, 440), 180 - tilt + rng.uniform(-3, 3)) for i in range(6)]
    parts = [part for fixture in fixtures for part in fixture]
    assembled = assemble_fixtures([], [parts[i] for i in rng.permutation(len(parts))])
    assert len(assembled) == len(fixtures)
    for fixture in fixtures:
        found = fixture_of(assembled, fixture[0])
        assert found.parts == tuple(fixture) and found.inferred and found.detection is None
        assert iou(found.box, union(fixture)) > 0.99


@pytest.mark.parametrize("angle", [0.0, 20.0, -25.0, 180.0, 160.0])
@pytest.mark.parametrize("missing", PART_NAMES)
def test_a_missing_third_is_inferred_along_the_axis(angle, missing):
    fixture = thirds((400, 300), angle)
    found = [part for part in fixture if part.name != missing]
    (assembled,) = assemble_fixtures([], found)
    assert assembled.inferred and assembled.parts == tuple(found)
    assert iou(assembled.box, union(fixture)) > 0.97
    assert assembled.score == pytest.approx(2 * 0.9 / 3)


def test_a_weak_detection_is_replaced_by_the_box_its_parts_give():
    fixture = thirds((300, 200), 15)
    truth = union(fixture)
    shifted = (truth[0] + 20, truth[1] - 40, truth[2] + 20, truth[3] - 40)  # a poor box, still holding the parts
    (weak,) = assemble_fixtures([(shifted, 0.3)], fixture[:2], weak_below=0.5)
    assert weak.inferred and weak.detection == 0 and iou(weak.box, truth) > 0.97 and weak.score == pytest.approx(0.6)
    (strong,) = assemble_fixtures([(shifted, 0.7)], fixture[:2], weak_below=0.5)
    assert not strong.inferred and strong.box == pytest.approx(shifted)
    # one third does not place a fixture better than a weak detection
    (one,) = assemble_fixtures([(shifted, 0.3)], fixture[1:2])
    assert not one.inferred and one.box == pytest.approx(shifted) and one.score == pytest.approx(0.3)


def test_a_third_the_detection_box_cut_off_joins_its_fixture():
    fixture = thirds((300, 200), 0)
    coronal_and_middle = union(fixture[:2])
    (assembled,) = assemble_fixtures([(coronal_and_middle, 0.4)], fixture)
    assert assembled.parts == tuple(fixture) and assembled.detection == 0
    assert assembled.inferred and iou(assembled.box, union(fixture)) > 0.99


def test_a_fixture_detected_twice_in_pieces_becomes_one():
    fixture = thirds((300, 200), 10)
    pieces = [(union(fixture[2:]), 0.6), (union(fixture[:2]), 0.8)]
    (assembled,) = assemble_fixtures(pieces, fixture)
    assert assembled.parts == tuple(fixture) and assembled.detection == 1 and assembled.score == 0.9
    assert not assembled.inferred and iou(assembled.box, union(fixture)) > 0.99


def test_a_chain_does_not_turn_to_a_neighbours_part():
    # the apical of one fixture and the coronal and middle of its neighbour were missed: the remaining apical
    # touches the first fixture's middle at a corner, where that fixture's own apical should be
    first, neighbour = thirds((200, 100), 0), thirds((340, 100), 0)
    assembled = assemble_fixtures([], first[:2] + neighbour[2:])
    assert len(assembled) == 2
    assert fixture_of(assembled, first[0]).parts == tuple(first[:2])
    assert iou(fixture_of(assembled, first[0]).box, union(first)) > 0.99
    assert iou(fixture_of(assembled, neighbour[2]).box, union(neighbour)) > 0.99


def test_a_lone_part_takes_the_axis_of_the_nearest_fixture():
    for jaw_angle in (10.0, 190.0):  # apex down, apex up
        whole, neighbour = thirds((200, 400), jaw_angle), thirds((360, 400), jaw_angle + 4)
        for kept in neighbour:
            assembled = assemble_fixtures([], whole + [kept])
            lone = fixture_of(assembled, kept)
            assert lone.parts == (kept,) and lone.inferred
            assert iou(lone.box, union(neighbour)) > 0.8, (jaw_angle, kept.name)
            assert lone.score == pytest.approx(0.3)
    # with nothing to take an axis from, the part's own box is all that is known
    part = thirds((200, 400), 0)[0]
    assert assemble_fixtures([], [part])[0].box == pytest.approx(part.box)


def test_an_inferred_box_stays_inside_the_image():
    fixture = thirds((300, 500), 0, length=300)  # the apical third would reach y = 800
    (assembled,) = assemble_fixtures([], fixture[:2], image_size=(640, 720))
    assert assembled.box[3] == 720.0
    assert iou(assembled.box, (*union(fixture)[:3], 720.0)) > 0.99


def test_bad_boxes_and_part_names_are_refused_in_words():
    with pytest.raises(ValueError, match="a part is named 'crown'"):
        assemble_fixtures([], [PartDetection("crown", (0, 0, 10, 10), 0.9)])
    with pytest.raises(ValueError, match="is not a box"):
        assemble_fixtures([((10, 10, 5, 20), 0.9)], [])
    with pytest.raises(ValueError, match="is not a box"):
        assemble_fixtures([], [PartDetection("middle", (0, 0, float("nan"), 10), 0.9)])


@pytest.fixture(scope="module")
def generated():
    return list(generate_series(24, 7, load_systems()))


def test_the_generators_true_parts_group_back_into_its_fixtures(generated):
    count = 0
    for image in generated:
        parts = [PartDetection(p.name, p.box, 1.0) for fixture in image.fixtures for p in fixture.parts]
        assembled = assemble_fixtures([], parts, image_size=(image.width, image.height))
        assert len(assembled) == len(image.fixtures)
        for fixture in image.fixtures:
            found = fixture_of(assembled, PartDetection(fixture.parts[0].name, fixture.parts[0].box, 1.0))
            assert [p.box for p in found.parts] == [p.box for p in fixture.parts]
            assert iou(found.box, fixture.box) >= 0.9
            count += 1
        # with the true fixture boxes as detections, every part goes to its own fixture
        assembled = assemble_fixtures([(f.box, 0.9) for f in image.fixtures], parts)
        assert sorted((f.detection, [p.box for p in f.parts]) for f in assembled) == [
            (i, [p.box for p in fixture.parts]) for i, fixture in enumerate(image.fixtures)]
    assert count >= 24


def test_with_one_part_dropped_per_fixture_most_inferred_boxes_still_fit_the_true_fixture(generated):
    # measured: 135 of 135 fixture-and-dropped-third cases reach IoU 0.7 here (the least 0.80), 918 of 918 on
    # 200 images of seed 3 (the least 0.78; a dropped apical costs most: a tapered apex is narrower than the middle)
    ious = []
    for image in generated:
        for dropped in PART_NAMES:
            parts = [PartDetection(p.name, p.box, 1.0) for fixture in image.fixtures for p in fixture.parts
                     if p.name != dropped]
            assembled = assemble_fixtures([], parts, image_size=(image.width, image.height))
            boxes = np.array([fixture.box for fixture in assembled])
            ious += box_iou(np.array([fixture.box for fixture in image.fixtures]), boxes).max(axis=1).tolist()
    assert np.mean(np.array(ious) >= 0.7) >= 0.95
