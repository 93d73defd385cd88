"""Stochastic depth: Huang, Sun, Liu, Sedra and Weinberger, "Deep networks with
stochastic depth", ECCV 2016.

While training, each residual branch is kept with its survival probability p and
otherwise dropped, so the network is shallower on average; at test time all
branches are used. Two conventions exist and both are here:

* ``mode="paper"``: one Bernoulli(p) gate per mini-batch and block, no scaling
  while training; at test time the branch is multiplied by p (its expected gate).
* ``mode="drop_path"``: one gate per sample, the kept branches divided by p while
  training so that the expectation is unchanged; the identity at test time
  (torchvision's ``StochasticDepth(mode="row")`` and timm's ``DropPath``).

Both keep the expected training output equal to the test output. In the paper's
mode a block asks ``skipped(self.drop)`` before computing its branch, and a dropped
branch is not computed at all: that is where the paper's time saving comes from.
Under ``torch.fx`` tracing, and per sample in drop-path mode, the gate is a tensor
multiplying the branch instead (a Python ``if`` cannot be traced).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.fx._symbolic_trace import is_fx_symbolic_tracing

MODES = ("paper", "drop_path")


class StochasticDepth(nn.Module):
    """Multiply a residual branch by a random gate that is 1 with probability ``survival``."""

    def __init__(self, survival: float, mode: str = "paper"):
        super().__init__()
        if not 0 < survival <= 1:
            raise ValueError(f"survival probability must be in (0, 1], got {survival}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.survival, self.mode = survival, mode
        self._kept = False   # skips() has drawn this batch's gate, and the branch survived

    def skips(self) -> bool:
        """Paper mode, training, eager: draw this batch's gate before the branch is computed.

        True: the branch is dropped, and need not be computed. False: it survives,
        and the next call passes it through unchanged (the gate is drawn once).
        """
        tracing = is_fx_symbolic_tracing() or torch.compiler.is_compiling()
        if self.mode != "paper" or not self.training or tracing:
            return False
        self._kept = bool(torch.rand(()) < self.survival)
        return not self._kept

    def forward(self, branch: torch.Tensor) -> torch.Tensor:
        if self._kept:
            self._kept = False
            return branch
        if self.mode == "paper":
            if not self.training:
                return branch * self.survival
            noise = torch.rand_like(branch[:1, :1, :1, :1])  # one gate for the whole batch
            return branch * (noise < self.survival).to(branch.dtype)
        if not self.training:
            return branch
        noise = torch.rand_like(branch[:, :1, :1, :1])  # one gate per sample
        return branch * ((noise < self.survival).to(branch.dtype) / self.survival)

    def extra_repr(self) -> str:
        return f"survival={self.survival}, mode={self.mode!r}"


def linear_survival(num_blocks: int, last: float = 0.5) -> list[float]:
    """The paper's linear decay rule p_l = 1 - (l / L)(1 - p_L) for blocks l = 1 ... L."""
    return [1 - (l / num_blocks) * (1 - last) for l in range(1, num_blocks + 1)]


def skipped(gate: nn.Module) -> bool:
    """True when ``gate`` is a stochastic depth that drops its branch for this batch."""
    return isinstance(gate, StochasticDepth) and gate.skips()


def gate(survival: float, mode: str) -> nn.Module:
    """A ``StochasticDepth`` module, or ``nn.Identity`` when the branch always survives."""
    return nn.Identity() if survival == 1 else StochasticDepth(survival, mode)
