"""Retraining from reviewed work (issue 13): the plan counts reviewed and hand-made images and leaves unreviewed
pre-annotations out; "retrain every N reviewed images" starts a run in the background."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from implant_desk.app.finetune.controller import FinetuneOptions, make_plan
from implant_desk.app.finetune.dialog import FinetuneDialog
from implant_desk.app.review.controller import RetrainSchedule
from implant_desk.core.annotations import voc
from implant_desk.core.annotations.proposals import ImageProposals, write_proposals
from implant_desk.core.learning.events import Cancelled
from training_folders import write_training_folder


class RecordingRunner(QObject):
    """Stands in for the child process: records what it was asked to train."""

    progress = Signal(object)
    ended = Signal(object)

    def __init__(self):
        super().__init__()
        self.requests = []

    @property
    def running(self) -> bool:
        return False

    def start(self, request) -> None:
        self.requests.append(request)


def _verify(folder, names):
    for name in names:
        annotation = voc.read_voc(folder / name)
        annotation.verified = True
        voc.write_voc(folder / name, annotation)


def test_the_plan_says_how_many_reviewed_and_hand_made_images_it_trains_on(tmp_path):
    folder = write_training_folder(tmp_path / "lab", patients=4)
    _verify(folder, ["p0_0.xml", "p1_0.xml"])
    write_proposals(folder / "p2_0.png", None, ImageProposals("p2_0.png"))  # pre-annotated, not reviewed
    plan = make_plan(folder)
    assert (plan.reviewed, plan.hand_made, plan.unreviewed) == (2, 5, 1)
    assert plan.sources == ("Trains on 2 reviewed images and 5 hand-made ones. 1 pre-annotated image not reviewed "
                            "yet is left out: press Space on an image once its boxes are right.")


def test_retrain_schedule():
    schedule = RetrainSchedule(every=3, baseline=2)
    assert not schedule.due(4) and schedule.due(5)
    assert not RetrainSchedule(every=0).due(100)


def test_every_n_reviewed_images_a_run_starts_in_the_background(window, tmp_path, qtbot):
    folder = write_training_folder(tmp_path / "lab", patients=4)
    runner = RecordingRunner()
    dialog = FinetuneDialog(folder, window, options=FinetuneOptions(start_from_active=False), runner=runner)
    window.finetune_dialog = dialog
    dialog.retrain_every.setValue(2)
    window.open_folder(folder)
    window.show_image(0)
    for step in range(2):
        window.actions["verify"].trigger()
        window.actions["save"].trigger()
        if step == 0:
            assert runner.requests == []
            window.actions["next_image"].trigger()
    qtbot.waitUntil(lambda: len(runner.requests) == 1 or dialog.plan is not None and not dialog.plan.can_start,
                    timeout=30_000)
    assert dialog.plan.can_start, dialog.plan.problem
    assert runner.requests[0].folders == (str(folder),) and not dialog.isVisible()
    assert "retraining in the background" in window.statusBar().currentMessage()
    runner.ended.emit(Cancelled())  # the run ends, so the window closes without asking
