"""The lab's loop (issue 13) on generated radiographs with exact truth, printed (never asserted); run with ``nice``.

    nice python benchmarks/bench_active_learning.py [--pool 36] [--test 48] [--first 4] [--batch 4] [--rounds 4]
                                                     [--seeds 0 1 2] [--epochs 8] [--det-size 256] [--threads 2]
                                                     [--start default|imagenet] [--plot docs/active-learning.png]

actions: a simulated annotator makes each test image's annotation exactly right and counts its actions.
    Without pre-annotation it draws and labels every fixture (2 actions each: drag, label) and marks the image
    reviewed (1). With pre-annotation by the shipped model (``proposals_for``, the code behind "Pre-annotate
    folder"): a proposal on a true fixture (IoU >= 0.5) with the right system is accepted (1), with the system
    among its ranked candidates relabelled by its number key (1), else relabelled in the label dialog (2); one
    whose IoU with the true box is under 0.75 is adjusted too (+1); a proposal on no fixture is rejected (1); a fixture
    no proposal found is drawn and labelled (2); then the image is marked reviewed (1).
curve: the learning curve. From ``--first`` images (the same seeded random ones for every order), a model is
    trained on the reviewed images (from the shipped model's weights with a new system head, its systems listed in
    another order; ``--start imagenet``: from ImageNet backbones), scored on unseen patients (top-1, AP50), and
    ``--batch`` more pool images are reviewed (exact truth: the annotator of above) in the order's choice:
    *uncertainty* (the round's model pre-annotates the rest of the pool, most uncertain first, as the window's
    "which image next"), *random* (seeded) or *file* order; ``--rounds`` times, for each seed. Trainings are kept
    tiny (small detector input, few epochs) so the whole run takes about 17 minutes on 2 shared cores.
    Plotted to ``--plot`` with Qt's QPainter (no matplotlib needed): mean over seeds, each seed's line thin.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_finetune import generate  # generated PNG periapicals with truth, as the fine-tune benchmark makes them

REPO = Path(__file__).resolve().parents[1]
ORDER_COLOURS = {"uncertainty": "#d62728", "random": "#1f77b4", "file": "#7f7f7f"}


# ---- the simulated annotator ------------------------------------------------------------------------------------
@dataclass
class Actions:
    accepted: int = 0
    relabelled: int = 0
    adjusted: int = 0
    rejected: int = 0
    drawn: int = 0
    images: int = 0
    total: int = 0


def actions_from_scratch(truth: list, tally: Actions) -> None:
    tally.drawn += len(truth)
    tally.images += 1
    tally.total += 2 * len(truth) + 1


def actions_with_proposals(truth, proposals, tally: Actions) -> None:
    """Correct ``proposals`` (core Proposal objects) into ``truth``, counting as the module docstring says."""
    from implant_desk.core.learning.metrics import box_iou

    tally.images += 1
    tally.total += 1  # Space: reviewed
    unmatched_truth = set(range(len(truth)))
    for proposal in sorted(proposals, key=lambda p: -p.score):
        ious = box_iou([proposal.box], [t.box for t in truth])[0] if truth else []
        best = max(unmatched_truth, key=lambda i: ious[i], default=None)
        if best is None or ious[best] < 0.5:
            tally.rejected += 1
            tally.total += 1
            continue
        unmatched_truth.discard(best)
        system = truth[best].system
        ranked = [name for name, _ in proposal.candidates]
        if proposal.label == system:
            tally.accepted += 1
            tally.total += 1
        else:
            tally.relabelled += 1
            tally.total += 1 if system in ranked else 2
        if ious[best] < 0.75:
            tally.adjusted += 1
            tally.total += 1
    tally.drawn += len(unmatched_truth)
    tally.total += 2 * len(unmatched_truth)


def measure_actions(test, threads: int) -> None:
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.predictor import Predictor
    from implant_desk.core.review.propose import proposals_for

    predictor = Predictor.from_folder(REPO / "models" / "default", "cpu")
    scratch, assisted = Actions(), Actions()
    started = time.monotonic()
    for sample in test:
        truth = sample.truth()
        actions_from_scratch(truth, scratch)
        proposed = proposals_for(predictor, load_radiograph(sample.image_path), sample.image_path.name, 0.5)
        actions_with_proposals(truth, proposed.proposals, assisted)
    fixtures = sum(len(s.truth()) for s in test)
    print(f"\nactions to a correct annotation, {len(test)} unseen images ({fixtures} fixtures), shipped model "
          f"{predictor.name} pre-annotating ({time.monotonic() - started:.0f} s, {threads} threads):")
    print(f"  without pre-annotation: {scratch.total / scratch.images:.2f} actions per image "
          f"({scratch.drawn} fixtures drawn and labelled)")
    print(f"  with pre-annotation:    {assisted.total / assisted.images:.2f} actions per image (accepted "
          f"{assisted.accepted}, relabelled {assisted.relabelled}, adjusted {assisted.adjusted}, rejected "
          f"{assisted.rejected}, drawn {assisted.drawn})")
    print(f"RESULT actions: {scratch.total / scratch.images:.2f} -> {assisted.total / assisted.images:.2f} per image "
          f"({100 * (1 - assisted.total / scratch.total):.0f} % fewer)")


# ---- the learning curve -----------------------------------------------------------------------------------------
def train_and_score(reviewed, test, classes, args, seed: int):
    """A model trained from ImageNet backbones on ``reviewed``; (top-1, AP50) on ``test``, and its predictor."""
    from implant_desk.core.learning.config import TrainingConfig
    from implant_desk.core.learning.fit import fit, prepare_images
    from implant_desk.core.learning.network import build_network
    from implant_desk.core.learning.orchestrator import evaluate_samples, training_spec
    from implant_desk.core.models.predictor import Predictor

    from implant_desk.core.registry import Registry

    parent = Registry(root=args.registry).get("1") if args.start == "default" else None
    spec = training_spec(classes, parent, args.det_size, {"crop_size": (96, 48)})
    config = TrainingConfig(epochs=args.epochs, head_epochs=1, patience=0, seed=seed, device="cpu")
    network = build_network(spec, config, parent.folder if parent else None)
    result = fit(network, prepare_images(reviewed, spec), [], config)
    predictor = Predictor.from_network(result.network, name="round")
    scored = evaluate_samples(predictor, test, classes, 0.0)
    return scored.top1, scored.ap50, predictor


def next_images(order: str, model, remaining, count: int, rng: random.Random):
    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.review.order import Candidate, review_order
    from implant_desk.core.review.propose import proposals_for

    if order == "uncertainty":
        candidates = [Candidate(s.image_path, proposals_for(model, load_radiograph(s.image_path), s.image_path.name,
                                                            0.5).uncertainty) for s in remaining]
    else:
        candidates = [Candidate(s.image_path) for s in remaining]
    chosen = review_order(candidates, order, rng.randrange(1 << 30))[:count]
    by_path = {s.image_path: s for s in remaining}
    return [by_path[path] for path in chosen]


def learning_curves(pool, test, classes, args) -> dict[str, list[list[tuple[int, float, float]]]]:
    curves: dict[str, list[list[tuple[int, float, float]]]] = {order: [] for order in ORDER_COLOURS}
    for seed in args.seeds:
        rng = random.Random(seed)
        first = rng.sample(pool, args.first)
        started = time.monotonic()
        top1, ap50, first_model = train_and_score(first, test, classes, args, seed)
        print(f"\nseed {seed}: {len(first)} first images -> top-1 {top1:.3f}, AP50 {ap50:.3f} "
              f"({time.monotonic() - started:.0f} s)", flush=True)
        for order in ORDER_COLOURS:
            reviewed, model, curve = list(first), first_model, [(len(first), top1, ap50)]
            order_rng = random.Random(seed * 1000 + 1)
            for _ in range(args.rounds):
                remaining = [s for s in pool if s not in reviewed]
                reviewed += next_images(order, model, remaining, args.batch, order_rng)
                started = time.monotonic()
                round_top1, round_ap50, model = train_and_score(reviewed, test, classes, args, seed)
                curve.append((len(reviewed), round_top1, round_ap50))
                print(f"  {order:<11} {len(reviewed):>3} reviewed -> top-1 {round_top1:.3f}, AP50 {round_ap50:.3f} "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
            curves[order].append(curve)
    return curves


def summarise(curves) -> None:
    def mean_curve(order: str, column: int) -> list[tuple[int, float]]:
        runs = curves[order]
        return [(runs[0][i][0], statistics.mean(run[i][column] for run in runs)) for i in range(len(runs[0]))]

    print("\nmean over seeds (reviewed images: top-1 / AP50):")
    for order in ORDER_COLOURS:
        top1, ap50 = mean_curve(order, 1), mean_curve(order, 2)
        print(f"  {order:<11} " + "  ".join(f"{k}: {t:.3f}/{a:.3f}" for (k, t), (_, a) in zip(top1, ap50)))
    for column, name in ((1, "top-1"), (2, "AP50")):
        random_curve, uncertain = mean_curve("random", column), mean_curve("uncertainty", column)
        final_k, target = random_curve[-1]
        means = {order: statistics.mean(v for _, v in mean_curve(order, column)[1:]) for order in ORDER_COLOURS}
        print(f"  {name} mean over the rounds after the first: " + ", ".join(f"{o} {v:.3f}" for o, v in means.items()))
        if target <= uncertain[0][1]:
            print(f"RESULT {name}: random order's final {target:.3f} is no better than the {uncertain[0][0]} first "
                  "images' model: the comparison says nothing (the curves are flat or noisy)")
            continue
        # The first point is the same model for every order: reaching the target counts from the first round on.
        reached = next((k for k, value in uncertain[1:] if value >= target), None)
        if reached is None:
            print(f"RESULT {name}: uncertainty order did NOT reach random order's final {target:.3f} "
                  f"within {final_k} images (target: within 70 % of them)")
        else:
            print(f"RESULT {name}: uncertainty order reached random order's final {target:.3f} with {reached} of "
                  f"{final_k} images ({100 * reached / final_k:.0f} %; target <= 70 %)")


def plot(curves, path: Path, title: str) -> None:
    """Two panels (top-1, AP50) against reviewed images, drawn with QPainter into a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts need it)
    width, height, margin = 1100, 500, 60
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(14)
    painter.setFont(font)
    painter.drawText(QRectF(0, 4, width, 24), Qt.AlignmentFlag.AlignCenter, title)
    ks = [k for runs in curves.values() for run in runs for k, *_ in run]
    k_min, k_max = min(ks), max(ks)
    panel_w = (width - 3 * margin) / 2
    for panel, (column, name) in enumerate(((1, "top-1 on unseen patients"), (2, "fixture AP50 on unseen patients"))):
        values = [run[i][column] for runs in curves.values() for run in runs for i in range(len(run))]
        low, high = max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05)
        area = QRectF(margin + panel * (panel_w + margin), 60, panel_w, height - 140)

        def to_point(k: float, value: float, area=area, low=low, high=high) -> QPointF:
            x = area.left() + (k - k_min) / max(1, k_max - k_min) * area.width()
            return QPointF(x, area.bottom() - (value - low) / max(1e-6, high - low) * area.height())

        painter.setPen(QPen(QColor("black"), 1))
        painter.drawRect(area)
        painter.drawText(QRectF(area.left(), area.bottom() + 26, area.width(), 20), Qt.AlignmentFlag.AlignCenter,
                         f"reviewed images — {name}")
        for tick in range(5):
            value = low + (high - low) * tick / 4
            point = to_point(k_min, value)
            painter.drawText(QRectF(point.x() - 52, point.y() - 9, 46, 18), Qt.AlignmentFlag.AlignRight, f"{value:.2f}")
        for k in sorted(set(ks)):
            point = to_point(k, low)
            painter.drawText(QRectF(point.x() - 20, point.y() + 4, 40, 18), Qt.AlignmentFlag.AlignCenter, str(k))
        for order, runs in curves.items():
            colour = QColor(ORDER_COLOURS[order])
            for run in runs:  # each seed, thin
                faint = QColor(colour)
                faint.setAlpha(90)
                painter.setPen(QPen(faint, 1))
                painter.drawPolyline([to_point(row[0], row[column]) for row in run])
            mean = [(runs[0][i][0], statistics.mean(run[i][column] for run in runs)) for i in range(len(runs[0]))]
            painter.setPen(QPen(colour, 3))
            painter.drawPolyline([to_point(k, v) for k, v in mean])
    for index, order in enumerate(ORDER_COLOURS):
        painter.setPen(QPen(QColor(ORDER_COLOURS[order]), 3))
        x = margin + index * 180
        painter.drawLine(QPointF(x, 40), QPointF(x + 30, 40))
        painter.setPen(QColor("black"))
        painter.drawText(QPointF(x + 36, 45), f"{order} order")
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise OSError(f"{path}: the plot could not be written")
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=36, help="generated images a lab could review")
    parser.add_argument("--test", type=int, default=48, help="generated images of other patients, scored only")
    parser.add_argument("--first", type=int, default=4, help="images reviewed before the first training")
    parser.add_argument("--batch", type=int, default=4, help="images reviewed per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--det-size", type=int, default=256)
    parser.add_argument("--start", choices=("default", "imagenet"), default="default",
                        help="each round trains from the shipped model's weights with a new system head (its "
                             "systems are listed in another order, so nothing of its classifier's last layer is "
                             "kept), or from ImageNet backbones")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parts", choices=("actions", "curve", "both"), default="both")
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "active-learning.png")
    args = parser.parse_args()

    import torch

    from implant_desk.core.learning.dataset import load_dataset

    torch.set_num_threads(args.threads)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        args.registry = Path(tmp) / "registry"  # the shipped model as version 1, never the user's registry
        test = load_dataset([generate(Path(tmp) / "unseen", args.test, 1000)]).samples
        if args.parts in ("actions", "both"):
            measure_actions(test, args.threads)
        if args.parts in ("curve", "both"):
            pool_data = load_dataset([generate(Path(tmp) / "pool", args.pool, 7)])
            print(f"\npool: {len(pool_data.samples)} images of {len(pool_data.patients)} patients, systems "
                  f"{', '.join(pool_data.classes)}; test: {len(test)} images of other patients; training from "
                  f"{'the shipped model (new system head)' if args.start == 'default' else 'ImageNet backbones'}, det_size {args.det_size}, {args.epochs} epochs, {args.threads} threads",
                  flush=True)
            curves = learning_curves(pool_data.samples, test, pool_data.classes, args)
            summarise(curves)
            plot(curves, args.plot, f"Learning curve by review order (generated radiographs, seeds "
                                    f"{', '.join(map(str, args.seeds))}; thin lines: each seed)")
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
