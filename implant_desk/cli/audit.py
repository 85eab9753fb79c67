"""``implant-desk audit DATA``: implant boxes that show no implant, for a person to check before training."""

from __future__ import annotations

import argparse
import sys

from implant_desk.cli.options import add_data_options
from implant_desk.core.wording import counted

HELP = "list implant boxes with little metal along their middle (root-filled teeth, posts, crowns labelled implant)"


def configure(parser: argparse.ArgumentParser) -> None:
    from implant_desk.core.learning.label_audit import METAL_SHARE_FLOOR

    add_data_options(parser)
    parser.add_argument("--floor", type=float, default=METAL_SHARE_FLOOR,
                        help="doubt a box whose middle third holds less metal than this share "
                             f"(default {METAL_SHARE_FLOOR})")


def run(args: argparse.Namespace) -> int:
    from implant_desk.core.learning.dataset import load_dataset
    from implant_desk.core.learning.label_audit import doubted_labels
    from implant_desk.core.learning.labels import LabelRoles

    dataset = load_dataset(args.data, args.only, annotation_dir=args.annotations,
                           roles=LabelRoles.with_implant_labels(args.implant_labels))
    for note in dataset.warnings:
        print(f"warning: {note}", file=sys.stderr)
    doubted = doubted_labels(dataset.samples, args.floor)
    for label in doubted:
        print(label.describe())
    unnamed = sum(f.system is None and not f.difficult for s in dataset.samples for f in s.truth())
    print(f"{counted(len(doubted), 'implant box', 'implant boxes')} of {unnamed} without a system doubted in "
          f"{counted(len(dataset.samples), 'image')}. Check each on the film: mark it difficult (Ctrl+Shift+X) to "
          "leave it out of training and scoring, or delete it when it is not an implant.", file=sys.stderr)
    return 0
