"""The Identify panel with real networks: an untrained one published to the registry, and the shipped default.

The untrained network's detector head is set to a constant output with huge boxes, so the detector yields
exactly one fixture (NMS merges the rest); the classifier and Grad-CAM run as they are.
"""

from __future__ import annotations

import math

import pytest
import torch

from implant_desk.app.canvas import Canvas
from implant_desk.app.identify.panel import IdentifyPanel
from implant_desk.app.identify.worker import PredictorProvider
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.card import GENERATED_WARNING, ModelCard
from implant_desk.core.models.weights import save_model
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.paths import REPO_MODELS_DIR
from implant_desk.core.registry import Registry

from identify_helpers import SYSTEMS, make_radiograph


def publish_untrained_model() -> str:
    torch.manual_seed(0)
    network = ImplantIdentifier(ModelSpec(classes=SYSTEMS, det_size=160), pretrained=False)
    with torch.no_grad():
        out = network.detector.out
        out.weight.zero_()
        out.bias.copy_(torch.tensor([2.0, math.log(40.0), math.log(40.0), 0.0, 0.0]))
    card = ModelCard(spec=network.spec, training_data={"source": "generated radiographs, test"})
    registry = Registry()
    with registry.staging() as staged:
        save_model(staged, network, card)
        version = registry.publish(staged)
    registry.activate(version.version)
    return version.version


def run_panel(qtbot) -> IdentifyPanel:
    canvas = Canvas()
    qtbot.addWidget(canvas)
    panel = IdentifyPanel(canvas, lambda: None, PredictorProvider())  # the default loader: the active model
    qtbot.addWidget(panel)
    radiograph = make_radiograph(generated=True)  # a model of generated designs names them on generated films
    canvas.set_radiograph(radiograph)
    panel.image_changed(radiograph)
    failures = []
    panel.worker.failed.connect(lambda _generation, why: failures.append(why))
    panel.identify()
    qtbot.waitUntil(lambda: not panel.controller.running, timeout=60000)  # a result or a failure
    panel.shutdown()  # the heat maps, computed after the answer, are done
    qtbot.wait(10)  # and their signal delivered
    assert failures == []
    assert panel.controller.has_result
    return panel


@pytest.mark.slow
def test_panel_loads_the_active_registry_model_and_explains(qtbot):
    version = publish_untrained_model()
    panel = run_panel(qtbot)
    assert f"<b>version {version}</b>" in panel.model_label.text() and "CPU" in panel.model_label.text()
    assert panel.warning_label.text() == GENERATED_WARNING
    assert panel.fixture_list.count() == 1
    fixture = panel.controller.fixtures[0]
    assert [system for system, _ in fixture.candidates] == sorted(SYSTEMS, key=dict(fixture.candidates).get,
                                                                  reverse=True)
    assert sum(p for _, p in fixture.candidates) <= 1.0 + 1e-6
    assert len(panel.bars.texts()) == 3
    overlay = panel.canvas._overlay[0]
    assert overlay.heatmap is not None and overlay.heatmap.size > 0  # Grad-CAM of the real classifier


@pytest.mark.skipif(not (REPO_MODELS_DIR / "default" / "card.json").is_file(),
                    reason="the default model is not trained yet")
def test_panel_runs_the_shipped_default_model(qtbot):
    panel = run_panel(qtbot)
    assert "CPU" in panel.model_label.text()
    assert panel.warning_label.text()  # the card's plain warning is always shown
    assert panel.summary.text() != "Identifying…"
