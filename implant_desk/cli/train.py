"""``implant-desk train DATA...``: fine-tune on annotated folders and register the result as a new version.

The command only turns its arguments into a ``TrainingRequest`` and shows the run's events; the run itself is
implant_desk.core.learning.orchestrator's. Under ``torchrun --nproc_per_node N`` every process runs this
command and trains its share of the images (implant_desk.core.learning.distributed); process 0 alone prints,
evaluates and publishes the version.
"""

from __future__ import annotations

import argparse
import json
import sys

from implant_desk.cli.options import DEVICE_HELP, DEVICES, add_data_options, check_threshold
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.learning.config import TrainingConfig, TrainingRequest
from implant_desk.core.learning.events import DataRead, EpochEnded, FoldStarted, PretrainStep, TrainStep
from implant_desk.core.wording import counted

HELP = "fine-tune on annotated folders (patient-level split) and register the result as a new model version"


def configure(parser: argparse.ArgumentParser) -> None:
    from implant_desk.core.models.predictor import DEFAULT_THRESHOLD

    defaults = TrainingConfig()
    add_data_options(parser)
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help=f"at most this many epochs (default {defaults.epochs})")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop after this long; keeps the best so far, and "
                        "plans the learning rate to have decayed by then")
    parser.add_argument("--device", choices=DEVICES, default=defaults.device,
                        help=f"{DEVICE_HELP} (default {defaults.device})")
    parser.add_argument("--lr", type=float, default=defaults.lr, metavar="RATE",
                        help=f"the new heads' learning rate; pretrained layers learn at a tenth of it (default "
                             f"{defaults.lr:g}; fine-tuning a trained model on real films, 2e-4 did better: "
                             "docs/finetune.md)")
    parser.add_argument("--json", action="store_true", help='last line: {"version", "metrics"}')
    parser.add_argument("--from", dest="parent", default="active", metavar="VERSION",
                        help='start from this model version (default: the active one; "none": ImageNet backbones)')
    parser.add_argument("--seed", type=int, default=defaults.seed, help="same seed, same split and (on CPU) same weights")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--image-size", type=int, metavar="PX", help="detector input size, a multiple of 32")
    parser.add_argument("--freeze-depth", type=int, default=defaults.freeze_depth,
                        help="pretrained stages kept frozen after the head epochs")
    parser.add_argument("--keep-detector", action="store_true",
                        help="keep the parent's fixture detector as it is (a model that reads the design still learns "
                             "its thirds): it finds fixtures as before, and only the classifier learns the systems")
    parser.add_argument("--head-epochs", type=int, default=defaults.head_epochs, help="first epochs train the new heads only")
    parser.add_argument("--pretrain-epochs", type=int, default=defaults.pretrain_epochs, metavar="N",
                        help="first pre-train the backbones for N epochs without labels (masked image modelling, as "
                             "in the implant-design study) on the training images and on the DATA folders' "
                             "unannotated images (except those of validation and test patients); "
                             f"default {defaults.pretrain_epochs}: off")
    parser.add_argument("--patience", type=int, default=defaults.patience,
                        help="epochs without improvement before stopping (0: never)")
    parser.add_argument("--folds", type=int, default=defaults.folds, metavar="K",
                        help="patient-grouped K-fold cross-validation: every figure as mean ± standard deviation over "
                             "the folds; the fold model with the best validation score is registered "
                             f"(default {defaults.folds}: one split)")
    parser.add_argument("--val-fraction", type=float, default=TrainingRequest.val_fraction,
                        help="share of patients for validation")
    parser.add_argument("--test-fraction", type=float, default=TrainingRequest.test_fraction,
                        help="share of patients held out for the figures")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"confidence under which no system is claimed (default {DEFAULT_THRESHOLD})")


def run(args: argparse.Namespace) -> int:
    from implant_desk.core.learning import distributed

    check_threshold(args.threshold)
    if not distributed.launched_by_torchrun():
        return _train(args, rank=0)
    with distributed.process_group(args.device):
        return _train(args, rank=distributed.rank_and_world()[0])


