"""Options that several sub-commands share, declared once so they read and check the same everywhere."""

from __future__ import annotations

import argparse

from implant_desk.core.errors import ImplantDeskError

DEVICES = ("auto", "cpu", "cuda", "mps")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--threshold`` and ``--device`` for commands that run a model."""
    from implant_desk.core.models.predictor import DEFAULT_THRESHOLD

    parser.add_argument("--model", help="model version or model folder (default: the active model)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"claim a system only at this confidence or above (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--device", choices=DEVICES, default="auto")


def check_threshold(threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise ImplantDeskError(f"--threshold must be between 0 and 1, not {threshold}")
