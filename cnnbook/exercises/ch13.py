"""Checkers for chapter 13: stochastic depth."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ..models.resnet import cifar_resnet
from ..models.stochastic_depth import StochasticDepth, linear_survival
from ._core import checker

BUDGET_BLOCKS = 36   # the exercise's budget: blocks of ResNet-110 per training step, on average


def _expect_close(answer: Any, expected: float, tolerance: float, right: str, hint: str) -> tuple[bool, str]:
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    if math.isclose(answer, expected, rel_tol=0, abs_tol=tolerance):
        return True, right
    return False, f"{answer:g} is not it. {hint}"


@checker("ch13.expected-blocks-1202")
def _expected_blocks_1202(answer: float) -> tuple[bool, str]:
    """Expected number of residual blocks per training step of ResNet-1202, linear rule, p_L = 0.5."""
    with torch.device("meta"):            # only the gates are needed, not 19M random weights
        model = cifar_resnet("resnet1202", 1202, 10, 3, 1.0, survival_last=0.5)
    expected = sum(m.survival for m in model.modules() if isinstance(m, StochasticDepth))
    return _expect_close(answer, expected, 0.01, f"{expected:g} is right: the sum of the p_l.",
                         "1202 = 6n + 2 gives 3n blocks; add up p_l = 1 - (l/L)(1 - p_L) over them.")


@checker("ch13.survival-for-budget")
def _survival_for_budget(answer: float) -> tuple[bool, str]:
    """The p_L that gives ResNet-110 (54 blocks) 36 expected blocks under the linear rule."""
    blocks = 54
    # The expected depth is linear in p_L: interpolate between p_L = 0 and p_L = 1.
    at_zero, at_one = sum(linear_survival(blocks, 0.0)), sum(linear_survival(blocks, 1.0))
    expected = (BUDGET_BLOCKS - at_zero) / (at_one - at_zero)
    return _expect_close(answer, expected, 5e-4, f"{expected:.4f} is right: ResNet-110 then runs "
                                           f"{BUDGET_BLOCKS} of its {blocks} blocks per step on average.",
                         f"the expected number of blocks is L - (1 - p_L)(L + 1)/2 with L = {blocks}; "
                         f"set it to {BUDGET_BLOCKS} and solve for p_L.")


@checker("ch13.drop-path")
def _drop_path(drop_path: Callable[[torch.Tensor, float, bool], torch.Tensor]) -> tuple[bool, str]:
    """``drop_path(x, survival, training)``: per-sample gates, kept samples divided by survival."""
    survival, calls = 0.8, 200
    x = torch.randn(64, 3, 4, 4, generator=torch.Generator().manual_seed(13))
    got = drop_path(x, survival, False)
    if not isinstance(got, torch.Tensor) or not torch.equal(got, x):
        return False, "at test time (training=False) drop-path returns x unchanged."
    kept = []
    with torch.random.fork_rng():        # the reader's random state is left as it was
        torch.manual_seed(13)
        for _ in range(calls):
            out = drop_path(x, survival, True)
            if not isinstance(out, torch.Tensor) or out.shape != x.shape:
                return False, f"expected a tensor of shape {tuple(x.shape)} while training"
            dropped = out.flatten(1).eq(0).all(1)
            scaled = torch.isclose(out, x / survival).flatten(1).all(1)
            if not (dropped | scaled).all():
                return False, ("while training, every sample must be either all zeros or x / survival; "
                               "check the scaling, and that one gate covers a whole sample.")
            kept.append(scaled)
    kept = torch.stack(kept).float()
    if all(len(row.unique()) == 1 for row in kept):
        return False, ("every call keeps or drops the whole batch at once: that is the paper's gate. "
                       "Draw one gate per sample, of shape (N, 1, 1, 1).")
    if abs(kept.mean().item() - survival) > 0.02:
        return False, f"samples were kept {kept.mean().item():.1%} of the time; expected {survival:.0%}."
    return True, "one gate per sample, kept samples scaled by 1/survival: drop-path."
