"""Tiny drawn radiographs for model tests: bright fixtures whose stripe spacing says their system."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.models.spec import ModelSpec

SYSTEMS = ("fine-thread", "coarse-thread")
PITCH = {"fine-thread": 3, "coarse-thread": 7}
TINY_SPEC = ModelSpec(classes=SYSTEMS, det_size=64, crop_size=(32, 16), min_fixture_score=0.05)


@dataclass(frozen=True)
class TinySample:
    image_path: Path
    annotation: ImageAnnotation
    patient_id: str


def draw(rng: np.random.Generator, size: tuple[int, int] = (96, 80)) -> tuple[np.ndarray, list[Box]]:
    """A 16-bit grey image with one or two vertical 'fixtures' (stripes across them)."""
    h, w = size
    image = rng.normal(12000, 1500, size).clip(0, 65535)
    boxes = []
    for slot in range(int(rng.integers(1, 3))):
        system = SYSTEMS[int(rng.integers(0, 2))]
        fw, fh = int(rng.integers(14, 20)), int(rng.integers(40, 60))
        x1 = 4 + slot * (w // 2) + int(rng.integers(0, w // 2 - fw - 8))
        y1 = int(rng.integers(4, h - fh - 4))
        rows = np.arange(fh)
        stripes = np.where((rows // PITCH[system]) % 2 == 0, 52000, 38000)[:, None]
        image[y1:y1 + fh, x1:x1 + fw] = stripes
        boxes.append(Box(system, float(x1), float(y1), float(x1 + fw), float(y1 + fh)))
    return image.astype(np.uint16), boxes


def write_samples(folder: Path, count: int, seed: int) -> list[TinySample]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for index in range(count):
        pixels, boxes = draw(rng)
        path = folder / f"img{seed}_{index}.png"
        cv2.imwrite(str(path), pixels)
        annotation = ImageAnnotation(path.name, pixels.shape[1], pixels.shape[0], 1, boxes)
        samples.append(TinySample(path, annotation, f"P{index // 2}"))
    return samples


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Import into a test module to use. The machine is shared: two threads waiting on each other cost far
    more than they gain on these tiny networks (measured 49 s against 3 s for a tiny fit)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
