"""``implant-desk synth OUT --images N --seed S [--format dicom|png|tiff] [--systems FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from implant_desk.cli.catalogue import catalogue_in_use
from implant_desk.core.errors import FileProblem
from implant_desk.core.synthetic import FORMATS, generate_series, write_dataset
from implant_desk.core.wording import counted

HELP = "generate radiographs with exact truth: images, VOC boxes, parts, patients.csv and truth.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT", help="a new or empty folder")
    parser.add_argument("--images", type=_at_least(1), default=20, metavar="N", help="how many images (default 20)")
    parser.add_argument("--seed", type=_at_least(0), default=0, metavar="S", help="same seed, same files (default 0)")
    parser.add_argument("--format", choices=FORMATS, default="dicom", help="image file format (default dicom)")
    parser.add_argument("--systems", type=Path, metavar="FILE",
                        help="implant systems CSV (default: the catalogue in use, the lab's copy when there is one: "
                             "`implant-desk catalogue list`)")


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileProblem(out, "is not an empty folder; choose a new or empty one so no file is overwritten")
    systems = list(catalogue_in_use(args.systems).systems)
    interactive = sys.stderr.isatty()

    def progress(done: int) -> None:
        if interactive:
            print(f"\r{done}/{args.images} images", end="", file=sys.stderr, flush=True)

    truth = write_dataset(out, generate_series(args.images, args.seed, systems), args.format, args.seed, systems,
                          progress)
    if interactive:
        print(file=sys.stderr)
    print(f"{counted(args.images, 'image')} of {counted(len(systems), 'implant system')} written to {out} "
          f"(truth: {truth.name})")
    return 0


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse
