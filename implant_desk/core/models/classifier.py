"""The implant-system classifier: EfficientNet-Lite0 (ImageNet weights) on the fixture crop."""

from __future__ import annotations

import torch
from torch import nn

from implant_desk.core.models.backbones import make_lite0


class FixtureClassifier(nn.Module):
    def __init__(self, num_classes: int, pretrained: bool = True, dropout: float = 0.2):
        super().__init__()
        self.net = make_lite0(num_classes=0, pretrained=pretrained)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.net.num_features, num_classes)

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
        """(N, 1, H, W) normalised crops -> (N, classes) logits."""
        return self.fc(self.dropout(self.net(crops)))
