"""Which label is which: an implant system, an implant whose system the data does not say, a design part, or
another finding.

A lab's boxes mix all four. The fixture detector learns from every implant (named or not); the classifier
learns only from named systems; design parts and other findings (fillings, caries, teeth) are never counted as
implants, and their images stay in the data as examples of what is not one. Names are compared without case,
spaces, hyphens or underscores, so "Dental implant", "dental_implant" and "IMPLANT" are one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SYSTEM, IMPLANT, PART, OTHER = "system", "implant", "part", "other"
# What labels that mean "an implant, system not given" are commonly called (Roboflow, CVAT and lab exports).
IMPLANT_NAMES = ("implant", "implants", "dental implant", "fixture", "fixtures", "implant fixture")
DESIGN_PARTS = ("coronal", "middle", "apical")  # the implant-design study's thirds (label "coronal:..." etc.)
# Findings a dental data set labels besides implants; a label outside every list is taken for a system name.
OTHER_FINDINGS = (
    "filling", "fillings", "restoration", "restorations", "crown", "crowns", "bridge", "bridges",
    "cavity", "cavities", "caries", "decay", "impacted tooth", "impacted teeth", "tooth", "teeth",
    "root canal", "root canal treatment", "root filling", "periapical lesion", "bone loss", "calculus",
    "missing tooth", "abutment", "post", "orthodontic bracket",
)


def _key(label: str) -> str:
    return re.sub(r"[\s_\-]+", " ", label.strip().lower())


@dataclass(frozen=True)
class LabelRoles:
    """``implant_labels``: the labels that mean an implant without a system, when the common names do not
    cover a lab's (``train --implant-labels``)."""

    implant_labels: frozenset[str] = frozenset()

    @classmethod
    def with_implant_labels(cls, labels: Iterable[str] | None) -> "LabelRoles":
        return cls(frozenset(_key(label) for label in labels or ()))

    def role(self, label: str) -> str:
        key = _key(label)
        if key in self.implant_labels or key in IMPLANT_NAMES:
            return IMPLANT
        if key.split(":", 1)[0] in DESIGN_PARTS:
            return PART
        if key in OTHER_FINDINGS:
            return OTHER
        return SYSTEM
