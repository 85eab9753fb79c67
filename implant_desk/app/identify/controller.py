"""What the Identify panel shows and does, without Qt widgets: testable with plain objects.

Policy (issue 5):
- Every image change bumps a generation counter; a result carries the generation it was requested for and is
  dropped when that is no longer the current one, so a slow prediction never paints onto the next image.
- The threshold only decides which fixtures have a claimed system: moving it re-applies
  ``FixturePrediction.with_threshold`` to the fixtures already computed; the model is not run again.
- Another model becoming active ("Use this model" after fine-tuning) counts as a change of image: a result in
  flight or on screen is the old model's, so it is dropped the same way, and identification runs again.
- "Accept" adds the fixtures whose system is claimed (not the uncertain ones: nothing is claimed under the
  threshold, and a box labelled with a guess would end up in a training set), labelled with that system, and the
  implants found on a real film whose system this model cannot name, labelled ``implant``, in ONE undoable step.
  For a model that reads the design, the parts it found go with their fixture, labelled with the design in force
  (``design.part_boxes``). A box that is already in the document (same label, overlapping by IoU >= 0.5) is not
  added twice.
- The user may set an attribute of a fixture's design (issue 12: the dentist often sees the apex better than the
  model): its systems are ranked again at once, the attribute shows as set by the user until reset. Corrections
  belong to the result on screen: another image, another model or another identification drops them.
- A heat map explains one system. When a correction puts another candidate first, the fixture's map is taken
  down and the worker asked for that candidate's (``explain_request``); maps already computed for this result are
  kept per fixture and system, so undoing a correction brings its map back at once.

The predictor is only named here for type checking: the panel never loads a model on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping, Sequence

from implant_desk.core.annotations.model import Box
from implant_desk.core.reports.fixture_text import fixture_title, size_text
from implant_desk.core.wording import counted

if TYPE_CHECKING:
    import numpy as np

    from implant_desk.core.annotations.document import AnnotationDocument
    from implant_desk.core.models.card import ModelCard
    from implant_desk.core.models.predictor import Explanation, FixturePrediction
    from implant_desk.core.imaging.radiograph import Radiograph

INITIAL_THRESHOLD = 0.5  # the predictor's DEFAULT_THRESHOLD (its module is not imported on the GUI thread)
DUPLICATE_IOU = 0.5
CLAIMED_COLOR = "#3ddc84"
UNCERTAIN_COLOR = "#ffb300"
SELECTED_COLOR = "#40c4ff"


@dataclass(frozen=True)
class ModelInfo:
    """What the panel says about the model in use."""

    name: str
    device: str  # "cpu", "cuda" or "mps"; "" while the model is not loaded yet
    warning: str
    runtime: str = ""  # what runs the networks ("ONNX Runtime", "PyTorch"); "" while not loaded

    @classmethod
    def from_card(cls, name: str, device: str, card: ModelCard | None, runtime: str = "") -> "ModelInfo":
        from implant_desk.core.models.card import card_warning  # read once a model is: not before the first paint

        return cls(name=name or "unnamed model", device=device, warning=card_warning(card), runtime=runtime)


@dataclass(frozen=True)
class IdentifyRequest:
    generation: int
    radiograph: Radiograph
    threshold: float


@dataclass(frozen=True)
class ExplainRequest:
    """Heat maps for the result on screen: fixture index -> the fixture as shown (its top candidate explained)."""

    generation: int
    radiograph: Radiograph
    fixtures: Mapping[int, FixturePrediction]


@dataclass(frozen=True)
class OverlaySpec:
    """One fixture as the canvas draws it (converted to the canvas's OverlayItem by the panel)."""

    box: tuple[float, float, float, float]
    text: str
    color: str
    heatmap: np.ndarray | None
    parts: tuple[tuple[tuple[float, float, float, float], str], ...] = ()  # (box, zone colour) of each third found
    inferred: bool = False  # the box comes from the parts


class IdentifyController:
    def __init__(self, threshold: float = INITIAL_THRESHOLD):
        self.threshold = threshold
        self.generation = 0
        self.radiograph: Radiograph | None = None
        self.running = False
        self.elapsed_ms: float | None = None
        self.selected = -1
        self._computed: tuple[FixturePrediction, ...] | None = None  # as the model returned them
        self._explaining = False  # its heat maps are still being computed
        self._corrections: dict[int, dict[str, str]] = {}  # fixture index -> attribute -> value the user set
        self._heat_maps: dict[tuple[int, str], Explanation] = {}  # (fixture index, system explained) -> its map
        self._asked: set[tuple[int, str]] = set()  # maps asked for after a correction, not yet delivered
        self.fixtures: tuple[FixturePrediction, ...] = ()  # with the corrections and the current threshold applied

    # ---- the image and its result -----------------------------------------------------------------------------
    def image_changed(self, radiograph: Radiograph | None) -> None:
        self.generation += 1
        self.radiograph = radiograph
        self.running = False
        self._computed, self.fixtures, self.selected, self.elapsed_ms = None, (), -1, None
        self._explaining = False
        self._corrections, self._heat_maps, self._asked = {}, {}, set()

    def model_changed(self) -> bool:
        """Another model became active. What the old one found (or is still finding) is dropped like a result for
        another image; True when the image should be identified again (it had, or was about to get, a result)."""
        again = self.radiograph is not None and (self.running or self._computed is not None)
        self.image_changed(self.radiograph)
        return again

    def request(self) -> IdentifyRequest | None:
        """A request for the current image (None when there is none); results for older ones become stale."""
        if self.radiograph is None:
            return None
        self.generation += 1
        self.running = True
        return IdentifyRequest(self.generation, self.radiograph, self.threshold)

    def deliver(self, generation: int, fixtures: Sequence[FixturePrediction], elapsed_ms: float) -> bool:
        """Take a result; False (and nothing changes) when it was computed for an earlier request or image."""
        if generation != self.generation:
            return False
        self.running = False
        self._computed = tuple(fixtures)
        self._explaining = any(f.candidates and f.explanation is None for f in fixtures)
        self.elapsed_ms = elapsed_ms
        self.selected = 0 if fixtures else -1
        self._corrections, self._asked = {}, set()
        self._heat_maps = {(index, f.explanation.subject): f.explanation
                           for index, f in enumerate(fixtures) if f.explanation is not None}
        self._apply_threshold()
        return True

    def explained(self, generation: int, explanations: Mapping[int, Explanation]) -> bool:
        """Take heat maps (fixture index -> map) for the result on screen; False when stale."""
        if generation != self.generation or self._computed is None or max(explanations, default=-1) >= len(
                self._computed):
            return False
        for index, explanation in explanations.items():
            self._heat_maps[index, explanation.subject] = explanation
            self._asked.discard((index, explanation.subject))
        self._explaining = False
        self._apply_threshold()
        return True

    def explain_request(self) -> ExplainRequest | None:
        """A request for the heat maps that corrections made necessary (the fixtures whose first candidate has
        none yet and was not asked for); None when there are none, or while the answer's own maps are coming."""
        if self._explaining or self.radiograph is None:
            return None
        missing = {index: f for index, f in enumerate(self.fixtures)
                   if f.candidates and f.explanation is None and (index, f.candidates[0][0]) not in self._asked}
        if not missing:
            return None
        self._asked |= {(index, f.candidates[0][0]) for index, f in missing.items()}
        return ExplainRequest(self.generation, self.radiograph, missing)

    def failed(self, generation: int) -> bool:
        """A request failed; True when it was the current one (the panel then shows why)."""
        if generation != self.generation:
            return False
        self.running = False
        self._explaining = False
        self._asked = set()
        return True

    @property
    def heat_maps_pending(self) -> bool:
        """A result is shown whose heat maps are still being computed (they follow the answer, or a correction)."""
        return self._explaining or any(f.candidates and (index, f.candidates[0][0]) in self._asked
                                       for index, f in enumerate(self.fixtures))

    @property
    def has_result(self) -> bool:
        return self._computed is not None

    # ---- what the user changes ------------------------------------------------------------------------------
    def set_threshold(self, threshold: float) -> None:
        self.threshold = min(1.0, max(0.0, float(threshold)))
        self._apply_threshold()

    def select(self, index: int) -> None:
        self.selected = index if 0 <= index < len(self.fixtures) else -1

    def set_attribute(self, index: int, attribute: str, value: str) -> None:
        """The user sets one design attribute of fixture ``index``: its systems are ranked again with it. Raises
        ValueError, and changes nothing, for a model that reads no design or a value the attribute does not have."""
        self._computed[index].with_attribute(attribute, value, self.threshold)
        self._corrections.setdefault(index, {})[attribute] = value
        self._apply_threshold()

    def reset_attribute(self, index: int, attribute: str) -> None:
        """Back to the value the model read."""
        self._corrections.get(index, {}).pop(attribute, None)
        self._apply_threshold()

    def _apply_threshold(self) -> None:
        fixtures = []
        for index, fixture in enumerate(self._computed or ()):
            for attribute, value in self._corrections.get(index, {}).items():
                fixture = fixture.with_attribute(attribute, value, self.threshold)
            if fixture.candidates:  # the map of the candidate now first, or none while it is computed
                fixture = replace(fixture, explanation=self._heat_maps.get((index, fixture.candidates[0][0])))
            fixtures.append(fixture.with_threshold(self.threshold))
        self.fixtures = tuple(fixtures)

    # ---- what is shown ----------------------------------------------------------------------------------------
    @property
    def accepted(self) -> list[FixturePrediction]:
        """What Accept adds: claimed systems, and implants found on a real film whose system this model cannot
        name (as plain implants, for the lab to label); never a system under the threshold."""
        return [f for f in self.fixtures if f.identified or not f.nameable]

    @property
    def claimed(self) -> list[FixturePrediction]:
        return [f for f in self.fixtures if f.identified]

    def summary(self) -> str:
        if self.running:
            return "Identifying…"
        if self._computed is None:
            return "Not identified yet" if self.radiograph is not None else "No image"
        found = len(self.fixtures)
        timing = f" in {self.elapsed_ms:.0f} ms" if self.elapsed_ms is not None else ""
        if not found:
            return f"No fixture found{timing}"
        unnamed = sum(not f.nameable for f in self.fixtures)
        uncertain = found - len(self.claimed) - unnamed
        tail = (f", {uncertain} uncertain" if uncertain else "") + (
            f"; {unnamed} not identified by this model" if unnamed else "")
        return f"{counted(found, 'fixture')}{tail}{timing}"

    def overlay(self) -> list[OverlaySpec]:
        if not self.fixtures:
            return []
        from implant_desk.app.identify.design import ZONE_COLORS  # the catalogue's code comes with the first result

        return [OverlaySpec(f.box, f"{i + 1} {fixture_title(f)}", self._color(i, f), heat_over_box(f),
                            tuple((part.box, ZONE_COLORS[part.name]) for part in f.parts), f.inferred)
                for i, f in enumerate(self.fixtures)]

    def _color(self, index: int, fixture: FixturePrediction) -> str:
        if index == self.selected:
            return SELECTED_COLOR
        return CLAIMED_COLOR if fixture.identified else UNCERTAIN_COLOR

    def size_text(self, fixture: FixturePrediction) -> str:
        return size_text(fixture, self.radiograph is not None and self.radiograph.spacing_mm is not None)

    # ---- accept ---------------------------------------------------------------------------------------------------
    def boxes_to_accept(self, existing: Sequence[Box]) -> list[Box]:
        from implant_desk.app.identify.design import part_boxes
        from implant_desk.core.learning.metrics import box_iou  # numpy: not before the window's first paint

        boxes: list[Box] = []
        for fixture in self.accepted:
            for box in (Box(fixture.label, *fixture.box), *part_boxes(fixture)):
                same_label = [_corners(b) for b in (*existing, *boxes) if b.label == box.label]
                if not same_label or box_iou([_corners(box)], same_label).max() < DUPLICATE_IOU:
                    boxes.append(box)
        return boxes

    def accept(self, document: AnnotationDocument) -> int:
        """Add the accepted predictions to ``document`` as one undoable step; returns how many were added."""
        boxes = self.boxes_to_accept(document.boxes)
        if boxes:
            document.add_boxes(boxes, "Accept predictions")
        return len(boxes)


def claim_text(fixture: FixturePrediction) -> str:
    """The line under a fixture's candidates: what is claimed, or why nothing is."""
    if not fixture.nameable:
        return ("<b>Implant found; system not identified by this model</b>: it learnt its systems from generated "
                "images only, so it does not name them on a real film. Fine-tune it on labelled films to identify.")
    if fixture.uncertain:
        return "System uncertain: under the threshold, nothing is claimed"
    return f"Most likely <b>{fixture.system}</b>"


def heat_over_box(fixture: FixturePrediction) -> np.ndarray | None:
    """The part of the explanation map that lies over the fixture's box (the map covers a larger crop region)."""
    import numpy as np  # loaded with the first image; not before the window's first paint

    explanation = fixture.explanation
    if explanation is None:
        return None
    heat = explanation.heat
    rx1, ry1, rx2, ry2 = explanation.region
    x1, y1, x2, y2 = fixture.box
    h, w = heat.shape[:2]
    col = lambda x: int(round((x - rx1) / max(rx2 - rx1, 1e-6) * w))  # noqa: E731
    row = lambda y: int(round((y - ry1) / max(ry2 - ry1, 1e-6) * h))  # noqa: E731
    c1, c2 = max(0, col(x1)), min(w, col(x2))
    r1, r2 = max(0, row(y1)), min(h, row(y2))
    if c2 <= c1 or r2 <= r1:
        return None
    return np.ascontiguousarray(heat[r1:r2, c1:c2])


def _corners(box: Box) -> tuple[float, float, float, float]:
    return box.xmin, box.ymin, box.xmax, box.ymax
