"""The fit loop, as torchvision's detection references: ``fit`` receives a ready network and the training and
validation images already in memory (:func:`prepare_images`), and runs epochs of :func:`train_one_epoch`
followed by :func:`validate`; nothing else. Building the network, the parent's weights and pre-training are
the orchestrator's steps before it.

As in the seed studies: first only the new heads learn while the ImageNet backbones stay frozen, then the
whole network (or all but the first ``freeze_depth`` stages); AdamW with a linear warm-up and cosine decay;
early stopping on a validation metric with patience; class weights against imbalanced systems. Validation and
the returned weights use an exponential moving average of the weights (``TrainingConfig.ema_decay``).

Repeatable: every epoch draws its shuffling, augmentation and dropout from generators seeded by
(seed, epoch), so a run resumed from its checkpoint gives the same weights as an uninterrupted one (on CPU).
A checkpoint (plain dicts and tensors: ``torch.load(weights_only=True)`` reads it) is written atomically after
every epoch. Progress goes to ``on_event`` as typed events (implant_desk.core.learning.events).
Augmentations come from implant_desk.core.learning.augment (torchvision.transforms.v2); under ``torchrun`` each
process trains its share of every epoch with DistributedDataParallel (implant_desk.core.learning.distributed).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel

from implant_desk.core.atomic import atomic_write_bytes
from implant_desk.core.learning import distributed
from implant_desk.core.learning.augment import AugmentConfig, augment, augment_image, build_augmentation
from implant_desk.core.learning.config import MONITORED, TrainingConfig, TrainingError
from implant_desk.core.learning.dataset import Sample
from implant_desk.core.learning.events import EpochEnded, OnEvent, TrainStep, ignore
from implant_desk.core.learning.schedule import set_scheduled_lr
from implant_desk.core.models.backbones import normalize_uint8
from implant_desk.core.models.decoding import CHANNELS_PER_KIND, PART_KINDS
from implant_desk.core.models.detector import detection_loss, make_targets
from implant_desk.core.models.device import resolve_device
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.predictor import Predictor
from implant_desk.core.models.preprocess import detector_input, fixture_crop, grey8

CHECKPOINT_FORMAT = "implant-desk-checkpoint/3"  # 3: typed epoch history; the network is built outside fit
# The detector: flips, shifts and zoom (fixtures cut by the film's edge), exposure (brightness, contrast,
# gamma, noise on up to 3% of pixels, as in the implant-design study); no rotation, because the box enclosing
# a turned upright fixture is much wider than the fixture and the detector would learn loose boxes.
DETECTOR_AUGMENTATION = AugmentConfig(quarter_turns=False, max_rotation_deg=0.0, max_shift=0.2, scale=(0.85, 1.2),
                                      brightness=0.1, contrast=0.2, gamma=(0.74, 1.35), noise_p=1.0,
                                      max_noise_fraction=0.03)
# The classifier's crops: fixtures stand at any tilt within them, so rotations as wide as the tilts a film
# shows, but no quarter turns and no shifts (the crop follows the box).
CROP_AUGMENTATION = replace(DETECTOR_AUGMENTATION, max_rotation_deg=20.0, max_shift=0.0, scale=(1.0, 1.0))


@dataclass
class FitResult:
    network: ImplantIdentifier  # the best weights (by ``monitor``), in eval mode, on the CPU
    history: list[EpochEnded]
    best_epoch: int  # 0 when no validation ran
    best_metrics: dict
    stop_reason: str  # "completed", "early stopping", "cancelled", "time limit"
    epochs_run: int
    duration_s: float
    device: str
    config: dict = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return self.stop_reason == "cancelled"

    @property
    def best_score(self) -> tuple[float, float]:
        """The best epoch's validation score (see :func:`score`); -inf without validation."""
        return score(self.best_metrics, self.config["monitor"]) if self.best_metrics else (-math.inf, -math.inf)


