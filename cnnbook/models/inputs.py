"""Input checks: a wrong image size, channel count or dtype fails with a message
that says what the model expects, instead of an error deep inside a layer; so
does a batch of one image that batch normalisation cannot train on."""

from __future__ import annotations

import numbers

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
        if not x.is_floating_point():
            raise TypeError(f"{self.model_name} expects floating-point images, got {x.dtype}. Convert uint8 "
                            "images with cnnbook.data.normalize(images, dataset), or images.float() / 255.")
        c, h, w = x.shape[1:]
        wrong = (c != self.channels
                 or (self.size is not None and (h, w) != tuple(self.size))
                 or (self.min_size is not None and min(h, w) < self.min_size))
        if wrong:
            hint = f" {self.hint}" if self.hint else ""
            raise ValueError(f"{self.model_name} expects {self.expected()}, got {c}x{h}x{w}.{hint}")


class _NeedsTwoValues:
    """A batch-norm pre-hook: in training, each channel must have more than one value to normalise."""

    def __init__(self, model_name: str, layer: str):
        self.model_name, self.layer = model_name, layer

    def __call__(self, module: nn.modules.batchnorm._BatchNorm, args: tuple) -> None:
        x = args[0]
        if (module.training or module.running_mean is None) and x.dim() > 1 and x.numel() == x.shape[1]:
            raise ValueError(f"{self.model_name}: batch normalisation ({self.layer}) gets a single value per "
                             f"channel, {tuple(x.shape)}, from a batch of one image in training mode, and "
                             "cannot normalise it. Train on batches of 2 or more, or call model.eval() "
                             "to run single images.")


def expect_input(model: nn.Module, spec: InputSpec) -> nn.Module:
    """Attach ``spec`` to ``model`` (as ``model.input_spec``) and check every call;
    its batch-norm layers get a check of their own (``_NeedsTwoValues``)."""
    model.input_spec = spec
    model.register_forward_pre_hook(spec)
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.register_forward_pre_hook(_NeedsTwoValues(spec.model_name, name))
    return model


def check_input(model: nn.Module, input_size: tuple[int, ...], dtype: torch.dtype = torch.float32) -> None:
    """Run ``model``'s own input check (if it has one) on a batch of size ``input_size``, (C, H, W) for
    images, without computing anything; a ValueError for sizes that are not whole numbers above 0."""
    if not input_size or not all(isinstance(n, numbers.Integral) and n > 0 for n in input_size):
        raise ValueError(f"input_size must be (C, H, W), whole numbers above 0, got {tuple(input_size)}.")
    spec = getattr(model, "input_spec", None)
    if spec is not None:
        if len(input_size) != 3:
            raise ValueError(f"{spec.model_name} expects {spec.expected()}: input_size must be (C, H, W), "
                             f"got {tuple(input_size)}.")
        spec(model, (torch.empty(1, *input_size, dtype=dtype, device="meta"),))


def default_input_size(model: nn.Module) -> tuple[int, int, int]:
    """The (C, H, W) a model says it expects: its exact size, or else its smallest one."""
    spec = getattr(model, "input_spec", None)
    if spec is not None and spec.size:
        return (spec.channels, *spec.size)
    if spec is not None and spec.min_size:
        return (spec.channels, spec.min_size, spec.min_size)
    raise ValueError(f"{type(model).__name__} does not say which input it expects: "
                     "pass input_size=(C, H, W), e.g. summary(model, (3, 224, 224)).")
