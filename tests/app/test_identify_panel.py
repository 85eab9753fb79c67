"""User stories of the Identify panel on a canvas, with a stand-in predictor (see identify_helpers)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from implant_desk.app.canvas import Canvas
from implant_desk.core.models.card import GENERATED_WARNING
from implant_desk.app.identify.panel import IdentifyPanel
from implant_desk.app.identify import worker
from implant_desk.app.identify.worker import PredictorProvider
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box
from implant_desk.core.registry import Registry

from identify_helpers import FakePredictor, StandInLoader, make_radiograph, publish_stand_in


@pytest.fixture
def setup(qtbot):
    canvas = Canvas()
    canvas.resize(640, 480)
    qtbot.addWidget(canvas)
    state = {"document": AnnotationDocument()}
    predictor = FakePredictor()
    panel = IdentifyPanel(canvas, lambda: state["document"], PredictorProvider(lambda: predictor))
    qtbot.addWidget(panel)
    canvas.show()
    panel.show()
    radiograph = make_radiograph()
    canvas.set_radiograph(radiograph)
    panel.image_changed(radiograph)
    yield panel, canvas, predictor, state
    panel.shutdown()


def identify(qtbot, panel: IdentifyPanel) -> None:
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.identify_button.click()


def overlay_texts(canvas: Canvas) -> list[str]:
    return [item.text for item in canvas._overlay]


def test_identify_shows_fixtures_model_and_warning(qtbot, setup):
    panel, canvas, predictor, _ = setup
    identify(qtbot, panel)
    assert overlay_texts(canvas) == ["1 Alpha BL 80%", "2 uncertain (best: Beta TX 40%)"]
    assert [panel.fixture_list.item(i).text() for i in range(2)] == ["1  Alpha BL 80%",
                                                                     "2  uncertain (best: Beta TX 40%)"]
    assert panel.summary.text().startswith("2 fixtures, 1 uncertain")
    assert "fake-7" in panel.model_label.text() and "CPU" in panel.model_label.text()
    assert panel.warning_label.text() == GENERATED_WARNING
    assert panel.bars.texts() == ["Alpha BL 80%", "Beta TX 15%", "Gamma Cone 5%"]
    assert panel.size_label.text() == "length 14.0 mm, diameter 3.0 mm"


def test_the_fixture_details_are_built_with_the_first_fixture(qtbot, setup):
    """The selected fixture's candidates and design are not on screen before a result: the panel builds them (and
    imports the catalogue code behind them) when it shows the first fixture, so the window's first paint does not
    wait for them (issue 14); then they stay, under the fixture list, hidden while there is no fixture."""
    panel, _, _, _ = setup
    assert panel.details is None
    identify(qtbot, panel)
    details = panel.details
    column = panel.fixture_list.parentWidget().layout()
    assert column.indexOf(details) == column.indexOf(panel.fixture_list) + 1
    assert details.isVisibleTo(panel) and panel.bars.texts()[0] == "Alpha BL 80%"
    panel.image_changed(make_radiograph())
    assert not details.isVisibleTo(panel)
    identify(qtbot, panel)
    assert panel.details is details and details.isVisibleTo(panel)


def test_threshold_refilters_without_running_the_model_again(qtbot, setup):
    panel, canvas, predictor, _ = setup
    identify(qtbot, panel)
    assert predictor.calls == 1
    panel.threshold.setValue(30)
    assert overlay_texts(canvas) == ["1 Alpha BL 80%", "2 Beta TX 40%"]
    assert panel.accept_button.text() == "Accept 2 as annotations"
    panel.threshold.setValue(90)
    assert overlay_texts(canvas)[0] == "1 uncertain (best: Alpha BL 80%)"
    assert not panel.accept_button.isEnabled()
    assert not panel.controller.running and predictor.calls == 1  # nothing was sent to the worker


def test_a_slow_result_never_paints_onto_the_next_image(qtbot, setup):
    panel, canvas, predictor, _ = setup
    predictor.gate = threading.Event()
    panel.identify_button.click()
    assert predictor.started.wait(60)
    following = make_radiograph("next.png", seed=3)
    canvas.set_radiograph(following)
    panel.image_changed(following)
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        predictor.gate.set()
    assert canvas._overlay == [] and panel.fixture_list.count() == 0
    assert panel.summary.text() == "Not identified yet"


def test_clicking_a_box_on_the_canvas_lists_its_candidates(qtbot, setup):
    panel, canvas, _, _ = setup
    identify(qtbot, panel)
    canvas.overlayClicked.emit(1)
    assert panel.fixture_list.currentRow() == 1
    assert panel.bars.texts() == ["Beta TX 40%", "Gamma Cone 35%", "Alpha BL 25%"]
    assert "nothing is claimed" in panel.claim_label.text()
    panel.fixture_list.setCurrentRow(0)
    assert panel.bars.texts()[0] == "Alpha BL 80%"


def test_sizes_say_when_spacing_is_unknown(qtbot, setup):
    panel, canvas, _, _ = setup
    plain = make_radiograph("photo.jpg", spacing=None)
    canvas.set_radiograph(plain)
    panel.image_changed(plain)
    identify(qtbot, panel)
    assert panel.size_label.text() == "size: spacing unknown"


def test_accept_adds_boxes_as_one_undo_step(qtbot, setup):
    panel, _, _, state = setup
    document = state["document"]
    document.add_box(Box("tooth", 1, 1, 20, 20))
    identify(qtbot, panel)
    panel.accept_button.click()
    assert [b.label for b in document.boxes] == ["tooth", "Alpha BL"]
    assert document.undo_text == "Accept predictions"
    assert "Added 1 box" in panel.message.text()
    document.undo()
    assert [b.label for b in document.boxes] == ["tooth"]


def test_heat_map_toggle_and_opacity_reach_the_canvas(qtbot, setup):
    panel, canvas, _, _ = setup
    identify(qtbot, panel)
    canvas.fit_window()

    def inside_first_box() -> np.ndarray:
        image = canvas.viewport().grab().toImage()
        x, y = canvas.geometry_snapshot().to_screen(95, 130)  # the hot middle of fixture 1's map
        color = image.pixelColor(int(x), int(y))
        return np.array([color.red(), color.green(), color.blue()])

    shown = inside_first_box()
    panel.heat.setChecked(False)
    hidden = inside_first_box()
    assert np.abs(shown - hidden).sum() > 60  # the heat map's colour is gone
    panel.heat.setChecked(True)
    panel.opacity.setValue(0)
    assert np.abs(inside_first_box() - hidden).sum() < 10  # opacity 0 shows the radiograph


def test_identify_on_open_runs_for_each_new_image(qtbot, setup):
    panel, canvas, predictor, _ = setup
    panel.on_open.setChecked(True)
    following = make_radiograph("next.png", seed=5)
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        canvas.set_radiograph(following)
        panel.image_changed(following)
    assert predictor.calls == 1 and panel.fixture_list.count() == 2


def test_a_missing_model_is_said_in_words(qtbot):
    from implant_desk.core.errors import ModelFileError

    def missing():
        raise ModelFileError("models/default/card.json", "the model card is missing: this folder does not hold a model")

    canvas = Canvas()
    qtbot.addWidget(canvas)
    panel = IdentifyPanel(canvas, lambda: None, PredictorProvider(missing))
    qtbot.addWidget(panel)
    panel.image_changed(make_radiograph())
    with qtbot.waitSignal(panel.worker.failed, timeout=60_000):
        panel.identify()
    assert "the model card is missing" in panel.message.text()
    assert panel.identify_button.isEnabled()
    panel.shutdown()



def test_the_panel_follows_the_registrys_active_model(qtbot, monkeypatch):
    active = {"folder": Path("models/v1")}
    loaded = []

    def load(folder: Path) -> FakePredictor:
        loaded.append(folder)
        predictor = FakePredictor()
        predictor.name = folder.name.removeprefix("v")
        return predictor

    monkeypatch.setattr(worker, "active_model_folder", lambda: active["folder"])
    monkeypatch.setattr(worker, "load_predictor", load)
    canvas = Canvas()
    qtbot.addWidget(canvas)
    panel = IdentifyPanel(canvas, lambda: None)  # the default provider: the registry's active model
    qtbot.addWidget(panel)
    panel.image_changed(make_radiograph())
    identify(qtbot, panel)
    identify(qtbot, panel)
    assert loaded == [Path("models/v1")] and "version 1" in panel.model_label.text()
    active["folder"] = Path("models/v2")  # fine-tuning activated a new version
    identify(qtbot, panel)
    assert loaded == [Path("models/v1"), Path("models/v2")] and "version 2" in panel.model_label.text()
    panel.shutdown()


@pytest.fixture
def registry_panel(qtbot, monkeypatch):
    """The panel with its default provider, following the test's registry; predictors are stand-ins."""
    loader = StandInLoader()
    monkeypatch.setattr(worker, "load_predictor", loader)
    canvas = Canvas()
    qtbot.addWidget(canvas)
    panel = IdentifyPanel(canvas, lambda: None)
    qtbot.addWidget(panel)
    panel.image_changed(make_radiograph())
    identify(qtbot, panel)
    # The shipped model's card: what it found on real films, that it names no system there, not for diagnosis.
    warning = panel.warning_label.text()
    assert "version 1" in panel.model_label.text() and warning.startswith("Finds implants on real films (AP50 ")
    assert "does not name them on a real film" in warning and warning.endswith("Not for diagnosis.")
    yield panel, canvas, loader
    panel.shutdown()


