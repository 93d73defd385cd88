"""Training on several processes with PyTorch's DistributedDataParallel.

``torchrun --nproc_per_node=N -m cnnbook train ...`` starts N copies of the command
line, each with ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` in its environment.
``setup`` joins them into one process group (NCCL between GPUs, gloo on CPUs) and
gives each its device; ``fit`` then wraps the model in DistributedDataParallel, so
that the gradients are averaged across processes after every backward pass, and
each process reads its own shard of the data. In a single process (the usual case,
and every notebook) all of this does nothing.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


def world_size() -> int:
    """How many processes train together (1 without torchrun)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    """This process's number, 0 to world_size() - 1."""
    return dist.get_rank() if dist.is_initialized() else 0


def is_main() -> bool:
    """Whether this process logs, prints and writes checkpoints: rank 0."""
    return rank() == 0


def setup(device: str | None = None) -> torch.device | None:
    """Join the process group when started by torchrun; return this process's device.

    Under torchrun each process takes the GPU numbered by its ``LOCAL_RANK`` and
    the group talks over NCCL; on CPUs (or with ``device="cpu"``) over gloo.
    Without torchrun it returns ``device`` as given (None: the best available).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return torch.device(device) if device else None
    on_gpu = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
    local = torch.device("cuda", int(os.environ["LOCAL_RANK"])) if on_gpu else torch.device("cpu")
    if on_gpu:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if on_gpu else "gloo")
    return local


def cleanup() -> None:
    """Leave the process group (if any)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in DistributedDataParallel when several processes train, else ``model`` itself."""
    if world_size() == 1:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over all processes (unchanged in a single process)."""
    if world_size() > 1:
        values = values.clone()
        dist.all_reduce(values)
    return values


def scaled_lr(base_lr: float, batch_size: int, base_batch_size: int = 256) -> float:
    """The linear scaling rule (Goyal et al. 2017): a learning rate tuned for batches of
    ``base_batch_size``, scaled for a global batch of ``batch_size`` (all processes together)."""
    return base_lr * batch_size / base_batch_size
