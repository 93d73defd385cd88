"""Checkers for chapter 16: ResNeSt (split attention)."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from ..analysis import capture_activations
from ..models.resnest import SplitAttention
from ._core import checker, expect_number, expect_tensor, parameter_count


def attention_mlp_params(unit: SplitAttention) -> int:
    """Parameters of the attention MLP of a split-attention unit: fc1, its batch norm, fc2."""
    return sum(parameter_count(layer) for layer in (unit.fc1, unit.bn1, unit.fc2))


def scores_and_weights(radix: int, cardinality: int, channels: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """The scores of fc2 and the split weights of a random unit on a random input, as the library computes them."""
    with torch.random.fork_rng():          # a fixed unit, without touching the reader's random state
        torch.manual_seed(16)
        unit = SplitAttention(channels, channels, radix=radix, cardinality=cardinality).eval()
        x = torch.randn(2, channels, 5, 5)
    captured = capture_activations(unit, x, ["fc2", "attention"])
    return captured["fc2"].flatten(1), captured["attention"].flatten(2)


def uniform_split_weight(radix: int) -> float:
    """The split weight of a unit whose fc2 outputs only zeros (weights and bias zero)."""
    with torch.random.fork_rng():
        unit = SplitAttention(16, 16, radix=radix).eval()
        x = torch.randn(1, 16, 4, 4)
    nn.init.zeros_(unit.fc2.weight)
    nn.init.zeros_(unit.fc2.bias)
    weights = capture_activations(unit, x, ["attention"])["attention"]
    return weights.mean().item()


@checker("ch16.attention-params")
def _attention_params(answer: int) -> tuple[bool, str]:
    """Parameters of the attention MLP of a unit with 64 channels in and out, radix 2, cardinality 1."""
    unit = SplitAttention(64, 64, radix=2, cardinality=1)
    return expect_number(answer, attention_mlp_params(unit),
                         "the hidden width is max(32, int(64 * 2 / 4 + 4) // 8 * 8); fc1 (64 -> hidden) and "
                         "fc2 (hidden -> 2 * 64) are 1x1 convolutions with biases, and the batch norm between "
                         "them has 2 parameters per channel.")


@checker("ch16.zero-scores")
def _zero_scores(answer: Any) -> tuple[bool, str]:
    """The weight of each split when fc2's output is all zeros, at radix 4."""
    expected = uniform_split_weight(4)
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    if math.isclose(answer, expected, abs_tol=1e-6):
        return True, f"{expected} is right: a softmax over equal scores is uniform."
    return False, f"{answer} is not it. Equal scores give every split the same share, and the shares sum to one."


@checker("ch16.r-softmax")
def _r_softmax(r_softmax: Callable[[torch.Tensor, int, int], torch.Tensor]) -> tuple[bool, str]:
    """``r_softmax(scores, radix, cardinality)`` turns fc2's (N, radix * C) scores into (N, radix, C) weights."""
    for radix, cardinality in ((2, 1), (3, 2), (1, 2)):
        scores, expected = scores_and_weights(radix, cardinality)
        ok, message = expect_tensor(
            r_softmax(scores, radix, cardinality), expected,
            "it matches the split-attention unit at radix 3, 2 "
            "and 1: a softmax over the splits within each cardinal group, and SE-Net's sigmoid at radix 1.",
            f"wrong values at radix {radix}, cardinality {cardinality}: fc2's channels are ordered group by "
            "group, then split by split within a group; the softmax runs across the splits (a sigmoid if "
            "radix is 1).")
        if not ok:
            return ok, message
    return ok, message
