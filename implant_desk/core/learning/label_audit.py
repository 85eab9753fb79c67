"""Implant labels that show no implant: boxes with little metal along their middle, for a person to check (or to
leave out of training).

Real labels are noisy. On the shared panoramic crops most "Implant" boxes of some sources sit on root-filled
teeth, posts and crowns: a developer's look at every held-out box (``benchmarks/data``) found 76 implants among
320. A fixture is metal from its neck to its apex, so the middle third of its box is mostly at metal
brightness; a root-filled tooth shows there only the thin lines of its canals, and a crown lies at one end. The
share of metal in the middle third tells them apart: at ``METAL_SHARE_FLOOR`` (chosen on 78 training boxes
looked at by eye) it kept all 19 implants and 14 % of the rest, and on the held-out audit 97 % and 10 %.
The rule says nothing about a box's system, and a lab's own films (another exposure, a periapical) should be
checked by eye before its verdict is trusted: it flags, a person decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace

import numpy as np

from implant_desk.core.learning.dataset import Sample

METAL_SHARE_FLOOR = 0.3
# At or above it, an implant with little doubt: on the same 78 boxes, 12 of the 19 implants and 1 of the 59 others.
# Between the two a box may be either; training can leave it out altogether (ignored) rather than guess.
METAL_SHARE_SURE = 0.4
_METAL = 0.85  # of the image's 99th percentile: metal brightness, whatever the exposure
_MIDDLE = (1 / 3, 2 / 3)  # of the box's height (fixtures stand upright on these films)


@dataclass(frozen=True)
class DoubtedLabel:
    sample: Sample
    index: int  # the box's index in ``sample.annotation.boxes``
    metal_share: float

    def describe(self) -> str:
        box = self.sample.annotation.boxes[self.index]
        return (f"{self.sample.image_path.name}: box {self.index + 1} '{box.label}' at {box.xmin:.0f},{box.ymin:.0f}-"
                f"{box.xmax:.0f},{box.ymax:.0f}: {self.metal_share:.0%} metal in its middle third (a root-filled "
                "tooth, post or crown?)")


def metal_level(image: np.ndarray) -> float:
    """The grey level from which a pixel of the 8-bit ``image`` is metal, whatever the exposure."""
    return _METAL * float(np.percentile(image, 99))


def metal_share(image: np.ndarray, box: tuple[float, float, float, float], level: float | None = None) -> float:
    """The share of the middle third of ``box`` (x1, y1, x2, y2) at metal brightness on the 8-bit ``image``
    (``level``: its :func:`metal_level`, when several boxes of one image are checked)."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    top, bottom = (int(round(y1 + (y2 - y1) * f)) for f in _MIDDLE)
    middle = image[max(top, 0):max(bottom, top + 1), max(x1, 0):max(x2, x1 + 1)]
    if middle.size == 0:
        return 0.0
    return float((middle >= (metal_level(image) if level is None else level)).mean())


def low_metal(image: np.ndarray, boxes: Mapping[int, tuple[float, float, float, float]],
              floor: float = METAL_SHARE_FLOOR, level: float | None = None) -> dict[int, float]:
    """Of ``boxes`` (index -> x1, y1, x2, y2) on the 8-bit ``image``, those whose middle third holds less than
    ``floor`` metal, with their share."""
    level = metal_level(image) if level is None else level
    shares = {index: metal_share(image, box, level) for index, box in boxes.items()}
    return {index: share for index, share in shares.items() if share < floor}


def doubted_labels(samples: Sequence[Sample], floor: float = METAL_SHARE_FLOOR) -> list[DoubtedLabel]:
    """The implant boxes without a system (a named system: its annotator saw the implant) and not already
    difficult whose middle third holds less than ``floor`` metal."""
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.preprocess import grey8

    doubted = []
    for sample in samples:
        checked = {index: fixture.box for index, fixture in enumerate(sample.truth())
                   if not fixture.difficult and fixture.system is None}
        if checked:
            image = grey8(load_radiograph(sample.image_path))
            doubted += [DoubtedLabel(sample, index, share) for index, share in low_metal(image, checked, floor).items()]
    return doubted


def relabelled(samples: Sequence[Sample], dropped: Set[tuple[str, int]] = frozenset(),
               ignored: Set[tuple[str, int]] = frozenset()) -> list[Sample]:
    """``samples`` with boxes, named by (image file name, index in its annotation), removed (they become
    background) or marked difficult (neither implant nor background). Matching by file name changes the same
    labels loaded with another copy of the images too."""
    changed = []
    for sample in samples:
        name, boxes = sample.image_path.name, sample.annotation.boxes
        if not any((name, i) in dropped or (name, i) in ignored for i in range(len(boxes))):
            changed.append(sample)
            continue
        kept = [replace(box, difficult=True) if (name, i) in ignored else box
                for i, box in enumerate(boxes) if (name, i) not in dropped]
        changed.append(replace(sample, annotation=replace(sample.annotation, boxes=kept)))
    return changed


def keys(doubted: Sequence[DoubtedLabel]) -> set[tuple[str, int]]:
    """The (image file name, box index) of each doubted label, as :func:`relabelled` takes them."""
    return {(label.sample.image_path.name, label.index) for label in doubted}
