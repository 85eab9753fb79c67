"""Masked deep-embedding pre-training: learns, touches only the backbones, is repeatable, stops, and fits
into the orchestrator's training step (before ``fit``'s supervised epochs, never again on resume, never under torchrun)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from implant_desk.core.learning import distributed, orchestrator, pretrain
from implant_desk.core.learning.config import TrainingConfig, TrainingError
from implant_desk.core.learning.events import PretrainStep
from implant_desk.core.learning.fit import prepare_images
from implant_desk.core.learning.pretrain import PretrainConfig, pretrain_backbones, random_patch_mask
from implant_desk.core.models.identifier import ImplantIdentifier

from tiny_radiographs import TINY_SPEC, draw, one_torch_thread, write_samples  # noqa: F401 (autouse fixture)

# Tiny inputs: 8-pixel patches so a 32x16 crop still has patches to hide.
TINY_PRETRAIN = PretrainConfig(epochs=2, batch_size=3, patch=8, freeze_depth=0, lr=1e-3, seed=5)
TINY_FIT = TrainingConfig(epochs=1, head_epochs=1, batch_size=4, patience=0, pretrained=False, seed=3, device="cpu")


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    return write_samples(folder / "train", 6, seed=1), write_samples(folder / "val", 2, seed=2)


@pytest.fixture(scope="module")
def prepared(samples):
    train = prepare_images(samples[0], TINY_SPEC)
    shape = pretrain.fixture_shape(train)
    return [pretrain.prepare_image(p.image, TINY_SPEC, shape) for p in train], shape


@pytest.fixture
def train_step(samples, monkeypatch):
    """The orchestrator's training step on the tiny samples, with ``unlabelled`` as the folders' unannotated
    images."""
    def train(config: TrainingConfig, unlabelled=(), **kwargs):
        monkeypatch.setattr(orchestrator, "pretraining_images", lambda _data: list(unlabelled))
        data = SimpleNamespace(split=SimpleNamespace(train=samples[0], val=samples[1]), designs=None)
        return orchestrator.train(data, TINY_SPEC, config, **kwargs)

    return train


def _network() -> ImplantIdentifier:
    torch.manual_seed(0)
    return ImplantIdentifier(TINY_SPEC, pretrained=False)


def _state(network) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def test_the_mask_hides_the_configured_share_of_whole_patches():
    mask = random_patch_mask(4, 64, 96, 16, 0.25, torch.Generator().manual_seed(0))
    assert mask.shape == (4, 1, 64, 96)
    assert mask.mean(dim=(1, 2, 3)).tolist() == [0.25] * 4  # 6 of 24 patches in every image
    patches = mask[:, 0].unfold(1, 16, 16).unfold(2, 16, 16)  # (4, 4, 6, 16, 16)
    assert torch.all((patches.amin(dim=(-1, -2)) == patches.amax(dim=(-1, -2))))  # a patch is hidden whole
    assert not torch.equal(mask[0], mask[1])


def test_the_masked_loss_falls_and_only_the_backbones_change(prepared):
    images, shape = prepared
    network = _network()
    before = _state(network)
    stage_parameters = {id(p) for stage in network.backbone_stages() for module in stage for p in module.parameters()}
    backbone = {name for name, p in network.named_parameters() if id(p) in stage_parameters}
    result = pretrain_backbones(network, images, shape, replace(TINY_PRETRAIN, epochs=6))
    assert result.epochs_run == 6 and not result.stopped
    assert result.losses[-1] < 0.6 * result.losses[0]  # measured 0.15 to 0.3 for three seeds
    after = network.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and changed <= backbone  # weights of backbone stages only
    heads = [k for k in before if k.startswith(("detector.lateral", "detector.head", "detector.out", "classifier.fc"))]
    assert heads and all(torch.equal(before[k], after[k]) for k in heads)
    assert all(torch.equal(before[k], after[k]) for k in before if "running_" in k)  # BatchNorm statistics kept
    assert all(p.requires_grad for p in network.parameters())  # as it was before


def test_the_first_stages_stay_as_they_were(prepared):
    images, shape = prepared
    network = _network()
    before = _state(network)
    pretrain_backbones(network, images, shape, replace(TINY_PRETRAIN, epochs=1, freeze_depth=3))
    after = network.state_dict()
    assert torch.equal(before["detector.stem.0.weight"], after["detector.stem.0.weight"])
    assert torch.equal(before["classifier.net.blocks.1.0.conv_pw.weight"], after["classifier.net.blocks.1.0.conv_pw.weight"])
    assert not torch.equal(before["classifier.net.blocks.4.0.conv_pw.weight"], after["classifier.net.blocks.4.0.conv_pw.weight"])


def test_same_seed_same_weights(prepared):
    images, shape = prepared
    first, second, other = _network(), _network(), _network()
    pretrain_backbones(first, images, shape, TINY_PRETRAIN)
    pretrain_backbones(second, images, shape, TINY_PRETRAIN)
    pretrain_backbones(other, images, shape, replace(TINY_PRETRAIN, seed=6))
    a, b, c = first.state_dict(), second.state_dict(), other.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_should_stop_stops_it_between_steps(prepared):
    images, shape = prepared
    events, calls = [], iter(range(100))
    result = pretrain_backbones(_network(), images, shape, TINY_PRETRAIN, on_event=events.append,
                                should_stop=lambda: next(calls) >= 3)
    assert result.stopped and result.epochs_run == 1  # steps 1-2 (epoch 1), step 1 of epoch 2, then stop
    assert [(e.epoch, e.step) for e in events] == [(1, 1), (1, 2), (2, 1)]
    assert isinstance(events[0], PretrainStep) and events[0].epochs == 2 and np.isfinite(events[0].loss)


def test_a_diverged_loss_is_a_clear_error_and_restores_the_backbones(prepared, monkeypatch):
    images, shape = prepared
    network = _network()
    before = _state(network)
    real_loss = pretrain.masked_embedding_loss
    calls = iter(range(100))
    monkeypatch.setattr(pretrain, "masked_embedding_loss",
                        lambda *args: real_loss(*args) * (1.0 if next(calls) < 4 else float("nan")))
    with pytest.raises(TrainingError, match="diverged"):
        pretrain_backbones(network, images, shape, TINY_PRETRAIN)
    after = network.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_bright_crops_are_centred_on_metal():
    image = np.full((200, 200), 40, np.uint8)
    image[120:180, 20:50] = 250  # one bright fixture
    boxes = pretrain.bright_crop_boxes(image, pretrain.FixtureShape(0.3, 0.4), 50, np.random.default_rng(0))
    centres = np.array([((x1 + x2) / 2, (y1 + y2) / 2) for x1, y1, x2, y2 in boxes])
    inside = (centres[:, 0] > 12) & (centres[:, 0] < 58) & (centres[:, 1] > 112) & (centres[:, 1] < 188)
    assert inside.mean() > 0.9
    heights = np.array([y2 - y1 for _, y1, _, y2 in boxes])
    assert np.all((heights > 0.3 * 200 / 1.3) & (heights < 0.3 * 200 * 1.3))


def test_the_training_step_pretrains_on_the_unlabelled_images_then_fits(train_step, tmp_path):
    unlabelled = []
    rng = np.random.default_rng(9)
    for index in range(3):
        path = tmp_path / f"plain{index}.png"
        cv2.imwrite(str(path), draw(rng)[0])
        unlabelled.append(path)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    events = []
    config = replace(TINY_FIT, pretrain_epochs=2, checkpoint_path=str(tmp_path / "run.ckpt"))
    result = train_step(config, [*unlabelled, tmp_path / "broken.png"], on_event=events.append)
    kinds = [e.kind for e in events]
    assert kinds.index("step") > max(i for i, kind in enumerate(kinds) if kind == "pretrain")
    pretrain_events = [e for e in events if isinstance(e, PretrainStep)]
    assert pretrain_events[-1].epoch == 2 and pretrain_events[-1].images == 6 + 3
    assert pretrain_events[0].unreadable == 1
    assert result.stop_reason == "completed" and result.epochs_run == 1

    # Resuming past epoch 0: the pre-trained weights are in the checkpoint, pre-training is not redone.
    events.clear()
    resumed = train_step(replace(config, epochs=2), unlabelled, on_event=events.append)
    assert resumed.epochs_run == 2 and "pretrain" not in {e.kind for e in events}


def test_a_cancel_during_pretraining_ends_the_run_before_the_first_epoch(train_step, tmp_path):
    calls = iter(range(100))
    config = replace(TINY_FIT, pretrain_epochs=3, checkpoint_path=str(tmp_path / "run.ckpt"))
    result = train_step(config, should_stop=lambda: next(calls) >= 1)
    assert result.cancelled and result.epochs_run == 0


def test_pretraining_is_refused_under_torchrun(train_step, monkeypatch, tmp_path):
    monkeypatch.setattr(distributed, "rank_and_world", lambda: (0, 2))
    with pytest.raises(TrainingError, match="without torchrun"):
        train_step(replace(TINY_FIT, pretrain_epochs=1, checkpoint_path=str(tmp_path / "run.ckpt")))
