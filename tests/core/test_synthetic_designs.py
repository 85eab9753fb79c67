"""Every design in the catalogue is drawn visibly: each value of each attribute changes the pixels of its own third,
and any two catalogue systems differ on a film where their attributes differ."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from implant_desk.core.catalogue.systems import ATTRIBUTES, PART_NAMES, ImplantSystem, load_systems, pitch_class
from implant_desk.core.synthetic.fixture import HEX_HEIGHT_MM, FixturePlacement, render_fixture

SPACING_MM = 0.03
SYSTEMS = load_systems()
# A value of each attribute, as the fields of a system (pitch: a pitch in mm of that class).
SETTINGS = {
    "coronal": lambda value: {"coronal": value},
    "microthreads": lambda value: {"microthreads": value == "yes"},
    "connection": lambda value: {"connection": value},
    "body": lambda value: {"body": value},
    "thread": lambda value: {"thread": value},
    "pitch": lambda value: {"pitch_mm": {"fine": 0.7, "regular": 0.9, "coarse": 1.25}[value]},
    "apex": lambda value: {"apex": value},
    "apical_hole": lambda value: {"apical_hole": value},
    "apical_groove": lambda value: {"apical_groove": value == "yes"},
}
VISIBLE = 0.02  # at least this share of a third's pixels changes by 0.1 in density (log of the attenuation)


def _film(system: ImplantSystem) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """The fixture's density (no noise, no bone), 4 x 11 mm, upright, under a cover screw; and its part boxes."""
    fluence = np.ones((520, 220), np.float32)
    placement = FixturePlacement(system, 4.0, 11.0, (110.0, 100.0), 0.0, "cover-screw", 0.4, 1)
    rendered = render_fixture(fluence, placement, SPACING_MM)
    return -np.log(fluence), {name: box for name, box, _ in rendered.parts}


def _changed_share(first, second, part: str) -> float:
    (a, a_parts), (b, b_parts) = first, second
    x1, y1 = np.minimum(a_parts[part][:2], b_parts[part][:2])
    x2, y2 = np.maximum(a_parts[part][2:], b_parts[part][2:])
    return float((np.abs(a[y1:y2, x1:x2] - b[y1:y2, x1:x2]) > 0.1).mean())


@pytest.mark.parametrize("attribute", list(ATTRIBUTES))
def test_each_value_of_an_attribute_is_drawn_differently_in_its_third(attribute):
    zone, values = ATTRIBUTES[attribute]
    base = next(s for s in SYSTEMS if s.coronal == "bone-level" and not s.microthreads)  # every value fits it
    films = {value: _film(replace(base, **SETTINGS[attribute](value))) for value in values}
    for value in values:
        assert replace(base, **SETTINGS[attribute](value)).attributes()[attribute] == value
    for first, second in itertools.combinations(values, 2):
        assert _changed_share(films[first], films[second], zone) >= VISIBLE, (attribute, first, second)


def test_the_pitch_classes_follow_the_pitch():
    assert [pitch_class(mm) for mm in (0.6, 0.79, 0.8, 1.1, 1.15, 1.5)] == [
        "fine", "fine", "regular", "regular", "coarse", "coarse"]


def test_an_external_hex_stands_on_the_platform_as_part_of_the_coronal_third():
    internal = next(s for s in SYSTEMS if s.connection == "internal" and s.coronal == "bone-level")
    external = replace(internal, connection="external")
    (_, inside), (_, outside) = _film(internal), _film(external)
    hex_px = round(HEX_HEIGHT_MM / SPACING_MM)
    assert outside["coronal"][1] == pytest.approx(inside["coronal"][1] - hex_px, abs=1)
    assert outside["middle"] == inside["middle"] and outside["apical"] == inside["apical"]
    narrower = (outside["coronal"][2] - outside["coronal"][0]) >= (inside["coronal"][2] - inside["coronal"][0]) - 1
    assert narrower  # the boss is narrower than the platform: the box keeps the fixture's width


def test_catalogue_systems_that_differ_in_an_attribute_differ_in_its_third():
    films = {system.name: _film(system) for system in SYSTEMS}
    for first, second in itertools.combinations(SYSTEMS, 2):
        a, b = first.attributes(), second.attributes()
        for part in PART_NAMES:
            if any(a[name] != b[name] for name, (zone, _) in ATTRIBUTES.items() if zone == part):
                share = _changed_share(films[first.name], films[second.name], part)
                assert share >= VISIBLE, (first.name, second.name, part)
