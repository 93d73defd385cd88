"""ResNeXt: Xie, Girshick, Dollar, Tu and He, "Aggregated residual transformations for
deep neural networks", CVPR 2017.

* ``resnext50_32x4d``, ``resnext101_32x8d``, ``resnext101_64x4d``: torchvision's
  networks (a ResNet whose bottleneck 3x3 convolution has C groups of width d).
* The paper's three equivalent forms of the block (its Fig. 3), as separate classes:
  (a) ``AggregatedPathsBlock``, C paths 1x1-3x3-1x1 whose outputs are summed;
  (b) ``ConcatPathsBlock``, C paths 1x1-3x3 concatenated, then one 1x1;
  (c) ``blocks.Bottleneck(groups=C)``, one grouped 3x3 convolution.
  ``copy_resnext_weights`` moves the weights of one form into another; the outputs
  are then equal (up to rounding), which is the paper's point: (c) is just a
  faster way to compute (a).
* ``resnext29_8x64d``, ``resnext29_16x64d``: the CIFAR networks of the paper's
  Section 5.2 (34.4M and 68.1M parameters, Table 7); ``cifar_resnext`` builds any
  depth 9n+2, cardinality and group width, e.g. a CPU-sized ResNeXt-29 (8x4d).

Where we differ from the paper's Fig. 3: each form has BN after its convolutions
(as the paper's implementation does), with the last BN applied after the sum in (a).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from ._registry import register
from ._width import scaled
from .blocks import Bottleneck, checked, conv1x1, conv3x3, make_shortcut
from .resnet import ResNet, imagenet_resnet


def _path(in_channels: int, width: int, stride: int) -> "OrderedDict[str, nn.Module]":
    """The first two layers of one path: 1x1 to ``width`` channels, then 3x3."""
    return OrderedDict(
        conv1=conv1x1(in_channels, width), bn1=nn.BatchNorm2d(width), relu1=nn.ReLU(inplace=True),
        conv2=conv3x3(width, width, stride), bn2=nn.BatchNorm2d(width), relu2=nn.ReLU(inplace=True))


class AggregatedPathsBlock(nn.Module):
    """Form (a): ``cardinality`` separate paths, each ending in a 1x1 convolution, summed."""

    def __init__(self, in_channels: int, planes: int, stride: int = 1, cardinality: int = 32,
                 width_per_group: int = 4):
        super().__init__()
        width, out_channels = int(planes * width_per_group / 64), planes * 4
        self.paths = nn.ModuleList(
            nn.Sequential(OrderedDict(**_path(in_channels, width, stride), conv3=conv1x1(width, out_channels)))
            for _ in range(cardinality))
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut("projection", in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(sum(path(x) for path in self.paths))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ConcatPathsBlock(nn.Module):
    """Form (b): ``cardinality`` paths 1x1-3x3, concatenated, then one 1x1 convolution."""

    def __init__(self, in_channels: int, planes: int, stride: int = 1, cardinality: int = 32,
                 width_per_group: int = 4):
        super().__init__()
        width, out_channels = int(planes * width_per_group / 64), planes * 4
        self.paths = nn.ModuleList(nn.Sequential(_path(in_channels, width, stride)) for _ in range(cardinality))
        self.conv3 = conv1x1(width * cardinality, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut("projection", in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv3(torch.cat([path(x) for path in self.paths], 1)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


ResNeXtBlock = AggregatedPathsBlock | ConcatPathsBlock | Bottleneck


def grouped_state_dict(block: ResNeXtBlock) -> dict[str, torch.Tensor]:
    """The weights of any form, arranged as those of form (c), the grouped ``Bottleneck``.

    Path i owns channels i*d ... (i+1)*d - 1 of the grouped 1x1 and 3x3 convolutions
    (and their BNs); the last 1x1 of form (a) is split along its input channels.
    """
    if isinstance(block, Bottleneck):
        return block.state_dict()
    state = {k: v for k, v in block.state_dict().items() if not k.startswith("paths.")}
    per_path = [path.state_dict() for path in block.paths]
    for key, value in per_path[0].items():
        if value.dim() == 0:  # BN's num_batches_tracked
            state[key] = value
        else:
            state[key] = torch.cat([s[key] for s in per_path], dim=1 if key == "conv3.weight" else 0)
    return state


def copy_resnext_weights(src: ResNeXtBlock, dst: ResNeXtBlock) -> None:
    """Load the weights of block ``src`` into block ``dst``, whatever their forms."""
    grouped = grouped_state_dict(src)
    state = {}
    for key, value in dst.state_dict().items():
        if not key.startswith("paths."):
            state[key] = grouped[key]
            continue
        _, i, sub = key.split(".", 2)
        full = grouped[sub]
        if full.dim() == 0:
            state[key] = full
        else:
            dim = 1 if sub == "conv3.weight" else 0
            state[key] = full.chunk(len(dst.paths), dim)[int(i)]
    dst.load_state_dict(state)


@register
def resnext50_32x4d(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                    width: float = 1.0, **kwargs: Any) -> nn.Module:
    """ResNeXt-50 (32x4d) (torchvision-compatible): 32 groups of 4 channels in the first stage."""
    return imagenet_resnet("resnext50_32x4d", 50, num_classes, in_channels, small_input, width,
                           groups=32, width_per_group=4, **kwargs)


@register
def resnext101_32x8d(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                     width: float = 1.0, **kwargs: Any) -> nn.Module:
    """ResNeXt-101 (32x8d) (torchvision-compatible)."""
    return imagenet_resnet("resnext101_32x8d", 101, num_classes, in_channels, small_input, width,
                           groups=32, width_per_group=8, **kwargs)


@register
def resnext101_64x4d(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                     width: float = 1.0, **kwargs: Any) -> nn.Module:
    """ResNeXt-101 (64x4d) (torchvision-compatible)."""
    return imagenet_resnet("resnext101_64x4d", 101, num_classes, in_channels, small_input, width,
                           groups=64, width_per_group=4, **kwargs)


def cifar_resnext(depth: int, cardinality: int, group_width: int, num_classes: int = 10, in_channels: int = 3,
                  width: float = 1.0, stem_pool: bool = False, name: str | None = None) -> nn.Module:
    """A CIFAR ResNeXt-``depth`` (``cardinality`` x ``group_width``d) for 32x32 (or 28x28) images.

    A 3x3 stem of 64 channels, then three stages of n = (depth - 2) / 9 bottleneck blocks
    with 256, 512 and 1024 output channels; the grouped 3x3 convolutions of the first
    stage have ``cardinality`` groups of ``group_width`` channels, twice as many
    channels per group in each later stage. ``width`` scales the stem and the block
    outputs, not the groups: the name "C x dd" stays literal. ``stem_pool=True`` adds a
    3x3/2 max pooling after the stem (the first stage on 14x14 maps for 28x28 images).
    """
    if (depth - 2) % 9:
        raise ValueError(f"a CIFAR ResNeXt has 9n+2 layers, got depth {depth}")
    base = scaled(64, width)
    if 64 * group_width % base:
        raise ValueError(f"group_width={group_width} is not a whole multiple of {base}/64 channels "
                         f"(width={width}); choose a width such as 0.5 or 0.25.")
    model = ResNet(Bottleneck, [(depth - 2) // 9] * 3, num_classes, in_channels, base, small_input=True,
                   stem_pool=stem_pool, groups=cardinality, width_per_group=64 * group_width // base)
    return checked(model, name or f"resnext{depth}_{cardinality}x{group_width}d", in_channels, model.reduction)


@register
def resnext29_8x64d(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR ResNeXt-29 (8x64d): 34.4M parameters, 3.65% CIFAR-10 test error (the paper's Table 7)."""
    return cifar_resnext(29, 8, 64, num_classes, in_channels, width)


@register
def resnext29_16x64d(num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> nn.Module:
    """CIFAR ResNeXt-29 (16x64d): 68.1M parameters, 3.58% CIFAR-10 test error (Table 7)."""
    return cifar_resnext(29, 16, 64, num_classes, in_channels, width)
