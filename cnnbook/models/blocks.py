"""Residual blocks shared by the ResNet, ResNeXt, wide ResNet and pre-activation families.

Post-activation blocks (He, Zhang, Ren and Sun, "Deep residual learning for image
recognition", CVPR 2016) use torchvision's module names, pre-activation blocks
(He et al., "Identity mappings in deep residual networks", ECCV 2016) timm's, so
that the libraries' weights load into cnnbook models unchanged.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

from .inputs import InputSpec, expect_input
from .stochastic_depth import gate, skipped

SHORTCUTS = ("projection", "zero_pad", "none")


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, groups=groups, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)


def checked(model: nn.Module, name: str, in_channels: int, min_size: int, small_input: bool = True) -> nn.Module:
    """Attach the input check: ``in_channels`` channels, sides of at least ``min_size``
    (the network's total stride). The hint suggests ``small_input`` where it applies."""
    hint = "" if small_input else "For 28x28 or 32x32 images pass small_input=True."
    return expect_input(model, InputSpec(name, in_channels, min_size=min_size, hint=hint))


def init_weights(model: nn.Module) -> nn.Module:
    """He initialisation of the convolutions (fan-out, as torchvision); BN to the identity."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


class ZeroPadShortcut(nn.Module):
    """Option A of the ResNet paper: subsample by ``stride`` and append zero channels.

    It has no parameters, which is how the CIFAR ResNets keep their published counts.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride, self.extra = stride, out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))


def make_shortcut(kind: str, in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """The shortcut of a post-activation block; ``None`` where it is the identity (or absent).

    ``"projection"`` is option B (a 1x1 convolution and BN where the shape changes),
    ``"zero_pad"`` option A, ``"none"`` a plain network without shortcuts.
    """
    if kind not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of {SHORTCUTS}, got {kind!r}")
    if kind == "none" or (stride == 1 and in_channels == out_channels):
        return None
    if kind == "zero_pad":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


def skip(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A post-activation block whose branch stochastic depth dropped: relu(shortcut), not in place."""
    return F.relu(x if block.downsample is None else block.downsample(x))


def merge(block: nn.Module, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The end of a post-activation block: relu(drop(branch) + shortcut), or relu(branch) for a plain block."""
    if not block.residual:
        return block.relu(out)
    identity = x if block.downsample is None else block.downsample(x)
    out = block.drop(out)
    out += identity
    return block.relu(out)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions, relu(F(x) + x) (the paper's Fig. 2, left).

    ``shortcut="none"`` drops the addition (a block of the plain network);
    ``survival < 1`` puts stochastic depth on the residual branch.
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, shortcut: str = "projection",
                 survival: float = 1.0, sd_mode: str = "paper"):
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = make_shortcut(shortcut, in_channels, channels, stride)
        self.residual = shortcut != "none"
        self.drop = gate(survival, sd_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if skipped(self.drop):
            return skip(self, x)
        out = self.relu(self.bn1(self.conv1(x)))
        return merge(self, self.bn2(self.conv2(out)), x)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand by 4 (the paper's Fig. 5, right).

    ``groups`` and ``width_per_group`` make it the ResNeXt block (Xie et al. 2017,
    Fig. 3c) and the wide ResNet-50-2 block. The stride sits in the 3x3 convolution
    ("ResNet v1.5", as torchvision); ``stride_in_1x1=True`` puts it in the first 1x1
    as in the paper and its Caffe models (v1).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, shortcut: str = "projection",
                 groups: int = 1, width_per_group: int = 64, stride_in_1x1: bool = False,
                 survival: float = 1.0, sd_mode: str = "paper"):
        super().__init__()
        width = int(planes * width_per_group / 64) * groups
        out_channels = planes * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(in_channels, width, stride_1x1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride_3x3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(shortcut, in_channels, out_channels, stride)
        self.residual = shortcut != "none"
        self.drop = gate(survival, sd_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if skipped(self.drop):
            return skip(self, x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return merge(self, self.bn3(self.conv3(out)), x)


def preact_shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """A 1x1 projection (named ``conv`` as in timm) where the shape changes, else ``None``."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(OrderedDict(conv=conv1x1(in_channels, out_channels, stride)))


class PreActBasicBlock(nn.Module):
    """BN-ReLU-conv3x3, BN-ReLU-conv3x3, plus x (Identity Mappings, Fig. 4e).

    A projection shortcut reads the pre-activated input, as in the authors' code
    and timm; ``dropout`` between the two convolutions makes it the wide ResNet
    block (Zagoruyko and Komodakis 2016).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        self.downsample = preact_shortcut(in_channels, out_channels, stride)
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.norm2 = nn.BatchNorm2d(out_channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = conv3x3(out_channels, out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.norm1(x))
        shortcut = x if self.downsample is None else self.downsample(pre)
        out = self.conv1(pre)
        out = self.conv2(self.dropout(self.relu(self.norm2(out))))
        return out + shortcut


class PreActBottleneck(nn.Module):
    """BN-ReLU-conv1x1, BN-ReLU-conv3x3 (with the stride), BN-ReLU-conv1x1, plus x."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        width = out_channels // 4
        self.downsample = preact_shortcut(in_channels, out_channels, stride)
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv1x1(in_channels, width)
        self.norm2 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.norm3 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.norm1(x))
        shortcut = x if self.downsample is None else self.downsample(pre)
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.norm2(out)))
        out = self.conv3(self.relu(self.norm3(out)))
        return out + shortcut
