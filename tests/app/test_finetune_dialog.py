"""Tools > Fine-tune as a user meets it: what it will train on, a live run in a child process, cancel, results."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtCore import QTimer

from implant_desk.app.finetune import controller
from implant_desk.app.finetune import session
from implant_desk.app.finetune.controller import FinetuneOptions
from implant_desk.app.finetune.session import CANCELLED, FINISHED, RUNNING, RunProgress
from implant_desk.core.learning.config import TrainingConfig
from implant_desk.core.learning.events import Cancelled, EpochEnded, Failed, Finished, PhaseStarted, TrainStep
from implant_desk.app.finetune.dialog import FinetuneDialog
from implant_desk.app.finetune.runner import TrainingRunner
from implant_desk.app.identify import worker
from implant_desk.core.registry import Registry

from identify_helpers import StandInLoader, publish_stand_in
from training_folders import TINY_FIT, TINY_SPEC, write_training_folder

@pytest.fixture(autouse=True)
def _no_unexpected_questions(monkeypatch):
    """A question the test did not expect fails it, instead of blocking it behind an invisible message box."""
    from implant_desk.app.dialogs import ask

    for name in ("confirm", "error", "folder"):
        monkeypatch.setattr(ask, name, lambda *args, name=name: pytest.fail(f"unexpected ask.{name}{args[1:]}"))


def _training_children() -> int:
    """Training processes of this process still alive (a finished child is reaped here)."""
    return sum(child.name == "implant-desk-training" for child in multiprocessing.active_children())


def _trained_versions() -> list[str]:
    """Versions in the test's registry besides the shipped default."""
    return [v.version for v in Registry().versions() if not v.read_only]


TINY_OPTIONS = dict(start_from_active=False, fit_overrides=TINY_FIT, spec_overrides=TINY_SPEC)


def _dialog(qtbot, folder: Path | None, **options) -> FinetuneDialog:
    dialog = FinetuneDialog(folder, options=FinetuneOptions(**{**TINY_OPTIONS, **options}))
    qtbot.addWidget(dialog)
    dialog.show()
    if folder is not None:
        qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    return dialog


@pytest.fixture
def lab_folder(tmp_path) -> Path:
    return write_training_folder(tmp_path / "lab", patients=6)


def test_before_starting_it_says_what_it_trains_on_and_warns(qtbot, lab_folder):
    dialog = _dialog(qtbot, lab_folder)
    assert dialog.headline.text().startswith("12 images · 24 fixtures · 6 patients · 2 systems")
    assert dialog.split_table.rowCount() == 3 and dialog.split_table.item(0, 0).text() == "Training"
    assert "coarse-thread 12" in dialog.systems_label.text()
    # 3 training patients, one system each: one system has fewer than 5 fixtures to learn from.
    assert dialog.warnings_label.isVisible() and "at least 5" in dialog.warnings_label.text()
    assert dialog.start_button.isEnabled() and not dialog.advanced.isVisible()
    dialog.advanced_toggle.click()
    assert dialog.advanced.isVisible() and dialog.epochs.value() == TrainingConfig.epochs


def test_enter_starts_training_wherever_the_focus_starts(qtbot, lab_folder):
    started = []
    runner = TrainingRunner(start_run=lambda request: started.append(request) or _ScriptedRun([]))
    dialog = FinetuneDialog(lab_folder, options=FinetuneOptions(**TINY_OPTIONS), runner=runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)
    assert len(started) == 1
    dialog.runner.cancel_and_wait()


