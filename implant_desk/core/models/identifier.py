"""The whole network a model file holds: fixture detector plus system classifier, built from a ModelSpec."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from implant_desk.core.models.backbones import avoid_denormals
from implant_desk.core.models.classifier import FixtureClassifier
from implant_desk.core.models.detector import FixtureDetector
from implant_desk.core.models.spec import ModelSpec


class ImplantIdentifier(nn.Module):
    def __init__(self, spec: ModelSpec, pretrained: bool = True):
        super().__init__()
        avoid_denormals()
        self.spec = spec
        self.detector = FixtureDetector(pretrained=pretrained, stride=spec.det_stride, parts=spec.parts)
        self.classifier = FixtureClassifier(len(spec.classes), pretrained=pretrained,
                                            attribute_sizes=spec.attribute_sizes)

    def forward(self, det_input: torch.Tensor,
                crops: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Detector output and, when crops are given, their system logits: one call, as training in several
        processes needs (DistributedDataParallel synchronises the gradients of what ``forward`` ran)."""
        return self.detector(det_input), None if crops is None else self.classifier(crops)

    def backbone_stages(self) -> list[list[nn.Module]]:
        """Pretrained stages from the input on, paired across both networks (stage k of each)."""
        det, cls = self.detector.backbone_stages, self.classifier.backbone_stages
        return [[*det[i:i + 1], *cls[i:i + 1]] for i in range(max(len(det), len(cls)))]

    def head_parameters(self) -> list[nn.Parameter]:
        """Parameters that are new (not ImageNet): trained first while the backbones are frozen."""
        pretrained = {id(p) for stage in self.backbone_stages() for module in stage for p in module.parameters()}
        return [p for p in self.parameters() if id(p) not in pretrained]


class EagerNetworks:
    """An ImplantIdentifier run by torch on ``device``, called as the ONNX graphs are: numpy in and out."""

    def __init__(self, network: ImplantIdentifier, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()

    @torch.inference_mode()
    def detect(self, images: np.ndarray) -> np.ndarray:
        return self.network.detector(torch.from_numpy(images).to(self.device)).float().cpu().numpy()

    @torch.inference_mode()
    def classify(self, crops: np.ndarray) -> np.ndarray:
        return self.network.classifier(torch.from_numpy(crops).to(self.device)).float().cpu().numpy()
