"""A predicted fixture in words, the same in the Identify panel and in the folder report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from implant_desk.core.wording import counted

if TYPE_CHECKING:  # the predictor module imports torch
    from implant_desk.core.catalogue.ranking import Candidate
    from implant_desk.core.models.predictor import FixturePrediction

# Attribute names in words where the name alone is unclear (``coronal`` is the bone or tissue level of that third).
ATTRIBUTE_TITLES = {"coronal": "level", "apical_hole": "apical hole", "apical_groove": "groove"}
CATALOGUE_ONLY = "catalogue only"


def fixture_title(fixture: FixturePrediction) -> str:
    """"System 87%", "uncertain (best: System 41%)" or "implant (system not identified)"."""
    if not fixture.nameable:
        return "implant (system not identified)"
    if not fixture.candidates:
        return "fixture"
    system, p = fixture.candidates[0]
    return f"uncertain (best: {system} {p:.0%})" if fixture.uncertain else f"{system} {p:.0%}"


def size_text(fixture: FixturePrediction, spacing_known: bool) -> str:
    """Length and diameter in mm; an image without pixel spacing has no size to give."""
    if not spacing_known:
        return "size: spacing unknown"
    if fixture.length_mm is None or fixture.diameter_mm is None:
        return "size: outline not found"
    return f"length {fixture.length_mm:.1f} mm, diameter {fixture.diameter_mm:.1f} mm"


def candidate_text(fixture: FixturePrediction, system: str, probability: float) -> str:
    """"System 41%", marked when the model knows the system from the catalogue only (never trained on it)."""
    marked = f" ({CATALOGUE_ONLY})" if fixture.known_from_catalogue(system) else ""
    return f"{system} {probability:.0%}{marked}"


def attribute_title(name: str) -> str:
    return ATTRIBUTE_TITLES.get(name, name.replace("_", " "))


def agreement_text(candidate: Candidate) -> str:
    """What the design read says of the candidate, in one short line: the attributes that differ from its catalogue
    design (what to look at first) and how many agree, e.g. "differs: apical hole (read oval, catalogue none);
    agrees on the other 8" (``agreeing_text`` names them)."""
    agree = len(candidate.agree)
    if not candidate.disagree:
        return f"agrees on {'all ' if agree > 1 else ''}{counted(agree, 'attribute')} read" if agree else ""
    differs = ", ".join(f"{attribute_title(check.attribute)} ({'set' if check.set_by_user else 'read'} {check.read}, "
                        f"catalogue {check.system_value})" for check in candidate.disagree)
    return f"differs: {differs}" + (f"; agrees on the other {agree}" if agree else "")


def agreeing_text(candidate: Candidate) -> str:
    """"agrees: level, body, thread", or "" when no attribute read agrees with the candidate's design."""
    return "agrees: " + ", ".join(attribute_title(check.attribute) for check in candidate.agree) if candidate.agree else ""
