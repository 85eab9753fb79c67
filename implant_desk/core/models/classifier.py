"""The implant-system classifier: EfficientNet-Lite0 (ImageNet weights) on the fixture crop.

A model that reads the design has a second linear head on the same features: logits for each design attribute's
values (body, thread, apex...), read from the whole crop where each third has its place. Systems the model was
never trained on are then ranked by those attributes (core.catalogue.ranking).
"""

from __future__ import annotations

import torch
from torch import nn

from implant_desk.core.models.backbones import make_lite0


class FixtureClassifier(nn.Module):
    def __init__(self, num_classes: int, pretrained: bool = True, dropout: float = 0.2,
                 attribute_sizes: tuple[int, ...] = ()):
        super().__init__()
        self.net = make_lite0(num_classes=0, pretrained=pretrained)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.net.num_features, num_classes)
        self.attributes = nn.Linear(self.net.num_features, sum(attribute_sizes)) if attribute_sizes else None

    @property
    def cam_layer(self) -> nn.Module:
        """The layer for Grad-CAM: the last stride-16 stage keeps the map detailed (12x6 on a 192x96 crop)
        while its features already separate thread designs."""
        return self.net.blocks[4]

    @property
    def backbone_stages(self) -> list[nn.Module]:
        net = self.net
        return [nn.ModuleList([net.conv_stem, net.bn1]), *net.blocks, nn.ModuleList([net.conv_head, net.bn2])]

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) normalised crops -> (N, classes) system logits, followed by the attribute values' logits
        (``ModelSpec.attributes`` order) when the classifier reads the design."""
        features = self.dropout(self.net(crops))
        if self.attributes is None:
            return self.fc(features)
        return torch.cat([self.fc(features), self.attributes(features)], dim=1)
