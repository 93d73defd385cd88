"""Pre-activation ResNet ("ResNet v2"): He, Zhang, Ren and Sun, "Identity mappings in
deep residual networks", ECCV 2016.

Each block computes x + F(x) with F = (BN-ReLU-conv) x 2 or x 3 and nothing after the
addition, so the shortcuts form a clean identity path from any block to any later one.

* ``preact_resnet18`` ... ``preact_resnet152``: ImageNet networks with timm's module
  names (timm's ``resnetv2_18`` ... ``resnetv2_152``), so timm's weights load unchanged.
* ``preact_resnet110`` (basic blocks), ``preact_resnet164`` and ``preact_resnet1001``
  (bottlenecks): the CIFAR networks of the paper's Tables 2-4 (1.7M, 1.7M, 10.2M
  parameters on CIFAR-10). ``preact_resnet20`` is the 20-layer member of the
  basic-block family (the book's CPU-sized network).

Where we differ from the paper: a projection shortcut reads the pre-activated input
in every block (as timm and the authors' code do for their bottlenecks), and for the
first block with an identity shortcut we keep the un-activated stem output on the
shortcut. The classifier is a 1x1 convolution, as in timm (the same parameters as a
linear layer).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from ._registry import register
from .blocks import PreActBasicBlock, PreActBottleneck, checked, init_weights

IMAGENET: dict[int, tuple[type[nn.Module], list[int]]] = {
    18: (PreActBasicBlock, [2, 2, 2, 2]),
    34: (PreActBasicBlock, [3, 4, 6, 3]),
    50: (PreActBottleneck, [3, 4, 6, 3]),
    101: (PreActBottleneck, [3, 4, 23, 3]),
    152: (PreActBottleneck, [3, 8, 36, 3]),
}


class PreActResNet(nn.Module):
    """Stem, ``stages.i.blocks.j``, a final BN-ReLU (``norm``) and ``head``.

    ``channels`` are the output channels of the stages; stages after the first
    halve the resolution. ``small_input=True`` makes the stem a 3x3/1 convolution
    without pooling (the CIFAR networks); ``stem_pool=True`` adds a 3x3/2 max pooling
    after it (the stages then work on half the resolution, a quarter of the cost);
    ``block_kwargs`` go to every block.
    """

    def __init__(self, block: type[nn.Module], layers: list[int], channels: list[int],
                 num_classes: int = 1000, in_channels: int = 3, stem_channels: int = 64,
                 small_input: bool = False, stem_pool: bool = False, **block_kwargs: Any):
        super().__init__()
        if stem_pool and not small_input:
            raise ValueError("stem_pool=True adds pooling to the small_input stem; the large stem already pools")
        if small_input:
            pool = {"pool": nn.MaxPool2d(3, 2, padding=1)} if stem_pool else {}
            self.stem = nn.Sequential(OrderedDict(
                conv=nn.Conv2d(in_channels, stem_channels, 3, 1, padding=1, bias=False), **pool))
        else:
            self.stem = nn.Sequential(OrderedDict(
                conv=nn.Conv2d(in_channels, stem_channels, 7, 2, padding=3, bias=False),
                pool=nn.MaxPool2d(3, 2, padding=1)))
        stem_reduction = 4 if not small_input else 2 if stem_pool else 1
        self.reduction = 2 ** (len(layers) - 1) * stem_reduction
        stages, c = [], stem_channels
        for i, (depth, out) in enumerate(zip(layers, channels)):
            blocks = [block(c if j == 0 else out, out, 2 if i > 0 and j == 0 else 1, **block_kwargs)
                      for j in range(depth)]
            stages.append(nn.Sequential(OrderedDict(blocks=nn.Sequential(*blocks))))
            c = out
        self.stages = nn.Sequential(*stages)
        self.norm = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.head = nn.Sequential(OrderedDict(
            global_pool=nn.AdaptiveAvgPool2d(1), fc=nn.Conv2d(c, num_classes, 1), flatten=nn.Flatten()))
        init_weights(self)
        nn.init.normal_(self.head.fc.weight, std=0.01)
        nn.init.zeros_(self.head.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(self.relu(self.norm(x)))


def imagenet_preact(name: str, depth: int, num_classes: int, in_channels: int, small_input: bool,
                    width: float) -> nn.Module:
    block, layers = IMAGENET[depth]
    expansion = 4 if block is PreActBottleneck else 1
    base = int(64 * width)
    channels = [base * 2 ** i * expansion for i in range(4)]
    model = PreActResNet(block, layers, channels, num_classes, in_channels, base, small_input)
    return checked(model, name, in_channels, model.reduction, small_input)


def cifar_preact(name: str, depth: int, num_classes: int, in_channels: int, width: float) -> nn.Module:
    """Depth 6n+2 with basic blocks below 164 layers, 9n+2 with bottlenecks from 164 on (the paper's choice)."""
    bottleneck = depth >= 164
    per_block = 9 if bottleneck else 6
    if (depth - 2) % per_block:
        raise ValueError(f"a CIFAR pre-activation ResNet has {per_block}n+2 layers, got depth {depth}")
    n = (depth - 2) // per_block
    base = int(16 * width)
    channels = [base * 2 ** i * (4 if bottleneck else 1) for i in range(3)]
    block = PreActBottleneck if bottleneck else PreActBasicBlock
    model = PreActResNet(block, [n] * 3, channels, num_classes, in_channels, base, small_input=True)
    return checked(model, name, in_channels, model.reduction)


@register
def preact_resnet18(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                    width: float = 1.0) -> nn.Module:
    """Pre-activation ResNet-18 (timm ``resnetv2_18``)."""
    return imagenet_preact("preact_resnet18", 18, num_classes, in_channels, small_input, width)


@register
def preact_resnet34(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                    width: float = 1.0) -> nn.Module:
    """Pre-activation ResNet-34 (timm ``resnetv2_34``)."""
    return imagenet_preact("preact_resnet34", 34, num_classes, in_channels, small_input, width)


@register
def preact_resnet50(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                    width: float = 1.0) -> nn.Module:
    """Pre-activation ResNet-50 (timm ``resnetv2_50``)."""
    return imagenet_preact("preact_resnet50", 50, num_classes, in_channels, small_input, width)


@register
def preact_resnet101(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                     width: float = 1.0) -> nn.Module:
    """Pre-activation ResNet-101 (timm ``resnetv2_101``)."""
    return imagenet_preact("preact_resnet101", 101, num_classes, in_channels, small_input, width)


@register
def preact_resnet152(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                     width: float = 1.0) -> nn.Module:
    """Pre-activation ResNet-152 (timm ``resnetv2_152``)."""
    return imagenet_preact("preact_resnet152", 152, num_classes, in_channels, small_input, width)


@register
def preact_resnet20(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR pre-activation ResNet-20, basic blocks: ResNet-20 with full pre-activation."""
    return cifar_preact("preact_resnet20", 20, num_classes, in_channels, width)


@register
def preact_resnet110(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR pre-activation ResNet-110, basic blocks (1.7M parameters)."""
    return cifar_preact("preact_resnet110", 110, num_classes, in_channels, width)


@register
def preact_resnet164(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR pre-activation ResNet-164, bottleneck blocks (1.7M parameters)."""
    return cifar_preact("preact_resnet164", 164, num_classes, in_channels, width)


@register
def preact_resnet1001(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR pre-activation ResNet-1001, bottleneck blocks (10.2M parameters)."""
    return cifar_preact("preact_resnet1001", 1001, num_classes, in_channels, width)
