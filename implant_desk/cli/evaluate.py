"""``implant-desk evaluate DATA --model VERSION``: how good a model is on annotated radiographs, per system."""

from __future__ import annotations

import argparse
import json
import sys

from implant_desk.cli.options import add_data_options, add_model_options, check_threshold
from implant_desk.core.wording import counted

HELP = "score a model on annotated folders: per-system sensitivity/specificity/accuracy, AP50, mAP, top-1/3"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser)
    add_model_options(parser)
    parser.add_argument("--json", action="store_true",
                        help="one JSON object: top1, top3, ap50, map, per_class, overall, confusion")


def run(args: argparse.Namespace) -> int:
    from implant_desk.core.learning.dataset import load_dataset
    from implant_desk.core.learning.labels import LabelRoles
    from implant_desk.core.learning.orchestrator import evaluate_samples
    from implant_desk.core.models.locate import model_folder
    from implant_desk.core.models.predictor import Predictor

    check_threshold(args.threshold)
    dataset = load_dataset(args.data, args.only, annotation_dir=args.annotations,
                           roles=LabelRoles.with_implant_labels(args.implant_labels))
    for note in dataset.warnings:
        print(f"warning: {note}", file=sys.stderr)
    predictor = Predictor.from_folder(model_folder(args.model), device=args.device)
    classes = list(predictor.spec.classes) + [c for c in dataset.classes if c not in predictor.spec.classes]
    evaluation = evaluate_samples(predictor, dataset.samples, classes, args.threshold, _progress)
    if args.json:
        print(json.dumps({**evaluation.to_dict(), "model": predictor.name, "threshold": args.threshold}))
    else:
        print(_report(evaluation, predictor.name, args.threshold))
    return 0


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{done}/{total} images", end="\n" if done == total else "", file=sys.stderr, flush=True)


def _pct(value: float) -> str:
    return "   -" if value != value else f"{100 * value:5.1f}%"  # NaN: no fixture to judge


def _report(evaluation, model: str, threshold: float) -> str:
    width = max([len(name) for name in evaluation.per_class] + [len("overall")])
    lines = [f"model {model}: {counted(evaluation.images, 'image')}, {counted(evaluation.fixtures, 'fixture')}, "
             f"{evaluation.false_detections} false detections (threshold {threshold})",
             f"fixture detection AP50 {evaluation.ap50:.3f}, mAP50:95 {evaluation.map:.3f}, recall "
             f"{evaluation.recall:.3f}, {evaluation.false_per_image:.2f} false detections per image; "
             f"top-1 {evaluation.top1:.3f}, top-3 {evaluation.top3:.3f}, calibration error (ECE) "
             f"{evaluation.calibration_error:.3f}", "",
             f"{'system':<{width}}  fixtures  sensitivity  specificity  accuracy  mean confidence"]
    for name, m in [*evaluation.per_class.items(), ("overall", evaluation.overall)]:
        confidence = "-" if m.mean_confidence != m.mean_confidence else f"{m.mean_confidence:.2f}"
        lines.append(f"{name:<{width}}  {m.fixtures:>8}  {_pct(m.sensitivity):>11}  {_pct(m.specificity):>11}  "
                     f"{_pct(m.accuracy):>8}  {confidence:>15}")
    lines += ["", "confusion (rows: truth; columns: claimed, then not found)"]
    for name, row in zip(evaluation.confusion_labels, evaluation.confusion.tolist()):
        lines.append(f"{name:<{width}}  " + " ".join(f"{v:>4}" for v in row))
    return "\n".join(lines)
