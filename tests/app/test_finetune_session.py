"""The fine-tune session without a display: states, progress from typed events, buttons, closing, and how a
cross-validated result reads."""

from __future__ import annotations

from pathlib import Path

from implant_desk.app.finetune import controller
from implant_desk.app.finetune.controller import FinetuneOptions, Plan
from implant_desk.app.finetune.session import (
    CANCELLED,
    CANCELLING,
    FAILED,
    FINISHED,
    RUNNING,
    SETUP,
    FinetuneSession,
)
from implant_desk.core.learning.events import Cancelled, EpochEnded, Failed, Finished, FoldStarted, TrainStep

PLAN = Plan(Path("lab"), describe="12 images")


def _step(epoch: int, step: int) -> TrainStep:
    return TrainStep(epoch=epoch, epochs=3, step=step, steps=2, phase="heads", loss=1.0, det_loss=0.5, cls_loss=0.5,
                     lr=0.001, step_s=0.1, data_s=0.01, eta_s=30.0)


def _epoch(epoch: int) -> EpochEnded:
    return EpochEnded(epoch=epoch, epochs=3, phase="heads", train_loss=0.9, val={"top1": 0.5}, monitor="top1",
                      best_epoch=epoch, elapsed_s=1.0, eta_s=20.0)


def _ready() -> FinetuneSession:
    session = FinetuneSession()
    assert session.plan_read(session.read_folder(), PLAN)
    return session


def test_a_plan_for_an_older_reading_is_dropped():
    session = FinetuneSession()
    old = session.read_folder()
    session.read_folder()
    assert not session.plan_read(old, PLAN) and session.plan is None and not session.buttons().start


def test_a_run_goes_from_setup_to_finished_and_the_buttons_follow():
    session = _ready()
    assert session.state == SETUP and session.buttons().start and not session.buttons().cancel
    session.start()
    assert session.state == RUNNING and session.buttons().cancel and not session.buttons().keep_best
    assert session.apply(_step(1, 1)) == "step" and session.progress.status == "Epoch 1 of 3 (new layers only), step 1 of 2"
    assert session.apply(_epoch(1)) == "epoch" and session.buttons().keep_best  # one epoch to keep
    assert session.keep_best() and not session.buttons().keep_best  # asked once
    session.end(Finished(version="3", metrics={}, baseline=None, parent=None, stop_reason="cancelled",
                         epochs_run=1, best_epoch=1, duration_s=5.0, evaluated_on="test", held_out_images=2,
                         held_out_patients=1, classes=("A",)))
    assert session.state == FINISHED and session.title == "Training finished" and session.buttons().use_model
    session.model_activated()
    assert not session.buttons().use_model
    session.new_run()
    assert session.state == SETUP


def test_cancelling_says_so_until_the_end_and_failures_are_told_apart():
    session = _ready()
    session.start()
    assert session.cancel() and session.state == CANCELLING and not session.cancel()
    session.apply(_step(1, 1))
    assert session.progress.status.startswith("Cancelling")
    session.end(Cancelled())
    assert session.state == CANCELLED and session.title == "Training cancelled"
    session.start()
    session.end(Failed("out of memory"))
    assert session.state == FAILED and session.title == "Training failed"


def test_closing_during_a_run_asks_and_stops():
    session = _ready()
    session.start()
    stopped = []
    assert not session.may_close(lambda _text: False, lambda: stopped.append(1)) and not stopped
    assert session.may_close(lambda _text: True, lambda: stopped.append(1)) and stopped == [1]


def test_each_fold_draws_its_own_curves_and_the_status_names_it():
    session = _ready()
    session.start()
    session.apply(FoldStarted(1, 3))
    session.apply(_epoch(1))
    session.apply(FoldStarted(2, 3))
    assert session.progress.epoch_loss == []
    session.apply(_step(1, 1))
    assert session.progress.status.startswith("Fold 2 of 3: Epoch 1 of 3")


def test_the_folds_spin_box_default_is_the_configs_and_reaches_the_request(tmp_path):
    assert FinetuneOptions().folds == 0
    assert FinetuneOptions(folds=5).request(tmp_path).config.folds == 5


def test_a_cross_validated_result_says_mean_and_spread():
    final = Finished(version="4", metrics={"top1": 0.9, "ap50": 0.8}, baseline=None, parent=None,
                     stop_reason="completed", epochs_run=3, best_epoch=3, duration_s=60.0, evaluated_on="test",
                     held_out_images=4, held_out_patients=2, classes=("A",),
                     cross_validation={"folds": 5, "mean": {"top1": 0.93, "ap50": 0.8},
                                       "std": {"top1": 0.04, "ap50": 0.1}})
    text = controller.outcome_text(final)
    assert "Over 5 patient-grouped cross-validation folds: top-1 93% ± 4%, fixtures found (AP50) 80% ± 10%" in text
