"""Options that several sub-commands share, declared once so they read and check the same everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from implant_desk.core.errors import ImplantDeskError

DEVICES = ("auto", "cpu", "cuda", "mps")
DEVICE_HELP = "where the model runs: auto (a CUDA or Apple GPU when there is one, else the CPU), cpu, cuda or mps"


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--threshold`` and ``--device`` for commands that run a model."""
    from implant_desk.core.models.predictor import DEFAULT_THRESHOLD

    parser.add_argument("--model", help="model version or model folder (default: the active model)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"claim a system only at this confidence or above (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--device", choices=DEVICES, default="auto", help=f"{DEVICE_HELP} (default auto)")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``DATA...``, ``--annotations`` and ``--only`` for commands that read annotated folders."""
    parser.add_argument("data", nargs="+", type=Path, metavar="DATA",
                        help="annotated image folders (VOC, YOLO, CreateML), sub-folders included")
    parser.add_argument("--annotations", type=Path, metavar="DIR",
                        help="the folder holding the annotation files when they are not beside the images (LabelImg's "
                             "'Change Save Dir'). It is flat, one file per image name, so it serves the images of "
                             "every DATA folder; images of different folders with the same name (a/img1.png, "
                             "b/img1.png) would share one file and are skipped with a warning")
    parser.add_argument("--only", action="append", metavar="LABEL",
                        help="use only boxes with this label (repeatable); other boxes are ignored")
    parser.add_argument("--implant-labels", action="append", metavar="LABEL", default=[],
                        help="a label that means an implant whose system is not given (repeatable); common names "
                             "such as 'Implant' or 'fixture' need none. Such boxes teach the detector only; "
                             "fillings, caries, teeth and design parts are never counted as implants")


def check_threshold(threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise ImplantDeskError(f"--threshold must be between 0 and 1, not {threshold}")
