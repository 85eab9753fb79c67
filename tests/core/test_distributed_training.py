"""``implant-desk train`` under torchrun: two CPU processes (gloo) train one model; rank 0 alone publishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from implant_desk.cli import main
from implant_desk.core.learning import distributed
from implant_desk.core.registry import Registry

WORKER = Path(__file__).with_name("distributed_train_worker.py")


@pytest.mark.slow
def test_two_gloo_processes_end_with_identical_weights_and_publish_once(tmp_path, capsys):
    data, out = tmp_path / "data", tmp_path / "out"
    out.mkdir()
    assert main(["synth", str(data), "--images", "8", "--seed", "5", "--format", "png"]) == 0
    capsys.readouterr()

    train = ["train", str(data), "--epochs", "2", "--head-epochs", "1", "--image-size", "64", "--batch-size", "2",
             "--from", "none", "--device", "cpu", "--val-fraction", "0.25", "--test-fraction", "0.25", "--json"]
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          str(WORKER), str(out), *train],
                         env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:] + "".join(p.read_text() for p in out.glob("rank*.err"))

    first, second = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first), "the ranks' weights differ"

    published = [v for v in Registry().versions() if not v.read_only]
    assert len(published) == 1
    rank0, rank1 = ((out / f"rank{r}.out").read_text() for r in (0, 1))
    assert json.loads(rank0.strip().splitlines()[-1])["version"] == published[0].version
    assert rank1 == ""
    assert "epoch 2/2" in (out / "rank0.err").read_text()
    assert (out / "rank1.err").read_text() == ""
    assert published[0].card.training["epochs_run"] == 2


@pytest.mark.parametrize("size", [5, 6, 7])
def test_every_rank_gets_as_many_images_and_together_they_cover_all(size):
    order = list(range(size))
    shares = [distributed.shard(order, rank, 3) for rank in range(3)]
    assert len({len(share) for share in shares}) == 1
    assert set().union(*shares) == set(order)


def test_outside_torchrun_everything_is_a_single_process():
    network = torch.nn.Linear(2, 2)
    assert distributed.rank_and_world() == (0, 1)
    assert distributed.wrap(network, torch.device("cpu")) is network
    assert distributed.shard([3, 1, 2], 0, 1) == [3, 1, 2]
    assert distributed.first_reason("time limit") == "time limit" and distributed.from_rank0({"a": 1}) == {"a": 1}
    assert distributed.on_every_rank(False) is False