@dataclass
class PreparedImage:
    """One training image held in memory: the detector's square input and the full image for crops."""

    det_image: np.ndarray
    det_boxes: np.ndarray  # (N, 4) in det_image pixels
    image: np.ndarray  # 8-bit grey, full resolution
    boxes: np.ndarray  # (N, 4) image pixels
    labels: np.ndarray  # (N,) class index, -1 for a system the model does not know
    # (N, attributes): each fixture's value index per design attribute the model reads, -1 where unknown
    attributes: np.ndarray | None = None
    # Per PART_KINDS, the thirds' boxes (M, 4) in det_image pixels; () for an image without part truth, which
    # then teaches nothing about parts (rather than that there are none).
    part_boxes: tuple[np.ndarray, ...] = ()
    # (N,) True for a fixture marked difficult (its annotator unsure it is one): the detector learns neither
    # that it is a fixture nor that it is background, and the classifier does not learn from it.
    difficult: np.ndarray | None = None

    @property
    def certain(self) -> np.ndarray:
        """(N,) True for the fixtures not marked difficult."""
        return np.ones(len(self.boxes), bool) if self.difficult is None else ~self.difficult


def prepare_images(samples: Sequence[Sample], spec, designs: Sequence | None = None) -> list[PreparedImage]:
    """Read annotated images (``image_path`` and ``annotation``) once, for every epoch and the pre-training.
    ``designs``: the systems whose names in the labels state their design (default: the catalogue in use)."""
    from implant_desk.core.imaging.loading import load_radiograph

    index = {name: i for i, name in enumerate(spec.classes)}
    design = design_truth(spec, designs)
    prepared = []
    for sample in samples:
        image = grey8(load_radiograph(sample.image_path))
        det_image, scale = detector_input(image, spec.det_size, square=True)
        boxes = _box_array(sample.annotation.boxes)
        labels = np.array([index.get(b.label, -1) for b in sample.annotation.boxes], dtype=np.int64)
        attributes = None
        if spec.attributes:
            unknown = (-1,) * len(spec.attributes)
            attributes = np.array([design.get(b.label, unknown) for b in sample.annotation.boxes],
                                  dtype=np.int64).reshape(-1, len(spec.attributes))
            from_parts = _attributes_from_parts(boxes, sample.parts, spec)
            attributes = np.where(attributes >= 0, attributes, from_parts)
        part_boxes = ()
        if spec.parts and sample.parts:
            part_boxes = tuple(_box_array([b for b in sample.parts if b.label.split(":", 1)[0] == kind]) * scale
                               for kind in PART_KINDS)
        difficult = np.array([b.difficult for b in sample.annotation.boxes], dtype=bool)
        prepared.append(PreparedImage(det_image=det_image, det_boxes=boxes * scale, image=image, boxes=boxes,
                                      labels=labels, attributes=attributes, part_boxes=part_boxes,
                                      difficult=difficult))
    return prepared


def design_truth(spec, designs: Sequence | None = None) -> dict[str, tuple[int, ...]]:
    """System name -> its value index of each attribute ``spec`` reads (-1 where the system's value is not one
    the model knows), for every system of ``designs`` (default: the catalogue in use, the lab's own else the
    shipped one): what the attribute heads learn from."""
    if not spec.attributes:
        return {}
    if designs is None:
        from implant_desk.core.catalogue import load_catalogue

        designs = load_catalogue().systems
    return {system.name: tuple(values.index(value) if (value := system.attributes().get(name)) in values else -1
                               for name, values in spec.attributes)
            for system in designs}


