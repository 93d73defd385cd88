"""Dual path networks: Chen, Li, Xiao, Jin, Yan and Feng, "Dual path networks", NeurIPS 2017.

A block reads one tensor whose first ``bw`` channels are the residual path and whose
remaining channels are the dense path. A ResNeXt-style 1x1, grouped 3x3, 1x1 transform
yields ``bw + inc`` channels: the first ``bw`` are added to the residual path (feature
re-use), the last ``inc`` are appended to the dense path (new features). The first
block of a stage projects the input to the new widths (``c1x1_w_s1`` at stride 1,
``c1x1_w_s2`` at stride 2).

``dpn68`` and ``dpn92`` use timm's module names (those of the authors' MXNet weights),
so timm's weights load unchanged. Like timm, convolutions are preceded by BN-ReLU
(eps 1e-3, as in the authors' MXNet code), the last BN is followed by a ReLU, and the
classifier is a 1x1 convolution. ``small_input=True`` makes the stem stride 1 without max pooling.
``cifar_dpn`` builds narrower, shallower DPNs with a 3x3 stem for 28x28 or 32x32 images.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ._registry import register
from .blocks import checked, init_weights

# stem (channels, kernel); per stage: blocks, 3x3 width, residual width bw, dense increment inc.
CONFIGS: dict[str, dict[str, tuple[int, ...]]] = {
    "dpn68": dict(stem=(10, 3), blocks=(3, 4, 12, 3), width=(128, 256, 512, 1024),
                  bw=(64, 128, 256, 512), inc=(16, 32, 32, 64)),
    "dpn92": dict(stem=(64, 7), blocks=(3, 4, 20, 3), width=(96, 192, 384, 768),
                  bw=(256, 512, 1024, 2048), inc=(16, 32, 24, 128)),
}
GROUPS = 32


def bn_act_conv(in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1,
                groups: int = 1) -> nn.Sequential:
    """BN-ReLU-conv, the pre-activation unit every layer of a DPN uses."""
    return nn.Sequential(OrderedDict(
        bn=nn.BatchNorm2d(in_channels, eps=1e-3), act=nn.ReLU(inplace=True),
        conv=nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2,
                       groups=groups, bias=False)))


class DualPathBlock(nn.Module):
    """One block; ``kind`` is ``"proj"`` (first of stage 1), ``"down"`` (first of later stages) or ``"normal"``."""

    def __init__(self, in_channels: int, width: int, bw: int, inc: int, groups: int, kind: str):
        super().__init__()
        stride = 2 if kind == "down" else 1
        projection = bn_act_conv(in_channels, bw + 2 * inc, 1, stride) if kind != "normal" else None
        self.c1x1_w_s1 = projection if kind == "proj" else None
        self.c1x1_w_s2 = projection if kind == "down" else None
        self.c1x1_a = bn_act_conv(in_channels, width)
        self.c3x3_b = bn_act_conv(width, width, 3, stride, groups)
        self.c1x1_c = bn_act_conv(width, bw + inc)
        self.bw = bw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c1x1_w_s1 is not None:
            shortcut = self.c1x1_w_s1(x)
        elif self.c1x1_w_s2 is not None:
            shortcut = self.c1x1_w_s2(x)
        else:
            shortcut = x
        out = self.c1x1_c(self.c3x3_b(self.c1x1_a(x)))
        bw = self.bw
        return torch.cat([shortcut[:, :bw] + out[:, :bw], shortcut[:, bw:], out[:, bw:]], 1)


class DPN(nn.Module):
    """Stem ``conv1_1``, blocks ``conv{stage}_{block}`` and ``conv5_bn_ac`` in one ``features`` sequence."""

    def __init__(self, stem: tuple[int, int], blocks: tuple[int, ...], width: tuple[int, ...],
                 bw: tuple[int, ...], inc: tuple[int, ...], num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False, groups: int = GROUPS, stem_pool: bool = False):
        super().__init__()
        c, k = stem
        pool = stem_pool or not small_input
        layers = OrderedDict(
            conv1_1=nn.Sequential(OrderedDict(
                conv=nn.Conv2d(in_channels, c, k, 1 if small_input else 2, padding=k // 2, bias=False),
                bn=nn.BatchNorm2d(c, eps=1e-3), act=nn.ReLU(inplace=True))),
            conv1_pool=nn.MaxPool2d(3, 2, padding=1) if pool else nn.Identity())
        self.reduction = 2 ** (len(blocks) - 1) * (1 if small_input else 2) * (2 if pool else 1)
        for i in range(len(blocks)):
            for j in range(blocks[i]):
                kind = "normal" if j > 0 else "proj" if i == 0 else "down"
                layers[f"conv{i + 2}_{j + 1}"] = DualPathBlock(c, width[i], bw[i], inc[i], groups, kind)
                c = bw[i] + 3 * inc[i] if j == 0 else c + inc[i]
        layers["conv5_bn_ac"] = nn.Sequential(OrderedDict(bn=nn.BatchNorm2d(c, eps=1e-3), act=nn.ReLU()))
        self.features = nn.Sequential(layers)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Conv2d(c, num_classes, 1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.global_pool(self.features(x))), 1)


def dpn(name: str, num_classes: int, in_channels: int, small_input: bool) -> nn.Module:
    model = DPN(**CONFIGS[name], num_classes=num_classes, in_channels=in_channels, small_input=small_input)
    return checked(model, name, in_channels, model.reduction, small_input)


@register
def dpn68(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False) -> nn.Module:
    """DPN-68 (timm-compatible, 12.6M parameters)."""
    return dpn("dpn68", num_classes, in_channels, small_input)


@register
def dpn92(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False) -> nn.Module:
    """DPN-92 (timm-compatible, 37.7M parameters)."""
    return dpn("dpn92", num_classes, in_channels, small_input)


def cifar_dpn(blocks: tuple[int, ...], width: tuple[int, ...], bw: tuple[int, ...], inc: tuple[int, ...],
              groups: int, stem: int = 16, num_classes: int = 10, in_channels: int = 1, stem_pool: bool = True,
              name: str | None = None) -> nn.Module:
    """A DPN for 28x28 or 32x32 images: a 3x3 stem of ``stem`` channels at stride 1, then
    ``len(blocks)`` stages (per stage: blocks, 3x3 width in ``groups`` groups, residual width
    ``bw``, dense increment ``inc``). ``stem_pool=True`` keeps the stem's 3x3/2 max pooling,
    so the first stage works on 14x14 maps for 28x28 images. ``inc=0`` everywhere leaves a
    residual path only, ``bw=0`` everywhere a dense path only."""
    if not len(blocks) == len(width) == len(bw) == len(inc):
        raise ValueError(f"blocks, width, bw and inc need one entry per stage, got {len(blocks)}, {len(width)}, "
                         f"{len(bw)} and {len(inc)}")
    if any(b < 0 or i < 0 or b + i == 0 for b, i in zip(bw, inc)):
        raise ValueError(f"each stage needs bw >= 0 and inc >= 0, not both 0; got bw={bw}, inc={inc}")
    if any(w % groups for w in width):
        raise ValueError(f"every 3x3 width {width} must be a multiple of groups={groups}")
    model = DPN((stem, 3), blocks, width, bw, inc, num_classes, in_channels, small_input=True, groups=groups,
                stem_pool=stem_pool)
    depth = 2 + 3 * sum(blocks)    # the stem, three convolutions per block, the classifier
    return checked(model, name or f"dpn{depth}", in_channels, model.reduction)


@register
def dpn20_small(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """A CPU-sized DPN-20 for Fashion-MNIST (chapter 15): DPN-68's first three stages, two blocks
    each, with 3x3 layers of 16, 32 and 64 channels in 2 groups (DPN-68: 128, 256, 512 in 32),
    half its residual widths, half its dense increments and a stem of 8 channels."""
    return cifar_dpn((2, 2, 2), width=(16, 32, 64), bw=(32, 64, 128), inc=(8, 16, 16), groups=2, stem=8,
                     num_classes=num_classes, in_channels=in_channels, name="dpn20_small")
