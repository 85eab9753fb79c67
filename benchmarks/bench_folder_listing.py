"""Time to list a folder of 10,000 images with their annotation status (target: <= 1 s).

Makes a temporary folder of empty image files, a third of them with a LabelImg VOC file (half of those
verified), then times ``scan_image_folder`` against a plain baseline measured in the same run: ``glob`` for the
images and a full XML parse of each annotation to read ``verified``. Prints medians and the ratio.

    python benchmarks/bench_folder_listing.py [--images 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from implant_desk.core.annotations.folder import ANNOTATED, NOT_ANNOTATED, VERIFIED, scan_image_folder
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import voc_to_bytes


def make_folder(folder: Path, images: int) -> None:
    boxes = [Box(f"Implant {i}", 10 * i, 20, 10 * i + 50, 200) for i in range(8)]
    for index in range(images):
        name = f"radiograph_{index:05d}"
        (folder / f"{name}.png").write_bytes(b"")
        if index % 3 == 0:
            annotation = ImageAnnotation(f"{name}.png", 2400, 3200, 1, boxes, verified=index % 2 == 0)
            (folder / f"{name}.xml").write_bytes(voc_to_bytes(annotation))


def baseline(folder: Path) -> list[tuple[str, str]]:
    """What a straightforward implementation does: glob each suffix, parse every XML fully."""
    result = []
    for image in sorted(glob.glob(os.path.join(folder, "*.png"))):
        xml = os.path.splitext(image)[0] + ".xml"
        if os.path.exists(xml):
            verified = ElementTree.parse(xml).getroot().get("verified") == "yes"
            result.append((image, VERIFIED if verified else ANNOTATED))
        else:
            result.append((image, NOT_ANNOTATED))
    return result


def median_seconds(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_folder(folder, args.images)
        ours = scan_image_folder(folder)
        theirs = baseline(folder)
        assert [(str(e.path), e.status) for e in ours] == theirs, "both listings must agree"
        ours_s = median_seconds(lambda: scan_image_folder(folder), args.repeat)
        base_s = median_seconds(lambda: baseline(folder), args.repeat)
    annotated = sum(e.status != NOT_ANNOTATED for e in ours)
    print(f"folder listing: {args.images} images, {annotated} annotated (median of {args.repeat}, warm cache)")
    print(f"  scan_image_folder (scandir + verified sniff): {ours_s * 1000:8.1f} ms   target <= 1000 ms")
    print(f"  baseline (glob + full XML parse)            : {base_s * 1000:8.1f} ms")
    print(f"  ratio baseline / ours                       : {base_s / ours_s:8.2f}x")


if __name__ == "__main__":
    main()