def _attributes_from_parts(boxes: np.ndarray, parts, spec) -> np.ndarray:
    """(N, attributes) value indices that the labels of each fixture's annotated parts state (-1 elsewhere): how a
    lab that labels design parts teaches the attributes of implants whose system it does not name. A part
    belongs to the smallest fixture box holding its centre."""
    from implant_desk.core.catalogue.systems import attributes_from_part_label

    read = np.full((len(boxes), len(spec.attributes)), -1, dtype=np.int64)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for part in parts:
        x, y = (part.xmin + part.xmax) / 2, (part.ymin + part.ymax) / 2
        holding = np.flatnonzero((boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3]))
        if not holding.size:
            continue
        owner = holding[np.argmin(areas[holding])]
        stated = attributes_from_part_label(part.label)
        for k, (name, values) in enumerate(spec.attributes):
            if stated.get(name) in values:
                read[owner, k] = values.index(stated[name])
    return read


def _box_array(boxes) -> np.ndarray:
    return np.array([[b.xmin, b.ymin, b.xmax, b.ymax] for b in boxes], dtype=np.float32).reshape(-1, 4)


def resumes(config: TrainingConfig) -> bool:
    """Whether ``fit`` will continue from a checkpoint (written after a finished epoch) instead of epoch 1."""
    return bool(config.resume and config.checkpoint_path and Path(config.checkpoint_path).exists())


def fit(network: ImplantIdentifier, train: Sequence[PreparedImage], val: Sequence[PreparedImage],
        config: TrainingConfig, on_event: OnEvent = ignore,
        should_stop: Callable[[], bool] | None = None) -> FitResult:
    """Train ``network`` (its heads first, then the unfrozen stages) and return it with the best epoch's
    weights. Raises TrainingError for no usable data, a non-finite loss or a checkpoint of another run."""
    started = time.monotonic()
    rank, world = distributed.rank_and_world()  # (0, 1) unless started by torchrun
    device = distributed.local_device(resolve_device(config.device))
    if not train:
        raise TrainingError("there are no training images")
    if not any(len(p.boxes) for p in train):
        raise TrainingError("the training images have no fixture boxes")
    spec = network.spec
    network.to(device)
    heads = network.head_parameters()
    head_ids = {id(p) for p in heads}
    backbone = [p for p in network.parameters() if id(p) not in head_ids]
    optimizer = torch.optim.AdamW([{"params": heads, "scale": 1.0},
                                   {"params": backbone, "scale": config.backbone_lr_scale}],
                                  lr=config.lr, weight_decay=config.weight_decay)
    class_weights = _class_weights(train, len(spec.classes)).to(device) if config.class_weights else None
    augmenters = _Augmenters() if config.augment else None
    steps_per_epoch = math.ceil(math.ceil(len(train) / world) / config.batch_size)
    state = _State()
    average = _moving_average(network, config.ema_decay)
    evaluated = network if average is None else average.module  # the weights validated and returned
    checkpoint = Path(config.checkpoint_path) if config.checkpoint_path else None
    if resumes(config):
        state = _resume(checkpoint, network, optimizer, spec, average)

    emit = on_event if rank == 0 else ignore
    loop = _Loop(network, optimizer, train, config, class_weights, augmenters, device, steps_per_epoch, emit,
                 lambda: _stop_reason(should_stop, config, started), started, average)
    stop_reason = "completed"
    for epoch in range(state.epoch + 1, config.epochs + 1):
        epoch_started = time.monotonic()
        phase = "heads" if epoch <= config.head_epochs else "whole"
        losses, stop_reason = train_one_epoch(loop, state, epoch, phase)
        if stop_reason != "completed":
            break
        # Rank 0 validates; all ranks take its figures, so early stopping and the best epoch agree.
        metrics = distributed.from_rank0(validate(evaluated, val, device) if val and rank == 0 else {})
        improved = bool(metrics) and score(metrics, config.monitor) > state.best_score
        if improved:
            state.best_score, state.best_epoch = score(metrics, config.monitor), epoch
            state.best_state = {k: v.detach().cpu().clone() for k, v in evaluated.state_dict().items()}
            state.bad_epochs = 0
        elif metrics and phase == "whole":
            state.bad_epochs += 1
        loop.epoch_times.append(time.monotonic() - epoch_started)
        record = EpochEnded(epoch=epoch, epochs=config.epochs, phase=phase, train_loss=float(np.mean(losses)),
                            val=metrics, monitor=config.monitor, best_epoch=state.best_epoch,
                            elapsed_s=time.monotonic() - started,
                            eta_s=float(np.mean(loop.epoch_times)) * (config.epochs - epoch))
        state.history.append(record)
        state.epoch = epoch
        if checkpoint and rank == 0:
            _save_checkpoint(checkpoint, network, optimizer, state, spec, config, average)
        emit(record)
        if config.patience and state.bad_epochs >= config.patience:
            stop_reason = "early stopping"
            break

    if state.best_state is not None:
        network.load_state_dict(state.best_state)
    elif average is not None and state.step:
        network.load_state_dict(average.module.state_dict())
    distributed.copy_state_from_rank0(network)
    network.to("cpu").eval()
    best_metrics = next((h.val for h in state.history if h.epoch == state.best_epoch), {})
    return FitResult(network=network, history=state.history, best_epoch=state.best_epoch, best_metrics=best_metrics,
                     stop_reason=stop_reason, epochs_run=state.epoch, duration_s=time.monotonic() - started,
                     device=str(device), config=config.to_dict())


