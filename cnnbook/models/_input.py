"""Input checks: a wrong image size or channel count fails with a message that
says what the model expects, instead of a shape error deep inside a layer."""

from __future__ import annotations

import torch
from torch import nn


class InputSpec:
    """A forward pre-hook that checks ``(N, C, H, W)`` inputs.

    ``size`` demands an exact ``(H, W)``; ``min_size`` a smallest one. The hook
    is not part of ``forward``, so ``torch.fx`` tracing is unaffected.
    """

    def __init__(self, model_name: str, channels: int, size: tuple[int, int] | None = None,
                 min_size: int | None = None, hint: str = ""):
        self.model_name, self.channels = model_name, channels
        self.size, self.min_size, self.hint = size, min_size, hint

    def expected(self) -> str:
        if self.size:
            return f"{self.channels}x{self.size[0]}x{self.size[1]} images"
        return f"{self.channels}-channel images of at least {self.min_size}x{self.min_size}"

    def __call__(self, module: nn.Module, args: tuple) -> None:
        x = args[0]
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.model_name} expects a batch of shape (N, C, H, W) "
                             f"with {self.expected()}, got {shape}. Add a batch axis with x[None].")
        c, h, w = x.shape[1:]
        wrong = (c != self.channels
                 or (self.size is not None and (h, w) != tuple(self.size))
                 or (self.min_size is not None and min(h, w) < self.min_size))
        if wrong:
            hint = f" {self.hint}" if self.hint else ""
            raise ValueError(f"{self.model_name} expects {self.expected()}, got {c}x{h}x{w}.{hint}")


def expect_input(model: nn.Module, spec: InputSpec) -> nn.Module:
    """Attach ``spec`` to ``model`` (as ``model.input_spec``) and check every call."""
    model.input_spec = spec
    model.register_forward_pre_hook(spec)
    return model


def default_input_size(model: nn.Module) -> tuple[int, int, int]:
    """The (C, H, W) a model says it expects: its exact size, or else its smallest one."""
    spec = getattr(model, "input_spec", None)
    if spec is not None and spec.size:
        return (spec.channels, *spec.size)
    if spec is not None and spec.min_size:
        return (spec.channels, spec.min_size, spec.min_size)
    raise ValueError(f"{type(model).__name__} does not say which input it expects: "
                     "pass input_size=(C, H, W), e.g. summary(model, (3, 224, 224)).")
