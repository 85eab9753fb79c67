"""``implant-desk predict PATH...``: find the fixtures in radiographs and name their implant systems."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from implant_desk.cli.options import add_model_options, check_threshold
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.reports.fixture_text import candidate_text
from implant_desk.core.wording import counted

HELP = ("identify implant fixtures in radiographs (files or folders); --json prints one line per image; --propose "
        "stores them as proposed boxes to review")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="radiograph files or folders of them")
    add_model_options(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per image per line")
    parser.add_argument("--overlay", type=Path, metavar="DIR", help="also write each image with its boxes as PNG")
    parser.add_argument("--propose", action="store_true",
                        help="store the fixtures as proposed boxes beside the annotations (.implant-desk/proposals/), "
                             "to review in the window; images already annotated or in review are left alone")
    parser.add_argument("--annotations", type=Path, metavar="DIR",
                        help="with --propose: the folder the annotations are kept in, when not beside the images")


def run(args: argparse.Namespace) -> int:
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.card import card_warning
    from implant_desk.core.models.locate import model_folder
    from implant_desk.core.models.predictor import Predictor

    check_threshold(args.threshold)
    images = _image_paths(args.paths)
    if not images:
        raise ImplantDeskError("no radiograph found in the given paths")
    predictor = Predictor.from_folder(model_folder(args.model), device=args.device)
    note = card_warning(predictor.card)  # what the Identify panel says about the model: its use, its limits
    if not args.json:
        print(f"model {predictor.name}: {note}", flush=True)
    if args.propose:
        return _propose(predictor, images, args)
    if args.overlay:
        args.overlay.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in images:
        started = time.perf_counter()
        try:
            radiograph = load_radiograph(path)
            fixtures = predictor.predict(radiograph, args.threshold)
        except ImplantDeskError as error:
            print(f"implant-desk predict: {error}", file=sys.stderr)
            failures += 1
            continue
        ms = (time.perf_counter() - started) * 1000
        if args.json:
            print(json.dumps({"path": str(path), "model": predictor.name, "note": note, "ms": round(ms, 1),
                              "fixtures": [f.to_json() for f in fixtures]}), flush=True)
        else:
            print(_describe(path, fixtures, ms), flush=True)
        if args.overlay:
            _write_overlay(args.overlay, path, radiograph, fixtures)
    return 1 if failures else 0


def _propose(predictor, images: list[Path], args: argparse.Namespace) -> int:
    """Pre-annotate with the same core code as the window; one line per image, then the counts."""
    from implant_desk.core.annotations.folder import annotation_folder
    from implant_desk.core.review.propose import propose_images

    results = []
    for folder in dict.fromkeys(image.parent for image in images):  # each folder's annotations where they belong
        chosen = [image for image in images if image.parent == folder]
        results += propose_images(predictor, chosen, annotation_folder(folder, args.annotations), args.threshold,
                                  on_image=lambda _done, _total, result: _report(result, args.json))
    proposed = [r for r in results if not r.skipped and not r.error]
    failures = sum(bool(r.error) for r in results)
    if not args.json:
        print(f"{counted(len(proposed), 'image')} pre-annotated ({counted(sum(r.proposals for r in proposed), 'box', 'boxes')}"
              f" proposed), {sum(bool(r.skipped) for r in results)} left alone, {failures} unreadable")
    return 1 if failures else 0


def _report(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"path": str(result.image), "proposed": result.proposals,
                          "uncertainty": result.uncertainty, "skipped": result.skipped, "error": result.error}),
              flush=True)
    elif result.error:
        print(f"implant-desk predict: {result.error}", file=sys.stderr)
    elif result.skipped:
        print(f"{result.image}: {result.skipped}", flush=True)
    else:
        print(f"{result.image}: {counted(result.proposals, 'box', 'boxes')} proposed "
              f"(uncertainty {result.uncertainty:.2f})", flush=True)


def _image_paths(paths: list[Path]) -> list[Path]:
    from implant_desk.core.imaging.loading import IMAGE_SUFFIXES

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)  # a missing or unreadable file is reported by the loader, in words
    return found


def _describe(path: Path, fixtures, ms: float) -> str:
    lines = [f"{path}: {counted(len(fixtures), 'fixture')} ({ms:.0f} ms)"]
    for number, fixture in enumerate(fixtures, 1):
        named = fixture.system or fixture.status
        ranked = ", ".join(candidate_text(fixture, *c) for c in fixture.candidates) if fixture.nameable else "-"
        size = (f"; {fixture.length_mm:.1f} x {fixture.diameter_mm:.1f} mm" if fixture.length_mm is not None
                and fixture.diameter_mm is not None else "")
        lines.append(f"  {number}. {named} (fixture score {fixture.score:.2f}; {ranked}){size}")
    return "\n".join(lines)


def _write_overlay(folder: Path, path: Path, radiograph, fixtures) -> None:
    import cv2

    from implant_desk.core.atomic import atomic_write_bytes
    from implant_desk.core.models.preprocess import grey8

    image = cv2.cvtColor(grey8(radiograph), cv2.COLOR_GRAY2BGR)
    thickness = max(2, image.shape[0] // 400)
    scale, stroke = thickness * 0.35, max(1, thickness // 2)
    for fixture in fixtures:
        colour = (0, 220, 0) if fixture.identified else (0, 200, 255)
        x1, y1, x2, y2 = (int(round(v)) for v in fixture.box)
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, thickness)
        label = f"{fixture.system} {fixture.confidence:.0%}" if fixture.identified else fixture.status
        (width, height), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, stroke)
        origin = label_origin((x1, y1), (width, height + baseline), image.shape[1::-1])
        cv2.putText(image, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, stroke, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".png", image)
    if ok:
        atomic_write_bytes(folder / f"{path.stem}.overlay.png", encoded.tobytes())


def label_origin(corner: tuple[int, int], text: tuple[int, int], image: tuple[int, int]) -> tuple[int, int]:
    """Where a box's label starts (OpenCV's bottom-left text origin): above the box's top-left ``corner``, or
    just inside the box when there is no room above; moved left as far as needed to end inside the image, so no
    label is cut at the image's edge. ``text`` and ``image`` are (width, height)."""
    (x, y), (width, height), (image_width, image_height) = corner, text, image
    gap = 4
    top = y - gap if y - gap - height >= 0 else y + gap + height
    return max(0, min(x, image_width - width - 1)), min(top, image_height - 1)
