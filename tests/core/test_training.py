"""The fit loop: learns, is repeatable, resumes exactly, stops when asked, refuses a diverged loss."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from implant_desk.core.learning import fit as fitting
from implant_desk.core.learning.config import MONITORED, TrainingConfig, TrainingError
from implant_desk.core.learning.events import EpochEnded, TrainStep
from implant_desk.core.learning.network import build_network

from tiny_radiographs import TINY_SPEC, one_torch_thread, write_samples  # noqa: F401 (autouse fixture)

TINY = TrainingConfig(epochs=2, head_epochs=1, batch_size=4, patience=0, pretrained=False, seed=3, device="cpu")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The training and validation images, in memory as ``fit`` receives them."""
    folder = tmp_path_factory.mktemp("tiny")
    return (fitting.prepare_images(write_samples(folder / "train", 6, seed=1), TINY_SPEC),
            fitting.prepare_images(write_samples(folder / "val", 3, seed=2), TINY_SPEC))


def fit(spec, train, val, config, **kwargs) -> fitting.FitResult:
    """As the orchestrator does: a new network for ``spec`` (seeded by the config), then the epochs."""
    return fitting.fit(build_network(spec, config), train, val, config, **kwargs)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_fit_reports_plain_progress_and_returns_the_best_network(data):
    events = []
    result = fit(TINY_SPEC, *data, TINY, on_event=events.append)
    json.dumps([e.to_dict() for e in events])  # plain data underneath: JSON-able as well as picklable
    steps = [e for e in events if isinstance(e, TrainStep)]
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert len(steps) == 2 * 2 and len(epochs) == 2
    assert {"epoch", "step", "loss", "lr", "eta_s"} <= steps[0].to_dict().keys()
    assert set(epochs[-1].val) == {"top1", "top3", "ap50", "map"}
    assert [e.phase for e in epochs] == ["heads", "whole"]
    assert result.stop_reason == "completed" and result.epochs_run == 2
    assert result.best_epoch in (1, 2) and not result.network.training


def test_same_seed_same_weights(data):
    first = fit(TINY_SPEC, *data, TINY).network
    second = fit(TINY_SPEC, *data, TINY).network
    assert _same_weights(first, second)
    other = fit(TINY_SPEC, *data, replace(TINY, seed=4)).network
    assert not _same_weights(first, other)


def test_head_phase_keeps_the_pretrained_backbone_frozen(data):
    config = replace(TINY, epochs=1, pretrained=True)
    before = {k: v.clone() for k, v in build_network(TINY_SPEC, config).state_dict().items()}
    after = fit(TINY_SPEC, *data, config).network.state_dict()
    stem = "detector.stem.0.weight"
    assert torch.equal(before[stem], after[stem])
    assert torch.equal(before["classifier.net.blocks.3.0.conv_pw.weight"], after["classifier.net.blocks.3.0.conv_pw.weight"])
    assert not torch.equal(before["classifier.fc.weight"], after["classifier.fc.weight"])
    assert not torch.equal(before["detector.out.weight"], after["detector.out.weight"])


def test_checkpoint_is_plain_and_an_interrupted_run_resumes_to_the_same_weights(data, tmp_path):
    config = replace(TINY, epochs=3, checkpoint_path=str(tmp_path / "run.ckpt"))
    calls = {"n": 0}

    def stop_in_epoch_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 3  # two steps of epoch 1, one of epoch 2, then "cancel"

    interrupted = fit(TINY_SPEC, *data, config, should_stop=stop_in_epoch_two)
    assert interrupted.cancelled and interrupted.epochs_run == 1
    payload = torch.load(tmp_path / "run.ckpt", weights_only=True)
    assert payload["epoch"] == 1 and payload["spec"] == TINY_SPEC.to_dict()
    assert not list(tmp_path.glob("*.tmp"))

    resumed = fit(TINY_SPEC, *data, config)
    uninterrupted = fit(TINY_SPEC, *data, replace(config, checkpoint_path=None))
    assert resumed.epochs_run == 3 and len(resumed.history) == 3
    assert _same_weights(resumed.network, uninterrupted.network)


