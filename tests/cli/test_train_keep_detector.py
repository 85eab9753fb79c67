"""``train --keep-detector`` keeps the parent's fixture detector (TrainingConfig.keep_fixture_detector), and is
refused without a parent to keep it from."""

from __future__ import annotations

import pytest

from implant_desk.cli import main
from implant_desk.core.learning import orchestrator


class _Stop(Exception):
    pass


@pytest.mark.parametrize(("argv", "kept"), [([], False), (["--keep-detector"], True)])
def test_train_can_keep_the_parent_s_fixture_detector(tmp_path, monkeypatch, argv, kept):
    requests = []

    def run(request, on_event, **_):
        requests.append(request)
        raise _Stop

    monkeypatch.setattr(orchestrator, "run", run)
    with pytest.raises(_Stop):
        main(["train", str(tmp_path), *argv])
    assert requests[0].config.keep_fixture_detector is kept


def test_keeping_the_detector_of_no_parent_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(orchestrator, "run", lambda *args, **kwargs: pytest.fail("the run started"))
    assert main(["train", str(tmp_path), "--from", "none", "--keep-detector"]) != 0
    error = capsys.readouterr().err.strip()
    assert "--keep-detector" in error and len(error.splitlines()) == 1
