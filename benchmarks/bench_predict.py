"""Speed of whole identification on a generated 1000x1300-class periapical, against a baseline in the same run.

    nice python benchmarks/bench_predict.py [--threads 2] [--runs 20] [--model models/default]

Prints medians (ms) for: decode + detect + classify every fixture (the issue's figure), the same plus sizes in
mm, one explanation map, and the baseline fasterrcnn_mobilenet_v3_large_320_fpn (random weights, the systems as
classes, same decoded image), with the ratio ours / baseline; then the first prediction after launch in a
fresh interpreter (imports, model load, one image). The machine may be shared: compare the ratio, not the
absolute figures, across machines.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def median_ms(function, runs: int) -> float:
    function()  # warm-up: lazy imports, allocator, first-call kernels
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def paired_ratios(ours, baseline, runs: int) -> list[float]:
    """Time ours and the baseline back to back, ``runs`` times: load from other jobs hits both alike."""
    ratios = []
    for _ in range(runs):
        started = time.perf_counter()
        ours()
        middle = time.perf_counter()
        baseline()
        ratios.append((middle - started) / (time.perf_counter() - middle))
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "default")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import torchvision

    from implant_desk.core.imaging.loading import load_radiograph
    from implant_desk.core.models.identifier import ImplantIdentifier
    from implant_desk.core.models.predictor import Predictor
    from implant_desk.core.models.preprocess import grey8
    from implant_desk.core.models.spec import ModelSpec
    from implant_desk.core.registry import model_systems
    from implant_desk.core.synthetic import generate_series, load_systems, write_dataset

    trained = (args.model / "card.json").exists()
    systems = model_systems(args.model) if trained else load_systems()  # fixtures of systems the model names
    with tempfile.TemporaryDirectory() as tmp:
        write_dataset(Path(tmp), generate_series(1, 7, systems), "png", 7, systems)
        image_path = next(Path(tmp).glob("*.png"))
        radiograph = load_radiograph(image_path)
        if trained:
            predictor, weights = Predictor.from_folder(args.model, device="cpu", threads=args.threads), f"trained ({args.model.name})"
        else:
            spec = ModelSpec(classes=tuple(s.name for s in systems))
            predictor, weights = Predictor.from_network(ImplantIdentifier(spec, pretrained=True)), "ImageNet backbones only"
        fixtures = predictor.predict(radiograph, threshold=0.0)
        print(f"image {radiograph.width}x{radiograph.height} (16-bit PNG), {len(fixtures)} fixture(s) found; "
              f"model: {weights}; runs on {predictor.runtime}; threads {args.threads}")

        identify = median_ms(lambda: predictor.predict(load_radiograph(image_path), measure=False), args.runs)
        with_sizes = median_ms(lambda: predictor.predict(load_radiograph(image_path)), args.runs)
        decode = median_ms(lambda: load_radiograph(image_path), args.runs)
        prepare = median_ms(lambda: grey8(radiograph), args.runs)
        explain = (median_ms(lambda: predictor.explain(radiograph, fixtures[0]), max(3, args.runs // 4))
                   if fixtures else float("nan"))

        baseline = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
            weights=None, weights_backbone=None, num_classes=len(systems) + 1).eval()

        @torch.inference_mode()
        def run_baseline() -> None:
            image = grey8(load_radiograph(image_path))
            tensor = torch.from_numpy(image).float().div(255).expand(3, -1, -1)
            baseline([tensor])

        base = median_ms(run_baseline, args.runs)
        ratios = paired_ratios(lambda: predictor.predict(load_radiograph(image_path), measure=False), run_baseline,
                               args.runs)
        print(f"decode {decode:.1f} ms, to 8-bit grey {prepare:.1f} ms")
        print(f"identify (decode + detect + classify every fixture): {identify:.1f} ms median")
        print(f"  + sizes in mm: {with_sizes:.1f} ms median;  one explanation map: {explain:.1f} ms median")
        print(f"baseline fasterrcnn_mobilenet_v3_large_320_fpn (decode + detect): {base:.1f} ms median")
        print(f"ratio identify / baseline: {identify / base:.2f} (of the medians); "
              f"{statistics.median(ratios):.2f} (median of {len(ratios)} interleaved pairs, robust to a shared CPU)")

        if weights.startswith("trained"):
            code = ("import sys, time; t = time.perf_counter(); "
                    "from implant_desk.core.imaging.loading import load_radiograph; "
                    "from implant_desk.core.models.predictor import Predictor; "
                    f"p = Predictor.from_folder({str(args.model)!r}, device='cpu', threads={args.threads}); "
                    f"p.predict(load_radiograph({str(image_path)!r})); print(time.perf_counter() - t, "
                    "'torch' in sys.modules)")
            first, torch_imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                   check=True).stdout.strip().splitlines()[-1].split()
            print(f"first prediction after launch (fresh interpreter: imports, model load, one image): "
                  f"{float(first):.2f} s; torch imported: {torch_imported}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
