"""Small folders and a scripted predictor for the review tests (no model, no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from implant_desk.core.annotations.proposals import ImageProposals, Proposal
from implant_desk.core.models.predictor import IMPLANT_LABEL


@dataclass(frozen=True)
class Found:
    """What ``Predictor.identify`` returns per fixture, as far as pre-annotation reads it."""

    box: tuple[float, float, float, float]
    score: float
    candidates: tuple[tuple[str, float], ...] = ()
    nameable: bool = True

    @property
    def system(self) -> str | None:
        return self.candidates[0][0] if self.candidates and self.candidates[0][1] >= 0.5 else None

    @property
    def label(self) -> str:
        return self.system or IMPLANT_LABEL


@dataclass
class Spec:
    min_fixture_score: float = 0.3


@dataclass
class ScriptedPredictor:
    """Returns ``found`` on every image and ``mirrored`` (boxes on the flipped image) on its mirror."""

    found: list[Found]
    mirrored: list[Found] | None = None
    name: str = "7"
    spec: Spec = field(default_factory=Spec)
    calls: int = 0

    def identify(self, image, threshold=0.5, *, generated_film=True, min_score=None):
        self.calls += 1
        flipped = self.calls % 2 == 0
        floor = self.spec.min_fixture_score if min_score is None else min_score
        result = self.mirrored if flipped and self.mirrored is not None else (
            [mirror(f, image.shape[1]) for f in self.found] if flipped else self.found)
        return [f for f in result if f.score >= floor]


def mirror(found: Found, width: int) -> Found:
    x1, y1, x2, y2 = found.box
    return Found((width - x2, y1, width - x1, y2), found.score, found.candidates, found.nameable)


def write_images(folder: Path, *names: str, size: tuple[int, int] = (80, 120)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, name in enumerate(names):
        pixels = np.full(size, 40 + 10 * number, np.uint8)
        cv2.imwrite(str(folder / name), pixels)
        paths.append(folder / name)
    return paths


def two_proposals(name: str = "a.png", model: str = "7", uncertainty: float = 0.4) -> ImageProposals:
    return ImageProposals(name, (
        Proposal((10, 10, 30, 60), "A", (("A", 0.8), ("B", 0.15)), 0.9, model),
        Proposal((40, 10, 60, 60), "implant", (("B", 0.4), ("A", 0.35)), 0.5, model),
    ), model, uncertainty)
