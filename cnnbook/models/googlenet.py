"""GoogLeNet (Inception v1) and BN-Inception (Inception v2).

``googlenet``: Szegedy et al., "Going deeper with convolutions", CVPR 2015. The model
is torchvision's, module for module, so torchvision's weights load into it; like
torchvision it differs from the paper in three ways: every convolution is followed by
batch normalisation (which postdates the paper) instead of having a bias, there is no
local response normalisation, and the "5x5" branch of each Inception module uses a 3x3
convolution (a known slip of torchvision's port, vision issue 906, kept for its weights;
``paper_5x5=True`` restores the 5x5). The dropout rates are the paper's (40% before the classifier, 70% in the
auxiliary classifiers); torchvision's ``transform_input`` (a re-normalisation for its
ported weights) is left out: feed the images normalised as the weights expect.

``bn_inception``: Ioffe and Szegedy, "Batch normalization: accelerating deep network
training by reducing internal covariate shift", ICML 2015, Figure 5. Batch
normalisation everywhere, each 5x5 convolution replaced by two 3x3 ("double 3x3"),
average or max pooling in the modules, and modules 3c and 4e reduce the grid with
stride-2 convolutions and a max pooling concatenated to them. There is no reference
library; the configuration is Figure 5's (also that of the widely used Caffe model),
without auxiliary classifiers. It has 11.3 million parameters; the paper's text says
13.6 million, which Figure 5 does not add up to.

Both builders take ``width`` (multiplies every layer's width) and ``small_input``: for
28x28 or 32x32 images the stem convolutions have stride 1 and the stem's max poolings
are left out, so that a 28x28 image meets the Inception modules on the same 28, 14 and
7 grids as a 224x224 image in the paper. The cost of the modules is then that of the
full model: shrink it with ``width``. GoogLeNet's ``stem_pool=True`` (with
``small_input``) keeps the stem's first max pooling, so that a 28x28 image meets the
modules on 14, 7 and 4 grids, at about a quarter of the cost.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import torch
from torch import nn

from .inputs import InputSpec, expect_input
from ._registry import register
from ._width import scaled


class BasicConv2d(nn.Module):
    """Convolution (no bias), batch normalisation (eps 1e-3) and ReLU.

    The channel counts are given at full width and both multiplied by ``width``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: int | tuple[int, int] = 0, width: float = 1.0):
        super().__init__()
        in_channels, out_channels = scaled(in_channels, width), scaled(out_channels, width)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=1e-3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """The Inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1,
    concatenated along the channels. Arguments in the order of the paper's Table 1."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int, kernel_5x5: int = 5, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch1 = conv(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(conv(in_channels, ch3x3red, 1), conv(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(conv(in_channels, ch5x5red, 1),
                                     conv(ch5x5red, ch5x5, kernel_5x5, padding=kernel_5x5 // 2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     conv(in_channels, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: average pooling to 4x4, 1x1 conv (128), FC (1024), dropout, FC.

    The paper pools 5x5 with stride 3, which gives 4x4 from its 14x14 grid; adaptive
    pooling gives 4x4 from any grid."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7, width: float = 1.0):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.conv = BasicConv2d(in_channels, 128, 1, width=width)
        self.fc1 = nn.Linear(scaled(128, width) * 4 * 4, scaled(1024, width))
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(scaled(1024, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


class GoogLeNetOutputs(NamedTuple):
    """What GoogLeNet returns in training mode with auxiliary classifiers, in order of
    depth (torchvision's tuple lists aux2 before aux1). The paper's loss is
    ``loss(logits) + 0.3 * (loss(aux1) + loss(aux2))``."""

    logits: torch.Tensor
    aux1: torch.Tensor
    aux2: torch.Tensor


class GoogLeNet(nn.Module):
    """GoogLeNet as torchvision builds it (see the module docstring).

    In training mode with ``aux_logits`` the forward pass returns a
    ``GoogLeNetOutputs(logits, aux1, aux2)``; otherwise the logits alone.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 width: float = 1.0, small_input: bool = False, paper_5x5: bool = False,
                 dropout: float = 0.4, dropout_aux: float = 0.7, stem_pool: bool = False):
        super().__init__()
        if stem_pool and not small_input:
            raise ValueError("stem_pool=True keeps the first pooling of the small-input stem; pass "
                             "small_input=True too (the full stem already has both poolings).")
        conv = partial(BasicConv2d, width=width)
        inception = partial(Inception, kernel_5x5=5 if paper_5x5 else 3, width=width)
        if small_input:  # keep the resolution: no stride, no pooling in the stem
            self.conv1 = BasicConv2d(in_channels, scaled(64, width), 3, padding=1)
        else:
            self.conv1 = BasicConv2d(in_channels, scaled(64, width), 7, stride=2, padding=3)
        keep_pool1 = stem_pool or not small_input
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True) if keep_pool1 else nn.Identity()
        self.conv2 = conv(64, 64, 1)
        self.conv3 = conv(64, 192, 3, padding=1)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, ceil_mode=True)
        # Table 1: input channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
        self.inception3a = inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = InceptionAux(512, num_classes, dropout_aux, width) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, dropout_aux, width) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(scaled(1024, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        at_4a = self.inception4a(x)
        at_4d = self.inception4d(self.inception4c(self.inception4b(at_4a)))
        x = self.maxpool4(self.inception4e(at_4d))
        x = self.inception5b(self.inception5a(x))
        logits = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if self.training and self.aux1 is not None:
            return GoogLeNetOutputs(logits, self.aux1(at_4a), self.aux2(at_4d))
        return logits


class InceptionBN(nn.Module):
    """The BN-Inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | pool -> 1x1.

    With ``stride=2`` (modules 3c and 4e) there is no 1x1 branch, the last 3x3 of each
    branch has stride 2 and the pooling branch is a 3x3/2 max pooling passed through
    without projection."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, dbl3x3red: int,
                 dbl3x3: int, pool: str, pool_proj: int, stride: int = 1, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch1 = conv(in_channels, ch1x1, 1) if ch1x1 else None
        self.branch2 = nn.Sequential(conv(in_channels, ch3x3red, 1),
                                     conv(ch3x3red, ch3x3, 3, stride=stride, padding=1))
        self.branch3 = nn.Sequential(conv(in_channels, dbl3x3red, 1), conv(dbl3x3red, dbl3x3, 3, padding=1),
                                     conv(dbl3x3, dbl3x3, 3, stride=stride, padding=1))
        pooling = nn.MaxPool2d(3, stride, padding=1) if pool == "max" else \
            nn.AvgPool2d(3, stride, padding=1, count_include_pad=False)
        self.branch4 = nn.Sequential(pooling, conv(in_channels, pool_proj, 1)) if pool_proj else pooling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [self.branch2(x), self.branch3(x), self.branch4(x)]
        if self.branch1 is not None:
            outputs.insert(0, self.branch1(x))
        return torch.cat(outputs, 1)


class BNInception(nn.Module):
    """BN-Inception, Figure 5 of Ioffe and Szegedy (see the module docstring)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 small_input: bool = False):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        inception = partial(InceptionBN, width=width)
        if small_input:  # keep the resolution: no stride, no pooling in the stem
            self.conv1 = BasicConv2d(in_channels, scaled(64, width), 3, padding=1)
        else:
            self.conv1 = BasicConv2d(in_channels, scaled(64, width), 7, stride=2, padding=3)
        self.maxpool1 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv(64, 64, 1)
        self.conv3 = conv(64, 192, 3, padding=1)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, ceil_mode=True)
        # Figure 5: input channels, #1x1, #3x3 reduce, #3x3, double #3x3 reduce,
        # double #3x3, pooling, pool proj (0: passed through).
        self.inception3a = inception(192, 64, 64, 64, 64, 96, "avg", 32)
        self.inception3b = inception(256, 64, 64, 96, 64, 96, "avg", 64)
        self.inception3c = inception(320, 0, 128, 160, 64, 96, "max", 0, stride=2)
        self.inception4a = inception(576, 224, 64, 96, 96, 128, "avg", 128)
        self.inception4b = inception(576, 192, 96, 128, 96, 128, "avg", 128)
        self.inception4c = inception(576, 160, 128, 160, 128, 160, "avg", 128)
        self.inception4d = inception(608, 96, 128, 192, 160, 192, "avg", 128)
        self.inception4e = inception(608, 0, 128, 192, 192, 256, "max", 0, stride=2)
        self.inception5a = inception(1056, 352, 192, 320, 160, 224, "avg", 128)
        self.inception5b = inception(1024, 352, 192, 320, 192, 224, "max", 128)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(scaled(1024, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.inception3c(self.inception3b(self.inception3a(x)))
        x = self.inception4c(self.inception4b(self.inception4a(x)))
        x = self.inception4e(self.inception4d(x))
        x = self.inception5b(self.inception5a(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


SMALL_HINT = "Use small_input=True for smaller images such as 28x28 or 32x32."


@register
def googlenet(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
              width: float = 1.0, small_input: bool = False, paper_5x5: bool = False,
              dropout: float = 0.4, dropout_aux: float = 0.7, stem_pool: bool = False) -> GoogLeNet:
    """GoogLeNet with optional auxiliary classifiers, torchvision-compatible; ``stem_pool``
    keeps the first stem pooling with ``small_input`` (modules on 14, 7, 4 grids for 28x28)."""
    model = GoogLeNet(num_classes, in_channels, aux_logits, width, small_input, paper_5x5,
                      dropout, dropout_aux, stem_pool)
    # Smallest images: a 3x3/2 max pooling that rounds up leaves 1 pixel of 2; maxpool3
    # needs 2, the stem's 7x7/2 convolution and maxpool1 and maxpool2 turn 15 into 2,
    # maxpool1 alone turns 4 into 2.
    min_size = (4 if stem_pool else 2) if small_input else 15
    return expect_input(model, InputSpec("googlenet", in_channels, min_size=min_size,
                                         hint="" if small_input else SMALL_HINT))


@register
def bn_inception(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 small_input: bool = False) -> BNInception:
    """BN-Inception (Inception v2), Figure 5 of the batch normalisation paper."""
    model = BNInception(num_classes, in_channels, width, small_input)
    # Smallest images: the modules' grid reductions are padded, so any grid works; the
    # stem (7x7/2 convolution, two 3x3/2 poolings that round up) turns 7 pixels into 1.
    return expect_input(model, InputSpec("bn_inception", in_channels, min_size=1 if small_input else 7,
                                         hint="" if small_input else SMALL_HINT))
