"""Training in several processes started by ``torchrun`` (DistributedDataParallel, one process per GPU).

``torchrun --nproc_per_node N -m implant_desk train DATA`` starts N copies of the command; each finds its
place in the environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and joins
the process group with NCCL on CUDA or gloo on the CPU. Every rank trains on its share of each epoch's
shuffled images; DistributedDataParallel averages the gradients, so the weights stay identical. Rank 0 alone
validates, reports progress, writes checkpoints and publishes; decisions (stop, early stopping) are shared.

Outside torchrun (world size 1) every helper here is a no-op, so ``fit`` runs the same with or without it.
torch is imported inside the functions: the CLI imports this module before it knows it will train.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from implant_desk.core.errors import ImplantDeskError

if TYPE_CHECKING:
    import torch
    from torch import nn


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextlib.contextmanager
def process_group(device_name: str | None) -> Iterator[None]:
    """Join the group torchrun set up for the duration of a training command: NCCL when this process
    trains on CUDA (each on the GPU numbered LOCAL_RANK), gloo on the CPU."""
    import torch
    import torch.distributed as dist

    from implant_desk.core.models.device import resolve_device

    device = resolve_device(device_name)
    if device.type == "mps":
        raise ImplantDeskError("training in several processes needs CUDA GPUs or the CPU, not Apple MPS; "
                               "add --device cpu, or run without torchrun")
    if device.type == "cuda":
        torch.cuda.set_device(_local_rank())
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def rank_and_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def local_device(device: torch.device) -> torch.device:
    """This process's own GPU when several processes share a machine; other devices unchanged."""
    import torch

    if device.type != "cuda" or rank_and_world()[1] == 1:
        return device
    return torch.device("cuda", _local_rank())


def _local_rank() -> int:
    """This process's number on its machine, as torchrun sets it."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def wrap(network: nn.Module, device: torch.device) -> nn.Module:
    """The network whose forward and backward synchronise gradients across ranks (itself in one process).

    Wrap again whenever the set of trainable parameters changes: DistributedDataParallel fixes it when built.
    A batch without fixture crops leaves the classifier unused, hence ``find_unused_parameters``."""
    if rank_and_world()[1] == 1:
        return network
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None,
                                   find_unused_parameters=True)


def shard(order: list[int], rank: int, world: int) -> list[int]:
    """This rank's share of ``order``: every ``world``-th item, after wrapping the list around to a multiple
    of ``world`` (as torch's DistributedSampler does), so that every rank runs the same number of steps."""
    if world == 1:
        return order
    per_rank = math.ceil(len(order) / world)
    return (order * world)[:per_rank * world][rank::world]


def first_reason(reason: str) -> str:
    """The first non-empty reason to stop any rank has (each rank's clock and cancel flag differ), so that
    all stop at the same step: a rank that went on alone would wait forever for the others' gradients."""
    _, world = rank_and_world()
    if world == 1:
        return reason
    import torch.distributed as dist

    reasons: list[Any] = [None] * world
    dist.all_gather_object(reasons, reason)
    return next((r for r in reasons if r), "")


def on_every_rank(condition: bool) -> bool:
    """Whether ``condition`` holds on all ranks."""
    if rank_and_world()[1] == 1:
        return condition
    import torch.distributed as dist

    conditions: list[Any] = [None] * rank_and_world()[1]
    dist.all_gather_object(conditions, condition)
    return all(conditions)


def from_rank0(value: Any) -> Any:
    """Rank 0's ``value`` (picklable) on every rank."""
    if rank_and_world()[1] == 1:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def copy_state_from_rank0(network: nn.Module) -> None:
    """Parameters agree already; BatchNorm running statistics drift apart (each rank updates them in its own
    forward passes). Take rank 0's, so that every rank ends with the network rank 0 publishes."""
    if rank_and_world()[1] == 1:
        return
    import torch.distributed as dist

    for tensor in network.state_dict().values():
        dist.broadcast(tensor, src=0)