@dataclass
class _Loop:
    """What every epoch of one ``fit`` works with."""

    network: ImplantIdentifier
    optimizer: torch.optim.Optimizer
    train: Sequence[PreparedImage]
    config: TrainingConfig
    class_weights: torch.Tensor | None
    augmenters: _Augmenters | None
    device: torch.device
    steps_per_epoch: int
    emit: OnEvent
    stop_reason: Callable[[], str]
    started: float  # time.monotonic() when fit began: the time limit counts from it
    average: AveragedModel | None = None  # the moving average of the weights, updated after every step
    epoch_times: list[float] = field(default_factory=list)


def train_one_epoch(loop: _Loop, state: _State, epoch: int, phase: str) -> tuple[list[float], str]:
    """One pass over this process's share of the training images; returns the step losses and "completed"
    or why it stopped early ("cancelled", "time limit")."""
    config, network = loop.config, loop.network
    rank, world = distributed.rank_and_world()
    _set_trainable(network, frozen_stages=None if phase == "heads" else config.freeze_depth,
                   keep_fixture_detector=config.keep_fixture_detector)
    model = distributed.wrap(network, loop.device)
    # The same shuffle on every rank, each taking its share; augmentation draws differ between ranks
    # (rank 0 draws exactly as a single process does).
    generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
    order = distributed.shard(torch.randperm(len(loop.train), generator=generator).tolist(), rank, world)
    rng = np.random.default_rng([config.seed, epoch, rank] if rank else [config.seed, epoch])
    torch.manual_seed(config.seed * 100_003 + epoch + 7919 * rank)
    # Rank 0's plan on every rank: their clocks differ, their learning rates must not.
    planned = distributed.from_rank0(planned_epochs(config, epoch, loop.epoch_times, time.monotonic() - loop.started))
    steps, total_steps = loop.steps_per_epoch, loop.steps_per_epoch * planned
    epoch_started = time.monotonic()
    losses = []
    for step in range(steps):
        reason = distributed.first_reason(loop.stop_reason())
        if reason:
            return losses, reason
        batch = [loop.train[i] for i in order[step * config.batch_size:(step + 1) * config.batch_size]]
        set_scheduled_lr(loop.optimizer, config, state.step, total_steps)
        step_started = time.perf_counter()
        det_loss, cls_loss, data_s = _train_step(model, loop.optimizer, batch, network.spec, config,
                                                 loop.class_weights, loop.augmenters, rng, loop.device, epoch,
                                                 step + 1)
        if loop.average is not None:
            loop.average.update_parameters(network)
        step_s = time.perf_counter() - step_started
        state.step += 1
        losses.append(det_loss + cls_loss)
        done = (epoch - 1) * steps + step + 1
        loop.emit(TrainStep(epoch=epoch, epochs=config.epochs, step=step + 1, steps=steps, phase=phase,
                            loss=det_loss + cls_loss, det_loss=det_loss, cls_loss=cls_loss,
                            lr=loop.optimizer.param_groups[0]["lr"], step_s=step_s, data_s=data_s,
                            eta_s=_eta(loop.epoch_times, time.monotonic() - epoch_started, step + 1, steps,
                                       total_steps - done)))
    return losses, "completed"


