"""The network a run starts from: ImageNet backbones (or none, for tests), then every tensor of the parent
model that fits. The orchestrator's step before pre-training and ``fit``."""

from __future__ import annotations

import os

import torch

from implant_desk.core.learning.config import TrainingConfig, TrainingError
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.models.weights import load_model


def build_network(spec: ModelSpec, config: TrainingConfig,
                  parent_folder: str | os.PathLike | None = None) -> ImplantIdentifier:
    """Seeded by ``config.seed``, so the same run starts from the same new heads. Raises TrainingError when
    ``config.keep_fixture_detector`` has no parent detector to keep whole."""
    torch.manual_seed(config.seed)
    network = ImplantIdentifier(spec, pretrained=config.pretrained)
    copied, offered = _copy_fitting_weights(network, parent_folder) if parent_folder is not None else (set(), set())
    # A frozen detector must be the parent's, layer for layer: any other would find nothing, or find differently.
    if config.keep_fixture_detector and not (_fixture_detector(offered) == _fixture_detector(copied)
                                             == _fixture_detector(network.state_dict())):
        raise TrainingError("Keeping the fixture detector needs a parent model whose detector fits this one "
                            "(same stride); start from such a model or train the detector too.")
    return network


def _fixture_detector(names) -> set[str]:
    return {name for name in names if name.startswith("detector.") and not name.startswith("detector.parts_out.")}


def _copy_fitting_weights(network: ImplantIdentifier, folder: str | os.PathLike) -> tuple[set[str], set[str]]:
    """Every tensor whose name and shape fit (the classifier's last layer is new when the systems differ); returns
    their names and the names of all the parent's tensors."""
    loaded = load_model(folder)
    own = network.state_dict()
    fitting = {k: v for k, v in loaded.network.state_dict().items() if k in own and own[k].shape == v.shape}
    if loaded.card.classes != network.spec.classes:
        fitting = {k: v for k, v in fitting.items() if not k.startswith("classifier.fc.")}
    network.load_state_dict(fitting, strict=False)
    return set(fitting), set(loaded.network.state_dict())
