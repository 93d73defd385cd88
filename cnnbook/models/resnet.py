"""ResNet: He, Zhang, Ren and Sun, "Deep residual learning for image recognition", CVPR 2016.

* ``resnet18`` ... ``resnet152``: the ImageNet networks of the paper's Table 1 with
  torchvision's module names, so torchvision's weights load unchanged. Like
  torchvision they are "ResNet v1.5": the stride of a bottleneck sits in its 3x3
  convolution; ``stride_in_1x1=True`` gives the paper's v1 placement.
* ``plain18``, ``plain34``: the same networks without shortcuts, for the
  degradation experiment (the paper's Fig. 4).
* ``resnet20`` ... ``resnet110`` and ``plain20`` ... ``plain56``: the CIFAR networks of
  Section 4.2, 6n+2 layers in three stages of 16, 32 and 64 channels, with the
  parameter-free zero-padding shortcut (option A).
* ``resnet110_stochastic_depth``: ResNet-110 with stochastic depth (Huang et al. 2016),
  survival falling linearly from 1 to 0.5 over the 54 blocks.

``small_input=True`` replaces the 7x7/2 stem and the max pooling by a 3x3/1
convolution, for 28x28 and 32x32 images; ``width`` multiplies every channel count.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._registry import register
from .blocks import BasicBlock, Bottleneck, checked, init_weights
from .stochastic_depth import linear_survival

# Block type and blocks per stage of the ImageNet networks (the paper's Table 1).
LAYERS: dict[int, tuple[type[nn.Module], list[int]]] = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
    101: (Bottleneck, [3, 4, 23, 3]),
    152: (Bottleneck, [3, 8, 36, 3]),
}


class ResNet(nn.Module):
    """A stem, stages ``layer1``, ``layer2``, ... of residual blocks, global pooling, a linear layer.

    Stage i has ``base_channels * 2**i`` channels (times the block's expansion), and
    every stage after the first halves the resolution in its first block.
    ``stem_pool=True`` keeps the max pooling after a ``small_input`` stem (half the
    resolution from the first stage on, a quarter of the cost);
    ``survival_last < 1`` adds stochastic depth with the linear decay rule;
    ``block_kwargs`` go to every block (``groups``, ``width_per_group``, ``stride_in_1x1``).
    """

    def __init__(self, block: type[nn.Module], layers: list[int], num_classes: int = 1000,
                 in_channels: int = 3, base_channels: int = 64, small_input: bool = False,
                 shortcut: str = "projection", survival_last: float = 1.0, sd_mode: str = "paper",
                 stem_pool: bool = False, **block_kwargs: Any):
        super().__init__()
        channels = base_channels
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, channels, 3, 1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, channels, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        pool = stem_pool or not small_input
        self.maxpool = nn.MaxPool2d(3, 2, padding=1) if pool else nn.Identity()
        self.reduction = 2 ** (len(layers) - 1) * (1 if small_input else 2) * (2 if pool else 1)

        survival = iter(linear_survival(sum(layers), survival_last))
        self.stage_names = [f"layer{i + 1}" for i in range(len(layers))]
        for i, (name, depth) in enumerate(zip(self.stage_names, layers)):
            planes = base_channels * 2 ** i
            blocks = []
            for j in range(depth):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(block(channels, planes, stride, shortcut, survival=next(survival),
                                    sd_mode=sd_mode, **block_kwargs))
                channels = planes * block.expansion
            setattr(self, name, nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def imagenet_resnet(name: str, depth: int, num_classes: int, in_channels: int, small_input: bool,
                    width: float, **kwargs: Any) -> nn.Module:
    """A ResNet of the paper's Table 1 (also the base of wide ResNet-50-2 and ResNeXt)."""
    block, layers = LAYERS[depth]
    model = ResNet(block, layers, num_classes, in_channels, int(64 * width), small_input, **kwargs)
    return checked(model, name, in_channels, model.reduction, small_input)


def cifar_resnet(name: str, depth: int, num_classes: int, in_channels: int, width: float,
                 **kwargs: Any) -> nn.Module:
    """A CIFAR ResNet of depth 6n+2: three stages of n basic blocks, 16, 32, 64 channels."""
    if (depth - 2) % 6:
        raise ValueError(f"a CIFAR ResNet has 6n+2 layers, got depth {depth}")
    n = (depth - 2) // 6
    kwargs.setdefault("shortcut", "zero_pad")
    model = ResNet(BasicBlock, [n] * 3, num_classes, in_channels, int(16 * width), small_input=True, **kwargs)
    return checked(model, name, in_channels, model.reduction)


@register
def resnet18(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
             width: float = 1.0, **kwargs: Any) -> nn.Module:
    """ResNet-18 (torchvision-compatible). ``kwargs`` go to ``ResNet``."""
    return imagenet_resnet("resnet18", 18, num_classes, in_channels, small_input, width, **kwargs)


@register
def resnet34(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
             width: float = 1.0, **kwargs: Any) -> nn.Module:
    """ResNet-34 (torchvision-compatible)."""
    return imagenet_resnet("resnet34", 34, num_classes, in_channels, small_input, width, **kwargs)


@register
def resnet50(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
             width: float = 1.0, stride_in_1x1: bool = False, **kwargs: Any) -> nn.Module:
    """ResNet-50 (torchvision-compatible, v1.5; ``stride_in_1x1=True`` for v1)."""
    return imagenet_resnet("resnet50", 50, num_classes, in_channels, small_input, width,
                           stride_in_1x1=stride_in_1x1, **kwargs)


@register
def resnet101(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
              width: float = 1.0, stride_in_1x1: bool = False, **kwargs: Any) -> nn.Module:
    """ResNet-101 (torchvision-compatible, v1.5; ``stride_in_1x1=True`` for v1)."""
    return imagenet_resnet("resnet101", 101, num_classes, in_channels, small_input, width,
                           stride_in_1x1=stride_in_1x1, **kwargs)


@register
def resnet152(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
              width: float = 1.0, stride_in_1x1: bool = False, **kwargs: Any) -> nn.Module:
    """ResNet-152 (torchvision-compatible, v1.5; ``stride_in_1x1=True`` for v1)."""
    return imagenet_resnet("resnet152", 152, num_classes, in_channels, small_input, width,
                           stride_in_1x1=stride_in_1x1, **kwargs)


@register
def plain18(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
            width: float = 1.0) -> nn.Module:
    """ResNet-18 without its shortcuts (the paper's "plain-18")."""
    return imagenet_resnet("plain18", 18, num_classes, in_channels, small_input, width, shortcut="none")


@register
def plain34(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
            width: float = 1.0) -> nn.Module:
    """ResNet-34 without its shortcuts (the paper's "plain-34")."""
    return imagenet_resnet("plain34", 34, num_classes, in_channels, small_input, width, shortcut="none")


@register
def resnet20(num_classes: int = 10, in_channels: int = 3, width: float = 1.0, **kwargs: Any) -> nn.Module:
    """CIFAR ResNet-20 (0.27M parameters in the paper's Table 6)."""
    return cifar_resnet("resnet20", 20, num_classes, in_channels, width, **kwargs)


@register
def resnet32(num_classes: int = 10, in_channels: int = 3, width: float = 1.0, **kwargs: Any) -> nn.Module:
    """CIFAR ResNet-32 (0.46M)."""
    return cifar_resnet("resnet32", 32, num_classes, in_channels, width, **kwargs)


@register
def resnet44(num_classes: int = 10, in_channels: int = 3, width: float = 1.0, **kwargs: Any) -> nn.Module:
    """CIFAR ResNet-44 (0.66M)."""
    return cifar_resnet("resnet44", 44, num_classes, in_channels, width, **kwargs)


@register
def resnet56(num_classes: int = 10, in_channels: int = 3, width: float = 1.0, **kwargs: Any) -> nn.Module:
    """CIFAR ResNet-56 (0.85M)."""
    return cifar_resnet("resnet56", 56, num_classes, in_channels, width, **kwargs)


@register
def resnet110(num_classes: int = 10, in_channels: int = 3, width: float = 1.0, **kwargs: Any) -> nn.Module:
    """CIFAR ResNet-110 (1.7M)."""
    return cifar_resnet("resnet110", 110, num_classes, in_channels, width, **kwargs)


@register
def plain20(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR plain-20: ResNet-20 without shortcuts (the paper's Fig. 6, left)."""
    return cifar_resnet("plain20", 20, num_classes, in_channels, width, shortcut="none")


@register
def plain32(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR plain-32."""
    return cifar_resnet("plain32", 32, num_classes, in_channels, width, shortcut="none")


@register
def plain44(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR plain-44."""
    return cifar_resnet("plain44", 44, num_classes, in_channels, width, shortcut="none")


@register
def plain56(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR plain-56: deeper, yet higher training error than plain-20 (the degradation problem)."""
    return cifar_resnet("plain56", 56, num_classes, in_channels, width, shortcut="none")


@register
def resnet110_stochastic_depth(num_classes: int = 10, in_channels: int = 3, width: float = 1.0,
                               survival_last: float = 0.5, sd_mode: str = "paper") -> nn.Module:
    """CIFAR ResNet-110 with stochastic depth (Huang et al. 2016): p_l = 1 - (l/54)(1 - p_L).

    ``sd_mode="paper"`` gates a whole mini-batch and scales by p_l at test time;
    ``"drop_path"`` gates each sample and scales by 1/p_l while training.
    """
    return cifar_resnet("resnet110_stochastic_depth", 110, num_classes, in_channels, width,
                        survival_last=survival_last, sd_mode=sd_mode)