def test_a_folder_without_annotations_cannot_start(qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    dialog = _dialog(qtbot, tmp_path / "empty")
    assert "no annotated image found" in dialog.warnings_label.text()
    assert not dialog.start_button.isEnabled()


def test_defaults_are_the_training_configs_own(tmp_path):
    assert FinetuneOptions().request(tmp_path).config == TrainingConfig()


def test_options_become_the_child_request(tmp_path):
    options = FinetuneOptions(epochs=7, patience=2, freeze_depth=1, image_size=320, device="cpu", time_limit_min=5)
    request = options.request(tmp_path)
    assert request.folders == (str(tmp_path),) and request.parent == "active"
    assert request.config == TrainingConfig(epochs=7, freeze_depth=1, patience=2, device="cpu", time_limit_s=300.0,
                                            image_size=320)
    assert request.spec_overrides == {} and request.annotation_dir is None
    assert options.request(tmp_path, tmp_path / "saved").annotation_dir == str(tmp_path / "saved")
    assert request.only is None and FinetuneOptions(only=("Implant",)).request(tmp_path).only == ("Implant",)


def test_the_user_chooses_which_labels_count(qtbot, lab_folder):
    """As ``implant-desk train --only``: the other boxes are left out of the plan and of the run."""
    started = []
    runner = TrainingRunner(start_run=lambda request: started.append(request) or _ScriptedRun([]))
    dialog = FinetuneDialog(lab_folder, options=FinetuneOptions(**TINY_OPTIONS), runner=runner)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    dialog.advanced_toggle.click()
    dialog.only.setText("coarse-thread")
    dialog.only.editingFinished.emit()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    assert dialog.headline.text().startswith("12 images · 12 fixtures")
    assert dialog.systems_label.text() == "Fixtures per system: coarse-thread 12"
    dialog.start_button.click()
    assert started[0].only == ("coarse-thread",)
    dialog.runner.cancel_and_wait()


def test_progress_reads_as_epochs_steps_and_time_left():
    progress = RunProgress()
    progress.apply(PhaseStarted("training", "Training"))
    progress.apply(TrainStep(epoch=2, epochs=10, step=3, steps=4, phase="whole", loss=1.5, det_loss=1.0, cls_loss=0.5,
                             lr=0.001, step_s=3.8, data_s=0.01, eta_s=125.0))
    assert progress.status == "Epoch 2 of 10 (whole network), step 3 of 4"
    assert progress.eta_text == "about 2 min left" and progress.fraction == pytest.approx(0.175)
    progress.apply(EpochEnded(epoch=2, epochs=10, phase="whole", train_loss=1.2, val={"top1": 0.5, "ap50": 0.75},
                              monitor="top1", best_epoch=2, elapsed_s=20.0, eta_s=100.0))
    assert progress.epoch_loss == [(2.0, 1.2)] and progress.val["ap50"] == [(2.0, 0.75)] and progress.best_epoch == 2


def test_time_left_comes_down_steadily_from_the_measured_rate():
    """The child's own estimate jumps (here: 50 s, then 400 s); the dialog's follows the steps it measured."""
    progress = RunProgress()
    progress.apply(PhaseStarted("training", "Training"))
    shown = []
    for epoch in (1, 2):
        for step in range(1, 6):
            progress.apply(TrainStep(epoch=epoch, epochs=3, step=step, steps=5, phase="whole", loss=1.0, det_loss=0.5,
                                     cls_loss=0.5, lr=0.001, step_s=2.0, data_s=0.1, eta_s=50.0 if step % 2 else 400.0))
            shown.append(progress.eta_s)
        progress.apply(EpochEnded(epoch=epoch, epochs=3, phase="whole", train_loss=1.0, val={"top1": 0.5},
                                  monitor="top1", best_epoch=epoch, elapsed_s=epoch * 13.0, eta_s=999.0))
        shown.append(progress.eta_s)
    assert shown[:5] == [28.0, 26.0, 24.0, 22.0, 20.0]  # 2 s a step; no epoch has shown its validation time yet
    assert shown[5] == 26.0  # epoch 1 took 3 s beyond its steps: 2 epochs of 5 steps and 3 s each are left
    assert shown[5:] == [26.0, 24.0, 22.0, 20.0, 18.0, 16.0, 13.0]
    assert progress.eta_text == "about 13 s left"


FIGURES = {"top1": 0.9, "top3": 1.0, "ap50": 0.8, "map": 0.5,
           "per_class": {"A": {"fixtures": 4, "sensitivity": 0.75, "specificity": 1.0, "accuracy": 0.9,
                               "mean_confidence": 0.8}},
           "overall": {"fixtures": 4, "sensitivity": 0.75, "specificity": 1.0, "accuracy": 0.9,
                       "mean_confidence": 0.8}}


def _finished(version: str, **changes) -> Finished:
    """The final event of a run that registered ``version`` (started from version 2)."""
    return Finished(version=version, metrics=FIGURES, stop_reason="early stopping", epochs_run=9, best_epoch=3,
                    duration_s=130.0, held_out_images=5, held_out_patients=2, parent="2", evaluated_on="test",
                    classes=("A",), baseline={"version": "2", "metrics": {**FIGURES, "top1": 0.4, "per_class": {}}},
                    **changes)


def test_results_compare_the_new_model_with_the_active_one_on_the_same_patients():
    figures, final = FIGURES, _finished("3")
    header, rows = controller.comparison_rows(final)
    assert header == ("", "Active (version 2)", "New (version 3)")
    assert rows[0] == ("Top-1 accuracy", "40%", "90%") and ("A: sensitivity", "–", "75%") in rows
    text = controller.outcome_text(final)
    assert "Version 3 is ready" in text and "stopped early" in text and "2 min" in text
    assert "version 2) scores top-1 40% on the same patients." in text
    final.baseline["metrics"]["top1"] = 0.95
    assert "not better there, so keeping version 2 in use is the safer choice" in controller.outcome_text(final)
    assert controller.wrap_label("straight-reverse-buttress-bone-level") == "straight-reverse-\nbuttress-bone-level"
    assert controller.per_system_rows(figures)[-1] == ("All systems", "4", "75%", "100%", "90%", "80%")


@pytest.mark.slow
def test_a_real_run_keeps_the_window_responsive_draws_curves_and_its_model_can_be_used(qtbot, lab_folder):
    dialog = _dialog(qtbot, lab_folder)
    seen_while_running: list[int] = []  # steps on the plot at each tick of a GUI-thread timer during the run
    heartbeat = QTimer()
    heartbeat.setInterval(50)
    heartbeat.timeout.connect(lambda: dialog.state == RUNNING and seen_while_running.append(
        len(dialog.session.progress.step_loss)))
    heartbeat.start()
    dialog.start_button.click()
    assert dialog.pages.currentIndex() == 1 and dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: dialog.state == FINISHED, timeout=300_000)
    heartbeat.stop()

    # The GUI thread kept running its timers while the child trained: training in the window's process would
    # block it from the start to the end (how long its pauses are is benchmarks/bench_finetune_gui.py's figure).
    assert seen_while_running.count(0) >= 2 and len(set(seen_while_running)) >= 2
    assert len(dialog.epoch_curve.getData()[0]) == 2 and len(dialog.step_curve.getData()[0]) == 4
    assert len(dialog.val_curves["top1"].getData()[0]) == 2
    assert dialog.per_system_table.rowCount() == 3  # two systems and all of them together
    assert dialog.per_system_table.item(2, 0).text() == "All systems"
    assert dialog.confusion_table.columnCount() == 3  # two systems and "not found"
    assert dialog.outcome_label.text().startswith(f"Version {dialog.final.version} is ready")

    with qtbot.waitSignal(dialog.modelActivated) as activated:
        dialog.use_button.click()
    assert activated.args == [dialog.final.version]
    assert Registry().active().version == dialog.final.version
    assert not dialog.use_button.isEnabled()


