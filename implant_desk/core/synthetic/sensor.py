"""The intra-oral sensor: exposure field, cone-cut, blur, quantum and read noise, gamma, 16-bit output.

Densities are line integrals of attenuation; the fluence reaching the sensor is ``exp(-density)``, and blur
(scintillator, focal spot, patient motion) acts on that fluence. The sensor counts ``photons * fluence`` quanta
per pixel (Poisson, approximated by a Gaussian with the same variance, plus read noise), and the processed image
shows ``log(photons / counts)``, so bright means dense (MONOCHROME2), through a display window and gamma.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from implant_desk.core.synthetic.noise import normal_field

OUTPUT_MAX = 65535
COUNT_STEPS = 8  # counts are kept in eighths of a quantum so the lookup table does not posterise bright areas
CONE_DENSITY_FRACTION = 0.9  # an unexposed (cone-cut) area reads just below the metal's saturation


@dataclass(frozen=True)
class Exposure:
    photons: float  # quanta per pixel through no attenuation at the field centre
    read_noise: float  # electronic noise, in quanta
    gradient: tuple[float, float]  # density change across the width and the height (heel effect, tilt)
    vignette: float
    cone: tuple[float, float, float] | None  # circular collimator (cx, cy, radius) as fractions of the width
    blur_px: float  # scintillator and focal-spot blur (Gaussian sigma at full resolution)
    motion: tuple[float, float] | None  # (length px, angle degrees) when the patient moved
    low: float  # density shown black
    high: float  # density shown white
    gamma: float


def random_exposure(rng: np.random.Generator) -> Exposure:
    low_contrast = rng.random() < 0.15
    low = float(rng.uniform(0.05, 0.25)) + (0.35 if low_contrast else 0.0)
    high = float(rng.uniform(2.3, 2.7)) + (0.6 if low_contrast else 0.0)
    cone = None
    if rng.random() < 0.2:  # the collimator circle misses a corner or a side of the sensor
        angle = rng.uniform(0, 2 * math.pi)
        offset = rng.uniform(0.25, 0.45)
        cone = (0.5 + offset * math.cos(angle), 0.65 + offset * math.sin(angle), float(rng.uniform(0.85, 1.0)))
    motion = (float(rng.uniform(6, 16)), float(rng.uniform(0, 180))) if rng.random() < 0.08 else None
    return Exposure(
        photons=float(rng.uniform(900, 6000)), read_noise=float(rng.uniform(2, 10)),
        gradient=(float(rng.normal(0, 0.15)), float(rng.normal(0, 0.15))), vignette=float(rng.uniform(0, 0.3)),
        cone=cone, blur_px=float(rng.uniform(0.5, 1.4)), motion=motion, low=low, high=high,
        gamma=float(rng.uniform(0.75, 1.3)),
    )


def apply_exposure_field(density: np.ndarray, exposure: Exposure) -> None:
    """Add the uneven exposure and the cone-cut to a (low-resolution) density map, in place."""
    h, w = density.shape
    x = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    y = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    density += exposure.gradient[0] * x + exposure.gradient[1] * y + exposure.vignette * (x * x + y * y)
    if exposure.cone is not None:
        cx, cy, radius = exposure.cone
        outside = np.sqrt((x + 0.5 - cx) ** 2 + ((y + 0.5) * h / w - cy) ** 2) - radius
        edge = 1.0 / (1.0 + np.exp(-np.clip(outside * w / 3.0, -30, 30)))  # a few pixels of penumbra
        cone_density = CONE_DENSITY_FRACTION * exposure.high + (1 - CONE_DENSITY_FRACTION) * exposure.low
        density += edge * (cone_density - density)


def blur_region(fluence: np.ndarray, box: tuple[int, int, int, int], sigma: float) -> None:
    """Sensor blur on a sharp region (the metal); the upsampled anatomy is already smooth."""
    h, w = fluence.shape
    pad = int(math.ceil(3 * sigma)) + 1
    x0, y0 = max(box[0] - pad, 0), max(box[1] - pad, 0)
    x1, y1 = min(box[2] + pad, w), min(box[3] + pad, h)
    fluence[y0:y1, x0:x1] = cv2.GaussianBlur(fluence[y0:y1, x0:x1], (0, 0), sigma)


def motion_blur(fluence: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    size = int(length_px) | 1
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (size, size))
    kernel /= kernel.sum()
    return cv2.filter2D(fluence, -1, kernel, borderType=cv2.BORDER_REFLECT)


def read_out(fluence: np.ndarray, exposure: Exposure, rng: np.random.Generator) -> np.ndarray:
    """Photon counts with quantum and read noise, shown as log density through a lookup table (window and
    gamma in one step), 16-bit. ``fluence`` is the transmitted fraction ``exp(-density)``; it is consumed."""
    counts = np.multiply(fluence, exposure.photons * COUNT_STEPS, out=fluence)  # in 1/COUNT_STEPS quanta
    noise = normal_field(rng, counts.shape)
    variance = np.multiply(counts, COUNT_STEPS)
    variance += (exposure.read_noise * COUNT_STEPS) ** 2
    noise *= cv2.sqrt(variance, dst=variance)
    counts += noise
    table = display_table(exposure)
    np.clip(counts, 0, table.size - 1, out=counts)
    return table[counts.astype(np.int32)]


def display_table(exposure: Exposure) -> np.ndarray:
    """Output value for every count (in 1/COUNT_STEPS quanta) that can be shown above black."""
    brightest = int(math.ceil(exposure.photons * COUNT_STEPS * math.exp(-exposure.low))) + 1
    counts = np.maximum(np.arange(brightest + 1, dtype=np.float64), 0.5) / COUNT_STEPS
    density = math.log(exposure.photons) - np.log(counts)
    shown = np.clip((density - exposure.low) / (exposure.high - exposure.low), 0.0, 1.0) ** exposure.gamma
    return np.round(shown * OUTPUT_MAX).astype(np.uint16)