def test_the_weight_average_follows_closely_at_first_and_keeps_counters():
    module = torch.nn.BatchNorm1d(1)
    average = fitting._moving_average(module, cap=0.999)
    expected = None
    for updates, value in enumerate([1.0, 3.0, 5.0]):
        with torch.no_grad():
            module.weight.fill_(value)
            module.num_batches_tracked.fill_(7 + updates)
        average.update_parameters(module)
        decay = (1 + updates) / (10 + updates)
        expected = value if expected is None else decay * expected + (1 - decay) * value
    assert average.module.weight.item() == pytest.approx(expected)  # 1, then 2.64, then 4.48
    assert average.module.num_batches_tracked.item() == 9
    assert fitting._moving_average(module, cap=0.0) is None


def test_a_checkpoint_of_another_model_is_refused(data, tmp_path):
    config = replace(TINY, epochs=1, checkpoint_path=str(tmp_path / "run.ckpt"))
    fit(TINY_SPEC, *data, config)
    other = replace(TINY_SPEC, classes=("x", "y"))
    with pytest.raises(TrainingError, match="another model"):
        fit(other, *data, config)


def test_non_finite_loss_raises_a_clear_error(data):
    with pytest.raises(TrainingError, match="diverged"):
        fit(TINY_SPEC, *data, replace(TINY, lr=1e30))


def test_early_stopping_after_patience_epochs_without_improvement(data, monkeypatch):
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.7, 0.9])
    monkeypatch.setattr(fitting, "validate", lambda *args: dict.fromkeys(MONITORED, next(scores)))
    result = fit(TINY_SPEC, *data, replace(TINY, epochs=6, patience=3))
    assert result.stop_reason == "early stopping"
    assert result.epochs_run == 5 and result.best_epoch == 2
    assert result.best_metrics["top1"] == 0.7


def test_class_weights_balance_rare_systems(data):
    prepared = data[0]
    labels = torch.cat([torch.from_numpy(p.labels) for p in prepared])
    counts = torch.bincount(labels, minlength=2).float()
    weights = fitting._class_weights(prepared, 2)
    assert torch.allclose(weights * counts, (weights * counts)[0].expand(2))  # each system weighs the same


def test_no_training_images_is_a_clear_error():
    with pytest.raises(TrainingError, match="no training images"):
        fit(TINY_SPEC, [], [], TINY)


def test_each_fixture_brings_several_differently_augmented_crops_per_step(data):
    prepared = data[0][:2]
    fixtures = sum(int((p.labels >= 0).sum()) for p in prepared)
    torch.manual_seed(0)
    batch = fitting._make_batch(prepared, TINY_SPEC, fitting._Augmenters(), np.random.default_rng(0), crop_views=3)
    crops, labels = batch.crops, batch.labels.tolist()
    assert len(batch.boxes) == 2 and crops.shape[0] == len(labels) == 3 * fixtures
    first_views = crops[:fixtures]
    assert not torch.equal(first_views, crops[fixtures:2 * fixtures])  # new jitter and augmentation each view
    assert labels[:fixtures] * 3 == labels  # the same fixtures in the same order, view after view
    plain = fitting._make_batch(prepared, TINY_SPEC, None, np.random.default_rng(0), crop_views=3).crops
    assert plain.shape[0] == fixtures  # without augmentation a second view would repeat the first


def test_epochs_tied_on_the_monitored_figure_are_told_apart_by_map(data, monkeypatch):
    figures = iter([(0.9, 0.40), (1.0, 0.45), (1.0, 0.55), (1.0, 0.50)])

    def validate(*args):
        top1, coco_map = next(figures)
        return {**dict.fromkeys(MONITORED, top1), "map": coco_map}

    monkeypatch.setattr(fitting, "validate", validate)
    result = fit(TINY_SPEC, *data, replace(TINY, epochs=4))
    assert result.best_epoch == 3 and result.best_metrics["map"] == 0.55
