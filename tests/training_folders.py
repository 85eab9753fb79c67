"""A tiny annotated folder a real training run finishes on in seconds (shared by core and app fine-tune tests).

Two systems told apart by the spacing of the stripes across the fixture; ``patients.csv`` names the patients,
so the split is by patient as in a lab's folder.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import write_voc

SYSTEMS = ("coarse-thread", "fine-thread")
PITCH = {"coarse-thread": 7, "fine-thread": 3}
# A network small and fast enough for tests: no ImageNet weights, 64 px detector input, small crops
# (TrainingConfig fields, and ModelSpec fields for TrainingRequest.spec_overrides).
TINY_FIT = {"epochs": 2, "head_epochs": 1, "batch_size": 4, "patience": 0, "pretrained": False, "device": "cpu"}
TINY_SPEC = {"det_size": 64, "crop_size": [32, 16]}


def write_training_folder(folder: Path, patients: int = 4, images_per_patient: int = 2, seed: int = 0) -> Path:
    """16-bit PNGs with VOC files; patient ``p`` has fixtures of one system (alternating by patient)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["file,patient"]
    for patient in range(patients):
        system = SYSTEMS[patient % len(SYSTEMS)]
        for visit in range(images_per_patient):
            name = f"p{patient}_{visit}.png"
            pixels, boxes = _draw(rng, system)
            cv2.imwrite(str(folder / name), pixels)
            annotation = ImageAnnotation(name, pixels.shape[1], pixels.shape[0], 1, boxes)
            write_voc(folder / f"p{patient}_{visit}.xml", annotation)
            rows.append(f"{name},patient{patient}")
    (folder / "patients.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _draw(rng: np.random.Generator, system: str, size: tuple[int, int] = (96, 80)) -> tuple[np.ndarray, list[Box]]:
    h, w = size
    image = rng.normal(12000, 1500, size).clip(0, 65535)
    boxes = []
    for slot in range(2):
        fw, fh = int(rng.integers(14, 20)), int(rng.integers(40, 60))
        x1 = 4 + slot * (w // 2) + int(rng.integers(0, w // 2 - fw - 8))
        y1 = int(rng.integers(4, h - fh - 4))
        stripes = np.where((np.arange(fh) // PITCH[system]) % 2 == 0, 52000, 38000)[:, None]
        image[y1:y1 + fh, x1:x1 + fw] = stripes
        boxes.append(Box(system, float(x1), float(y1), float(x1 + fw), float(y1 + fh)))
    return image.astype(np.uint16), boxes


# A film with a fixture (metal from top to bottom), a root-filled tooth (a crown on top, a thin canal filling
# below) and a second tooth, for the label audit (core.learning.label_audit, ``implant-desk audit``).
FIXTURE, TOOTH = (20, 10, 40, 90), (60, 10, 80, 90)


def write_audit_film(path: Path) -> np.ndarray:
    image = np.full((100, 140), 60, np.uint8)
    image[10:90, 22:38] = 250
    for left in (60, 100):
        image[10:35, left:left + 20] = 250  # crown
        image[35:90, left + 9:left + 11] = 250  # canal filling
    cv2.imwrite(str(path), image)
    return image
