"""Radiograph in, fixtures out: box, fixture score, ranked systems, uncertainty, size in mm, explanation.

A model that reads the design (``ModelSpec.attributes``) works in two stages: the detector finds whole fixtures and
their thirds, which ``models.parts`` assembles into fixtures (a fixture seen only in parts gets its box from them);
the classifier reads each design attribute, and every system of the catalogue is ranked by that design
(``catalogue.ranking``), the classifier's own scores joining for the systems it was trained on. Systems it never
saw are ranked too; they are "known from the catalogue".

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

from implant_desk.core.catalogue import zone_of
from implant_desk.core.catalogue.ranking import Ranking, corrected, rank_systems
from implant_desk.core.imaging.radiograph import Radiograph
from implant_desk.core.models.card import ModelCard, read_card
from implant_desk.core.models.decoding import CHANNELS_PER_KIND, PART_KINDS, decode, unmirrored
from implant_desk.core.models.device import accelerator_possible
from implant_desk.core.models.graphs import Graphs, load_graphs
from implant_desk.core.models.parts import PartDetection, assemble_fixtures
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
    """Where the classifier looked to rank ``subject`` (the system explained, the fixture's top candidate when it
    was computed): ``heat`` (0..1, float32) covers ``region`` (x1, y1, x2, y2 image px)."""

    region: Box
    heat: np.ndarray
    subject: str


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
    parts: tuple[PartDetection, ...] = ()  # its thirds as the detector found them, coronal first
    inferred: bool = False  # its box comes from its parts (no whole-fixture detection, or a weak one)
    # Every catalogue system ranked by the design read (None for a model that reads none); ``candidates`` are
    # its first TOP_CANDIDATES. ``direct``: the classifier's own probabilities over the systems it was trained on.
    ranking: Ranking | None = field(default=None, compare=False)
    direct: dict[str, float] = field(default_factory=dict, compare=False)
    # On a real film, the systems that may be named there (those the model learnt from real films); None on a
    # generated film, or where unknown: ``nameable`` stands. Kept so that a ranking changed by the user's
    # correction is named by the same rule.
    nameable_here: frozenset[str] | None = field(default=None, compare=False)

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

    def known_from_catalogue(self, system: str) -> bool:
        """Whether ``system`` is ranked by its design alone (the model never trained on it)."""
        return self.ranking is not None and system not in self.direct

    def with_attribute(self, attribute: str, value: str, threshold: float) -> FixturePrediction:
        """The prediction once the user has set one attribute (the dentist sees the apex better): the design
        ranked again with that attribute certain. Only for a model that reads the design."""
        if self.ranking is None:
            raise ValueError("this model does not read the design")
        ranking = rank_systems(corrected(self.ranking.readings, attribute, value),
                               [candidate.system for candidate in self.ranking.candidates], direct=self.direct)
        return _named(_ranked(self, ranking, threshold))

    def to_json(self) -> dict:
        """The ``implant-desk predict --json`` form of one fixture (null where unknown)."""
        candidates = self.candidates if self.nameable else ()
        design = self.design()
        return {"box": [round(v, 1) for v in self.box], "score": round(self.score, 4), "identified": self.identified,
                "system": self.system, "status": self.status,
                "candidates": [{"system": s, "p": round(p, 4)}
                               | ({"known_from": "catalogue" if self.known_from_catalogue(s) else "training"}
                                  if self.ranking is not None else {}) for s, p in candidates],
                "uncertain": self.uncertain, "length_mm": _rounded(self.length_mm),
                "diameter_mm": _rounded(self.diameter_mm), "attributes": design,
                "parts": [self._part_json(part, design) for part in self.parts], "box_from_parts": self.inferred}

    @staticmethod
    def _part_json(part: PartDetection, design: dict[str, dict]) -> dict:
        return {"name": part.name, "box": [round(v, 1) for v in part.box], "score": round(part.score, 4),
                "attributes": {name: read for name, read in design.items() if zone_of(name) == part.name}}

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
                 device: str = "cpu", torch_network: Callable[[], ImplantIdentifier], catalogue=None):
        """``torch_network``: the same model in torch, called the first time an explanation is asked for.
        ``catalogue``: the systems a model that reads the design ranks (default: the catalogue in use)."""
        self.spec = spec
        self.networks = networks
        self.card = card
        self.name = name or (card.version if card and card.version else "")
        self.device = device  # "cpu", "cuda" or "mps"
        self.real_systems = frozenset(card.systems_learnt_from_real_films if card else ())
        self.real_parts = bool(card and card.parts_learnt_from_real_films)
        self._torch_network = torch_network
        self._network: ImplantIdentifier | None = None
        self._network_lock = threading.Lock()
        self._catalogue = tuple(catalogue) if catalogue is not None else None

    @property
    def catalogue(self) -> tuple:
        """What a fixture's design is ranked against: the catalogue's systems, and the model's own systems that
        it lacks (ranked by the classifier alone, neutral on every attribute)."""
        if self._catalogue is None:
            from implant_desk.core.catalogue import load_catalogue

            systems = load_catalogue().systems
            listed = {system.name for system in systems}
            self._catalogue = (*systems, *(_Unlisted(name) for name in self.spec.classes if name not in listed))
        return self._catalogue

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
        found = self.find(image, min_score, generated_film=generated_film)
        shown = sum(fixture.score >= self.spec.min_fixture_score for fixture in found)  # best first
        probabilities, attributes = self.classify(image, [fixture.box for fixture in found[:shown]])
        fixtures = []
        for index, fixture in enumerate(found):
            if index >= shown:
                fixtures.append(fixture)
                continue
            direct = dict(zip(self.spec.classes, probabilities[index].tolist()))
            fixture = replace(fixture, direct=direct, attributes=attributes[index],
                              nameable_here=None if generated_film else self.real_systems)
            if self.spec.attributes:
                fixture = _ranked(fixture, rank_systems(attributes[index], self.catalogue, direct=direct), threshold)
            else:
                order = np.argsort(-probabilities[index])[:TOP_CANDIDATES]
                candidates = tuple((self.spec.classes[i], float(probabilities[index][i])) for i in order)
                fixture = replace(fixture, candidates=candidates, uncertain=candidates[0][1] < threshold)
            fixtures.append(_named(fixture))
        return fixtures

    def find(self, image: np.ndarray, min_score: float | None = None, *,
             generated_film: bool = True) -> list[FixturePrediction]:
        """The fixtures found, best first, not yet classified: the detector's, or for a model that finds parts,
        those assembled from whole-fixture detections and parts (models.parts). On a real film, thirds learnt
        from generated images only are attached to the detections they lie in, but do not move or add fixtures:
        there they lowered the held-out real AP50 (0.88 to 0.83 with the same fixture detector)."""
        maps, scale = self._detector_maps(image)
        boxes, scores = self._decoded(image, maps, scale, kind=0, min_score=min_score)
        if not self.spec.parts:
            return [FixturePrediction(box, score, (), True) for box, score in zip(boxes, scores)]
        parts = [PartDetection(kind, box, score) for k, kind in enumerate(PART_KINDS, start=1)
                 for box, score in zip(*self._decoded(image, maps, scale, kind=k, min_score=min_score))]
        assembled = assemble_fixtures(list(zip(boxes, scores)), parts, weak_below=self.spec.min_fixture_score,
                                      image_size=(image.shape[1], image.shape[0]))
        if not (generated_film or self.real_parts):
            parts_of = {fixture.detection: fixture.parts for fixture in assembled if fixture.detection is not None}
            return [FixturePrediction(box, score, (), True, parts=parts_of.get(index, ()))
                    for index, (box, score) in enumerate(zip(boxes, scores))]
        # A lone part scores a third of its own score: under the floor it is no fixture, as a weak detection is not.
        floor = self.spec.min_fixture_score if min_score is None else min_score
        return [FixturePrediction(fixture.box, fixture.score, (), True, parts=fixture.parts, inferred=fixture.inferred)
                for fixture in assembled if fixture.score >= floor]

    def detect(self, image: np.ndarray, min_score: float | None = None) -> tuple[list[Box], list[float]]:
        """Fixture boxes in image pixels (clipped to the image) and their scores, best first."""
        return self._decoded(image, *self._detector_maps(image), kind=0, min_score=min_score)

    def _detector_maps(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        padded, scale = detector_input(image, detection_side(*image.shape[:2], self.spec))
        maps = self.networks.detect(network_input(padded[None, None]))[0]
        if self.spec.flip_test:  # logits and log distances averaged, as CenterNet's flip test
            mirrored = self.networks.detect(network_input(padded[None, None, :, ::-1]))[0]  # a contiguous copy
            maps = (maps + unmirrored(mirrored)) / 2
        return maps, scale

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
        classifier = self.network.classifier  # the first call loads torch (see _torch_model)
        import torch

        from implant_desk.core.models.explain import grad_cam

        crop, region = self._crop(image, fixture.box)
        device = next(classifier.parameters()).device
        tensor = torch.from_numpy(network_input(crop[None, None])).to(device)
        heat = grad_cam(classifier, classifier.cam_layer, tensor, self._explained_outputs(fixture))
        return Explanation(region=region, heat=np.asarray(heat, dtype=np.float32), subject=fixture.candidates[0][0])


    def _explained_outputs(self, fixture: FixturePrediction) -> int | tuple[int, ...]:
        """The classifier output a heat map explains: the top candidate's logit, or for a system known from the
        catalogue only, the logits of the design values read (where the model read the design)."""
        top = fixture.candidates[0][0]
        if top in self.spec.classes:
            return self.spec.classes.index(top)
        indices, start = [], len(self.spec.classes)
        for name, values in self.spec.attributes:
            read = fixture.attributes[name]
            indices.append(start + values.index(max(read, key=read.get)))
            start += len(values)
        return tuple(indices)


@dataclass(frozen=True)
class _Unlisted:
    """A system the model was trained on that the catalogue lacks: no design to rank it by."""

    name: str

    def attributes(self) -> dict[str, str]:
        return {}


def _ranked(fixture: FixturePrediction, ranking: Ranking, threshold: float) -> FixturePrediction:
    candidates = tuple((candidate.system.name, candidate.probability)
                       for candidate in ranking.candidates[:TOP_CANDIDATES])
    return replace(fixture, ranking=ranking, candidates=candidates, uncertain=candidates[0][1] < threshold)


def _named(fixture: FixturePrediction) -> FixturePrediction:
    """Whether its top system may be named on this film (see the module's docstring)."""
    here = fixture.nameable_here
    return fixture if here is None else replace(fixture, nameable=fixture.candidates[0][0] in here)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def _torch_model(folder: str | Path) -> ImplantIdentifier:
    from implant_desk.core.models.torch_libraries import preload_torch_libraries

    preload_torch_libraries()  # the window keeps painting while torch loads (the app calls this off its thread)
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
