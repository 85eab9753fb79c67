"""Self-supervised pre-training of the backbones on the lab's own images: masked deep embeddings (MDE).

The implant-design study pre-trains its encoder by hiding 25 % of the image's 16x16 patches and predicting the
deep embeddings of the hidden patches (not their pixels); the prediction head is thrown away afterwards. Our
networks are CNNs, so the same idea reads: a frozen copy of the backbone as it starts (ImageNet or the parent
model) computes the feature map of the whole image; the backbone being trained sees the image with the patches
filled with 0 in normalised units (mid grey) and a 1x1 convolution (the head, discarded) predicts the teacher's
features from the student's. The loss (1 - cosine similarity) counts only where patches were hidden, weighted
by the hidden share of each feature cell (one cell is one patch at stride 16; four at stride 32).

- Detector: its square training input; the target is the stride-16 map its head reads.
- Classifier: random crops of a fixture's shape and scale (the annotated boxes say it), centred where the
  image is bright (metal is the brightest thing on a radiograph), so it learns from implant-like crops; the
  target is its last feature map (what its pooling reads).

Only backbone stages at ``freeze_depth`` and deeper learn (the ones ``fit`` trains too), with BatchNorm in
eval mode so masked images never move the running statistics. Seeded; ``should_stop`` is polled before every
step; progress goes to ``on_event`` as ``events.PretrainStep``. Each step leaves valid weights, and on an
error the backbones get their starting weights back.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from implant_desk.core.errors import FileProblem
from implant_desk.core.learning import distributed
from implant_desk.core.learning.config import TrainingConfig, TrainingError
from implant_desk.core.learning.events import OnEvent, PretrainStep, ignore
from implant_desk.core.learning.schedule import set_scheduled_lr
from implant_desk.core.models.backbones import normalize_uint8
from implant_desk.core.models.device import resolve_device
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.preprocess import detector_input, fixture_crop, grey8

PATCH = 16  # the study's patch size
# Crops taken at up to this much the fixture's typical size: images are kept only as large as that needs.
_MAX_CROP_ZOOM = 1.25


@dataclass(frozen=True)
class PretrainConfig:
    epochs: int = 5
    mask_ratio: float = 0.25  # the study's best on radiographs (fixture features are small)
    patch: int = PATCH
    batch_size: int = 8  # images per step
    crops_per_image: int = 2
    lr: float = 3e-4  # backbone; the prediction heads learn 10x faster (they start from the identity)
    head_lr_scale: float = 10.0
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)  # as the study (after MAE)
    warmup_fraction: float = 0.1
    freeze_depth: int = 3  # stages from the input kept as they are (fit keeps them frozen as well)
    grad_clip: float = 5.0
    seed: int = 0


@dataclass
class PretrainImage:
    """One image held in memory: the detector's square input, and a grey image for the classifier's crops
    (scaled down to what crops of a fixture's size need)."""

    det_image: np.ndarray
    image: np.ndarray


@dataclass(frozen=True)
class FixtureShape:
    """Typical fixture box: height as a share of the image's longer side, and width / height."""

    height_share: float
    aspect: float


@dataclass
class PretrainResult:
    epochs_run: int
    losses: list[float]  # mean masked loss per finished epoch
    images: int
    duration_s: float
    stopped: bool


class _Annotated(Protocol):
    image: np.ndarray
    boxes: np.ndarray  # (N, 4) in ``image`` pixels


def fixture_shape(annotated: Sequence[_Annotated]) -> FixtureShape:
    """Median fixture size and aspect from annotated boxes (what the classifier's crops should look like)."""
    heights, aspects = [], []
    for item in annotated:
        longer = max(item.image.shape[:2])
        for x1, y1, x2, y2 in np.asarray(item.boxes).reshape(-1, 4):
            if x2 > x1 and y2 > y1:
                heights.append((y2 - y1) / longer)
                aspects.append((x2 - x1) / (y2 - y1))
    if not heights:
        raise TrainingError("pre-training needs at least one annotated fixture to know what a fixture looks like")
    return FixtureShape(float(np.median(heights)), float(np.median(aspects)))


def prepare_image(image: np.ndarray, spec, shape: FixtureShape) -> PretrainImage:
    """An 8-bit grey image -> what pre-training keeps of it."""
    det_image, _ = detector_input(image, spec.det_size, square=True)
    region_h = shape.height_share * max(image.shape[:2]) * (1 + 2 * spec.crop_margin)
    scale = min(1.0, spec.crop_size[0] * _MAX_CROP_ZOOM / max(region_h, 1.0))
    if scale < 1.0:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return PretrainImage(det_image, np.ascontiguousarray(image))


def load_images(paths: Sequence[Path | str], spec, shape: FixtureShape) -> tuple[list[PretrainImage], list[str]]:
    """The unannotated images; one that cannot be read is left out with a note (it is not training data)."""
    from implant_desk.core.imaging.loading import load_radiograph

    images, notes = [], []
    for path in paths:
        try:
            images.append(prepare_image(grey8(load_radiograph(path)), spec, shape))
        except FileProblem as problem:
            notes.append(f"pre-training skipped {problem}")
    return images, notes


def random_patch_mask(batch: int, height: int, width: int, patch: int, ratio: float,
                      generator: torch.Generator) -> torch.Tensor:
    """(B, 1, H, W) float, 1 where a patch is hidden: exactly round(ratio * patches) random patches per image."""
    rows, cols = math.ceil(height / patch), math.ceil(width / patch)
    hidden = max(1, round(ratio * rows * cols)) if ratio > 0 else 0
    scores = torch.rand(batch, rows * cols, generator=generator)
    chosen = scores.argsort(dim=1)[:, :hidden]
    grid = torch.zeros(batch, rows * cols).scatter_(1, chosen, 1.0).view(batch, 1, rows, cols)
    return grid.repeat_interleave(patch, 2).repeat_interleave(patch, 3)[:, :, :height, :width]


def masked_embedding_loss(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - cosine similarity per feature cell, averaged over the hidden part (cells weighted by hidden share)."""
    weight = F.adaptive_avg_pool2d(mask, predicted.shape[-2:])[:, 0]
    distance = 1 - F.cosine_similarity(predicted, target, dim=1)
    return (distance * weight).sum() / weight.sum().clamp(min=1e-6)


def bright_crop_boxes(image: np.ndarray, shape: FixtureShape, count: int,
                      rng: np.random.Generator) -> list[tuple[float, float, float, float]]:
    """Fixture-shaped boxes whose centres are drawn with probability rising steeply with brightness."""
    small = cv2.resize(image, (max(1, image.shape[1] // 8), max(1, image.shape[0] // 8)), interpolation=cv2.INTER_AREA)
    weight = (small.astype(np.float64) / 255.0) ** 4 + 1e-9
    cells = rng.choice(weight.size, size=count, p=(weight / weight.sum()).ravel())
    fy, fx = image.shape[0] / small.shape[0], image.shape[1] / small.shape[1]
    boxes = []
    for cell in cells:
        cy, cx = (cell // small.shape[1] + rng.uniform()) * fy, (cell % small.shape[1] + rng.uniform()) * fx
        height = shape.height_share * max(image.shape[:2]) * rng.uniform(1 / _MAX_CROP_ZOOM, _MAX_CROP_ZOOM)
        width = height * shape.aspect * rng.uniform(0.85, 1.15)
        boxes.append((cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2))
    return boxes


def _detector_features(detector: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return detector.backbone_features(images)[-1]  # stride 16: the deepest of the maps its head reads


def _classifier_features(classifier: nn.Module, crops: torch.Tensor) -> torch.Tensor:
    return classifier.net.forward_features(crops)


def _identity_head(channels: int) -> nn.Conv2d:
    """The prediction head starts as the identity: the student's own features are its first guess."""
    head = nn.Conv2d(channels, channels, 1)
    with torch.no_grad():
        head.weight.copy_(torch.eye(channels).view(channels, channels, 1, 1))
        head.bias.zero_()
    return head


def pretrain_backbones(network: ImplantIdentifier, images: Sequence[PretrainImage], shape: FixtureShape,
                       config: PretrainConfig, device: torch.device | str = "cpu",
                       on_event: OnEvent = ignore, should_stop: Callable[[], bool] | None = None,
                       unreadable: int = 0) -> PretrainResult:
    """Pre-train the detector's and the classifier's backbones in place (see the module docstring);
    ``unreadable``: images left out before (said in every progress event)."""
    started = time.monotonic()
    if not images:
        raise TrainingError("there are no images to pre-train on")
    device = torch.device(device)
    spec = network.spec
    stages = network.backbone_stages()
    trainable = [p for stage in stages[config.freeze_depth:] for module in stage for p in module.parameters()]
    saved_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    saved_grad = [(p, p.requires_grad) for p in network.parameters()]
    was_training = network.training

    teacher_det = copy.deepcopy(network.detector).eval().requires_grad_(False)
    teacher_cls = copy.deepcopy(network.classifier).eval().requires_grad_(False)
    with torch.no_grad():
        det_channels = _detector_features(teacher_det, torch.zeros(1, 1, 32, 32, device=device)).shape[1]
    heads = nn.ModuleDict({"detector": _identity_head(det_channels),
                           "classifier": _identity_head(network.classifier.net.num_features)}).to(device)
    optimizer = torch.optim.AdamW([{"params": trainable, "scale": 1.0},
                                   {"params": list(heads.parameters()), "scale": config.head_lr_scale}],
                                  lr=config.lr, weight_decay=config.weight_decay, betas=config.betas)
    steps = math.ceil(len(images) / config.batch_size)
    total = steps * config.epochs
    losses: list[float] = []
    stopped = False
    try:
        network.eval()  # BatchNorm keeps its running statistics; dropout is off
        network.requires_grad_(False)
        for p in trainable:
            p.requires_grad_(True)
        done = 0
        for epoch in range(1, config.epochs + 1):
            generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
            rng = np.random.default_rng([config.seed, epoch, 17])
            order = torch.randperm(len(images), generator=generator).tolist()
            epoch_losses = []
            for step in range(steps):
                if should_stop and should_stop():
                    stopped = True
                    break
                batch = [images[i] for i in order[step * config.batch_size:(step + 1) * config.batch_size]]
                step_started = time.perf_counter()
                set_scheduled_lr(optimizer, config, done, total)
                det_loss, cls_loss = _step(network, teacher_det, teacher_cls, heads, optimizer, batch, spec, shape,
                                           config, generator, rng, device, trainable)
                if not math.isfinite(det_loss + cls_loss):
                    raise TrainingError(f"self-supervised pre-training diverged at epoch {epoch}, step {step + 1}: "
                                        "the loss is no longer a finite number")
                done += 1
                epoch_losses.append(det_loss + cls_loss)
                elapsed = time.monotonic() - started
                on_event(PretrainStep(epoch=epoch, epochs=config.epochs, step=step + 1, steps=steps,
                                      loss=det_loss + cls_loss, det_loss=det_loss, cls_loss=cls_loss,
                                      images=len(images), step_s=time.perf_counter() - step_started,
                                      eta_s=elapsed / done * (total - done), unreadable=unreadable))
            if stopped:
                break
            losses.append(float(np.mean(epoch_losses)))
    except BaseException:
        network.load_state_dict(saved_state)  # never a half-trained backbone after a failure
        raise
    finally:
        for p, flag in saved_grad:
            p.requires_grad_(flag)
        network.train(was_training)
    return PretrainResult(len(losses), losses, len(images), time.monotonic() - started, stopped)


def _step(network, teacher_det, teacher_cls, heads, optimizer, batch: list[PretrainImage], spec,
          shape: FixtureShape, config: PretrainConfig, generator: torch.Generator, rng: np.random.Generator,
          device, trainable) -> tuple[float, float]:
    det_images = normalize_uint8(torch.from_numpy(np.stack([item.det_image for item in batch]))[:, None])
    crops = [fixture_crop(item.image, box, spec.crop_size, spec.crop_margin)[0]
             for item in batch for box in bright_crop_boxes(item.image, shape, config.crops_per_image, rng)]
    crop_images = normalize_uint8(torch.from_numpy(np.stack(crops))[:, None])
    losses = []
    for images, student, teacher, features, head in (
            (det_images, network.detector, teacher_det, _detector_features, heads["detector"]),
            (crop_images, network.classifier, teacher_cls, _classifier_features, heads["classifier"])):
        mask = random_patch_mask(len(images), *images.shape[-2:], config.patch, config.mask_ratio, generator)
        images, mask = images.to(device), mask.to(device)
        with torch.no_grad():
            target = features(teacher, images)
        predicted = head(features(student, images * (1 - mask)))  # hidden patches: 0, mid grey
        losses.append(masked_embedding_loss(predicted, target, mask))
    loss = losses[0] + losses[1]
    if torch.isfinite(loss):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([*trainable, *heads.parameters()], config.grad_clip)
        optimizer.step()
    return losses[0].item(), losses[1].item()


def pretrain_before_fit(network: ImplantIdentifier, train: Sequence[_Annotated], unlabelled: Sequence[Path | str],
                        config: TrainingConfig, on_event: OnEvent = ignore,
                        should_stop: Callable[[], bool] | None = None) -> PretrainResult:
    """The orchestrator's step before ``fit``: the training images (already in memory) plus the unlabelled
    ones, for ``config.pretrain_epochs`` with the run's seed and freeze depth. One process only."""
    if distributed.rank_and_world()[1] > 1:
        raise TrainingError("self-supervised pre-training runs in one process only: run it without torchrun "
                            "(or with --pretrain-epochs 0)")
    shape = fixture_shape(train)
    extra, notes = load_images(unlabelled, network.spec, shape)
    images = [prepare_image(item.image, network.spec, shape) for item in train] + extra
    settings = PretrainConfig(epochs=config.pretrain_epochs, freeze_depth=config.freeze_depth, seed=config.seed)
    device = resolve_device(config.device)
    return pretrain_backbones(network.to(device), images, shape, settings, device, on_event, should_stop,
                              unreadable=len(notes))
