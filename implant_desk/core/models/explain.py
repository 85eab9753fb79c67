"""Explanation maps for a torch classifier: which pixels drove the score of one class.

Two methods, both returning an (H, W) float32 map in 0..1 at the input's size:
- ``grad_cam``: Grad-CAM (Selvaraju et al.): the target layer's activations weighted by the spatially
  averaged gradient of the class score, rectified and upsampled. Smooth, object-level.
- ``saliency``: the max-gradient saliency map of the intra-oral saliency study (Simonyan et al.): the
  absolute gradient of the class score with respect to each input pixel, maximum over the colour
  channels. Sharp, pixel-level.

The class score is the raw logit (before softmax), so other classes do not leak into the map; given several
indices (a design read as one value per attribute), the sum of their logits.
Gradients are taken with ``torch.autograd.grad`` on the needed tensors only: parameters' ``.grad`` is
never touched, a hook lives only for the duration of one call, and grad mode is enabled locally so the
functions work under ``torch.no_grad()``. The model's train/eval mode is left as the caller set it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def grad_cam(model: nn.Module, target_layer: nn.Module, input_tensor: torch.Tensor,
             class_index: int | tuple[int, ...]) -> np.ndarray:
    """Grad-CAM map of ``class_index`` from ``target_layer`` (a convolutional block of ``model``).

    When the layer runs more than once in a forward pass, its last output is explained.
    """
    # The input carries the graph, so a model whose parameters are frozen still yields gradients.
    image = _single_image(input_tensor).detach().requires_grad_(True)
    captured: list[torch.Tensor] = []

    def keep_activation(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        captured.append(output)

    handle = target_layer.register_forward_hook(keep_activation)
    try:
        with torch.enable_grad():
            score = _class_score(model, image, class_index)
            if not captured:
                raise ValueError("the target layer was not used by the model's forward pass")
            activation = captured[-1]
            (gradient,) = torch.autograd.grad(score, activation)
    finally:
        handle.remove()
    with torch.no_grad():
        weights = gradient.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * activation).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return _unit_range(cam[0, 0])


def saliency(model: nn.Module, input_tensor: torch.Tensor, class_index: int) -> np.ndarray:
    """Max-gradient saliency map of ``class_index``: max over channels of |d score / d pixel|."""
    image = _single_image(input_tensor).detach().requires_grad_(True)
    with torch.enable_grad():
        score = _class_score(model, image, class_index)
        (gradient,) = torch.autograd.grad(score, image)
    return _unit_range(gradient[0].abs().amax(dim=0))


def _single_image(input_tensor: torch.Tensor) -> torch.Tensor:
    """One image as a (1, C, H, W) batch; a map explains one image at a time."""
    if input_tensor.dim() == 3:
        return input_tensor.unsqueeze(0)
    if input_tensor.dim() == 4 and input_tensor.shape[0] == 1:
        return input_tensor
    raise ValueError(f"expected one image shaped (C, H, W) or (1, C, H, W), got {tuple(input_tensor.shape)}")


def _class_score(model: nn.Module, image: torch.Tensor, class_index: int | tuple[int, ...]) -> torch.Tensor:
    logits = model(image)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError("the model must return class logits shaped (batch, classes)")
    indices = (class_index,) if isinstance(class_index, int) else tuple(class_index)
    if not indices or not all(0 <= index < logits.shape[1] for index in indices):
        raise ValueError(f"class index {class_index} is outside the model's {logits.shape[1]} classes")
    return logits[0, list(indices)].sum()


def _unit_range(values: torch.Tensor) -> np.ndarray:
    """Scale to 0..1; an all-zero map (the class has no evidence here) stays all zero."""
    array = values.detach().float().cpu().numpy()
    array = array - array.min()
    top = float(array.max())
    if top > 0:
        array /= top
    return array.astype(np.float32, copy=False)