@pytest.mark.slow
def test_cancel_stops_the_run_and_registers_nothing(qtbot, lab_folder):
    dialog = _dialog(qtbot, lab_folder, fit_overrides={**TINY_FIT, "epochs": 50})
    dialog.start_button.click()
    qtbot.waitUntil(lambda: len(dialog.session.progress.step_loss) >= 1, timeout=300_000)
    assert _training_children() == 1
    with qtbot.waitSignal(dialog.runner.ended, timeout=60_000):  # how fast: benchmarks/bench_cancel.py
        dialog.cancel_button.click()
    assert dialog.state == CANCELLED and "nothing was registered" in dialog.outcome_label.text()
    assert _trained_versions() == [] and _training_children() == 0


def test_closing_while_training_asks_then_cancels(qtbot, lab_folder, monkeypatch):
    from implant_desk.app.dialogs import ask

    questions = []
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text: questions.append(title) or True)
    dialog = _dialog(qtbot, lab_folder)
    dialog.start_button.click()
    with qtbot.waitSignal(dialog.runner.ended, timeout=60_000):  # the child is still starting: it is killed
        dialog.close()
    assert questions == ["Stop training?"] and dialog.state == CANCELLED and not dialog.isVisible()
    assert _trained_versions() == []


def test_tools_menu_opens_fine_tune_on_the_open_folder(qtbot, window, lab_folder):
    window.open_folder(lab_folder)
    action = next(a for a in window.tools_menu().actions() if a.text() == "Fine-tune…")
    assert action.shortcut().toString() == "Ctrl+Shift+T"
    action.trigger()
    dialog = window.finetune_dialog
    assert dialog.isVisible() and dialog.folder == lab_folder
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    dialog.close()


