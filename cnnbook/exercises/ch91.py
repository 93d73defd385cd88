"""Checkers for the appendix on scaling out with torchrun."""

from __future__ import annotations

import math
from typing import Callable

from torch.utils.data import DataLoader, DistributedSampler

from ..distributed import scaled_lr
from ._core import checker, expect_number

IMAGENET_TRAIN_IMAGES = 1_281_167


@checker("ch91.shard")
def _shard(function: Callable[[int, int, int], list[int]]) -> tuple[bool, str]:
    """``function(n, rank, world_size)``: the examples one process takes in an unshuffled training pass."""
    for n in (1, 7, 10, 12, 101):
        for world_size in (1, 2, 3, 8):
            for rank in range(world_size):
                truth = list(DistributedSampler(range(n), num_replicas=world_size, rank=rank, shuffle=False))
                got = list(function(n, rank, world_size))
                if got != truth:
                    return False, (f"for n={n}, rank={rank} of {world_size} PyTorch's DistributedSampler gives "
                                   f"{truth}, you gave {got}. Every process takes the same number of examples.")
    return True, "matches DistributedSampler for every size, rank and number of processes tried."


@checker("ch91.steps")
def _steps(answer: int) -> tuple[bool, str]:
    """Optimizer steps per epoch of each of 8 processes, 64 images each, on ImageNet's training set."""
    images = range(IMAGENET_TRAIN_IMAGES)
    expected = len(DataLoader(images, batch_size=64,
                              sampler=DistributedSampler(images, num_replicas=8, rank=0)))
    return expect_number(answer, expected,
                         f"Each process gets a shard of {IMAGENET_TRAIN_IMAGES:,} / 8 images, "
                         "rounded up; the last batch of a shard may be short.")


@checker("ch91.scaled-lr")
def _scaled_lr(function: Callable[[int, int], float]) -> tuple[bool, str]:
    """``function(processes, per_process_batch)``: SGD's learning rate, 0.1 at a batch of 256, scaled."""
    for processes in (1, 2, 4, 8, 32):
        for per_process in (32, 64, 128):
            truth = scaled_lr(0.1, processes * per_process)
            got = function(processes, per_process)
            if not isinstance(got, (int, float)) or not math.isclose(got, truth):
                return False, (f"for {processes} processes of {per_process} images the global batch is "
                               f"{processes * per_process} and the rate {truth:g}; you gave {got}.")
    return True, "right: the rate grows with the global batch, all processes together."
