"""A model on real films it never trained on: implant AP50, recall and false finds on held-out real crops, the
panoramic-sized check, and speed against a baseline measured in the same run.

    nice python benchmarks/bench_real.py [--model models/default] [--threads 2] [--films 40]

1. Held-out real crops: ``../shared/data/dental-xray`` given back its panoramic aspect and split by source
   radiograph exactly as ``scripts/train_default_model.py`` does (seed 0, 20 % test), "Implant" boxes as truth;
   other findings are not implants, so a detection on them is a false find. Recall and false finds per image at several detector
   score thresholds (the model's own ``min_fixture_score`` is what the app uses). The same against the audit of
   those boxes (``benchmarks/data/dental-xray-test-audit.csv``, a developer's look, not a dentist's): only 76 of
   the 320 "Implant" boxes are implants, most of the rest root-filled teeth, posts and crowns; those are removed
   (a detection there is false) and 14 unsure ones ignored.
2. Panoramic-sized films: no labelled full panoramic exists here, so 3000x1500 films are composed of 2 x 2
   held-out crops, each scaled to 1500x750 (a fixture then stands about 140 px tall, as on a real panoramic): an
   implant-present film holds 1-2 crops with implants, an implant-free film none. Sensitivity: share of
   implant-present films with at least one fixture; specificity: share of implant-free films with none. Limits:
   the seams between crops, the crops' Roboflow stretch and the guessed scale are not a real panoramic's.
   Both with the labels as given and with the audited ones (an implant-free film then may show root-filled teeth,
   which a model must not take for implants).
3. Speed (medians, ms): detect + classify on a 1000x1300 periapical-sized and a 3000x1500 panoramic-sized film,
   as the app runs it (ONNX Runtime on the model's graphs), the same model in eager torch, and
   fasterrcnn_mobilenet_v3_large_320_fpn (random weights) on the same images, with the ratios.
4. The model card's training curve: validation AP50 against minutes of training.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from bench_predict import median_ms

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from train_default_model import REAL_IMAGES, UNSTRETCH, audited, real_crops_split, unstretched_copy  # noqa: E402

CELL = (1500, 750)  # width, height of one composed crop on a 3000x1500 film


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "default")
    parser.add_argument("--real", type=Path, default=REAL_IMAGES)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--films", type=int, default=40, help="composed films of each kind")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import torchvision

    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.learning.metrics import ImageResult, at_score, evaluate
    from implant_desk.core.learning.orchestrator import predict_samples
    from implant_desk.core.models.predictor import Predictor
    from implant_desk.core.models.preprocess import grey8

    predictor = Predictor.from_folder(args.model, device="cpu", threads=args.threads)
    spec = predictor.spec
    workspace = tempfile.TemporaryDirectory(prefix="implant-desk-bench-real-")
    test = real_crops_split(unstretched_copy(args.real, Path(workspace.name), UNSTRETCH)).test
    print(f"model {args.model} (det_size {spec.det_size}, stride {spec.det_stride}, view {spec.view_size}, "
          f"flip test {spec.flip_test}); "
          f"{len(test)} held-out real crops of {len({s.patient_id for s in test})} source radiographs; "
          f"torch threads {args.threads}")

    floor = spec.min_fixture_score
    results = predict_samples(predictor, test)  # every detection, for AP and the sweep below
    checked = [ImageResult(r.predictions, s.truth()) for r, s in zip(results, audited(test))]
    for truth, scored in (("labels as given", results), ("audited labels", checked)):
        overall = evaluate(scored)
        print(f"1. held-out real crops, {truth}: implant AP50 {overall.ap50:.3f} ({overall.fixtures} boxes)")
        for threshold in sorted({0.3, 0.4, 0.5, floor}):
            at = evaluate(at_score(scored, threshold))
            mark = "  (the model's floor, what the app uses)" if threshold == floor else ""
            print(f"   score >= {threshold:.2f}: recall {at.recall:.3f}, {at.false_per_image:.2f} false finds per "
                  f"image{mark}")

    grey = {s.image_path.name: grey8(load_radiograph(s.image_path)) for s in test}
    for truth, samples in (("labels as given", test), ("audited labels", audited(test))):
        rng = np.random.default_rng(0)
        with_implant = [s for s in samples if any(not b.difficult for b in s.annotation.boxes)]
        without = [s for s in samples if not s.annotation.boxes]  # after the audit: may show root-filled teeth
        films = [(True, _film(rng, with_implant, without, grey, int(rng.integers(1, 3)))) for _ in range(args.films)]
        films += [(False, _film(rng, with_implant, without, grey, 0)) for _ in range(args.films)]
        found = [(present, len(predictor.identify(film, threshold=0.0, generated_film=False)))
                 for present, film in films]
        sensitivity = np.mean([n > 0 for present, n in found if present])
        specificity = np.mean([n == 0 for present, n in found if not present])
        print(f"2. composed 3000x1500 films, {truth}: sensitivity {sensitivity:.3f}, specificity {specificity:.3f} "
              f"({args.films} with implants, {args.films} without)")

    periapical = cv2.resize(grey[with_implant[0].image_path.name], (1000, 1300), interpolation=cv2.INTER_LINEAR)
    panoramic = films[0][1]
    baseline = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=len(spec.classes) + 1).eval()

    @torch.inference_mode()
    def run_baseline(image: np.ndarray) -> None:
        baseline([torch.from_numpy(image).float().div(255).expand(3, -1, -1)])

    eager = Predictor.from_network(predictor.network, "cpu", predictor.card)  # the same model without its ONNX graphs
    runtime = predictor.runtime
    for name, image in (("1000x1300 periapical", periapical), ("3000x1500 panoramic", panoramic)):
        ours = median_ms(lambda: predictor.identify(image, threshold=0.0, generated_film=False), args.runs)
        torch_ms = median_ms(lambda: eager.identify(image, threshold=0.0, generated_film=False), args.runs)
        base = median_ms(lambda: run_baseline(image), args.runs)
        print(f"3. {name}: detect + classify {ours:.0f} ms median ({runtime}); eager torch {torch_ms:.0f} ms; "
              f"baseline {base:.0f} ms; ratio to baseline {ours / base:.2f}")

    history = predictor.card.training.get("history") or [] if predictor.card else []
    if history:
        print("4. training curve (validation AP50 against minutes of training):")
        for epoch in history:
            print(f"   epoch {epoch['epoch']:>2}  {epoch['elapsed_s'] / 60:5.1f} min  AP50 {epoch['val'].get('ap50', 0):.3f}")
    return 0


def _film(rng: np.random.Generator, with_implant: list, without: list, grey: dict, implants: int) -> np.ndarray:
    chosen = [*rng.choice(len(with_implant), implants, replace=False)] if implants else []
    crops = [grey[with_implant[i].image_path.name] for i in chosen]
    crops += [grey[without[i].image_path.name] for i in rng.choice(len(without), 4 - implants, replace=False)]
    width, height = CELL
    film = np.zeros((2 * height, 2 * width), np.uint8)
    for slot, index in enumerate(rng.permutation(4)):
        row, column = divmod(slot, 2)
        film[row * height:(row + 1) * height, column * width:(column + 1) * width] = cv2.resize(crops[index], CELL)
    return film


if __name__ == "__main__":
    raise SystemExit(main())
