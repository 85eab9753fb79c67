"""Single-class anchor-free fixture detector (CenterNet-style) on EfficientNet-Lite0 features, output at stride 8
or 4.

On a periapical, fixtures are few (1-3) and large, so one heat-map peak per fixture at stride 8 is plenty. On a
panoramic, implants stand side by side and are a dozen pixels wide at the detector's input: at stride 8 two
neighbours share a peak and one box spans both, so such models read the stride-4 map too (``ModelSpec.det_stride``). Gaussian targets
are elliptical (sigma proportional to box width and height), which suits long, thin fixtures better than
CenterNet's round ones. Every cell near a fixture's centre (TTFNet-style, weighted by the Gaussian) learns the
distances from itself to the four box edges, in log space: a peak one or two cells off along a long fixture
still gives the right box, which the measurement of the fixture relies on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from implant_desk.core.models.backbones import make_lite0
from implant_desk.core.models.decoding import CHANNELS_PER_KIND, PART_KINDS

STRIDES = (8, 4)
_HEAT_PRIOR = 0.05


class FixtureDetector(nn.Module):
    def __init__(self, pretrained: bool = True, width: int = 64, stride: int = 8, parts: bool = False):
        super().__init__()
        if stride not in STRIDES:
            raise ValueError(f"the detector's output stride is one of {STRIDES}")
        self.stride = stride
        lite0 = make_lite0(num_classes=0, pretrained=pretrained)
        self.stem = nn.Sequential(lite0.conv_stem, lite0.bn1)
        # Stages 0-1 end at stride 4 (24 channels), 2 at stride 8 (40), 3-4 at stride 16 (112); deeper ones unused.
        self.stages = nn.ModuleList([lite0.blocks[i] for i in range(5)])
        self.lateral4 = nn.Conv2d(24, width, 1) if stride == 4 else None
        self.lateral8 = nn.Conv2d(40, width, 1)
        self.lateral16 = nn.Conv2d(112, width, 1)
        self.head = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
        )
        # Per cell: fixture-centre logit, then log distances (in cells) to the left, top, right, bottom edges.
        self.out = _output_layer(width, 1)
        # The thirds in their own layer, so a model that finds fixtures only gives its weights to one that also
        # finds parts (the new layer starts fresh).
        self.parts_out = _output_layer(width, len(PART_KINDS)) if parts else None

    @property
    def backbone_stages(self) -> list[nn.Module]:
        """Pretrained parts from the input on, for freezing by depth."""
        return [self.stem, *self.stages]

    def backbone_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The pretrained part's maps at stride 4 (24 channels), 8 (40) and 16 (112), which the head reads."""
        x = self.stem(images)
        maps = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in (1, 2):
                maps.append(x)
        return maps[0], maps[1], x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) normalised, H and W multiples of 32 -> (N, 5 or 20, H/stride, W/stride): the fixture's
        5 channels, then 5 for each of the ``PART_KINDS`` when the detector finds parts."""
        at4, at8, at16 = self.backbone_features(images)
        fused = self.lateral8(at8) + F.interpolate(self.lateral16(at16), size=at8.shape[-2:], mode="nearest")
        if self.lateral4 is not None:
            fused = self.lateral4(at4) + F.interpolate(fused, size=at4.shape[-2:], mode="nearest")
        features = self.head(fused)
        if self.parts_out is None:
            return self.out(features)
        return torch.cat([self.out(features), self.parts_out(features)], dim=1)


def _output_layer(width: int, kinds: int) -> nn.Conv2d:
    """A 1x1 layer with ``CHANNELS_PER_KIND`` outputs per kind; centre logits start at the prior's."""
    layer = nn.Conv2d(width, CHANNELS_PER_KIND * kinds, 1)
    with torch.no_grad():
        layer.bias.zero_()
        layer.bias[::CHANNELS_PER_KIND] = -torch.log(torch.tensor((1 - _HEAT_PRIOR) / _HEAT_PRIOR))
    return layer


def make_targets(boxes: list[torch.Tensor], shape: tuple[int, int], stride: int,
                 ignored: list[torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Boxes (x1, y1, x2, y2 in input pixels) per image -> heat map, centre mask, edge distances and their
    weights on the grid. A cell near two fixtures learns the one whose Gaussian is stronger there. ``ignored``
    (per image, difficult fixtures' boxes): the cells inside them are not taught to be background either."""
    h, w = shape
    n = len(boxes)
    ignore = torch.zeros(n, h, w)
    for i, image_boxes in enumerate(ignored or ()):
        for x1, y1, x2, y2 in (image_boxes / stride).tolist():
            ignore[i, max(int(y1), 0):max(math.ceil(y2), 0), max(int(x1), 0):max(math.ceil(x2), 0)] = 1.0
    heat = torch.zeros(n, h, w)
    distances = torch.zeros(n, 4, h, w)
    weight = torch.zeros(n, h, w)
    mask = torch.zeros(n, h, w, dtype=torch.bool)
    ys = torch.arange(h, dtype=torch.float32).view(h, 1)
    xs = torch.arange(w, dtype=torch.float32).view(1, w)
    for i, image_boxes in enumerate(boxes):
        for x1, y1, x2, y2 in image_boxes.tolist():
            x1, y1, x2, y2 = x1 / stride, y1 / stride, max(x2, x1 + 1) / stride, max(y2, y1 + 1) / stride
            ix, iy = min(max(int((x1 + x2) / 2), 0), w - 1), min(max(int((y1 + y2) / 2), 0), h - 1)
            sx, sy = max((x2 - x1) / 6, 0.5), max((y2 - y1) / 6, 0.5)
            gauss = torch.exp(-((xs - ix) ** 2 / (2 * sx**2) + (ys - iy) ** 2 / (2 * sy**2)))
            cx, cy = xs + 0.5, ys + 0.5
            inside = (cx > x1) & (cx < x2) & (cy > y1) & (cy < y2)
            owned = inside & (gauss > 0.05) & (gauss >= heat[i])
            edges = torch.stack(torch.broadcast_tensors(cx - x1, cy - y1, x2 - cx, y2 - cy)).clamp(min=0.05).log()
            distances[i] = torch.where(owned, edges, distances[i])
            weight[i] = torch.where(owned, gauss, weight[i])
            heat[i] = torch.maximum(heat[i], gauss)
            mask[i, iy, ix] = True
    return {"heat": heat, "mask": mask, "distances": distances, "weight": weight, "ignore": ignore}


def detection_loss(output: torch.Tensor, targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss on the heat map plus Gaussian-weighted L1 on the edge distances
    (``output``: one kind's 5 channels)."""
    logits = output[:, 0]
    heat = targets["heat"]
    positive = targets["mask"].float()
    prob = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos_loss = -(torch.log(prob) * (1 - prob) ** 2 * positive).sum()
    background = (1 - positive) * (1 - targets["ignore"])
    neg_loss = -(torch.log(1 - prob) * prob**2 * (1 - heat) ** 4 * background).sum()
    count = positive.sum().clamp(min=1)
    weight = targets["weight"]
    box_error = (output[:, 1:5] - targets["distances"]).abs().sum(dim=1)
    box_loss = (box_error * weight).sum() / weight.sum().clamp(min=1e-6)
    return (pos_loss + neg_loss) / count + box_loss