def planned_epochs(config: TrainingConfig, epoch: int, epoch_times: Sequence[float], elapsed_s: float) -> int:
    """The epochs the learning-rate schedule spans when ``epoch`` begins: ``config.epochs``, or fewer when the
    time limit will stop training first (estimated from the times of the epochs run so far), so that the rate
    has decayed by the limit instead of being cut at its height, as on a laptop given half an hour."""
    if config.time_limit_s is None or not epoch_times:
        return config.epochs
    fit_in_time = epoch - 1 + int((config.time_limit_s - elapsed_s) / float(np.mean(epoch_times)))
    return max(epoch, min(config.epochs, fit_in_time))


def score(metrics: dict, monitor: str) -> tuple[float, float]:
    """The monitored figure, ties broken by COCO mAP: on a small validation set several epochs often score the
    same top-1, and of those the one with the tighter boxes measures fixtures better."""
    return metrics[monitor], metrics["map"]


def _stop_reason(should_stop: Callable[[], bool] | None, config: TrainingConfig, started: float) -> str:
    if should_stop and should_stop():
        return "cancelled"
    if config.time_limit_s is not None and time.monotonic() - started > config.time_limit_s:
        return "time limit"
    return ""


@dataclass
class _State:
    epoch: int = 0  # last completed epoch
    step: int = 0
    best_score: tuple[float, float] = (-math.inf, -math.inf)  # see score
    best_epoch: int = 0
    bad_epochs: int = 0
    best_state: dict | None = None
    history: list[EpochEnded] = field(default_factory=list)


