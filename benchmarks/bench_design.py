"""Identification by design (issue 12), printed (never asserted): run with ``nice``, the machine may be shared.

    nice python benchmarks/bench_design.py [--train-images 120] [--test-images 60] [--epochs 6]
                                           [--time-limit 30] [--from models/default] [--threads 2] [--seed 4100]

A model that reads the design trains on generated periapicals of **half the catalogue** (every other system, by
name): the other half never appears in its training images, only in the catalogue. It starts from ``--from`` (the
shipped model's detector and backbones; its design heads are new). Then, on generated images of patients and
seeds never trained on, drawn from the **whole** catalogue:
- part detection AP50 per third (coronal, middle, apical);
- attribute accuracy per attribute (fixtures found at IoU 0.5, their most likely value against the truth);
- fixture AP50 of the detector alone (one stage) against the fixtures grouped from its parts (two stages), and
  the time of each;
- ranking by design: top-1 and top-3 for systems trained on and for systems never trained on.
With ``--random-designs N`` the training images also show fixtures of N random designs (each attribute drawn on
its own; none is a held-out system), which teach the attributes apart from the trained systems' combinations.

Before the test, the ranking's settings (``core.catalogue.ranking``: the likelihood floor and the weight of the
classifier's own scores) are swept on the design read on validation images of new patients drawn from the whole
catalogue (seed + 3), never on the test images: this is where the ranking's defaults come from.
``--model PATH`` measures a design model trained before (``--keep``) instead of training one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from bench_finetune import generate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from train_default_model import design_systems  # noqa: E402  (as train_default_model --design chooses them)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-images", type=int, default=120)
    parser.add_argument("--val-images", type=int, default=24)
    parser.add_argument("--ranking-images", type=int, default=60, help="validation images for the ranking's settings")
    parser.add_argument("--test-images", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="MINUTES")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--from", dest="parent", type=Path, default=REPO / "models" / "default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=4100)
    parser.add_argument("--keep", type=Path, help="save the trained model here")
    parser.add_argument("--model", type=Path, help="measure this design model (from --keep) instead of training one")
    parser.add_argument("--random-designs", type=int, default=0, metavar="N",
                        help="also train on fixtures of N random designs (core.synthetic.designs), never one of the "
                             "held-out systems: they teach each attribute apart from the trained systems' combinations")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from implant_desk.core.catalogue import ATTRIBUTES, load_systems
    from implant_desk.core.learning.config import TrainingConfig
    from implant_desk.core.learning.fit import fit, prepare_images
    from implant_desk.core.learning.network import build_network
    from implant_desk.core.models.card import ModelCard, read_card
    from implant_desk.core.models.predictor import Predictor
    from implant_desk.core.models.spec import ModelSpec
    from implant_desk.core.models.weights import save_model

    catalogue = sorted(load_systems(), key=lambda system: system.name)
    trained, held_out, randoms = design_systems(catalogue, args.random_designs, args.seed)
    parent = read_card(args.parent).spec
    spec = ModelSpec.reading_design(
        [s.name for s in trained], {name: values for name, (_, values) in ATTRIBUTES.items()},
        det_size=parent.det_size, det_stride=parent.det_stride, view_size=parent.view_size,
        crop_size=parent.crop_size, crop_margin=parent.crop_margin, min_fixture_score=parent.min_fixture_score)
    if not args.model:
        print(f"catalogue: {len(catalogue)} systems; trained on {len(trained)}, never trained on {len(held_out)}; "
              f"{len(randoms)} random designs")
    with tempfile.TemporaryDirectory(prefix="bench-design-") as tmp:
        tmp = Path(tmp)
        if args.model:
            predictor = Predictor.from_folder(args.model, "cpu", threads=args.threads)
            trained = [system for system in catalogue if system.name in predictor.spec.classes]
            print(f"model {args.model}: trained on {len(trained)} of the catalogue's {len(catalogue)} systems")
        else:
            config = TrainingConfig(epochs=args.epochs, head_epochs=1, lr=args.lr, seed=args.seed, device="cpu",
                                    monitor="top1", patience=0, time_limit_s=args.time_limit * 60)
            started = time.monotonic()
            designs = catalogue + randoms
            train = _generated(tmp / "train", args.train_images, args.seed, trained + randoms)
            val = _generated(tmp / "val", args.val_images, args.seed + 1, trained)
            result = fit(build_network(spec, config, args.parent), prepare_images(train, spec, designs),
                         prepare_images(val, spec, designs), config, on_event=_print_epoch)
            print(f"training: {result.stop_reason} after {result.epochs_run} epochs, best {result.best_epoch}, "
                  f"{time.monotonic() - started:.0f} s")
            folder = args.keep or tmp / "model"
            save_model(folder, result.network, ModelCard(spec=result.network.spec, version="design"))
            predictor = Predictor.from_folder(folder, "cpu", threads=args.threads)
        sweep_ranking(predictor, _generated(tmp / "ranking", args.ranking_images, args.seed + 3, catalogue), catalogue)
        report(predictor, _generated(tmp / "test", args.test_images, args.seed + 2, catalogue),
               {s.name for s in trained}, catalogue)
    return 0


def _generated(folder: Path, count: int, seed: int, systems) -> list:
    from implant_desk.core.learning.dataset import load_dataset

    return load_dataset([generate(folder, count, seed, systems)]).samples


def _matched(fixtures, sample) -> list[tuple]:
    """(fixture, its true system) for each of ``fixtures`` found at IoU 0.5 with a named truth of ``sample``."""
    from implant_desk.core.learning.metrics import box_iou

    named = sample.truth()
    if not fixtures or not named:
        return []
    overlaps = box_iou(np.array([f.box for f in fixtures]), np.array([f.box for f in named]))
    best = overlaps.argmax(axis=1)
    return [(fixture, named[j].system) for fixture, j, row in zip(fixtures, best, overlaps) if row[j] >= 0.5]


def sweep_ranking(predictor, samples, catalogue) -> None:
    """Top-1 and top-3 of trained and never-trained systems for each floor and direct weight, on the design the
    model reads on ``samples`` (validation images), with the classifier alone for comparison."""
    from implant_desk.core.catalogue.ranking import DEFAULT_DIRECT_WEIGHT, DEFAULT_FLOOR, rank_systems

    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.preprocess import grey8

    pairs = [(fixture, system) for sample in samples
             for fixture, system in _matched(predictor.identify(grey8(load_radiograph(sample.image_path)),
                                                                threshold=0.0), sample)
             if fixture.ranking is not None]
    trained = set(predictor.spec.classes)
    alone = [max(f.direct, key=f.direct.get) == system for f, system in pairs if system in trained]
    print(f"ranking settings on {len(samples)} validation images of the whole catalogue ({len(pairs)} fixtures); "
          f"the classifier alone names {np.mean(alone):.3f} of the trained systems' fixtures")
    for weight in (0.5, 1.0, 1.5, 2.0):
        for floor in (0.05, 0.1, 0.2):
            positions = {True: [], False: []}
            for fixture, system in pairs:
                ranking = rank_systems(fixture.ranking.readings, catalogue, direct=fixture.direct, floor=floor,
                                       direct_weight=weight)
                positions[system in trained].append(ranking.position(system))
            known, unseen = np.array(positions[True]), np.array(positions[False])
            mark = "  (the defaults)" if (weight, floor) == (DEFAULT_DIRECT_WEIGHT, DEFAULT_FLOOR) else ""
            print(f"  direct weight {weight:.1f}, floor {floor:.2f}: trained top-1 {np.mean(known < 1):.3f}; "
                  f"never trained top-1 {np.mean(unseen < 1):.3f}, top-3 {np.mean(unseen < 3):.3f}{mark}")


def _print_epoch(event) -> None:
    from implant_desk.core.learning.events import EpochEnded

    if isinstance(event, EpochEnded):
        print(f"epoch {event.epoch}: loss {event.train_loss:.3f}, validation {event.val}, {event.elapsed_s:.0f} s",
              flush=True)


def report(predictor, samples, trained: set[str], catalogue) -> None:
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.learning.metrics import ImageResult, PredictedFixture, TrueFixture, average_precision
    from implant_desk.core.models.decoding import PART_KINDS
    from implant_desk.core.models.preprocess import grey8

    by_name = {system.name: system for system in catalogue}
    parts_found = {kind: [] for kind in PART_KINDS}
    one_stage, two_stages = [], []
    correct = {name: [] for name, _ in predictor.spec.attributes}
    rank_of_truth = {"trained": [], "never trained": []}
    matched = []  # (fixture identified, its true system)
    times = {"one stage (fixture detections)": [], "two stages (with parts)": [], "identify (parts, design, ranking)": []}
    for sample in samples:
        image = grey8(load_radiograph(sample.image_path))
        truth = [replace(f, system=None) for f in sample.truth()]
        began = time.perf_counter()
        boxes, scores = predictor.detect(image, min_score=0.05)
        times["one stage (fixture detections)"].append(time.perf_counter() - began)
        began = time.perf_counter()
        found = predictor.find(image, min_score=0.05)
        times["two stages (with parts)"].append(time.perf_counter() - began)
        began = time.perf_counter()
        fixtures = predictor.identify(image, threshold=0.0)
        times["identify (parts, design, ranking)"].append(time.perf_counter() - began)
        one_stage.append(ImageResult([PredictedFixture(b, s, ()) for b, s in zip(boxes, scores)], truth))
        two_stages.append(ImageResult([PredictedFixture(f.box, f.score, ()) for f in found], truth))
        for kind in PART_KINDS:
            parts_found[kind].append(ImageResult(
                [PredictedFixture(p.box, p.score, ()) for f in found for p in f.parts if p.name == kind],
                [TrueFixture((b.xmin, b.ymin, b.xmax, b.ymax), None) for b in sample.parts
                 if b.label.split(":", 1)[0] == kind]))
        matched.extend(_matched(fixtures, sample))
    for fixture, system in matched:
        actual = by_name[system].attributes()
        for name, values in fixture.attributes.items():
            correct[name].append(max(values, key=values.get) == actual[name])
        rank_of_truth["trained" if system in trained else "never trained"].append(fixture.ranking.position(system))
    print(f"{len(samples)} held-out images")
    for what, seconds in times.items():
        print(f"  {what:<36} median {statistics.median(seconds) * 1000:.0f} ms")
    print(f"fixture AP50: one stage {average_precision(one_stage):.3f}, two stages {average_precision(two_stages):.3f}")
    for kind in PART_KINDS:
        print(f"part AP50, {kind:<8} {average_precision(parts_found[kind]):.3f}")
    for name, hits in correct.items():
        print(f"attribute {name:<14} accuracy {np.mean(hits):.3f} ({len(hits)} fixtures)")
    for group, positions in rank_of_truth.items():
        positions = np.array(positions)
        print(f"systems {group:<14} top-1 {np.mean(positions < 1):.3f}, top-3 {np.mean(positions < 3):.3f} "
              f"({len(positions)} fixtures)")


if __name__ == "__main__":
    raise SystemExit(main())
