"""One rank of ``torchrun ... distributed_train_worker.py OUT train ARGS``: runs ``implant-desk train ARGS``
as torchrun starts it, keeping what the test checks in OUT: this rank's output and its trained weights."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import torch

from implant_desk.cli import main
from implant_desk.core.learning import orchestrator


def _keep_weights(train, out: Path, rank: int):
    def train_and_keep(*args, **kwargs):
        result = train(*args, **kwargs)
        torch.save(result.network.state_dict(), out / f"rank{rank}.pt")
        return result

    return train_and_keep


if __name__ == "__main__":
    torch.set_num_threads(1)  # two processes on a shared machine
    out, rank = Path(sys.argv[1]), int(os.environ["RANK"])
    orchestrator.train = _keep_weights(orchestrator.train, out, rank)
    with open(out / f"rank{rank}.out", "w") as stdout, open(out / f"rank{rank}.err", "w") as stderr, \
            contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(sys.argv[2:])
    raise SystemExit(code)
