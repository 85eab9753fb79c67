"""Training augmentations that move the boxes with the pixels (torchvision.transforms.v2).

The list follows the implant-design study (noise on up to a few % of pixels, horizontal and vertical flips,
quarter turns) plus small rotations, contrast and gamma, which vary as exposures and sensors do. Geometric
transforms act on ``tv_tensors.BoundingBoxes`` too, so a box always encloses the fixture it was drawn on; a
box pushed out of the image is dropped with its label.

This is a training module: it imports torch at load time (the predictor never needs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F


@dataclass(frozen=True)
class AugmentConfig:
    flip_p: float = 0.5
    quarter_turns: bool = True
    max_rotation_deg: float = 7.0
    # Shift (fraction of the side) and zoom: fixtures end up cut by an edge and at other sizes, as on films
    # taken by another hand; a box cut by the edge shrinks to what is left inside.
    max_shift: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    noise_p: float = 0.5
    max_noise_fraction: float = 0.04  # of the pixels, replaced by random values
    brightness: float = 0.0  # factor drawn from [1 - brightness, 1 + brightness]
    contrast: float = 0.25  # factor drawn from [1 - contrast, 1 + contrast]
    gamma: tuple[float, float] = (0.7, 1.4)
    min_box_size: float = 2.0


class RandomQuarterTurn(v2.Transform):
    """Turn by 0, 90, 180 or 270 degrees, each equally likely (the canvas swaps sides on odd turns)."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"angle": 90.0 * int(torch.randint(0, 4, ()).item())}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["angle"] == 0:
            return inpt
        return self._call_kernel(F.rotate, inpt, angle=params["angle"], expand=True)


class RandomPixelNoise(v2.Transform):
    """Replace a random share (up to ``max_fraction``) of the pixels with random grey values."""

    _transformed_types = (tv_tensors.Image,)

    def __init__(self, max_fraction: float, p: float) -> None:
        super().__init__()
        self.max_fraction, self.p = max_fraction, p

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        apply = torch.rand(()) < self.p
        return {"fraction": float(torch.rand(()) * self.max_fraction) if apply else 0.0}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fraction = params["fraction"]
        if fraction <= 0:
            return inpt
        # One draw serves both: a pixel is replaced when draw < fraction, and draw / fraction is then uniform.
        draw = torch.rand(inpt.shape[-2:], device=inpt.device)
        top = 1.0 if inpt.is_floating_point() else float(torch.iinfo(inpt.dtype).max)
        values = (draw * (top / fraction)).clamp(max=top).to(inpt.dtype)
        return tv_tensors.wrap(torch.where(draw < fraction, values, inpt), like=inpt)


class RandomExposure(v2.Transform):
    """Brightness, contrast (about mid-grey) and gamma, as exposures and sensors vary, in one pass: a look-up
    table on uint8 images, cheaper on a CPU than one colour transform after another."""

    _transformed_types = (tv_tensors.Image,)

    def __init__(self, brightness: float, contrast: float, gamma: tuple[float, float]) -> None:
        super().__init__()
        self.brightness, self.contrast, self.gamma = brightness, contrast, gamma

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        low, high = self.gamma
        return {"gamma": float(low + torch.rand(()) * (high - low)),
                "contrast": float(1 + (2 * torch.rand(()) - 1) * self.contrast),
                "brightness": float(1 + (2 * torch.rand(()) - 1) * self.brightness)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if inpt.dtype == torch.uint8:
            lut = (_expose(torch.arange(256) / 255.0, **params) * 255).round().to(torch.uint8)
            return tv_tensors.wrap(lut[inpt.long()], like=inpt)
        return tv_tensors.wrap(_expose(inpt.as_subclass(torch.Tensor), **params), like=inpt)


def _expose(values: torch.Tensor, gamma: float, contrast: float, brightness: float) -> torch.Tensor:
    """Values in [0, 1] -> the same after gamma, contrast about 0.5 and brightness, clipped to [0, 1]."""
    return (((values.pow(gamma) - 0.5) * contrast + 0.5) * brightness).clamp(0.0, 1.0)


def build_augmentation(config: AugmentConfig = AugmentConfig(), boxes: bool = True) -> v2.Compose:
    """The training pipeline; call it on ``{"image": Image, "boxes": BoundingBoxes, "labels": Tensor}``
    (see :func:`augment`), or, built with ``boxes=False``, on an image alone (see :func:`augment_image`)."""
    steps: list[v2.Transform] = [v2.RandomHorizontalFlip(config.flip_p), v2.RandomVerticalFlip(config.flip_p)]
    if config.quarter_turns:
        steps.append(RandomQuarterTurn())
    if config.max_rotation_deg > 0:
        # Bilinear: nearest-neighbour turns alias the fine thread pattern that tells systems apart.
        steps.append(v2.RandomRotation(config.max_rotation_deg, interpolation=v2.InterpolationMode.BILINEAR))
    if config.max_shift > 0 or config.scale != (1.0, 1.0):
        steps.append(v2.RandomAffine(0.0, translate=(config.max_shift, config.max_shift), scale=config.scale,
                                     interpolation=v2.InterpolationMode.BILINEAR))
    if config.brightness > 0 or config.contrast > 0 or config.gamma != (1.0, 1.0):
        steps.append(RandomExposure(config.brightness, config.contrast, config.gamma))
    if config.max_noise_fraction > 0:
        steps.append(RandomPixelNoise(config.max_noise_fraction, config.noise_p))
    if boxes:
        steps += [v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes(min_size=config.min_box_size)]
    return v2.Compose(steps)


def augment(pipeline: v2.Compose, image: torch.Tensor, boxes: torch.Tensor,
            labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Apply ``pipeline`` to an image (C x H x W, uint8 or float in [0, 1]) and its x1 y1 x2 y2 boxes.

    Returns plain tensors: the new image, the boxes that are still in it, and their labels."""
    height, width = image.shape[-2:]
    sample = {"image": tv_tensors.Image(image),
              "boxes": tv_tensors.BoundingBoxes(boxes.reshape(-1, 4).float(), format="XYXY", canvas_size=(height, width)),
              "labels": labels}
    out = pipeline(sample)
    return out["image"].as_subclass(torch.Tensor), out["boxes"].as_subclass(torch.Tensor), out["labels"]


def augment_image(pipeline: v2.Compose, image: torch.Tensor) -> torch.Tensor:
    """Apply ``pipeline`` (built with ``boxes=False``) to an image alone (C x H x W), e.g. a fixture crop."""
    return pipeline(tv_tensors.Image(image)).as_subclass(torch.Tensor)
