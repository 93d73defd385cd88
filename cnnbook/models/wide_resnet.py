"""Wide residual networks: Zagoruyko and Komodakis, "Wide residual networks", BMVC 2016.

* ``wide_resnet(depth, widen_factor, dropout)``, registered as ``wrn16_4``,
  ``wrn16_8``, ``wrn28_10`` and ``wrn40_4``: the CIFAR WRN-d-k of the paper,
  pre-activation basic blocks ("B(3,3)") in three stages of 16k, 32k and 64k
  channels, (d - 4) / 6 blocks each, dropout between the two convolutions
  (the paper's 0.3 is the usual choice; the default here is 0).
  WRN-28-10 has 36.5M parameters, WRN-16-8 11.0M, WRN-40-4 8.9M (Table 4).
* ``wide_resnet50_2``, ``wide_resnet101_2``: torchvision's ImageNet wide ResNets,
  ResNet-50/101 whose bottleneck 3x3 convolutions are twice as wide.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ._registry import register
from .blocks import PreActBasicBlock, checked
from .preact_resnet import PreActResNet
from .resnet import imagenet_resnet


def wide_resnet(depth: int, widen_factor: int, dropout: float = 0.0, num_classes: int = 10,
                in_channels: int = 3, name: str | None = None, stem_pool: bool = False) -> nn.Module:
    """WRN-``depth``-``widen_factor`` for 32x32 images (any size from 4x4 works).

    ``stem_pool=True`` max-pools after the stem, so the three stages run on half the
    resolution at a quarter of the cost (the book's CPU-sized networks).
    """
    if (depth - 4) % 6:
        raise ValueError(f"a wide ResNet has 6n+4 layers, got depth {depth}")
    n = (depth - 4) // 6
    channels = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
    model = PreActResNet(PreActBasicBlock, [n] * 3, channels, num_classes, in_channels,
                         stem_channels=16, small_input=True, stem_pool=stem_pool, dropout=dropout)
    return checked(model, name or f"wrn{depth}_{widen_factor}", in_channels, model.reduction)


@register
def wrn16_4(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> nn.Module:
    """WRN-16-4 (2.7M parameters): small enough for a CPU."""
    return wide_resnet(16, 4, dropout, num_classes, in_channels)


@register
def wrn16_8(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> nn.Module:
    """WRN-16-8 (11.0M parameters)."""
    return wide_resnet(16, 8, dropout, num_classes, in_channels)


@register
def wrn28_10(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> nn.Module:
    """WRN-28-10 (36.5M parameters)."""
    return wide_resnet(28, 10, dropout, num_classes, in_channels)


@register
def wrn40_4(num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0) -> nn.Module:
    """WRN-40-4 (8.9M parameters)."""
    return wide_resnet(40, 4, dropout, num_classes, in_channels)


@register
def wide_resnet50_2(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                    width: float = 1.0, **kwargs: Any) -> nn.Module:
    """Wide ResNet-50-2 (torchvision-compatible): bottlenecks with 128 channels per 64."""
    return imagenet_resnet("wide_resnet50_2", 50, num_classes, in_channels, small_input, width,
                           width_per_group=128, **kwargs)


@register
def wide_resnet101_2(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                     width: float = 1.0, **kwargs: Any) -> nn.Module:
    """Wide ResNet-101-2 (torchvision-compatible)."""
    return imagenet_resnet("wide_resnet101_2", 101, num_classes, in_channels, small_input, width,
                           width_per_group=128, **kwargs)
