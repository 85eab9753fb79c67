"""Explanation maps point at the evidence: a tiny CNN learns whether a bright patch is left or right."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from implant_desk.core.models.explain import grad_cam, saliency

SIZE = 32
PATCH = 6
NONE, LEFT, RIGHT = 0, 1, 2


def _patch_images(count: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Noisy RGB images, labelled by where their bright patch lies: none, left half or right half.

    The "none" class makes a patch the only evidence for "left" or "right": without it a model may
    answer "right" from an empty left half, and a faithful map would then rightly point there.
    """
    images = torch.randn(count, 3, SIZE, SIZE, generator=generator) * 0.3
    labels = torch.randint(0, 3, (count,), generator=generator)
    cols = torch.randint(0, SIZE // 2 - PATCH, (count,), generator=generator) + (labels == RIGHT) * (SIZE // 2)
    rows = torch.randint(0, SIZE - PATCH, (count,), generator=generator)
    for i in torch.nonzero(labels != NONE).flatten().tolist():
        images[i, :, rows[i] : rows[i] + PATCH, cols[i] : cols[i] + PATCH] += 1.0
    return images, labels, rows, cols


class TinyCnn(nn.Module):
    """Convolutions, global average pooling and a linear layer: the shape of the app's classifiers.

    A column-coordinate channel lets a translation-invariant network tell left from right.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(4, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU()
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        column = torch.linspace(-1, 1, x.shape[-1]).expand(x.shape[0], 1, x.shape[-2], x.shape[-1])
        return self.head(self.features(torch.cat([x, column], dim=1)))


@pytest.fixture(scope="module")
def trained() -> tuple[TinyCnn, tuple[torch.Tensor, ...]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only add contention on a shared machine
    try:
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(1)
        model = TinyCnn()
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(100):
            images, labels, _, _ = _patch_images(32, generator)
            loss = nn.functional.cross_entropy(model(images), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.zero_grad(set_to_none=True)
    held_out = _patch_images(40, generator)
    with torch.no_grad():
        accuracy = (model(held_out[0]).argmax(dim=1) == held_out[1]).float().mean().item()
    assert accuracy > 0.95, f"the tiny CNN did not learn the task (accuracy {accuracy:.2f})"
    return model, held_out


def test_grad_cam_peaks_on_the_evidence(trained):
    model, (images, labels, rows, cols) = trained
    shares = []
    for image, label, row, col in _with_patch(images, labels, rows, cols):
        heat = grad_cam(model, model.features[-1], image, label)
        peak_row, peak_col = np.unravel_index(int(heat.argmax()), heat.shape)
        # Its grid is half the input's: a couple of pixels of slack around the patch.
        assert row - 3 <= peak_row < row + PATCH + 3 and col - 3 <= peak_col < col + PATCH + 3
        shares.append(_evidence_share(heat, label))
    assert np.mean(shares) > 0.6


def test_saliency_peaks_on_the_discriminative_half(trained):
    model, (images, labels, rows, cols) = trained
    shares, peaks_right = [], []
    for image, label, _, _ in _with_patch(images, labels, rows, cols):
        heat = saliency(model, image, label)
        peak_col = np.unravel_index(int(heat.argmax()), heat.shape)[1]
        # Pixel-level gradients are noisy: most, not all, single peaks fall on the patch's half.
        peaks_right.append((peak_col >= SIZE // 2) == (label == RIGHT))
        shares.append(_evidence_share(heat, label))
    assert np.mean(peaks_right) >= 0.8
    assert np.mean(shares) > 0.6


def _with_patch(images, labels, rows, cols):
    for image, label, row, col in zip(images, labels.tolist(), rows.tolist(), cols.tolist()):
        if label != NONE:
            yield image, label, row, col


def _evidence_share(heat: np.ndarray, label: int) -> float:
    """Fraction of the map's mass in the half that holds the patch."""
    half = heat[:, SIZE // 2 :] if label == RIGHT else heat[:, : SIZE // 2]
    return float(half.sum() / heat.sum())


@pytest.mark.parametrize("method", ["grad_cam", "saliency"])
def test_map_shape_range_and_no_state_left_behind(trained, method):
    model, (images, labels, _, _) = trained
    layer = model.features[-1]
    first = int(torch.nonzero(labels != NONE)[0])
    batch, label = images[first : first + 1], int(labels[first])
    with torch.no_grad():  # the app computes maps from inference code running without grad
        if method == "grad_cam":
            heat = grad_cam(model, layer, batch, label)
        else:
            heat = saliency(model, batch, label)
        assert not torch.is_grad_enabled()
    assert heat.shape == (SIZE, SIZE) and heat.dtype == np.float32
    assert heat.min() == 0.0 and heat.max() == pytest.approx(1.0)
    assert not layer._forward_hooks and not layer._backward_hooks
    assert all(p.grad is None for p in model.parameters())
    assert not model.training


@pytest.mark.parametrize("method", ["grad_cam", "saliency"])
def test_a_frozen_model_is_explained_too(trained, method):
    """Inference code may freeze the parameters; the map must not depend on their requires_grad."""
    model, (images, labels, _, _) = trained
    first = int(torch.nonzero(labels != NONE)[0])
    frozen = [p.requires_grad_(False) for p in model.parameters()]
    try:
        if method == "grad_cam":
            heat = grad_cam(model, model.features[-1], images[first], int(labels[first]))
        else:
            heat = saliency(model, images[first], int(labels[first]))
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)
    assert heat.max() == pytest.approx(1.0)


def test_grad_cam_removes_its_hook_when_the_call_fails(trained):
    model, (images, _, _, _) = trained
    layer = model.features[-1]
    with pytest.raises(ValueError, match="class index 5"):
        grad_cam(model, layer, images[0], 5)
    assert not layer._forward_hooks


def test_grad_cam_refuses_a_layer_the_model_does_not_use(trained):
    model, (images, _, _, _) = trained
    unused = nn.Conv2d(3, 3, 1)
    with pytest.raises(ValueError, match="not used"):
        grad_cam(model, unused, images[0], 0)
    assert not unused._forward_hooks


def test_a_batch_of_several_images_is_refused(trained):
    model, (images, _, _, _) = trained
    with pytest.raises(ValueError, match="one image"):
        saliency(model, images[:2], 0)
