"""``implant-desk review FOLDER``: where a folder's review stands, and which images to review next."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from implant_desk.core.annotations.folder import annotation_folder, scan_image_folder
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.review.order import ORDERS, UNCERTAINTY, review_order, to_review
from implant_desk.core.review.summary import ReviewCounts

HELP = "count a folder's images by review state (proposed, reviewed, hand-made, not annotated) and list what next"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="a folder of radiographs")
    parser.add_argument("--annotations", type=Path, metavar="DIR",
                        help="the folder the annotations are kept in, when not beside the images")
    parser.add_argument("--order", choices=ORDERS, default=UNCERTAINTY,
                        help="which image next: the model's most uncertain first (default), random, or file order")
    parser.add_argument("--seed", type=int, default=0, help="the random order's seed (default 0)")
    parser.add_argument("--next", type=int, default=10, metavar="N", help="list the next N images (default 10)")
    parser.add_argument("--json", action="store_true", help="one JSON object")


def run(args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        raise ImplantDeskError(f"{args.folder}: not a folder")
    entries = scan_image_folder(args.folder, annotation_folder(args.folder, args.annotations))
    counts = ReviewCounts.of_entries(entries)
    uncertainty = {entry.path: entry.uncertainty for entry in entries}
    upcoming = review_order(to_review(entries), args.order, args.seed)[:max(0, args.next)]
    if args.json:
        print(json.dumps({"folder": str(args.folder), "counts": counts.to_json(), "order": args.order,
                          "next": [{"path": str(p), "uncertainty": uncertainty[p]} for p in upcoming]}))
        return 0
    print(f"{args.folder}: {counts.text()}")
    for number, path in enumerate(upcoming, 1):
        known = uncertainty[path]
        print(f"  {number}. {path.name}" + (f" (uncertainty {known:.2f})" if known is not None else ""))
    return 0
