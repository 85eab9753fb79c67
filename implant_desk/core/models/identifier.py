"""The whole network a model file holds: fixture detector plus system classifier, built from a ModelSpec."""

from __future__ import annotations

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
        self.detector = FixtureDetector(pretrained=pretrained)
        self.classifier = FixtureClassifier(len(spec.classes), pretrained=pretrained)

    def backbone_stages(self) -> list[list[nn.Module]]:
        """Pretrained stages from the input on, paired across both networks (stage k of each)."""
        det, cls = self.detector.backbone_stages, self.classifier.backbone_stages
        return [[*det[i:i + 1], *cls[i:i + 1]] for i in range(max(len(det), len(cls)))]

    def head_parameters(self) -> list[nn.Parameter]:
        """Parameters that are new (not ImageNet): trained first while the backbones are frozen."""
        pretrained = {id(p) for stage in self.backbone_stages() for module in stage for p in module.parameters()}
        return [p for p in self.parameters() if id(p) not in pretrained]
