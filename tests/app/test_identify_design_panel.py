"""User stories of the Identify panel with a model that reads the design (issue 12): the design read and the
ranked candidates in the dock, a correction by a click, the thirds on the canvas, Accept writing the parts."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from implant_desk.app.canvas import Canvas
from implant_desk.app.identify.design import ZONE_COLORS
from implant_desk.app.identify.panel import IdentifyPanel
from implant_desk.app.identify.worker import PredictorProvider
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.catalogue import ATTRIBUTES, load_systems
from implant_desk.core.models.decoding import PART_KINDS
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.predictor import Predictor
from implant_desk.core.models.spec import ModelSpec

from identify_helpers import DESIGN_TARGET, FakePredictor, design_fixture, make_radiograph

TARGET = load_systems()[DESIGN_TARGET]


@pytest.fixture
def design_panel(qtbot):
    canvas = Canvas()
    canvas.resize(640, 480)
    qtbot.addWidget(canvas)
    document = AnnotationDocument()
    predictor = FakePredictor(fixtures=lambda threshold: [
        design_fixture(threshold), design_fixture(threshold, inferred=True, box=(200.0, 50.0, 228.0, 180.0))])
    panel = IdentifyPanel(canvas, lambda: document, PredictorProvider(lambda: predictor))
    qtbot.addWidget(panel)
    canvas.show()
    panel.show()
    radiograph = make_radiograph(generated=True)
    canvas.set_radiograph(radiograph)
    panel.image_changed(radiograph)
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.identify_button.click()
    yield panel, canvas, document
    panel.shutdown()


def test_the_dock_shows_the_design_read_and_candidates_marked_by_where_the_model_knows_them_from(design_panel):
    panel, _, _ = design_panel
    first, second, _ = panel.bars.texts()
    assert first.startswith(f"{TARGET.name} ") and first.endswith("% (catalogue only)")
    assert not second.endswith("(catalogue only)")  # a system the model was trained on
    assert panel.bars.agreements()[0] == "differs: apex (read round, catalogue pointed); agrees on the other 8"
    assert panel.design.isVisibleTo(panel) and panel.design.values_shown()["apex"] == "round"
    assert panel.design.set_by_user() == set()


def test_choosing_a_value_ranks_again_at_once_and_reset_brings_back_the_reading(design_panel):
    panel, _, _ = design_panel
    before = panel.bars.texts()
    panel.design.choose("apex", "pointed")
    assert panel.design.set_by_user() == {"apex"} and panel.design.values_shown()["apex"] == "pointed"
    assert panel.bars.texts() != before and panel.bars.agreements()[0] == "agrees on all 9 attributes read"
    panel.design.reset("apex")
    assert panel.design.set_by_user() == set() and panel.bars.texts() == before
    panel.threshold.setValue(20)  # a correction is kept while the threshold moves
    panel.design.choose("apex", "pointed")
    panel.threshold.setValue(30)
    assert panel.design.set_by_user() == {"apex"}


def test_after_a_correction_the_heat_map_follows_the_candidate_now_first(qtbot, design_panel):
    panel, canvas, _ = design_panel
    with panel.provider.use() as predictor:
        pass
    qtbot.waitUntil(lambda: not panel.controller.heat_maps_pending, timeout=60_000)
    assert predictor.explained_systems[0] == TARGET.name and canvas._heatmaps[0] is not None
    panel.design.choose("thread", "V")
    panel.design.choose("apical_hole", "none")  # the trained V design comes first
    first = panel.controller.fixtures[0].candidates[0][0]
    assert first != TARGET.name
    qtbot.waitUntil(lambda: predictor.explained_systems[-1] == first, timeout=60_000)
    qtbot.waitUntil(lambda: not panel.controller.heat_maps_pending, timeout=60_000)
    assert canvas._heatmaps[0] is not None and panel.heat.text() == "Heat map"


def test_the_thirds_are_on_the_canvas_and_a_box_from_parts_is_said(design_panel):
    panel, canvas, _ = design_panel
    assert [color for _, color in canvas._overlay[0].parts] == list(ZONE_COLORS.values())
    assert [item.inferred for item in canvas._overlay] == [False, True]
    assert "box from its parts" not in panel.details_title.text()
    panel.fixture_list.setCurrentRow(1)
    assert "box from its parts" in panel.details_title.text()


def test_accept_writes_each_fixture_and_its_parts_with_the_corrected_design_in_one_undo_step(design_panel):
    panel, _, document = design_panel
    panel.design.choose("apex", "pointed")
    panel.accept_button.click()
    labels = [box.label for box in document.boxes]
    assert labels[:4] == [TARGET.name, *(TARGET.part_label(part) for part in ("coronal", "middle", "apical"))]
    assert len(labels) == 8 and "Added 8 boxes (one undo step)" in panel.message.text()
    document.undo()
    assert document.boxes == ()


def test_on_a_real_film_the_design_read_is_shown_and_correctable_but_no_system_is_offered(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    document = AnnotationDocument()
    unnamed = FakePredictor(fixtures=lambda threshold: [replace(design_fixture(threshold), nameable=False)])
    panel = IdentifyPanel(canvas, lambda: document, PredictorProvider(lambda: unnamed))
    qtbot.addWidget(panel)
    panel.show()
    panel.image_changed(make_radiograph())
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.identify_button.click()
    assert panel.bars.texts() == [] and "not identified by this model" in panel.claim_label.text()
    assert panel.design.isVisibleTo(panel) and "No system is named on this film" in panel.design.hint.text()
    panel.design.choose("apex", "pointed")
    panel.accept_button.click()
    assert [box.label for box in document.boxes] == ["implant", "coronal:bone-level+microthreads",
                                                      "middle:tapered+square+pitch-regular", "apical:groove+hole-round+apex-pointed"]
    panel.shutdown()


def test_a_model_that_names_its_systems_only_shows_no_design(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    panel = IdentifyPanel(canvas, lambda: None, PredictorProvider(lambda: FakePredictor()))
    qtbot.addWidget(panel)
    panel.show()
    panel.image_changed(make_radiograph())
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.identify_button.click()
    assert panel.bars.texts() == ["Alpha BL 80%", "Beta TX 15%", "Gamma Cone 5%"]
    assert panel.bars.agreements() == ["", "", ""] and not panel.design.isVisibleTo(panel)
    panel.shutdown()


def test_a_design_model_read_by_the_real_predictor_is_shown_corrected_and_accepted(qtbot):
    """An untrained design model whose detector heads are constant: one fixture, with its three parts."""
    trained = tuple(system.name for system in load_systems()[:3])
    spec = ModelSpec.reading_design(trained, {name: values for name, (_, values) in ATTRIBUTES.items()},
                                    det_size=160)
    torch.manual_seed(0)
    network = ImplantIdentifier(spec, pretrained=False).eval()
    constant = torch.tensor([2.0, math.log(40.0), math.log(40.0), 0.0, 0.0])
    with torch.no_grad():
        for head, kinds in ((network.detector.out, 1), (network.detector.parts_out, len(PART_KINDS))):
            head.weight.zero_()
            head.bias.copy_(constant.repeat(kinds))
    canvas = Canvas()
    qtbot.addWidget(canvas)
    document = AnnotationDocument()
    panel = IdentifyPanel(canvas, lambda: document, PredictorProvider(lambda: Predictor.from_network(network)))
    qtbot.addWidget(panel)
    radiograph = make_radiograph(generated=True)
    canvas.set_radiograph(radiograph)
    panel.image_changed(radiograph)
    panel.threshold.setValue(0)  # an untrained model: claim whatever comes first
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.identify_button.click()
    fixture = panel.controller.fixtures[0]
    assert len(fixture.parts) == 3 and len(fixture.ranking.candidates) == len(load_systems())
    assert set(panel.design.values_shown()) == set(ATTRIBUTES)
    other = next(value for value in ATTRIBUTES["apex"][1] if value != panel.design.values_shown()["apex"])
    panel.design.choose("apex", other)
    assert panel.controller.fixtures[0].ranking.readings.set_by_user == {"apex"}
    panel.accept_button.click()
    labels = [box.label for box in document.boxes]
    assert labels[0] == panel.controller.fixtures[0].system
    assert [label.split(":")[0] for label in labels[1:]] == ["coronal", "middle", "apical"]
    assert labels[3].endswith(f"+apex-{other}")
    panel.shutdown()