def _class_weights(train: list[PreparedImage], classes: int) -> torch.Tensor:
    """Inverse frequency, normalised to mean 1 over the systems present (absent ones get 0)."""
    labels = np.concatenate([p.labels for p in train])
    counts = np.bincount(labels[labels >= 0], minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def _set_trainable(network: ImplantIdentifier, frozen_stages: int | None, keep_fixture_detector: bool = False) -> None:
    """``None``: heads only. Frozen parts keep their BatchNorm statistics (eval mode): small batches of
    radiographs would otherwise drag ImageNet statistics around. ``keep_fixture_detector``: the detector's
    every layer but its part layer is frozen too."""
    stages = network.backbone_stages()
    depth = len(stages) if frozen_stages is None else frozen_stages
    network.train()
    for index, stage in enumerate(stages):
        for module in stage:
            module.requires_grad_(index >= depth)
            if index < depth:
                module.eval()
    if keep_fixture_detector:
        for module in network.detector.children():
            if module is not network.detector.parts_out:
                module.requires_grad_(False)
                module.eval()


class _Augmenters:
    """The two torchvision pipelines; they draw from torch's global generator, which fit seeds every epoch."""

    def __init__(self) -> None:
        self.detector = build_augmentation(DETECTOR_AUGMENTATION)
        self.crop = build_augmentation(CROP_AUGMENTATION, boxes=False)


@dataclass
class _Batch:
    images: torch.Tensor  # B x 1 x H x W, uint8
    boxes: list[torch.Tensor]  # per image, the fixtures' boxes in its pixels
    ignored: list[torch.Tensor]  # per image, the difficult fixtures' boxes: neither fixture nor background
    # per image, one tensor of boxes per PART_KINDS, or None for an image without part truth
    parts: list[tuple[torch.Tensor, ...] | None]
    crops: torch.Tensor | None  # C x 1 x h x w, uint8: fixtures with a known system or design attribute
    labels: torch.Tensor  # (C,) class index, -1 where only attributes are known
    attributes: torch.Tensor  # (C, attributes) value index, -1 where unknown


def _make_batch(batch: list[PreparedImage], spec, augmenters: _Augmenters | None, rng: np.random.Generator,
                crop_views: int = 1) -> _Batch:
    """Detector images with their fixture and part boxes (moved together by the augmentation), and the crops
    of the fixtures that teach the classifier."""
    images, boxes, ignored, parts, crops, labels, attributes = [], [], [], [], [], [], []
    for item in batch:
        certain = item.certain
        kinds = [item.det_boxes[certain], item.det_boxes[~certain], *item.part_boxes]
        kind_of = torch.repeat_interleave(torch.arange(len(kinds)), torch.tensor([len(k) for k in kinds]))
        image, item_boxes = torch.from_numpy(item.det_image)[None], torch.from_numpy(np.concatenate(kinds))
        if augmenters is not None:  # boxes pushed out of the image are dropped, with their kinds
            image, item_boxes, kind_of = augment(augmenters.detector, image, item_boxes, kind_of)
        images.append(image)
        boxes.append(item_boxes[kind_of == 0])
        ignored.append(item_boxes[kind_of == 1])
        parts.append(tuple(item_boxes[kind_of == k] for k in range(2, len(kinds))) if item.part_boxes else None)
        known = (item.attributes if item.attributes is not None
                 else np.full((len(item.boxes), len(spec.attributes)), -1, dtype=np.int64))
        teaching = [(b, l, a) for b, l, a, sure in zip(item.boxes, item.labels, known, certain)
                    if sure and (l >= 0 or (a >= 0).any())]
        views = crop_views if augmenters is not None else 1  # without augmentation every view is the same
        for box, label, values in teaching * views:
            crop_box = _jitter(box, rng) if augmenters is not None else tuple(box)
            crop, _ = fixture_crop(item.image, crop_box, spec.crop_size, spec.crop_margin)
            crop = torch.from_numpy(crop)[None]
            crops.append(augment_image(augmenters.crop, crop) if augmenters is not None else crop)
            labels.append(int(label))
            attributes.append(torch.from_numpy(np.asarray(values, dtype=np.int64)))
    return _Batch(torch.stack(images), boxes, ignored, parts, torch.stack(crops) if crops else None,
                  torch.tensor(labels, dtype=torch.int64),
                  torch.stack(attributes) if attributes else torch.zeros(0, len(spec.attributes), dtype=torch.int64))


def _train_step(network, optimizer, batch: list[PreparedImage], spec, config: TrainingConfig, class_weights,
                augmenters: _Augmenters | None, rng, device, epoch: int, step: int) -> tuple[float, float, float]:
    """One optimiser step; returns the two losses and the seconds spent preparing the batch (augmenting,
    cropping), so a benchmark can tell data time from compute time."""
    started = time.perf_counter()
    data = _make_batch(batch, spec, augmenters, rng, config.crop_views)
    det_input = normalize_uint8(data.images).to(device)
    crop_input = None if data.crops is None else normalize_uint8(data.crops).to(device)
    data_s = time.perf_counter() - started
    det_output, logits = network(det_input, crop_input)
    det_loss = _detection_loss(det_output, data, spec, device)
    cls_loss = torch.zeros((), device=device)
    if logits is not None:
        cls_loss = _classification_loss(logits, data, spec, config, class_weights, device)
    loss = det_loss + cls_loss
    if not distributed.on_every_rank(bool(torch.isfinite(loss))):  # one rank raising alone would hang the rest
        raise TrainingError(f"training diverged at epoch {epoch}, step {step}: the loss is no longer a finite "
                            "number (try a lower learning rate, or check the annotations for empty boxes)")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in network.parameters() if p.grad is not None], config.grad_clip)
    optimizer.step()
    return det_loss.item(), cls_loss.item(), data_s


