"""Fixture measurement (target <= 10 ms per fixture) and explanation maps (target <= 300 ms per map).

Measurement: every fixture of generated periapicals (not cut by the image edge) is measured with
``measure_fixture`` and, as the baseline in the same run, with the box diagonal (what a panel would show
without segmentation). Prints the median time per fixture for both, and the error distribution of both
against the generator's exact truth.

Explanation: Grad-CAM and max-gradient saliency of an EfficientNet-Lite0 (timm ``efficientnet_lite0``, random
weights: timing only) at 224 px on the CPU, against the plain forward pass measured in the same run.

    python benchmarks/bench_measure_explain.py [--images 60] [--seed 101] [--threads 2] [--repeat 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from implant_desk.core.measure import measure_fixture
from implant_desk.core.synthetic import generate_series, load_systems


def box_diagonal_mm(box: tuple[float, float, float, float], spacing: float) -> float:
    return math.hypot(box[2] - box[0], box[3] - box[1]) * spacing


def percent_errors(pairs: list[tuple[float, float]]) -> np.ndarray:
    return np.array([100.0 * abs(measured - truth) / truth for measured, truth in pairs])


def describe(name: str, errors: np.ndarray) -> str:
    return (f"{name:<28} mean {errors.mean():5.2f} %  median {np.median(errors):5.2f} %  "
            f"p95 {np.percentile(errors, 95):6.2f} %  max {errors.max():6.2f} %  "
            f"within 5 %: {np.mean(errors < 5):6.1%}")


def bench_measurement(images: int, seed: int) -> None:
    fixtures = [(image, fixture) for image in generate_series(images, seed, load_systems())
                for fixture in image.fixtures if not fixture.truncated]
    measured, diagonal, lengths, diameters, diagonals = [], [], [], [], []
    for image, fixture in fixtures:
        spacing = (image.spacing_mm, image.spacing_mm)
        start = time.perf_counter()
        result = measure_fixture(image.pixels, fixture.box, spacing)
        measured.append(time.perf_counter() - start)
        start = time.perf_counter()
        naive = box_diagonal_mm(fixture.box, image.spacing_mm)
        diagonal.append(time.perf_counter() - start)
        lengths.append((result.length_mm, fixture.length_mm))
        diameters.append((result.diameter_mm, fixture.diameter_mm))
        diagonals.append((naive, fixture.length_mm))
    print(f"measurement: {len(fixtures)} whole fixtures on {images} generated periapicals (seed {seed})")
    ms, base_ms = statistics.median(measured) * 1000, statistics.median(diagonal) * 1000
    print(f"  measure_fixture   median {ms:7.2f} ms per fixture  (p95 {np.percentile(measured, 95) * 1000:.2f} ms)")
    print(f"  box diagonal      median {base_ms:7.4f} ms per fixture  (ratio {ms / base_ms:,.0f}x, for an answer "
          f"that is not a measurement)")
    print("  " + describe("length, measure_fixture", percent_errors(lengths)))
    print("  " + describe("diameter, measure_fixture", percent_errors(diameters)))
    print("  " + describe("length, box diagonal", percent_errors(diagonals)))


def bench_explanation(repeat: int) -> None:
    import timm
    import torch

    from implant_desk.core.models.explain import grad_cam, saliency

    model = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=4).eval()
    image = torch.randn(1, 3, 224, 224)

    def median_ms(run) -> float:
        run()  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    def forward() -> None:
        with torch.no_grad():
            model(image)

    base = median_ms(forward)
    cam = median_ms(lambda: grad_cam(model, model.conv_head, image, 1))
    sal = median_ms(lambda: saliency(model, image, 1))
    print(f"explanation: EfficientNet-Lite0, 224 px, CPU, {torch.get_num_threads()} threads, median of {repeat}")
    print(f"  forward pass (baseline)  {base:7.1f} ms")
    print(f"  Grad-CAM (conv_head)     {cam:7.1f} ms  ({cam / base:.2f}x the forward pass)")
    print(f"  max-gradient saliency    {sal:7.1f} ms  ({sal / base:.2f}x the forward pass)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads for the explanation maps")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    bench_measurement(args.images, args.seed)
    import torch

    torch.set_num_threads(args.threads)
    bench_explanation(args.repeat)


if __name__ == "__main__":
    main()
