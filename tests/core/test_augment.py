"""Augmentations: boxes follow the pixels through flips, quarter turns and small rotations."""

from __future__ import annotations

import pytest
import torch

from implant_desk.core.learning.augment import AugmentConfig, augment, build_augmentation

GEOMETRY_ONLY = AugmentConfig(max_noise_fraction=0.0, contrast=0.0, gamma=(1.0, 1.0))


def _image_with_fixture(box=(30, 10, 50, 70), size=(96, 128)) -> tuple[torch.Tensor, torch.Tensor]:
    """A dark image (H x W = size) with one bright upright "fixture" filling ``box``."""
    image = torch.zeros((1, *size), dtype=torch.uint8)
    x1, y1, x2, y2 = box
    image[:, y1:y2, x1:x2] = 255
    return image, torch.tensor([box], dtype=torch.float32)


def _bright_extent(image: torch.Tensor) -> torch.Tensor:
    ys, xs = torch.nonzero(image[0] > 127, as_tuple=True)
    return torch.tensor([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=torch.float32)


@pytest.mark.parametrize("seed", range(12))
def test_flips_and_quarter_turns_move_the_box_exactly_with_the_pixels(seed):
    torch.manual_seed(seed)
    pipeline = build_augmentation(AugmentConfig(max_rotation_deg=0.0, max_noise_fraction=0.0, contrast=0.0,
                                                gamma=(1.0, 1.0)))
    image, boxes = _image_with_fixture()
    out, out_boxes, labels = augment(pipeline, image, boxes, torch.tensor([2]))
    assert labels.tolist() == [2]
    assert sorted(out.shape[-2:]) == [96, 128]
    assert torch.allclose(out_boxes[0], _bright_extent(out), atol=0.01)


def test_quarter_turns_happen():
    pipeline = build_augmentation(GEOMETRY_ONLY)
    image, boxes = _image_with_fixture()
    shapes = set()
    for seed in range(20):
        torch.manual_seed(seed)
        shapes.add(tuple(augment(pipeline, image, boxes, torch.tensor([0]))[0].shape[-2:]))
    assert shapes == {(96, 128), (128, 96)}


@pytest.mark.parametrize("seed", range(8))
def test_small_rotations_keep_the_fixture_inside_its_box(seed):
    torch.manual_seed(100 + seed)
    pipeline = build_augmentation(GEOMETRY_ONLY)
    image, boxes = _image_with_fixture()
    out, out_boxes, _ = augment(pipeline, image, boxes, torch.tensor([0]))
    extent = _bright_extent(out)
    box = out_boxes[0]
    # The box encloses the turned fixture and is not much larger (resampling blurs a pixel at the edges).
    assert (box[:2] <= extent[:2] + 1.5).all() and (box[2:] >= extent[2:] - 1.5).all()
    assert (box[:2] >= extent[:2] - 3).all() and (box[2:] <= extent[2:] + 3).all()


def test_noise_touches_at_most_the_configured_share_of_pixels_and_no_box():
    pipeline = build_augmentation(AugmentConfig(flip_p=0.0, quarter_turns=False, max_rotation_deg=0.0, contrast=0.0,
                                                gamma=(1.0, 1.0), noise_p=1.0, max_noise_fraction=0.05))
    image = torch.full((1, 200, 200), 128, dtype=torch.uint8)
    boxes = torch.tensor([[10.0, 10.0, 50.0, 90.0]])
    changed = []
    for seed in range(10):
        torch.manual_seed(seed)
        out, out_boxes, _ = augment(pipeline, image, boxes, torch.tensor([1]))
        assert torch.equal(out_boxes, boxes)
        changed.append(float((out != image).float().mean()))
    assert max(changed) <= 0.05 and max(changed) > 0.005


def test_contrast_and_gamma_change_pixels_not_boxes_on_float_images():
    pipeline = build_augmentation(AugmentConfig(flip_p=0.0, quarter_turns=False, max_rotation_deg=0.0,
                                                max_noise_fraction=0.0))
    torch.manual_seed(0)
    image = torch.linspace(0, 1, 64 * 64).reshape(1, 64, 64)
    boxes = torch.tensor([[5.0, 5.0, 20.0, 40.0]])
    out, out_boxes, _ = augment(pipeline, image, boxes, torch.tensor([0]))
    assert out.dtype == torch.float32 and 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    assert not torch.allclose(out, image)
    assert torch.equal(out_boxes, boxes)


def test_a_box_without_area_is_dropped_with_its_label():
    pipeline = build_augmentation(AugmentConfig(max_rotation_deg=0.0, max_noise_fraction=0.0, contrast=0.0,
                                                gamma=(1.0, 1.0)))
    image, _ = _image_with_fixture()
    boxes = torch.tensor([[30.0, 10.0, 50.0, 70.0], [5.0, 5.0, 5.5, 60.0]])
    _, out_boxes, labels = augment(pipeline, image, boxes, torch.tensor([0, 1]))
    assert labels.tolist() == [0] and out_boxes.shape == (1, 4)


@pytest.mark.parametrize("seed", range(10))
def test_shifts_and_zoom_move_the_box_with_the_pixels_and_cut_it_at_the_edge(seed):
    torch.manual_seed(200 + seed)
    config = AugmentConfig(flip_p=0.0, quarter_turns=False, max_rotation_deg=0.0, max_shift=0.45, scale=(0.8, 1.25),
                           max_noise_fraction=0.0, contrast=0.0, gamma=(1.0, 1.0))
    image, boxes = _image_with_fixture(box=(10, 20, 40, 80))
    out, out_boxes, labels = augment(build_augmentation(config), image, boxes, torch.tensor([1]))
    assert out.shape == image.shape
    if (out > 127).any():
        # What is left of the fixture in the image, within a pixel of resampling blur; a fixture pushed out
        # of the film takes its box and label along.
        assert labels.tolist() == [1]
        assert torch.allclose(out_boxes[0], _bright_extent(out), atol=1.5)
    else:
        assert labels.tolist() == []


def test_shifts_cut_fixtures_at_the_edge_now_and_then():
    config = AugmentConfig(flip_p=0.0, quarter_turns=False, max_rotation_deg=0.0, max_shift=0.2,
                           max_noise_fraction=0.0, contrast=0.0, gamma=(1.0, 1.0))
    image, boxes = _image_with_fixture(box=(4, 20, 34, 80))
    pipeline = build_augmentation(config)
    widths = []
    for seed in range(20):
        torch.manual_seed(seed)
        box = augment(pipeline, image, boxes, torch.tensor([0]))[1][0]
        widths.append(float(box[2] - box[0]))
    assert min(widths) < 29  # some draws push the fixture partly off the image: its box is cut to what is left
