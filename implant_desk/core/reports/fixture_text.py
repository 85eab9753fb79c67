"""A predicted fixture in words, the same in the Identify panel and in the folder report."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the predictor module imports torch
    from implant_desk.core.models.predictor import FixturePrediction


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
