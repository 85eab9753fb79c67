"""The learning rate reaches the run from the command line and from the fine-tune dialog, and defaults to
TrainingConfig's."""

from __future__ import annotations

import pytest

from implant_desk.app.finetune.controller import FinetuneOptions
from implant_desk.cli import main
from implant_desk.core.learning import orchestrator
from implant_desk.core.learning.config import TrainingConfig


class _Stop(Exception):
    pass


@pytest.mark.parametrize(("argv", "expected"), [([], TrainingConfig.lr), (["--lr", "5e-4"], 5e-4)])
def test_train_takes_the_learning_rate(tmp_path, monkeypatch, argv, expected):
    requests = []

    def run(request, on_event, **_):
        requests.append(request)
        raise _Stop

    monkeypatch.setattr(orchestrator, "run", run)
    with pytest.raises(_Stop):
        main(["train", str(tmp_path), *argv])
    assert requests[0].config.lr == expected


def test_the_dialog_options_carry_the_learning_rate(tmp_path, qtbot):
    from implant_desk.app.finetune.dialog import FinetuneDialog

    assert FinetuneOptions().request(tmp_path).config.lr == TrainingConfig.lr
    dialog = FinetuneDialog(None, options=FinetuneOptions())
    qtbot.addWidget(dialog)
    dialog.lr.setValue(0.0005)
    dialog._read_options()
    assert dialog.options.request(tmp_path).config.lr == pytest.approx(5e-4)
