"""``implant-desk convert SRC --to FORMAT --out DIR``: convert a folder's annotations to another format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from implant_desk.core.annotations.folder_io import (
    COCO_FILENAME,
    OUTPUT_FORMATS,
    locate_source,
    read_folder,
    reviewed_only,
    write_folder,
)
from implant_desk.core.annotations.yolo import merge_classes, read_classes
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.wording import counted

HELP = "convert a folder's annotations between VOC, YOLO, CreateML and COCO (the source is never written)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "src",
        type=Path,
        help="folder of VOC/YOLO/CreateML files, a COCO JSON file, or a folder with images/ and labels/",
    )
    parser.add_argument("--to", required=True, choices=OUTPUT_FORMATS, help="format to write")
    parser.add_argument("--out", required=True, type=Path, help=f"output folder (COCO: {COCO_FILENAME} in it)")
    parser.add_argument("--images", type=Path, help="where the images are, when not beside the annotations")
    parser.add_argument(
        "--classes",
        type=Path,
        help="class file (one name a line, e.g. predefined_classes.txt) fixing YOLO/COCO class ids",
    )
    parser.add_argument("--reviewed", action="store_true",
                        help="only the images a person has reviewed (verified; YOLO: marked reviewed in the window)")


def run(args: argparse.Namespace) -> int:
    annotations_path, images = locate_source(args.src, args.images)
    _refuse_writing_into(args.out, [args.src, annotations_path, images])
    folder = read_folder(args.src, args.images)
    if args.reviewed:
        folder = reviewed_only(folder, annotations_path)
        if not folder.annotations:
            raise ImplantDeskError(f"{args.src}: no image is marked reviewed (verified), so nothing was converted")
    if not folder.annotations:
        raise ImplantDeskError(_nothing_read(args.src, folder.problems))
    for warning in folder.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in folder.problems:
        print(f"error: {problem}", file=sys.stderr)
    if args.classes:
        folder.classes = merge_classes(read_classes(args.classes), folder.classes)
    write_folder(folder, args.out, args.to)
    boxes = sum(len(a.boxes) for a in folder.annotations)
    print(f"converted {counted(len(folder.annotations), 'image')} ({counted(boxes, 'box', 'boxes')}) from {folder.fmt} to {args.to} into {args.out}")
    if folder.problems:
        print(f"{counted(len(folder.problems), 'file')} could not be read and were not converted", file=sys.stderr)
        return 1
    return 0


def _nothing_read(src: Path, problems: list[ImplantDeskError]) -> str:
    """One line (the CLI's promise) even when every file failed: the first reason and how many more."""
    message = f"{src}: no annotation could be read, so nothing was converted"
    if problems:
        more = f"; {len(problems) - 1} more file(s) failed too" if len(problems) > 1 else ""
        message += f" ({problems[0]}{more})"
    return message


def _refuse_writing_into(out: Path, sources: list[Path]) -> None:
    target = out.resolve()
    for source in sources:
        folder = source.resolve() if source.is_dir() else source.resolve().parent
        if target == folder or folder in target.parents:
            raise ImplantDeskError(
                f"the output folder {out} is inside the source {source}; choose a folder outside it, "
                "so the source annotations are never touched"
            )
