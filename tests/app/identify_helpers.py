"""Test doubles for the Identify panel's GUI layer: radiographs in memory and a predictor stand-in.

``FakePredictor`` has the real predictor's ``predict`` signature and returns real ``FixturePrediction``s, so the
panel's policy (threshold, stale results, accept, report) is tested without training a network; the tests that
run a real network are in test_identify_real_model.py.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from implant_desk.core.catalogue import ATTRIBUTES, PART_NAMES, load_systems
from implant_desk.core.catalogue.ranking import rank_systems
from implant_desk.core.models.card import WEIGHTS_NAME, ModelCard, read_card, write_card
from implant_desk.core.models.parts import PartDetection
from implant_desk.core.models.predictor import Explanation, FixturePrediction
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph
from implant_desk.core.registry import Registry

SYSTEMS = ("Alpha BL", "Beta TX", "Gamma Cone")
HEIGHT, WIDTH = 240, 320


def make_radiograph(name: str = "a.png", spacing: tuple[float, float] | None = (0.1, 0.1), seed: int = 0,
                    generated: bool = False) -> Radiograph:
    rng = np.random.default_rng(seed)
    pixels = rng.normal(9000, 800, (HEIGHT, WIDTH)).clip(0, 65535).astype(np.uint16)
    pixels[60:200, 80:110] = 50000
    pixels[50:180, 200:228] = 47000
    return Radiograph(path=name, format="PNG", pixels=pixels, bits=16, photometric="MONOCHROME2",
                      window=DisplayWindow(30000, 60000), spacing_mm=spacing,
                      spacing_source="test" if spacing else "unknown", generated=generated)


def write_folder(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        Image.fromarray(make_radiograph(seed=index).pixels).save(folder / f"img{index + 1}.png")
    return folder


def fixtures_for(threshold: float) -> list[FixturePrediction]:
    """Two fixtures: one clear (Alpha BL 80%), one doubtful (Beta TX 40%), each with an explanation map."""
    heat = np.zeros((40, 20), dtype=np.float32)
    heat[10:30, 5:15] = 1.0
    clear = FixturePrediction(box=(80.0, 60.0, 110.0, 200.0), score=0.9,
                              candidates=(("Alpha BL", 0.8), ("Beta TX", 0.15), ("Gamma Cone", 0.05)),
                              uncertain=0.8 < threshold, length_mm=14.0, diameter_mm=3.0,
                              explanation=Explanation(region=(77.6, 48.8, 112.4, 211.2), heat=heat,
                                                                      subject="Alpha BL"))
    doubtful = FixturePrediction(box=(200.0, 50.0, 228.0, 180.0), score=0.7,
                                 candidates=(("Beta TX", 0.4), ("Gamma Cone", 0.35), ("Alpha BL", 0.25)),
                                 uncertain=0.4 < threshold, length_mm=13.0, diameter_mm=2.8)
    return [clear, doubtful]


DESIGN_TARGET = 5  # the shipped catalogue's tapered-square-bone-level-microthread-pointed-apex, never trained on
DESIGN_TRAINED = 3  # the model was trained on the catalogue's first three systems


def design_fixture(threshold: float = 0.5, *, inferred: bool = False,
                   box: tuple[float, float, float, float] = (80.0, 60.0, 110.0, 200.0)) -> FixturePrediction:
    """A fixture of a model that reads the design, ranked against the shipped catalogue: read as the design of
    ``DESIGN_TARGET`` except its apex (read round, 55 %; it is pointed), with its three thirds found in ``box``."""
    catalogue = load_systems()
    design = catalogue[DESIGN_TARGET].attributes()
    read = {name: {value: 0.9 if value == design[name] else 0.1 / (len(values) - 1) for value in values}
            for name, (_, values) in ATTRIBUTES.items()}
    read["apex"] = {"round": 0.55, "pointed": 0.35, "flat": 0.1}
    direct = dict(zip((system.name for system in catalogue[:DESIGN_TRAINED]), (0.6, 0.3, 0.1)))
    ranking = rank_systems(read, catalogue, direct=direct)
    candidates = tuple((candidate.system.name, candidate.probability) for candidate in ranking.candidates[:3])
    x1, y1, x2, y2 = box
    third = (y2 - y1) / 3
    parts = tuple(PartDetection(name, (x1, y1 + k * third, x2, y1 + (k + 1) * third), 0.8)
                  for k, name in enumerate(PART_NAMES))
    return FixturePrediction(box=(x1, y1, x2, y2), score=0.9, candidates=candidates,
                             uncertain=candidates[0][1] < threshold, length_mm=14.0, diameter_mm=3.0,
                             attributes=read, parts=parts, inferred=inferred, ranking=ranking, direct=direct)


class FakePredictor:
    """Counts its calls; with ``gate`` set, each call waits until the test opens the gate. Like the real one on
    the CPU, it answers first and explains when asked (``explained``)."""

    def __init__(self, gate: threading.Event | None = None, fixtures=fixtures_for):
        """``fixtures``: threshold -> what each call returns (default: ``fixtures_for``)."""
        self.calls = 0
        self.gate = gate
        self.fixtures = fixtures
        self.started = threading.Event()
        self.explained_systems: list[str] = []
        self.name = "fake-7"
        self.device = "cpu"
        self.runtime = "ONNX Runtime"
        self.card = ModelCard(spec=ModelSpec(classes=SYSTEMS), version="7",
                              training_data={"source": "generated radiographs (implant_desk.core.synthetic)"})

    def predict(self, radiograph: Radiograph, threshold: float = 0.5, *, measure: bool = True,
                explain: bool = False) -> list[FixturePrediction]:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(120), "the test never released the predictor"
        fixtures = self.fixtures(threshold)
        return fixtures if explain else [replace(f, explanation=None) for f in fixtures]

    def explained(self, radiograph: Radiograph, fixtures: list[FixturePrediction]) -> list[FixturePrediction]:
        return [replace(f, explanation=self.explain(radiograph, f)) if f.candidates else f for f in fixtures]

    def explain(self, radiograph: Radiograph, fixture: FixturePrediction) -> Explanation:
        """A map over the fixture's box for its top candidate; ``explained_systems`` lists each one asked for."""
        self.explained_systems.append(fixture.candidates[0][0])
        return Explanation(region=fixture.box, heat=fixtures_for(0.5)[0].explanation.heat,
                           subject=fixture.candidates[0][0])


def publish_stand_in(registry: Registry, intended_use: str) -> str:
    """A new registry version with a real card and stand-in weights, as a fine-tuning run would leave it; its
    weights are never loaded (``StandInLoader`` gives a FakePredictor instead). Returns the version."""
    weights = b"stand-in weights"
    card = replace(read_card(registry.default_dir), intended_use=intended_use, parent_version="1",
                   training_data={"images": 40}, metrics={}, notes=["Fine-tuned from version 1."],
                   weights_sha256=hashlib.sha256(weights).hexdigest())
    with registry.staging() as staged:
        (staged / WEIGHTS_NAME).write_bytes(weights)
        write_card(staged, card)
        return registry.publish(staged).version


class StandInLoader:
    """``worker.load_predictor`` for tests: a FakePredictor with the folder's card (so its version and warning)."""

    def __init__(self):
        self.loaded: dict[str, FakePredictor] = {}

    def __call__(self, folder: Path) -> FakePredictor:
        predictor = FakePredictor()
        predictor.card = read_card(folder)
        predictor.name = predictor.card.version
        self.loaded[predictor.name] = predictor
        return predictor