def test_annotations_in_the_windows_save_folder_are_trained_on(qtbot, window, tmp_path, monkeypatch):
    """LabelImg's "Change Save Dir": the window keeps the annotations away from the images; training reads them."""
    from implant_desk.app.finetune import current_folder

    images = write_training_folder(tmp_path / "lab", patients=6)
    saved = tmp_path / "annotations"
    saved.mkdir()
    for xml in images.glob("*.xml"):
        xml.rename(saved / xml.name)
    window.set_save_dir(saved)
    window.open_folder(images)
    assert current_folder(window) == (images, saved)
    started = []
    _script_runs(monkeypatch, lambda request: started.append(request) or _ScriptedRun([]))
    dialog = _open_from_tools_menu(qtbot, window)
    assert dialog.headline.text().startswith("12 images · 24 fixtures · 6 patients · 2 systems")
    assert dialog.annotations_label.text() == f"Annotations: in {saved} (the window's save folder)"
    assert "not read" not in dialog.warnings_label.text()
    dialog.start_button.click()
    assert started[0].folders == (str(images),) and started[0].annotation_dir == str(saved)
    dialog.runner.cancel_and_wait()

    window.session.save_dir = images  # saving beside the images, named as a save folder: nothing separate
    assert current_folder(window) == (images, None)


def test_closing_the_window_during_a_run_asks_first_and_stops_only_on_yes():
    def close(state: str, answer: bool) -> tuple[bool, list[str], bool]:
        asked, stopped = [], []
        closes = session.may_close_during_run(state, lambda text: asked.append(text) or answer,
                                                 lambda: stopped.append(True))
        return closes, asked, bool(stopped)

    question = ["A fine-tuning run is in progress. Stop it and close?"]
    assert close(session.SETUP, False) == close(FINISHED, False) == (True, [], False)
    assert close(RUNNING, False) == (False, question, False)
    assert close(RUNNING, True) == (True, question, True)
    # Cancelled already, the child not gone yet: no question, but the window waits for it to go.
    assert close(session.CANCELLING, False) == (True, [], True)


def test_closing_the_window_during_a_run_asks_and_stops_the_child_the_hard_way(qtbot, window, answers, lab_folder):
    window.open_folder(lab_folder)
    dialog = _open_from_tools_menu(qtbot, window)
    dialog.start_button.click()  # a real child process (with the default settings: it has hours to go)
    answers.stop_training.append(False)
    window.close()
    assert window.isVisible() and dialog.state == RUNNING and dialog.runner.running  # "Cancel": nothing stops
    answers.stop_training.append(True)
    window.close()  # returns once the child is gone
    assert not window.isVisible() and _training_children() == 0
    assert dialog.state == CANCELLED and not dialog.runner.running and _trained_versions() == []
    assert answers.asked == ["stop training: A fine-tuning run is in progress. Stop it and close?"] * 2


def test_use_this_model_switches_the_identify_panel_at_once(qtbot, window, lab_folder, monkeypatch):
    loader = StandInLoader()
    monkeypatch.setattr(worker, "load_predictor", loader)
    panel = window.identify_panel
    window.open_folder(lab_folder)
    qtbot.waitUntil(lambda: panel.controller.radiograph is window.radiograph)
    with qtbot.waitSignal(panel.worker.finished, timeout=10_000):
        panel.identify_button.click()
    assert "version 1" in panel.model_label.text()
    version = publish_stand_in(Registry(), "For this lab's own cases.")  # what the run registered
    _script_runs(monkeypatch, lambda request: _ScriptedRun([_finished(version)]))
    dialog = _open_from_tools_menu(qtbot, window)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state == FINISHED, timeout=60_000)
    with qtbot.waitSignal(panel.worker.finished, timeout=10_000):
        dialog.use_button.click()
        assert f"version {version}" in panel.model_label.text()  # at once, not on the next identification
        assert panel.warning_label.text() == "For this lab's own cases."
    assert loader.loaded[version].calls == 1  # the image was identified again, with the new version
    assert panel.model_label.text() == f"Model <b>version {version}</b> on <b>CPU</b> (ONNX Runtime)"
    dialog.close()
    panel.shutdown()