def request_from(args: argparse.Namespace) -> TrainingRequest:
    try:
        config = TrainingConfig(epochs=args.epochs, head_epochs=args.head_epochs, freeze_depth=args.freeze_depth,
                                batch_size=args.batch_size, patience=args.patience, lr=args.lr, seed=args.seed,
                                device=args.device, image_size=args.image_size, time_limit_s=args.time_limit,
                                pretrain_epochs=args.pretrain_epochs, folds=args.folds,
                                keep_fixture_detector=args.keep_detector)
    except ValueError as error:
        raise ImplantDeskError(str(error)) from error
    parent = {"active": "active", "none": None}.get(args.parent.lower(), args.parent)
    if args.keep_detector and parent is None:
        raise ImplantDeskError("--keep-detector keeps a parent's detector: give --from a model, not none")
    return TrainingRequest(tuple(str(folder) for folder in args.data), config, parent=parent,
                           val_fraction=args.val_fraction, test_fraction=args.test_fraction,
                           only=tuple(args.only) if args.only else None, implant_labels=tuple(args.implant_labels),
                           annotation_dir=str(args.annotations) if args.annotations else None,
                           threshold=args.threshold, compare_with_parent=False)


def _train(args: argparse.Namespace, rank: int) -> int:
    from implant_desk.core.learning import orchestrator

    try:
        final = orchestrator.run(request_from(args), on_event=_ProgressBar() if rank == 0 else _ignore)
    except KeyboardInterrupt:
        if rank == 0:
            _say("\nstopped: nothing was registered; run the same command again to resume from the last finished "
                 "epoch")
        raise
    if final is None:  # another torchrun process: process 0 reports
        return 0
    metrics = final.metrics
    if args.json:
        print(json.dumps({"version": final.version, "metrics": metrics}))
        return 0
    print(f"new model version: v{final.version} ({final.stop_reason} after {counted(final.epochs_run, 'epoch')}, "
          f"{final.duration_s:.0f} s); on {counted(final.held_out_images, f'held-out {final.evaluated_on} image')}: "
          f"top-1 {_fmt(metrics.get('top1'))}, AP50 {_fmt(metrics.get('ap50'))}")
    if final.cross_validation:
        folds = final.cross_validation
        figures = ", ".join(f"{label} {_fmt_spread(folds, key)}" for key, label in
                            (("top1", "top-1"), ("top3", "top-3"), ("ap50", "AP50"), ("map", "mAP")))
        print(f"over {folds['folds']} patient-grouped folds: {figures}")
        for system, mean in folds["mean"]["per_class"].items():
            std = folds["std"]["per_class"][system]
            print(f"  {system}: " + ", ".join(f"{name} {_fmt_pair(mean[name], std[name])}"
                                              for name in ("sensitivity", "specificity", "accuracy")))
    print(f"use it with: implant-desk models activate {final.version}")
    return 0


def _ignore(_event) -> None:
    """Processes other than 0 under torchrun show nothing."""


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _fmt_pair(mean: float | None, std: float | None) -> str:
    return "-" if mean is None else f"{mean:.2f} ± {std:.2f}"


def _fmt_spread(cross_validation: dict, key: str) -> str:
    return _fmt_pair(cross_validation["mean"][key], cross_validation["std"][key])


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _ProgressBar:
    """What the data is, then epoch and step progress with loss and ETA on stderr: redrawn in place on a
    terminal, a line per epoch otherwise (logs, CI)."""

    WIDTH = 24

    def __init__(self) -> None:
        self.interactive = sys.stderr.isatty()

    def __call__(self, event) -> None:
        back = "\r" if self.interactive else ""
        if isinstance(event, DataRead):
            _say(f"training on {event.describe}")
            for split, figures in event.summary["splits"].items():
                _say(f"  {split:<5} {counted(figures['images'], 'image')}, {counted(figures['fixtures'], 'fixture')}, "
                     f"{counted(figures['patients'], 'patient')}")
            for note in event.warnings:
                _say(f"warning: {note}")
        elif isinstance(event, FoldStarted):
            _say(f"cross-validation fold {event.fold}/{event.folds}")
        elif isinstance(event, TrainStep) and self.interactive:
            done = self.WIDTH * event.step // event.steps
            bar = "#" * done + "." * (self.WIDTH - done)
            print(f"\repoch {event.epoch}/{event.epochs} [{bar}] loss {event.loss:.3f} ETA {event.eta_s:.0f} s ",
                  end="", file=sys.stderr, flush=True)
        elif isinstance(event, PretrainStep) and (self.interactive or event.step == event.steps):
            print(f"{back}self-supervised pre-training, epoch {event.epoch}/{event.epochs}, step {event.step}/"
                  f"{event.steps}: masked loss {event.loss:.3f} ", end="" if self.interactive else "\n",
                  file=sys.stderr, flush=True)
        elif isinstance(event, EpochEnded):
            figures = " ".join(f"{k} {v:.3f}" for k, v in event.val.items())
            print(f"{back}epoch {event.epoch}/{event.epochs} ({event.phase}) loss {event.train_loss:.3f}  "
                  f"val {figures or '-'}  ETA {event.eta_s:.0f} s", file=sys.stderr, flush=True)
