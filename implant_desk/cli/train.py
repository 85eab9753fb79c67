"""``implant-desk train DATA...``: fine-tune on annotated folders and register the result as a new version.

Under ``torchrun --nproc_per_node N`` every process runs this command and trains its share of the images
(implant_desk.core.learning.distributed); process 0 alone prints, evaluates and publishes the version.
"""

from __future__ import annotations

import argparse
import json
import sys

from implant_desk.cli.options import DEVICES, add_data_options, check_threshold
from implant_desk.core.errors import ImplantDeskError

HELP = "fine-tune on annotated folders (patient-level split) and register the result as a new model version"


def configure(parser: argparse.ArgumentParser) -> None:
    from implant_desk.core.models.predictor import DEFAULT_THRESHOLD
    from implant_desk.core.learning.fit import FitConfig

    defaults = FitConfig()
    add_data_options(parser)
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help=f"at most this many epochs (default {defaults.epochs})")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop after this long; keeps the best so far")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--json", action="store_true", help='last line: {"version", "metrics"}')
    parser.add_argument("--from", dest="parent", default="active", metavar="VERSION",
                        help='start from this model version (default: the active one; "none": ImageNet backbones)')
    parser.add_argument("--seed", type=int, default=defaults.seed, help="same seed, same split and (on CPU) same weights")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--image-size", type=int, metavar="PX", help="detector input size, a multiple of 32")
    parser.add_argument("--freeze-depth", type=int, default=defaults.freeze_depth,
                        help="pretrained stages kept frozen after the head epochs")
    parser.add_argument("--head-epochs", type=int, default=defaults.head_epochs, help="first epochs train the new heads only")
    parser.add_argument("--pretrain-epochs", type=int, default=defaults.pretrain_epochs, metavar="N",
                        help="first pre-train the backbones for N epochs without labels (masked image modelling, as "
                             "in the implant-design study) on the training images and on the DATA folders' "
                             "unannotated images (except those of validation and test patients); "
                             f"default {defaults.pretrain_epochs}: off")
    parser.add_argument("--patience", type=int, default=defaults.patience,
                        help="epochs without improvement before stopping (0: never)")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="share of patients for validation")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of patients held out for the figures")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"confidence under which no system is claimed (default {DEFAULT_THRESHOLD})")


def run(args: argparse.Namespace) -> int:
    from implant_desk.core.learning import distributed

    check_threshold(args.threshold)
    if not distributed.launched_by_torchrun():
        return _train(args, rank=0)
    with distributed.process_group(args.device):
        return _train(args, rank=distributed.rank_and_world()[0])


def _train(args: argparse.Namespace, rank: int) -> int:
    from implant_desk.core.learning import orchestrator as finetune
    from implant_desk.core.registry import Registry
    from implant_desk.core.learning.fit import FitConfig

    data = finetune.prepare_training_data(args.data, args.val_fraction, args.test_fraction, args.seed, args.only,
                                          annotation_dir=args.annotations)
    if rank == 0:
        _describe(data)
    registry = Registry()
    choice = args.parent.lower()
    parent = registry.active() if choice == "active" else None if choice == "none" else registry.get(args.parent)
    spec = finetune.training_spec(data.dataset.classes, parent, args.image_size)
    config = FitConfig(epochs=args.epochs, head_epochs=min(args.head_epochs, args.epochs), freeze_depth=args.freeze_depth,
                       batch_size=args.batch_size, patience=args.patience, seed=args.seed, device=args.device,
                       init_from=str(parent.folder) if parent else None, time_limit_s=args.time_limit,
                       pretrain_epochs=args.pretrain_epochs)
    try:
        result = finetune.train(data, spec, config, on_progress=_ProgressBar())
    except KeyboardInterrupt:
        if rank == 0:
            _say("\nstopped: nothing was registered; run the same command again to resume from the last finished "
                 "epoch")
        raise
    if rank != 0:
        return 0
    if result.epochs_run == 0:
        raise ImplantDeskError("the time limit ran out before the first epoch finished; nothing was registered")
    split_name, held_out = finetune.held_out(data)
    evaluation = finetune.evaluate_samples(_predictor(result.network), held_out, data.dataset.classes, args.threshold)
    version = finetune.publish_result(result, data, parent, evaluation, split_name, args.threshold, registry)
    metrics = version.card.metrics
    if args.json:
        print(json.dumps({"version": version.version, "metrics": metrics}))
    else:
        print(f"new model version: v{version.version} ({result.stop_reason} after {result.epochs_run} epochs, "
              f"{result.duration_s:.0f} s); on {len(held_out)} held-out {split_name} images: "
              f"top-1 {_fmt(metrics.get('top1'))}, AP50 {_fmt(metrics.get('ap50'))}")
        print(f"use it with: implant-desk models activate {version.version}")
    return 0


def _describe(data) -> None:
    _say(f"training on {data.describe()}")
    for split, figures in data.summary["splits"].items():
        _say(f"  {split:<5} {figures['images']} images, {figures['fixtures']} fixtures, {figures['patients']} patients")
    for note in data.warnings:
        _say(f"warning: {note}")


def _predictor(network):
    from implant_desk.core.models.predictor import Predictor

    return Predictor(network, "cpu")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _ProgressBar:
    """Epoch and step progress with loss and ETA on stderr: redrawn in place on a terminal, a line per epoch
    otherwise (logs, CI)."""

    WIDTH = 24

    def __init__(self) -> None:
        self.interactive = sys.stderr.isatty()

    def __call__(self, event: dict) -> None:
        if event["event"] == "step" and self.interactive:
            done = self.WIDTH * event["step"] // event["steps"]
            bar = "#" * done + "." * (self.WIDTH - done)
            print(f"\repoch {event['epoch']}/{event['epochs']} [{bar}] loss {event['loss']:.3f} "
                  f"ETA {event['eta_s']:.0f} s ", end="", file=sys.stderr, flush=True)
        elif event["event"] == "pretrain" and (self.interactive or event["step"] == event["steps"]):
            print(f"{chr(13) if self.interactive else ''}self-supervised pre-training, epoch {event['epoch']}/"
                  f"{event['epochs']}, step {event['step']}/{event['steps']}: masked loss {event['loss']:.3f} ",
                  end="" if self.interactive else "\n", file=sys.stderr, flush=True)
        elif event["event"] == "epoch":
            figures = " ".join(f"{k} {v:.3f}" for k, v in event["val"].items())
            print(f"{chr(13) if self.interactive else ''}epoch {event['epoch']}/{event['epochs']} ({event['phase']}) "
                  f"loss {event['train_loss']:.3f}  val {figures or '-'}  ETA {event['eta_s']:.0f} s",
                  file=sys.stderr, flush=True)
