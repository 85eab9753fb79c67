"""A fixture's design as the Identify panel shows it (issue 12), without Qt widgets.

For a model that reads the design: each attribute by zone with the value in force and the model's confidence,
the top candidates with where the model knows them from and which attributes agree with their catalogue design,
the parts' colours on the canvas, and the labelled part boxes that Accept writes. A model that names its systems
only has no design: its candidates show as before, with nothing else.

A value the user set wins over the one read (``FixturePrediction.with_attribute`` ranked the design again with it),
and it is what Accept writes in the part labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from implant_desk.core.annotations.model import Box
from implant_desk.core.catalogue.systems import PART_NAMES, design_part_label, zone_of
from implant_desk.core.reports.fixture_text import (
    agreeing_text, agreement_text, attribute_title, candidate_text,
)

if TYPE_CHECKING:
    from implant_desk.core.models.predictor import FixturePrediction

# One colour per third, on the canvas and beside the zone's attributes in the panel; none is a fixture colour.
ZONE_COLORS = {"coronal": "#ff6e9c", "middle": "#b388ff", "apical": "#4dd0e1"}
CATALOGUE_TIP = ("Known from the catalogue only: the model was never trained on images of this system; it is ranked "
                 "by the design read, against the system's design in the catalogue.")


@dataclass(frozen=True)
class AttributeView:
    attribute: str
    title: str
    values: tuple[tuple[str, float], ...]  # each value of the attribute with the probability the model read
    value: str  # in force: the user's, else the most probable read
    probability: float  # the model's probability of ``value``
    set_by_user: bool


@dataclass(frozen=True)
class ZoneView:
    zone: str  # one of PART_NAMES
    color: str
    attributes: tuple[AttributeView, ...]


@dataclass(frozen=True)
class CandidateView:
    system: str
    probability: float
    from_catalogue: bool  # the model never trained on it: ranked by its design alone
    agreement: str  # what differs from its catalogue design, how many agree ("" for a model that reads none)
    agreeing: str  # which attributes agree
    text: str  # "System 41%", marked when known from the catalogue only (as predict prints it)


def design_views(fixture: FixturePrediction) -> tuple[ZoneView, ...]:
    """The attributes read, grouped by zone (coronal first); () for a model that reads no design."""
    if fixture.ranking is None:
        return ()
    values = design_values(fixture)
    set_by_user = fixture.ranking.readings.set_by_user
    zones = []
    for zone in PART_NAMES:
        attributes = tuple(
            AttributeView(name, attribute_title(name), tuple(read.items()), values[name], read.get(values[name], 0.0),
                          name in set_by_user)
            for name, read in fixture.attributes.items() if zone_of(name) == zone)
        if attributes:
            zones.append(ZoneView(zone, ZONE_COLORS[zone], attributes))
    return tuple(zones)


def candidate_views(fixture: FixturePrediction) -> tuple[CandidateView, ...]:
    """The top candidates; none where the model may not name a system on this film (``nameable``)."""
    if not fixture.nameable:
        return ()
    if fixture.ranking is None:
        return tuple(CandidateView(system, p, False, "", "", candidate_text(fixture, system, p))
                     for system, p in fixture.candidates)
    return tuple(CandidateView(candidate.system.name, candidate.probability,
                               fixture.known_from_catalogue(candidate.system.name),
                               agreement_text(candidate), agreeing_text(candidate),
                               candidate_text(fixture, candidate.system.name, candidate.probability))
                 for candidate in fixture.ranking.candidates[:len(fixture.candidates)])


def design_values(fixture: FixturePrediction) -> dict[str, str]:
    """Each attribute read and its value in force: the user's, else the most probable read."""
    if fixture.ranking is None:
        return {}
    readings = fixture.ranking.readings
    return {name: readings.most_probable(name)[0] for name in readings.probabilities}


def part_boxes(fixture: FixturePrediction) -> list[Box]:
    """Its parts as annotation boxes, labelled with the design in force (``design_part_label``); a third whose
    attributes the model does not all read is labelled with the zone's name alone (still a part to learn from)."""
    design = design_values(fixture)
    boxes = []
    for part in fixture.parts:
        try:
            label = design_part_label(part.name, design)
        except KeyError:
            label = part.name
        boxes.append(Box(label, *part.box))
    return boxes
