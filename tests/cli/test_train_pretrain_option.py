"""``implant-desk train --pretrain-epochs N`` reaches the training loop and says what it does."""

from __future__ import annotations

import pytest

from implant_desk.cli import main
from implant_desk.core.learning import orchestrator
from implant_desk.core.errors import ImplantDeskError

from training_folders import write_training_folder


def test_the_option_reaches_the_training_config(tmp_path, monkeypatch, capsys):
    folder = write_training_folder(tmp_path / "lab", patients=4)
    configs = []

    def stand_in(data, spec, config, **_):
        configs.append(config)
        raise ImplantDeskError("stand-in: not training")

    monkeypatch.setattr(orchestrator, "train", stand_in)
    assert main(["train", str(folder), "--from", "none", "--pretrain-epochs", "4"]) == 1
    assert main(["train", str(folder), "--from", "none"]) == 1
    assert [c.pretrain_epochs for c in configs] == [4, 0]  # off unless asked for
    assert "stand-in" in capsys.readouterr().err


def test_help_says_it_uses_the_unannotated_images_too(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--pretrain-epochs N" in text and "unannotated images" in text and "masked image modelling" in text
