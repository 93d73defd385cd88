"""ResNeSt: Zhang, Wu, Zhang, Zhu, Lin, Zhang, Sun, He, Mueller, Manmatha, Li and Smola,
"ResNeSt: Split-attention networks", CVPR Workshops 2022 (arXiv 2020).

The 3x3 convolution of a ResNet bottleneck becomes a split-attention unit: within
each of ``cardinality`` groups the convolution yields ``radix`` splits; their sum is
pooled to one vector, a two-layer 1x1 MLP (with BN) scores each split per channel,
a softmax across the splits (a sigmoid when radix = 1, i.e. SE-Net) weights them,
and the weighted splits are summed (as in SKNet).

``resnest50d`` is ResNeSt-50 as in the paper: the "deep" stem of three 3x3
convolutions (32, 32, 64 channels), stride-2 blocks that downsample with 3x3 average
pooling after the split attention ("avd") and shortcuts that average-pool before
their 1x1 projection ("avg down"). Module names follow timm's ``resnest50d``, so its
weights load unchanged. ``radix``, ``cardinality`` and ``base_width`` are arguments
(the paper's 2s1x64d by default); ``small_input=True`` makes the stem stride 1
without max pooling (``stem_pool=True`` keeps the pooling); ``width`` multiplies
every channel count. ``resnest14d`` (timm's, one block per stage) is the base of the
CPU-sized network. Each split-attention unit passes its split weights through an
identity module, ``attention``, so that a forward hook can read them.
"""

from __future__ import annotations

import torch
from torch import nn

from ._registry import register
from .blocks import checked, conv1x1, conv3x3, init_weights


def attention_channels(in_channels: int, radix: int, reduction: int = 4) -> int:
    """Hidden width of the attention MLP: in_channels * radix / 4, a multiple of 8, at least 32."""
    return max(32, int(in_channels * radix / reduction + 4) // 8 * 8)


class SplitAttention(nn.Module):
    """Grouped 3x3 convolution to ``radix`` splits per cardinal group, then attention over the splits."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1, radix: int = 2, cardinality: int = 1):
        super().__init__()
        hidden = attention_channels(in_channels, radix)
        self.radix, self.cardinality = radix, cardinality
        self.conv = nn.Conv2d(in_channels, channels * radix, 3, stride, padding=1,
                              groups=cardinality * radix, bias=False)
        self.bn0 = nn.BatchNorm2d(channels * radix)
        self.act0 = nn.ReLU(inplace=True)
        self.fc1 = nn.Conv2d(channels, hidden, 1, groups=cardinality)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.act1 = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels * radix, 1, groups=cardinality)
        self.attention = nn.Identity()   # a tap: a hook here reads the split weights, (N, radix, C, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act0(self.bn0(self.conv(x)))
        splits = x.unflatten(1, (self.radix, -1))                      # (N, radix, C, H, W)
        gap = splits.sum(1).mean((2, 3), keepdim=True)                 # (N, C, 1, 1)
        scores = self.fc2(self.act1(self.bn1(self.fc1(gap))))          # (N, card * radix * C/card, 1, 1)
        if self.radix == 1:
            weights = torch.sigmoid(scores).unsqueeze(1)               # SE-Net's gate, (N, 1, C, 1, 1)
        else:
            scores = scores.unflatten(1, (self.cardinality, self.radix, -1)).transpose(1, 2)
            weights = scores.softmax(1).flatten(2, 3)                  # (N, radix, C, 1, 1)
        return (splits * self.attention(weights)).sum(1)


class ResNeStBottleneck(nn.Module):
    """1x1, split attention, (3x3 average pooling if strided), 1x1 expand by 4, plus the shortcut."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, radix: int = 2,
                 cardinality: int = 1, base_width: int = 64):
        super().__init__()
        width = int(planes * base_width / 64) * cardinality
        out_channels = planes * self.expansion
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = SplitAttention(width, width, 1, radix, cardinality)
        self.avd_last = nn.AvgPool2d(3, stride, padding=1) if stride > 1 else None
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or in_channels != out_channels:
            pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) if stride > 1 else nn.Identity()
            self.downsample = nn.Sequential(pool, conv1x1(in_channels, out_channels), nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.act1(self.bn1(self.conv1(x))))
        if self.avd_last is not None:
            out = self.avd_last(out)
        out = self.bn3(self.conv3(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.act3(out)


class ResNeSt(nn.Module):
    """Deep stem (``conv1``), ``layer1`` ... ``layer4`` of ResNeSt bottlenecks, pooling, ``fc``.

    ``small_input`` makes the stem stride 1 without pooling; ``stem_pool`` keeps its max pooling.
    """

    def __init__(self, layers: list[int], num_classes: int = 1000, in_channels: int = 3, radix: int = 2,
                 cardinality: int = 1, base_width: int = 64, width: float = 1.0, small_input: bool = False,
                 stem_pool: bool = False):
        super().__init__()
        if stem_pool and not small_input:
            raise ValueError("stem_pool=True keeps the max pooling of the small-input stem; pass small_input=True "
                             "as well (the ImageNet stem always pools)")
        stem = int(32 * width)
        self.conv1 = nn.Sequential(
            conv3x3(in_channels, stem, 1 if small_input else 2), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
            conv3x3(stem, stem), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
            conv3x3(stem, 2 * stem))
        self.bn1 = nn.BatchNorm2d(2 * stem)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1) if stem_pool or not small_input else nn.Identity()
        self.reduction = (16 if stem_pool else 8) if small_input else 32
        c, stages = 2 * stem, []
        for i, depth in enumerate(layers):
            planes = int(64 * width) * 2 ** i
            blocks = []
            for j in range(depth):
                blocks.append(ResNeStBottleneck(c, planes, 2 if i > 0 and j == 0 else 1,
                                                radix, cardinality, base_width))
                c = planes * ResNeStBottleneck.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.global_pool(x), 1))


def resnest(name: str, layers: list[int], num_classes: int = 1000, in_channels: int = 3, radix: int = 2,
            cardinality: int = 1, base_width: int = 64, width: float = 1.0, small_input: bool = False,
            stem_pool: bool = False) -> nn.Module:
    """A ResNeSt with ``layers`` blocks in its four stages, with the input check attached."""
    if radix < 1 or cardinality < 1:
        raise ValueError(f"radix and cardinality must be at least 1, got {radix} and {cardinality}")
    model = ResNeSt(layers, num_classes, in_channels, radix, cardinality, base_width, width, small_input, stem_pool)
    return checked(model, name, in_channels, model.reduction, small_input)


@register
def resnest50d(num_classes: int = 1000, in_channels: int = 3, radix: int = 2, cardinality: int = 1,
               base_width: int = 64, width: float = 1.0, small_input: bool = False) -> nn.Module:
    """ResNeSt-50 (timm ``resnest50d``, 27.5M parameters): 2s1x64d, deep stem, avg down."""
    return resnest("resnest50d", [3, 4, 6, 3], num_classes, in_channels, radix, cardinality, base_width, width,
                   small_input)


@register
def resnest14d(num_classes: int = 1000, in_channels: int = 3, radix: int = 2, cardinality: int = 1,
               base_width: int = 64, width: float = 1.0, small_input: bool = False,
               stem_pool: bool = False) -> nn.Module:
    """ResNeSt-14 (timm ``resnest14d``): one block per stage; with ``width``, ``small_input`` and
    ``stem_pool`` the CPU-sized network of chapter 16."""
    return resnest("resnest14d", [1, 1, 1, 1], num_classes, in_channels, radix, cardinality, base_width, width,
                   small_input, stem_pool)
