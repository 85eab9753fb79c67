"""The network a run starts from: ImageNet backbones (or none, for tests), then every tensor of the parent
model that fits. The orchestrator's step before pre-training and ``fit``."""

from __future__ import annotations

import os

import torch

from implant_desk.core.learning.config import TrainingConfig
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.models.weights import load_model


def build_network(spec: ModelSpec, config: TrainingConfig,
                  parent_folder: str | os.PathLike | None = None) -> ImplantIdentifier:
    """Seeded by ``config.seed``, so the same run starts from the same new heads."""
    torch.manual_seed(config.seed)
    network = ImplantIdentifier(spec, pretrained=config.pretrained)
    if parent_folder is not None:
        _copy_fitting_weights(network, parent_folder)
    return network


def _copy_fitting_weights(network: ImplantIdentifier, folder: str | os.PathLike) -> None:
    """Every tensor whose name and shape fit (the classifier's last layer is new when the systems differ)."""
    loaded = load_model(folder)
    own = network.state_dict()
    fitting = {k: v for k, v in loaded.network.state_dict().items() if k in own and own[k].shape == v.shape}
    if loaded.card.classes != network.spec.classes:
        fitting = {k: v for k, v in fitting.items() if not k.startswith("classifier.fc.")}
    network.load_state_dict(fitting, strict=False)
