"""``implant-desk info FILE... [--json]``: what each radiograph is, without opening the GUI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from implant_desk.core.errors import UnreadableImageError
from implant_desk.core.imaging.loading import load_radiograph
from implant_desk.core.imaging.radiograph import Radiograph

HELP = "print format, size, depth, pixel spacing and patient id of image files"

FIELDS = ("format", "width", "height", "bits", "photometric", "frames", "spacing_mm", "spacing_source", "patient_id")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="DICOM, TIFF, PNG, JPEG or BMP files")
    parser.add_argument("--json", action="store_true", help="one JSON object per line (keys: path and the fields)")


def run(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            radiograph = load_radiograph(path)
        except UnreadableImageError as error:
            print(error, file=sys.stderr)  # "path: reason"
            failed += 1
            continue
        record = describe(radiograph)
        if args.json:
            print(json.dumps({"path": str(path), **record}))
        else:
            print(f"{path}\n" + "".join(f"  {key:<15} {_human(value)}\n" for key, value in record.items()), end="")
        sys.stdout.flush()  # each file's line appears as soon as it is known, even when piped
    return 1 if failed else 0


def describe(radiograph: Radiograph) -> dict[str, object]:
    spacing = list(radiograph.spacing_mm) if radiograph.spacing_mm is not None else None
    return {
        "format": radiograph.format,
        "width": radiograph.width,
        "height": radiograph.height,
        "bits": radiograph.bits,
        "photometric": radiograph.photometric,
        "frames": radiograph.frames,
        "spacing_mm": spacing,
        "spacing_source": radiograph.spacing_source,
        "patient_id": radiograph.patient_id,
    }


def _human(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return " x ".join(f"{v:g}" for v in value) + " (row x column)"
    return str(value)