def _detection_loss(output: torch.Tensor, data: _Batch, spec, device) -> torch.Tensor:
    """The fixtures' loss, plus the mean of the three parts' losses over the images that have part truth."""
    shape = tuple(output.shape[-2:])

    def loss(channels: torch.Tensor, boxes: list[torch.Tensor], ignored: list[torch.Tensor] | None = None) -> torch.Tensor:
        targets = make_targets(boxes, shape, spec.det_stride, ignored)
        return detection_loss(channels, {k: v.to(device) for k, v in targets.items()})

    total = loss(output[:, :CHANNELS_PER_KIND], data.boxes, data.ignored)
    with_parts = [i for i, parts in enumerate(data.parts) if parts is not None]
    if spec.parts and with_parts:
        for k in range(len(PART_KINDS)):
            first = CHANNELS_PER_KIND * (k + 1)
            channels = output[with_parts, first:first + CHANNELS_PER_KIND]
            total = total + loss(channels, [data.parts[i][k] for i in with_parts]) / len(PART_KINDS)
    return total


def _classification_loss(logits: torch.Tensor, data: _Batch, spec, config: TrainingConfig, class_weights,
                         device) -> torch.Tensor:
    """Cross-entropy over the systems (crops of a known system), plus the mean over the design attributes of
    their cross-entropies (crops whose value is known)."""
    classes = len(spec.classes)
    labels, attributes = data.labels.to(device), data.attributes.to(device)
    total = torch.zeros((), device=device)
    named = labels >= 0
    if named.any():
        total = total + F.cross_entropy(logits[named, :classes], labels[named], weight=class_weights,
                                        label_smoothing=config.label_smoothing)
    start, terms = classes, []
    for k, size in enumerate(spec.attribute_sizes):
        known = attributes[:, k] >= 0
        if known.any():
            terms.append(F.cross_entropy(logits[known, start:start + size], attributes[known, k],
                                         label_smoothing=config.label_smoothing))
        start += size
    if terms:
        total = total + torch.stack(terms).mean()
    return total


