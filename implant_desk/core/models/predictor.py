"""Radiograph in, fixtures out: box, fixture score, ranked systems, uncertainty, size in mm, explanation.

The predictor loads a model once and is then called per image (from the GUI's worker thread, the CLI, the
evaluation). It never raises for an image with no fixture: it returns an empty list.

Thresholds: a detection is a fixture when its score reaches the card's ``min_fixture_score``; its system is
claimed only when the top candidate's probability reaches the user's ``threshold`` (as in the YOLOv3
transfer-learning study, nothing is claimed under it): otherwise the fixture is flagged ``uncertain`` and
still returned, so the panel can show "fixture, system uncertain" and refilter without recomputing.

Finding an implant is not naming its system: on a real film, a system the model learnt from generated images
only is never claimed ("implant found; system not identified by this model"), whatever its probability. Only
a generated film (its file says so) or a system the card lists as learnt from real radiographs is named.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from implant_desk.core.imaging.radiograph import Radiograph
from implant_desk.core.models.card import ModelCard, read_card
from implant_desk.core.models.decoding import CHANNELS_PER_KIND, PART_KINDS, decode
from implant_desk.core.models.device import accelerator_possible
from implant_desk.core.models.graphs import Graphs, load_graphs
from implant_desk.core.models.preprocess import Box, detector_input, fixture_crop, grey8, network_input
from implant_desk.core.models.spec import ModelSpec

if TYPE_CHECKING:
    from implant_desk.core.models.identifier import ImplantIdentifier

DEFAULT_THRESHOLD = 0.5
TOP_CANDIDATES = 3
NOT_IDENTIFIED = "implant found; system not identified by this model"
# The label an accepted fixture gets when no system is claimed: one of learning.labels.IMPLANT_NAMES, so
# training takes it for an implant whose system the lab has still to name.
IMPLANT_LABEL = "implant"
# A film this long or longer is a full panoramic (periapicals are about 1000-1300 px, panoramics 2000-3300):
# shrunk to the detector's input its fixtures would be a few pixels wide.
LARGE_FILM_PX = 1800


@dataclass(frozen=True)
class Explanation:
    """Where the classifier looked: ``heat`` (0..1, float32) covers ``region`` (x1, y1, x2, y2 image px)."""

    region: Box
    heat: np.ndarray


@dataclass(frozen=True)
class PartPrediction:
    """One third of a fixture found by the detector: ``name`` is coronal, middle or apical."""

    name: str
    box: Box
    score: float

    def to_json(self) -> dict:
        return {"name": self.name, "box": [round(v, 1) for v in self.box], "score": round(self.score, 4)}


@dataclass(frozen=True)
class FixturePrediction:
    box: Box  # x1, y1, x2, y2 in the image's own pixels
    score: float  # how sure the detector is that this is a fixture
    candidates: tuple[tuple[str, float], ...]  # (system, probability), best first, summing to <= 1
    uncertain: bool  # top probability under the threshold: no system is claimed
    # False on a real film whose top system the model learnt from generated images only: no system is claimed
    # and the candidates are not offered as an identification.
    nameable: bool = True
    length_mm: float | None = None
    diameter_mm: float | None = None
    measurement: object | None = None  # implant_desk.core.measure.FixtureMeasurement (axis, outline) or None
    explanation: Explanation | None = None
    # The design as read, for a model that reads it: attribute -> value -> probability (ModelSpec.attributes)
    attributes: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return self.candidates[0][1] if self.candidates else 0.0

    @property
    def identified(self) -> bool:
        return self.nameable and not self.uncertain and bool(self.candidates)

    @property
    def system(self) -> str | None:
        """The claimed system, or None when not identified."""
        return self.candidates[0][0] if self.identified else None

    @property
    def label(self) -> str:
        """What accepting it as an annotation (or a proposal) writes: the claimed system, else ``IMPLANT_LABEL``."""
        return self.system or IMPLANT_LABEL

    @property
    def status(self) -> str:
        """Why no system is claimed, in words ('' when one is)."""
        if not self.nameable:
            return NOT_IDENTIFIED
        return "system uncertain" if not self.identified else ""

    def with_threshold(self, threshold: float) -> FixturePrediction:
        return replace(self, uncertain=self.confidence < threshold)

    def to_json(self) -> dict:
        """The ``implant-desk predict --json`` form of one fixture (null where unknown)."""
        candidates = self.candidates if self.nameable else ()
        return {"box": [round(v, 1) for v in self.box], "score": round(self.score, 4), "identified": self.identified,
                "system": self.system, "status": self.status,
                "candidates": [{"system": s, "p": round(p, 4)} for s, p in candidates],
                "uncertain": self.uncertain, "length_mm": _rounded(self.length_mm),
                "diameter_mm": _rounded(self.diameter_mm), "attributes": self.design()}

    def design(self) -> dict[str, dict]:
        """Each design attribute's most likely value and its probability ({} for a model that reads none)."""
        read = {name: max(values.items(), key=lambda item: item[1]) for name, values in self.attributes.items()}
        return {name: {"value": value, "p": round(p, 4)} for name, (value, p) in read.items()}


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 2)


