"""Does self-supervised pre-training (implant_desk.core.learning.pretrain) help? Printed, never asserted: run with ``nice``.

    nice -n 19 python benchmarks/bench_pretrain.py [--threads 2] [--epochs 12] [--pretrain-epochs 3]
                                                   [--images 40] [--unannotated 150] [--eval-images 100]

A lab folder of ``--images`` annotated generated periapicals (seed A) and a second folder of ``--unannotated``
generated images of other patients (seed A+2) whose annotation files are deleted: the dataset lists them as
unannotated and ``finetune.pretraining_images`` hands them to pre-training. Two runs from the ImageNet
backbones with the same seed and schedule, patience off: without pre-training (the baseline), then with
``--pretrain-epochs`` of it on the annotated and unannotated images. After every epoch both are scored on
``--eval-images`` generated images of unseen patients (seed A+1); those only measure, never steer.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from bench_finetune import Recorder, generate


def run(spec, data, held, epochs: int, pretrain_epochs: int, seed: int) -> tuple[Recorder, dict[int, float], float]:
    """One fit; returns its recorder, held-out top-1 per epoch and the seconds spent pre-training."""
    from implant_desk.core.learning.config import TrainingConfig
    from implant_desk.core.learning.events import EpochEnded, PretrainStep
    from implant_desk.core.learning.fit import fit, prepare_images
    from implant_desk.core.learning.network import build_network
    from implant_desk.core.learning.orchestrator import pretraining_images
    from implant_desk.core.learning.pretrain import pretrain_before_fit

    recorder = Recorder("top1")
    pretrain_done: list[float] = []
    top1: dict[int, float] = {}

    def on_event(event) -> None:
        if isinstance(event, PretrainStep):
            if event.step == event.steps:
                pretrain_done.append(time.monotonic() - recorder.started)
                print(f"  pre-training epoch {event.epoch}/{event.epochs} on {event.images} images: masked "
                      f"loss {event.loss:.3f}, {pretrain_done[-1]:.0f} s", flush=True)
            return
        if isinstance(event, EpochEnded):
            top1[event.epoch] = event.val["top1"]
        recorder(event)

    # The orchestrator's training step, with images held out of the folder as the validation set.
    config = TrainingConfig(epochs=epochs, patience=0, seed=seed, pretrain_epochs=pretrain_epochs, device="cpu")
    network = build_network(spec, config)
    train = prepare_images(data.split.train, spec)
    if pretrain_epochs:
        pretrain_before_fit(network, train, pretraining_images(data), config, on_event)
    fit(network, train, prepare_images(held, spec), config, on_event=on_event)
    return recorder, top1, pretrain_done[-1] if pretrain_done else 0.0


def main() -> int:
    from implant_desk.core.learning.dataset import load_dataset
    from implant_desk.core.learning.orchestrator import prepare_training_data, training_spec

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11, help="seed A")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--unannotated", type=int, default=150)
    parser.add_argument("--eval-images", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--pretrain-epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads; the machine may be shared: times are upper bounds")
    with tempfile.TemporaryDirectory(prefix="bench-pretrain-") as tmp:
        lab = generate(Path(tmp) / "lab", args.images, args.seed)
        plain = generate(Path(tmp) / "plain", args.unannotated, args.seed + 2)
        for xml in plain.glob("*.xml"):
            xml.unlink()
        data = prepare_training_data([lab, plain], val_fraction=0.0, test_fraction=0.0)
        held = load_dataset([generate(Path(tmp) / "unseen", args.eval_images, args.seed + 1)]).samples
        print(f"training on {data.describe()}; {len(data.dataset.unannotated)} unannotated images; held out "
              f"{len(held)} images of other patients", flush=True)
        spec = training_spec(data.dataset.classes, parent=None)
        results = {}
        for name, pretrain_epochs in (("baseline", 0), ("pre-trained", args.pretrain_epochs)):
            print(f"\n{name}: {args.epochs} epochs from ImageNet, seed {args.seed}, pre-training epochs "
                  f"{pretrain_epochs}", flush=True)
            results[name] = run(spec, data, held, args.epochs, pretrain_epochs, args.seed)
    (base, base_top1, _), (pre, pre_top1, pretrain_s) = results["baseline"], results["pre-trained"]
    print("\nRESULT held-out top-1 per epoch (baseline / pre-trained):")
    for epoch in sorted(base_top1):
        print(f"  epoch {epoch:>2}: {base_top1[epoch]:.3f} / {pre_top1.get(epoch, float('nan')):.3f}")
    print(f"RESULT best top-1: baseline {base.best[0]:.3f} (epoch {base.best[1]}), pre-trained {pre.best[0]:.3f} "
          f"(epoch {pre.best[1]}); pre-training took {pretrain_s:.0f} s of {args.pretrain_epochs} epochs on "
          f"{args.images + args.unannotated} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
