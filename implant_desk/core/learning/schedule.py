"""The learning-rate schedule that the supervised epochs (``fit``) and the pre-training share."""

from __future__ import annotations

import math
from typing import Protocol

import torch


class _Schedule(Protocol):
    lr: float
    warmup_fraction: float


def set_scheduled_lr(optimizer: torch.optim.Optimizer, config: _Schedule, step: int, total: int) -> None:
    """Linear warm-up over ``warmup_fraction`` of the steps, then cosine decay to 0; each parameter group keeps
    its ``scale`` of ``config.lr``."""
    warmup = max(1, round(total * config.warmup_fraction))
    if step < warmup:
        factor = (step + 1) / warmup
    else:
        factor = 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
    for group in optimizer.param_groups:
        group["lr"] = config.lr * factor * group["scale"]
