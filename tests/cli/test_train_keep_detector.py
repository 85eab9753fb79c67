"""``train --keep-detector`` keeps the parent's fixture detector (TrainingConfig.keep_fixture_detector), and is
refused without a parent to keep it from."""

from __future__ import annotations

import argparse

import pytest

from implant_desk.cli import main
from implant_desk.cli import train as train_cli
from implant_desk.core.learning import orchestrator


def _request(*argv: str):
    parser = argparse.ArgumentParser()
    train_cli.configure(parser)
    return train_cli.request_from(parser.parse_args(["data", *argv]))


def test_train_can_keep_the_parent_s_fixture_detector():
    assert _request().config.keep_fixture_detector is False
    assert _request("--keep-detector").config.keep_fixture_detector is True


def test_keeping_the_detector_of_no_parent_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(orchestrator, "run", lambda *args, **kwargs: pytest.fail("the run started"))
    assert main(["train", str(tmp_path), "--from", "none", "--keep-detector"]) != 0
    error = capsys.readouterr().err.strip()
    assert "--keep-detector" in error and len(error.splitlines()) == 1