class Networks(Protocol):
    """The detector and the classifier as the predictor calls them, numpy in and out: ONNX graphs
    (:class:`~implant_desk.core.models.graphs.Graphs`) or torch (``identifier.EagerNetworks``)."""

    def detect(self, images: np.ndarray) -> np.ndarray: ...

    def classify(self, crops: np.ndarray) -> np.ndarray: ...


class Predictor:
    """Load once with :meth:`from_folder`; call :meth:`predict` per radiograph.

    On the CPU it runs the model's ONNX graphs and imports no torch: a first answer comes before torch could
    even be imported (about 3 s on 2 cores). torch loads only to explain (Grad-CAM needs gradients)."""

    def __init__(self, spec: ModelSpec, networks: Networks, *, card: ModelCard | None = None, name: str = "",
                 device: str = "cpu", torch_network: Callable[[], ImplantIdentifier]):
        """``torch_network``: the same model in torch, called the first time an explanation is asked for."""
        self.spec = spec
        self.networks = networks
        self.card = card
        self.name = name or (card.version if card and card.version else "")
        self.device = device  # "cpu", "cuda" or "mps"
        self.real_systems = frozenset(card.systems_learnt_from_real_films if card else ())
        self._torch_network = torch_network
        self._network: ImplantIdentifier | None = None
        self._network_lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | None = "auto", threads: int = 0) -> Predictor:
        """The model in ``folder``. On the CPU (asked for, or ``auto`` where no accelerator can exist) its ONNX
        graphs run when they are there and intact, on ``threads`` threads (0: one per core); otherwise torch
        on ``device`` (``auto``: CUDA, then MPS, then CPU)."""
        requested = (device or "auto").lower()
        if requested == "cpu" or (requested == "auto" and not accelerator_possible()):
            card = read_card(folder)
            graphs = load_graphs(folder, card.graphs, threads)
            if graphs is not None:
                return cls(card.spec, graphs, card=card, name=card.version or Path(folder).name,
                           torch_network=lambda: _torch_model(folder))
        from implant_desk.core.models.device import resolve_device
        from implant_desk.core.models.weights import load_model

        resolved = resolve_device(requested)
        loaded = load_model(folder, device=resolved)
        return cls.from_network(loaded.network, resolved, loaded.card, loaded.card.version or Path(folder).name)

    @classmethod
    def from_network(cls, network: ImplantIdentifier, device="cpu", card: ModelCard | None = None, name: str = "",
                     graphs: Graphs | None = None) -> Predictor:
        """A torch network in memory (training, evaluation), run by torch on ``device`` or, given ``graphs``
        (the same network exported), by ONNX Runtime."""
        from implant_desk.core.models.identifier import EagerNetworks

        eager = EagerNetworks(network, device)
        return cls(network.spec, graphs or eager, card=card, name=name, device=eager.device.type,
                   torch_network=lambda: eager.network)

    @property
    def runtime(self) -> str:
        """What runs the networks, in words."""
        return "ONNX Runtime" if isinstance(self.networks, Graphs) else "PyTorch"

    @property
    def network(self) -> ImplantIdentifier:
        """The model in torch (loaded on first use when the graphs run predictions): for explanations."""
        with self._network_lock:
            if self._network is None:
                self._network = self._torch_network()
            return self._network

    def predict(self, radiograph: Radiograph, threshold: float = DEFAULT_THRESHOLD, *, measure: bool = True,
                explain: bool = False, min_score: float | None = None) -> list[FixturePrediction]:
        image = grey8(radiograph)
        fixtures = self.identify(image, threshold, generated_film=radiograph.generated, min_score=min_score)
        if measure:
            fixtures = [_with_measurement(f, radiograph) for f in fixtures]
        if explain:
            fixtures = self.explained(radiograph, fixtures)
        return fixtures

    def identify(self, image: np.ndarray, threshold: float = DEFAULT_THRESHOLD, *,
                 generated_film: bool = True, min_score: float | None = None) -> list[FixturePrediction]:
        """Detect and classify on an 8-bit grey image (:func:`grey8`), without sizes or explanations.
        ``generated_film``: the image is one of implant_desk's generated radiographs, on which the systems the
        model learnt from generated images may be named. ``min_score``: the lowest fixture score kept (None: the
        card's ``min_fixture_score``; evaluation asks for lower ones to rank every detection). Detections under
        the card's floor are never shown as fixtures, so they are not classified: no candidates, uncertain."""
        boxes, scores = self.detect(image, min_score)
        shown = sum(score >= self.spec.min_fixture_score for score in scores)  # scores come best first
        probabilities, attributes = self.classify(image, boxes[:shown])
        fixtures = []
        for index, (box, score) in enumerate(zip(boxes, scores)):
            candidates = ()
            if index < shown:
                order = np.argsort(-probabilities[index])[:TOP_CANDIDATES]
                candidates = tuple((self.spec.classes[i], float(probabilities[index][i])) for i in order)
            fixtures.append(FixturePrediction(box=box, score=score, candidates=candidates,
                                              uncertain=not candidates or candidates[0][1] < threshold,
                                              nameable=generated_film or bool(candidates)
                                              and candidates[0][0] in self.real_systems,
                                              attributes=attributes[index] if index < shown else {}))
        return fixtures

    def detect(self, image: np.ndarray, min_score: float | None = None) -> tuple[list[Box], list[float]]:
        """Fixture boxes in image pixels (clipped to the image) and their scores, best first."""
        return self._decoded(image, *self._detector_maps(image), kind=0, min_score=min_score)

    def detect_parts(self, image: np.ndarray, min_score: float | None = None) -> list[PartPrediction]:
        """The fixtures' thirds (coronal, middle, apical) the detector finds, best first within each kind; none
        for a model that does not find parts. ``min_score``: as for fixtures (None: the card's floor)."""
        if not self.spec.parts:
            return []
        maps, scale = self._detector_maps(image)
        return [PartPrediction(kind, box, score) for k, kind in enumerate(PART_KINDS, start=1)
                for box, score in zip(*self._decoded(image, maps, scale, kind=k, min_score=min_score))]

    def _detector_maps(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        padded, scale = detector_input(image, detection_side(*image.shape[:2], self.spec))
        return self.networks.detect(network_input(padded[None, None]))[0], scale

    def _decoded(self, image: np.ndarray, maps: np.ndarray, scale: float, kind: int,
                 min_score: float | None) -> tuple[list[Box], list[float]]:
        """Boxes of one kind (0: fixtures, then PART_KINDS) in image pixels, clipped to it, and their scores."""
        floor = self.spec.min_fixture_score if min_score is None else min_score
        first = CHANNELS_PER_KIND * kind
        boxes, scores = decode(maps[first:first + CHANNELS_PER_KIND], floor, self.spec.det_stride)
        h, w = image.shape[:2]
        boxes = boxes / scale
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        keep = ((boxes[:, 2] - boxes[:, 0]) >= 2) & ((boxes[:, 3] - boxes[:, 1]) >= 2)
        return [tuple(float(v) for v in b) for b in boxes[keep].tolist()], [float(s) for s in scores[keep]]

    def classify(self, image: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, list[dict[str, dict[str, float]]]]:
        """Per box: the softmax over the systems (an array (len(boxes), classes)), and the design as read,
        attribute -> value -> probability (empty for a model that does not read it)."""
        if not boxes:
            return np.zeros((0, len(self.spec.classes)), dtype=np.float32), []
        crops = np.stack([self._crop(image, box)[0] for box in boxes])
        logits = self.networks.classify(network_input(crops[:, None])).astype(np.float64)
        classes = len(self.spec.classes)
        systems = _softmax(logits[:, :classes] / self.spec.temperature)
        read = [{} for _ in boxes]
        start = classes
        for name, values in self.spec.attributes:
            probabilities = _softmax(logits[:, start:start + len(values)])
            start += len(values)
            for design, row in zip(read, probabilities.tolist()):
                design[name] = dict(zip(values, row))
        return systems, read

    def explained(self, radiograph: Radiograph, fixtures: list[FixturePrediction]) -> list[FixturePrediction]:
        """``fixtures`` with the Grad-CAM of each named candidate (loads torch the first time)."""
        image = grey8(radiograph)
        return [replace(f, explanation=self._explain(image, f)) if f.candidates else f for f in fixtures]

    def explain(self, radiograph: Radiograph, fixture: FixturePrediction) -> Explanation:
        """Grad-CAM of the fixture's top candidate on the classifier (about a classifier pass, with gradients)."""
        return self._explain(grey8(radiograph), fixture)

    def _crop(self, image: np.ndarray, box: Box) -> tuple[np.ndarray, Box]:
        return fixture_crop(image, box, self.spec.crop_size, self.spec.crop_margin)

    def _explain(self, image: np.ndarray, fixture: FixturePrediction) -> Explanation:
        import torch

        from implant_desk.core.models.explain import grad_cam

        crop, region = self._crop(image, fixture.box)
        classifier = self.network.classifier
        device = next(classifier.parameters()).device
        tensor = torch.from_numpy(network_input(crop[None, None])).to(device)
        class_index = self.spec.classes.index(fixture.candidates[0][0])
        heat = grad_cam(classifier, classifier.cam_layer, tensor, class_index)
        return Explanation(region=region, heat=np.asarray(heat, dtype=np.float32))


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def _torch_model(folder: str | Path) -> ImplantIdentifier:
    from implant_desk.core.models.weights import load_model

    return load_model(folder, device="cpu").network


def detection_side(height: int, width: int, spec: ModelSpec) -> int:
    """The longer side, in detector pixels, an image is seen at: ``det_size``, except for a full panoramic, which
    is seen at the scale of the model's view (``spec.view_size``: the span of the panoramic crops it learnt
    from), whole, in one pass of the fully convolutional detector (no tiles to merge)."""
    longer = max(height, width)
    if not spec.view_size or longer < LARGE_FILM_PX:
        return spec.det_size
    return max(spec.det_size, round(longer * spec.det_size / spec.view_size))


def _with_measurement(fixture: FixturePrediction, radiograph: Radiograph) -> FixturePrediction:
    """Sizes from the fixture's radiopaque outline (engineer "measure"); None when it cannot be found."""
    from implant_desk.core.measure import measure_fixture

    try:
        measured = measure_fixture(radiograph.pixels, fixture.box, radiograph.spacing_mm,
                                   inverted=radiograph.inverted)
    except ValueError:
        return fixture
    return replace(fixture, length_mm=measured.length_mm, diameter_mm=measured.diameter_mm, measurement=measured)