def _open_from_tools_menu(qtbot, window) -> FinetuneDialog:
    next(a for a in window.tools_menu().actions() if a.text() == "Fine-tune…").trigger()
    dialog = window.finetune_dialog
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    return dialog


def _script_runs(monkeypatch, start_run) -> None:
    """The dialog the window opens gets a runner whose runs are ``start_run(request)`` instead of a child."""
    from implant_desk.app.finetune import dialog as dialog_module

    monkeypatch.setattr(dialog_module, "TrainingRunner", lambda parent: TrainingRunner(parent, start_run=start_run))


class _ScriptedRun:
    """A TrainingRun stand-in that replays events (for what the dialog shows, not for the process)."""

    def __init__(self, events: list):
        self.events, self.final = list(events), None

    @property
    def done(self) -> bool:
        return self.final is not None

    def poll(self) -> list:
        events, self.events = self.events, []
        self.final = next((e for e in events if isinstance(e, (Finished, Cancelled, Failed))), self.final)
        return events

    def cancel(self) -> None:
        self.events.append(Cancelled())


def test_a_failed_run_says_why_and_offers_another_run(qtbot, lab_folder):
    failure = Failed("Training failed (RuntimeError: out of memory)", "Traceback …")
    runner = TrainingRunner(start_run=lambda request: _ScriptedRun([PhaseStarted("loading", "Reading"), failure]))
    dialog = FinetuneDialog(lab_folder, options=FinetuneOptions(**TINY_OPTIONS), runner=runner)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    with qtbot.waitSignal(runner.ended, timeout=60_000):
        dialog.start_button.click()
    assert dialog.status_label.text() == "Training failed"
    assert dialog.outcome_label.text() == failure.message and dialog.outcome_label.toolTip() == "Traceback …"
    assert not dialog.result_tabs.isVisibleTo(dialog) and not dialog.use_button.isVisibleTo(dialog)
    dialog.again_button.click()
    assert dialog.pages.currentIndex() == 0 and dialog.state == session.SETUP


def test_the_plots_read_in_plain_epochs_and_keep_their_room_after_a_cancel(qtbot, lab_folder):
    steps = [TrainStep(epoch=1, epochs=4, step=step, steps=10, phase="heads", loss=2.0 - step / 10, det_loss=1.0,
                       cls_loss=0.5, lr=0.001, step_s=1.0, data_s=0.1, eta_s=40.0) for step in (2, 3)]
    runner = TrainingRunner(start_run=lambda request: _ScriptedRun([PhaseStarted("training", "Training"), *steps]))
    dialog = FinetuneDialog(lab_folder, options=FinetuneOptions(**TINY_OPTIONS), runner=runner)
    qtbot.addWidget(dialog)
    dialog.resize(1100, 760)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=60_000)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: len(dialog.session.progress.step_loss) == 2, timeout=60_000)
    dialog.loss_plot.getPlotItem().vb.autoRange()
    axis = dialog.loss_plot.getAxis("bottom")
    assert axis.labelString().startswith("<span") and "x0.001" not in axis.labelString()  # 0.2-0.3 epochs as such
    running_height = dialog.loss_plot.height()
    with qtbot.waitSignal(runner.ended, timeout=60_000):
        dialog.cancel_button.click()
    assert dialog.state == CANCELLED and dialog.outcome_label.isVisible()
    # Once the layout has settled, the outcome line takes no half of the dialog.
    qtbot.waitUntil(lambda: dialog.results.height() < dialog.loss_plot.height() / 2, timeout=10_000)
    assert dialog.loss_plot.height() >= 0.9 * running_height  # less only the outcome line