def _jitter(box: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Crop sampling: shift and scale the box by a few percent, since detected boxes are never exactly the
    annotated ones."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    dx, dy = rng.uniform(-0.06, 0.06, 2) * (w, h)
    sx, sy = rng.uniform(-0.06, 0.06, 2) * (w, h)
    return x1 + dx - sx, y1 + dy - sy, x2 + dx + sx, y2 + dy + sy


def validate(network: ImplantIdentifier, val: Sequence[PreparedImage], device) -> dict:
    """The monitored figures of ``network`` on the validation images (NaN, e.g. no fixture found: 0)."""
    from implant_desk.core.learning.metrics import SCORING_FLOOR, ImageResult, PredictedFixture, TrueFixture, evaluate

    classes = network.spec.classes
    predictor = Predictor.from_network(network, device, graphs=_graphs_for_validation(network, device))
    results = []
    for item in val:
        fixtures = predictor.identify(item.image, threshold=0.0, min_score=SCORING_FLOOR)
        predictions = [PredictedFixture(box=f.box, score=f.score, candidates=f.candidates) for f in fixtures]
        truth = [TrueFixture(box=tuple(map(float, b)), system=classes[label] if label >= 0 else None,
                             difficult=not sure) for b, label, sure in zip(item.boxes, item.labels, item.certain)]
        results.append(ImageResult(predictions=predictions, truth=truth))
    evaluation = evaluate(results, classes=classes, floor=network.spec.min_fixture_score)
    return {name: float(getattr(evaluation, name)) if not math.isnan(getattr(evaluation, name)) else 0.0
            for name in MONITORED}


def _graphs_for_validation(network: ImplantIdentifier, device: torch.device):
    """On the CPU, this epoch's networks as ONNX graphs: scoring the validation images then takes a fraction of
    eager torch's time (a few seconds to export; see models.graphs). None elsewhere or without onnxruntime."""
    import tempfile

    from implant_desk.core.models.graphs import export_graphs, load_graphs

    if torch.device(device).type != "cpu":
        return None
    with tempfile.TemporaryDirectory(prefix="implant-desk-validation-") as folder:
        return load_graphs(folder, export_graphs(network, folder), torch.get_num_threads())


@torch.inference_mode()
def classifier_logits(network: ImplantIdentifier, images: Sequence[PreparedImage]) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's logits on the annotated crops of every named fixture in ``images``, and their class
    indices: what temperature scaling is fitted on (implant_desk.core.learning.calibration)."""
    spec = network.spec
    named = [(item.image, box, label) for item in images for box, label in zip(item.boxes, item.labels) if label >= 0]
    if not named:
        return np.zeros((0, len(spec.classes)), dtype=np.float32), np.zeros(0, dtype=np.int64)
    crops = np.stack([fixture_crop(image, tuple(map(float, box)), spec.crop_size, spec.crop_margin)[0]
                      for image, box, _ in named])
    network.eval()
    batches = normalize_uint8(torch.from_numpy(crops)[:, None]).split(64)
    logits = torch.cat([network.classifier(batch) for batch in batches])[:, :len(spec.classes)].float().numpy()
    return logits, np.array([label for *_, label in named], dtype=np.int64)


def _eta(epoch_times: list[float], elapsed: float, done: int, steps: int, remaining_steps: int) -> float:
    per_step = (float(np.mean(epoch_times)) / steps) if epoch_times else elapsed / done
    return per_step * remaining_steps


def _moving_average(network: ImplantIdentifier, cap: float) -> AveragedModel | None:
    """An exponential moving average of ``network``'s weights and BatchNorm statistics (None when ``cap`` is 0),
    with the decay ramped as (1 + n) / (10 + n) over its n updates: it follows the weights closely at first and
    averages about the last tenth of the steps later, whatever a run's length."""
    if not cap:
        return None

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], updates: torch.Tensor) -> None:
        n = float(updates)
        if torch.is_floating_point(averaged[0]):
            torch._foreach_lerp_(averaged, current, 1 - min(cap, (1 + n) / (10 + n)))
        else:  # counters (BatchNorm's batches tracked) are the model's own
            torch._foreach_copy_(averaged, current)

    return AveragedModel(network, multi_avg_fn=update, use_buffers=True)


def _save_checkpoint(path: Path, network, optimizer, state: _State, spec, config: TrainingConfig,
                     average: AveragedModel | None = None) -> None:
    payload = {"format": CHECKPOINT_FORMAT, "spec": spec.to_dict(), "config": config.to_dict(),
               "epoch": state.epoch, "step": state.step, "best_score": list(state.best_score),
               "best_epoch": state.best_epoch, "bad_epochs": state.bad_epochs, "best_state": state.best_state,
               "history": [record.to_dict() for record in state.history], "model": network.state_dict(),
               "optimizer": optimizer.state_dict(), "average": average.state_dict() if average else None}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def _resume(path: Path, network, optimizer, spec, average: AveragedModel | None = None) -> _State:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise TrainingError(f"{path}: the checkpoint cannot be read ({exc})") from exc
    if payload.get("format") != CHECKPOINT_FORMAT or payload.get("spec") != spec.to_dict():
        raise TrainingError(f"{path}: the checkpoint belongs to another model or run; delete it to start afresh")
    network.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    if average is not None and payload.get("average"):  # else it starts again from the resumed weights
        average.load_state_dict(payload["average"])
    return _State(epoch=payload["epoch"], step=payload["step"], best_score=tuple(payload["best_score"]),
                  best_epoch=payload["best_epoch"], bad_epochs=payload["bad_epochs"],
                  best_state=payload["best_state"],
                  history=[EpochEnded(**{k: v for k, v in h.items() if k != "event"}) for h in payload["history"]])
