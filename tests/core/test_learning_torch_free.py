"""What crosses the process and window boundaries stays torch-free: the training configuration, the progress
events, the child process's parent side, and the fine-tune dialog's options and session (checked in a fresh
interpreter, so the window opens without loading torch)."""

import json
import subprocess
import sys

TORCH_FREE = ("implant_desk.core.learning.config", "implant_desk.core.learning.events",
              "implant_desk.core.learning.orchestrator", "implant_desk.core.learning.child_process",
              "implant_desk.app.finetune.controller", "implant_desk.app.finetune.session")


def test_boundary_types_import_without_torch():
    script = ("import importlib, json, sys\n"
              f"for name in {TORCH_FREE!r}: importlib.import_module(name)\n"
              "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision'))))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_events_and_requests_survive_the_pipe():
    import pickle

    from implant_desk.core.learning.config import TrainingConfig, TrainingRequest
    from implant_desk.core.learning.events import EpochEnded

    request = TrainingRequest(("lab",), TrainingConfig(epochs=3, folds=5))
    event = EpochEnded(epoch=1, epochs=3, phase="heads", train_loss=0.5, val={"top1": 1.0}, monitor="top1",
                       best_epoch=1, elapsed_s=2.0, eta_s=4.0)
    assert pickle.loads(pickle.dumps(request)) == request and pickle.loads(pickle.dumps(event)) == event
    assert json.loads(json.dumps(event.to_dict()))["event"] == "epoch"
