"""Time to list a folder of 10,000 images with their annotation status (target: <= 1 s).

Makes a temporary folder of empty image files, a third of them with a LabelImg VOC file (half of those
verified), then times ``scan_image_folder`` against a plain baseline measured in the same run: ``glob`` for the
images and a full XML parse of each annotation to read ``verified``. Prints medians and the ratio.

Then the review's case (issue 13): every image without an annotation is pre-annotated (a proposals file with two
proposed boxes, ``.implant-desk/proposals/``), and the listing, the review counts and the "which image next" order
over the 10,000 images are timed: what the window does on opening the folder and after each save.

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

from implant_desk.core.annotations.folder import ANNOTATED, NOT_ANNOTATED, PROPOSED, VERIFIED, scan_image_folder
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.proposals import ImageProposals, Proposal, write_proposals
from implant_desk.core.annotations.voc import voc_to_bytes
from implant_desk.core.review.order import review_order, to_review
from implant_desk.core.review.summary import ReviewCounts


def make_folder(folder: Path, images: int) -> None:
    boxes = [Box(f"Implant {i}", 10 * i, 20, 10 * i + 50, 200) for i in range(8)]
    for index in range(images):
        name = f"radiograph_{index:05d}"
        (folder / f"{name}.png").write_bytes(b"")
        if index % 3 == 0:
            annotation = ImageAnnotation(f"{name}.png", 2400, 3200, 1, boxes, verified=index % 2 == 0)
            (folder / f"{name}.xml").write_bytes(voc_to_bytes(annotation))


def pre_annotate(folder: Path) -> int:
    """A proposals file for every image without an annotation, as ``predict --propose`` leaves them."""
    count = 0
    for entry in scan_image_folder(folder):
        if entry.status == NOT_ANNOTATED:
            proposals = tuple(Proposal((10 + 60 * i, 20, 60 + 60 * i, 200), "implant", (("A", 0.6), ("B", 0.3)), 0.8, "3")
                              for i in range(2))
            write_proposals(entry.path, None, ImageProposals(entry.path.name, proposals, "3", (count % 97) / 97))
            count += 1
    return count


def review_view(folder: Path) -> None:
    """What the window computes for the review: the listing, the counts, the next image (most uncertain)."""
    entries = scan_image_folder(folder)
    ReviewCounts.of_entries(entries)
    review_order(to_review(entries))[:1]


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
        proposed = pre_annotate(folder)
        listed = scan_image_folder(folder)
        assert sum(e.status == PROPOSED for e in listed) == proposed
        review_s = median_seconds(lambda: review_view(folder), args.repeat)
    annotated = sum(e.status != NOT_ANNOTATED for e in ours)
    print(f"folder listing: {args.images} images, {annotated} annotated (median of {args.repeat}, warm cache)")
    print(f"  scan_image_folder (scandir + verified sniff): {ours_s * 1000:8.1f} ms   target <= 1000 ms")
    print(f"  baseline (glob + full XML parse)            : {base_s * 1000:8.1f} ms")
    print(f"  ratio baseline / ours                       : {base_s / ours_s:8.2f}x")
    print(f"review: the other {proposed} images pre-annotated (two proposed boxes each)")
    print(f"  listing + counts + next image to review     : {review_s * 1000:8.1f} ms   target <= 1000 ms "
          f"({review_s / ours_s:.1f}x the listing without proposals)")


if __name__ == "__main__":
    main()
