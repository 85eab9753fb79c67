"""The fine-tune dialog's pre-training option: folded away, off by default, sent to the child, and said while
it runs."""

from __future__ import annotations

from implant_desk.app.finetune.controller import FinetuneOptions
from implant_desk.app.finetune.dialog import FinetuneDialog
from implant_desk.app.finetune.session import RunProgress
from implant_desk.core.learning.config import TrainingConfig
from implant_desk.core.learning.events import PhaseStarted, PretrainStep


def test_the_option_is_off_by_default_as_in_the_training_loop(tmp_path):
    assert FinetuneOptions().pretrain_epochs == TrainingConfig().pretrain_epochs == 0
    assert FinetuneOptions().request(tmp_path).config.pretrain_epochs == 0
    assert FinetuneOptions(pretrain_epochs=5).request(tmp_path).config.pretrain_epochs == 5


def test_progress_says_pretraining_is_running():
    progress = RunProgress()
    progress.apply(PhaseStarted("training", "Training"))
    progress.apply(PretrainStep(epoch=2, epochs=5, step=1, steps=3, loss=0.4, det_loss=0.2, cls_loss=0.2, images=9,
                                step_s=0.5, eta_s=50.0))
    assert progress.status == "Self-supervised pre-training, epoch 2/5"
    assert progress.fraction == 0.0 and progress.eta_text == ""  # the supervised epochs have not begun


def test_the_dialog_reads_the_spin_box_in_the_advanced_options(qtbot):
    dialog = FinetuneDialog(None, options=FinetuneOptions())
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.advanced.isVisible()
    dialog.advanced_toggle.click()
    assert dialog.pretrain_epochs.isVisible() and dialog.pretrain_epochs.value() == 0
    assert dialog.pretrain_epochs.text() == "off"
    dialog.pretrain_epochs.setValue(3)
    dialog._read_options()
    assert dialog.options.pretrain_epochs == 3
