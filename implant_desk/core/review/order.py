"""Which image to review next (MONAI Label's strategies): the most uncertain first, random, or file order.

The queue holds the images a person has not finished: pre-annotated ones not verified yet, and ones with no
annotation at all. Hand-made annotations and verified images are done. Under "uncertainty" the pre-annotated
images come first, most uncertain first (their uncertainty is in their proposals file); images never
pre-annotated follow in file order, as nothing is known about them yet.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from implant_desk.core.annotations.folder import NOT_ANNOTATED, PROPOSED

UNCERTAINTY, RANDOM, FILE_ORDER = "uncertainty", "random", "file"
ORDERS = (UNCERTAINTY, RANDOM, FILE_ORDER)


@dataclass(frozen=True)
class Candidate:
    path: Path
    uncertainty: float | None = None  # None: never pre-annotated


class Listed(Protocol):
    """A listed image: ``FileEntry`` of the scan, or the window's file list item."""

    path: Path
    status: str
    uncertainty: float | None


def to_review(entries: Sequence[Listed]) -> list[Candidate]:
    """The images still to review, in file order."""
    return [Candidate(e.path, e.uncertainty) for e in entries if e.status in (PROPOSED, NOT_ANNOTATED)]


def review_order(candidates: Sequence[Candidate], order: str = UNCERTAINTY, seed: int = 0) -> list[Path]:
    """The candidates' paths in the order to review them. ``seed`` fixes the random order."""
    if order not in ORDERS:
        raise ValueError(f"unknown review order {order!r}; expected one of {', '.join(ORDERS)}")
    if order == FILE_ORDER:
        return [c.path for c in candidates]
    if order == RANDOM:
        shuffled = list(candidates)
        random.Random(seed).shuffle(shuffled)
        return [c.path for c in shuffled]
    known = sorted((c for c in candidates if c.uncertainty is not None), key=lambda c: -c.uncertainty)
    return [c.path for c in known] + [c.path for c in candidates if c.uncertainty is None]