def test_a_newly_activated_version_is_shown_at_once_and_identifies_again(qtbot, registry_panel):
    panel, canvas, loader = registry_panel
    registry = Registry()
    version = registry.activate(publish_stand_in(registry, "For lab X's own cases.")).version
    with qtbot.waitSignal(panel.worker.finished, timeout=60_000):
        panel.model_changed()  # what "Use this model" signals
        # At once, before the new model is even loaded: its version and its card's words; the old result is gone.
        assert panel.model_label.text() == f"Model <b>version {version}</b> (loads on first use)"
        assert panel.warning_label.text() == "For lab X's own cases."
        assert overlay_texts(canvas) == [] and panel.summary.text() == "Identifying…"
    assert panel.model_label.text() == f"Model <b>version {version}</b> on <b>CPU</b> (ONNX Runtime)"
    assert loader.loaded[version].calls == 1 and loader.loaded["1"].calls == 1
    assert overlay_texts(canvas) == ["1 Alpha BL 80%", "2 uncertain (best: Beta TX 40%)"]


def test_an_identification_under_way_keeps_its_model_and_its_result_is_dropped(qtbot, registry_panel):
    panel, canvas, loader = registry_panel
    old = loader.loaded["1"]
    old.gate = threading.Event()
    old.started.clear()
    ran_with: dict[int, tuple[str, str]] = {}  # request -> (its model, the label once the panel had seen it)
    panel.worker.modelReady.connect(
        lambda generation, info: ran_with.setdefault(generation, (info.name, panel.model_label.text())))
    panel.identify_button.click()
    started_on = panel.controller.generation
    assert old.started.wait(60)  # version 1 is identifying
    registry = Registry()
    version = registry.activate(publish_stand_in(registry, "For lab X's own cases.")).version
    panel.model_changed()
    old.gate.set()
    qtbot.waitUntil(lambda: panel.controller.has_result, timeout=60_000)
    assert old.calls == 2 and loader.loaded[version].calls == 1  # the run under way finished on version 1
    # Version 1's late "model ready" and result were for an older request: dropped, nothing of them shown.
    shown = f"Model <b>version {version}</b> on <b>CPU</b> (ONNX Runtime)"
    assert ran_with == {started_on: ("1", f"Model <b>version {version}</b> (loads on first use)"),
                        panel.controller.generation: (version, shown)}
    assert panel.model_label.text() == shown
    assert panel.warning_label.text() == "For lab X's own cases."


def test_a_new_version_before_any_identification_only_changes_the_label(qtbot, monkeypatch):
    monkeypatch.setattr(worker, "load_predictor", StandInLoader())
    canvas = Canvas()
    qtbot.addWidget(canvas)
    panel = IdentifyPanel(canvas, lambda: None)
    qtbot.addWidget(panel)
    panel.image_changed(make_radiograph())
    registry = Registry()
    version = registry.activate(publish_stand_in(registry, "For lab X's own cases.")).version
    with qtbot.assertNotEmitted(panel.worker.modelReady, wait=100):
        panel.model_changed()
    assert f"version {version}" in panel.model_label.text() and panel.summary.text() == "Not identified yet"
    panel.shutdown()


def test_an_unexpected_failure_is_shown_and_the_panel_recovers(qtbot, setup, caplog):
    panel, _, predictor, _ = setup

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    predictor.predict = broken
    with qtbot.waitSignal(panel.worker.failed, timeout=60_000):
        panel.identify_button.click()
    assert panel.message.text() == "Identification failed (RuntimeError: out of memory)"
    assert panel.identify_button.isEnabled() and panel.fixture_list.count() == 0
    assert "identification failed" in caplog.text  # the traceback is in the log for a bug report
