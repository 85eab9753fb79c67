"""``implant-desk demo [--no-gui]``: open generated demo radiographs (made once, then reused)."""

from __future__ import annotations

import argparse

from implant_desk.core.registry import model_systems
from implant_desk.core.synthetic import make_demo_folder

HELP = "open about 40 generated radiographs of 12 patients in the annotation window (made once, then reused)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-gui", action="store_true", help="only make the demo folder and print where it is")


def run(args: argparse.Namespace) -> int:
    folder = make_demo_folder(model_systems())  # the systems the shipped model names
    print(folder)
    if args.no_gui:
        return 0
    from implant_desk.app.launch import launch

    return launch([str(folder)])
