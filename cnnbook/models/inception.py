"""Inception v3, Inception-v4 and Inception-ResNet-v2.

``inception_v3``: Szegedy, Vanhoucke, Ioffe, Shlens and Wojna, "Rethinking the
Inception architecture for computer vision", CVPR 2016. Modules on three grids: 35x35
(``InceptionV3A``, which keeps a 5x5 branch beside the two 3x3s, as TensorFlow's
release does), 17x17 (``InceptionV3C``, a 7x7 factorised into 1x7 and 7x1) and 8x8
(``InceptionV3E``, 3x3 split into parallel 1x3 and 3x1), with grid reductions
(``InceptionV3B``, ``InceptionV3D``) that concatenate stride-2 convolutions and a max
pooling, and an auxiliary classifier on the 17x17 grid. The model is torchvision's,
module for module; as there, the stem is TensorFlow's (3x3 convolutions, max poolings)
rather than the paper's Table 1.

``inception_v4`` and ``inception_resnet_v2``: Szegedy, Ioffe, Vanhoucke and Alemi,
"Inception-v4, Inception-ResNet and the impact of residual connections on learning",
AAAI 2017. Both are timm's models (ported from TensorFlow-Slim), module for module.
Inception-v4 follows the paper's Figures 3-9. Inception-ResNet-v2 adds each block's
output, scaled down (``residual_scale``: 0.17, 0.10 and 0.20 on the three grids as in
the released model; the paper advises 0.1-0.3), to its input; where timm and
TensorFlow-Slim differ from the paper, we follow them: the stem is Inception v3's and
the last 8x8 block is unscaled and has no ReLU.

All convolutions are followed by batch normalisation (eps 1e-3) and a ReLU, except
the 1x1 convolutions that end the residual branches. The dropout before the classifier
is the papers' 20% for v4 and Inception-ResNet-v2 and torchvision's 50% for v3.

``width`` multiplies every layer's width. ``small_input=True`` is for 28x28 or 32x32
images: the stem keeps the resolution (stride 1, padded convolutions, no max pooling,
the same parameters), so a 32x32 image meets the modules on grids of 32, 15 and 7
instead of 35, 17 and 8. The cost of the modules is then that of the full model:
shrink it with ``width``. Inception v3's auxiliary classifier (on by default, as in
torchvision) needs a 17x17 grid, so the model then asks for 299x299 images (35x35 with
``small_input``); ``aux_logits=False`` accepts 75x75 (7x7).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import torch
from torch import nn

from .inputs import InputSpec, expect_input
from ._registry import register
from ._width import scaled
from .googlenet import BasicConv2d

# --------------------------------------------------------------------------------------
# Inception v3 (torchvision's module names)


class InceptionV3A(nn.Module):
    """35x35: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | 3x3 avg pool -> 1x1."""

    def __init__(self, in_channels: int, pool_features: int, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch1x1 = conv(in_channels, 64, 1)
        self.branch5x5_1 = conv(in_channels, 48, 1)
        self.branch5x5_2 = conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = conv(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = conv(96, 96, 3, padding=1)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = conv(in_channels, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(self.pool(x)),
        ], 1)


class InceptionV3B(nn.Module):
    """Grid reduction 35 -> 17: 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | 3x3/2 max pool."""

    def __init__(self, in_channels: int, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch3x3 = conv(in_channels, 384, 3, stride=2)
        self.branch3x3dbl_1 = conv(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = conv(96, 96, 3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.pool(x),
        ], 1)


class InceptionV3C(nn.Module):
    """17x17: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg pool -> 1x1."""

    def __init__(self, in_channels: int, channels_7x7: int, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        c7 = channels_7x7
        self.branch1x1 = conv(in_channels, 192, 1)
        self.branch7x7_1 = conv(in_channels, c7, 1)
        self.branch7x7_2 = conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = conv(in_channels, c7, 1)
        self.branch7x7dbl_2 = conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = conv(c7, 192, (1, 7), padding=(0, 3))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = conv(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7dbl = self.branch7x7dbl_2(self.branch7x7dbl_1(x))
        b7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(b7dbl)))
        return torch.cat([self.branch1x1(x), b7, b7dbl, self.branch_pool(self.pool(x))], 1)


class InceptionV3D(nn.Module):
    """Grid reduction 17 -> 8: 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | 3x3/2 max pool."""

    def __init__(self, in_channels: int, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch3x3_1 = conv(in_channels, 192, 1)
        self.branch3x3_2 = conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = conv(in_channels, 192, 1)
        self.branch7x7x3_2 = conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = conv(192, 192, 3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(b7))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, self.pool(x)], 1)


class InceptionV3E(nn.Module):
    """8x8, filter bank expanded: 1x1 | 1x1 -> (1x3 | 3x1) | 1x1 -> 3x3 -> (1x3 | 3x1) | avg pool -> 1x1."""

    def __init__(self, in_channels: int, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch1x1 = conv(in_channels, 320, 1)
        self.branch3x3_1 = conv(in_channels, 384, 1)
        self.branch3x3_2a = conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = conv(in_channels, 448, 1)
        self.branch3x3dbl_2 = conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = conv(384, 384, (3, 1), padding=(1, 0))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = conv(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        return torch.cat([
            self.branch1x1(x),
            self.branch3x3_2a(b3), self.branch3x3_2b(b3),
            self.branch3x3dbl_3a(b3dbl), self.branch3x3dbl_3b(b3dbl),
            self.branch_pool(self.pool(x)),
        ], 1)


class InceptionV3Aux(nn.Module):
    """Auxiliary classifier on the 17x17 grid: 5x5/3 avg pool, 1x1 conv (128), 5x5 conv (768), FC.

    It needs a grid of at least 17x17 (a 299x299 image, or 35x35 with small_input)."""

    def __init__(self, in_channels: int, num_classes: int, width: float = 1.0):
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv0 = BasicConv2d(in_channels, 128, 1, width=width)
        self.conv1 = BasicConv2d(128, 768, 5, width=width)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(scaled(768, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.gap(self.conv1(self.conv0(self.pool(x)))), 1))


class InceptionV3Outputs(NamedTuple):
    """What Inception v3 returns in training mode with its auxiliary classifier."""

    logits: torch.Tensor
    aux: torch.Tensor


class InceptionV3(nn.Module):
    """Inception v3 as torchvision builds it (see the module docstring).

    In training mode with ``aux_logits`` the forward pass returns an
    ``InceptionV3Outputs(logits, aux)``; otherwise the logits alone.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 width: float = 1.0, small_input: bool = False, dropout: float = 0.5):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        s, p = (1, 1) if small_input else (2, 0)  # the stem's stride and padding
        self.Conv2d_1a_3x3 = BasicConv2d(in_channels, scaled(32, width), 3, stride=s, padding=p)
        self.Conv2d_2a_3x3 = conv(32, 32, 3, padding=p)
        self.Conv2d_2b_3x3 = conv(32, 64, 3, padding=1)
        self.maxpool1 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2)
        self.Conv2d_3b_1x1 = conv(64, 80, 1)
        self.Conv2d_4a_3x3 = conv(80, 192, 3, padding=p)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2)
        self.Mixed_5b = InceptionV3A(192, pool_features=32, width=width)
        self.Mixed_5c = InceptionV3A(256, pool_features=64, width=width)
        self.Mixed_5d = InceptionV3A(288, pool_features=64, width=width)
        self.Mixed_6a = InceptionV3B(288, width=width)
        self.Mixed_6b = InceptionV3C(768, channels_7x7=128, width=width)
        self.Mixed_6c = InceptionV3C(768, channels_7x7=160, width=width)
        self.Mixed_6d = InceptionV3C(768, channels_7x7=160, width=width)
        self.Mixed_6e = InceptionV3C(768, channels_7x7=192, width=width)
        self.AuxLogits = InceptionV3Aux(768, num_classes, width) if aux_logits else None
        self.Mixed_7a = InceptionV3D(768, width=width)
        self.Mixed_7b = InceptionV3E(1280, width=width)
        self.Mixed_7c = InceptionV3E(2048, width=width)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(scaled(2048, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionV3Outputs:
        x = self.maxpool1(self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))))
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))
        x = self.Mixed_6a(self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x))))
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))
        aux = self.AuxLogits(x) if self.training and self.AuxLogits is not None else None
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        logits = self.fc(torch.flatten(self.dropout(self.avgpool(x)), 1))
        return logits if aux is None else InceptionV3Outputs(logits, aux)


# --------------------------------------------------------------------------------------
# Inception-v4 (timm's module names: features.0 ... features.21, last_linear)


class Mixed3a(nn.Module):
    """Stem, Figure 3: 3x3/2 max pool | 3x3/2 conv (96)."""

    def __init__(self, small_input: bool = False, width: float = 1.0):
        super().__init__()
        s, p = (1, 1) if small_input else (2, 0)
        self.maxpool = nn.MaxPool2d(3, stride=s, padding=p)
        self.conv = BasicConv2d(64, 96, 3, stride=s, padding=p, width=width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.maxpool(x), self.conv(x)], 1)


class Mixed4a(nn.Module):
    """Stem, Figure 3: 1x1 -> 3x3 | 1x1 -> 7x1 -> 1x7 -> 3x3, unpadded 3x3s."""

    def __init__(self, small_input: bool = False, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        p = 1 if small_input else 0
        self.branch0 = nn.Sequential(conv(160, 64, 1), conv(64, 96, 3, padding=p))
        self.branch1 = nn.Sequential(
            conv(160, 64, 1), conv(64, 64, (1, 7), padding=(0, 3)), conv(64, 64, (7, 1), padding=(3, 0)),
            conv(64, 96, 3, padding=p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x)], 1)


class Mixed5a(nn.Module):
    """Stem, Figure 3: 3x3/2 conv (192) | 3x3/2 max pool."""

    def __init__(self, small_input: bool = False, width: float = 1.0):
        super().__init__()
        s, p = (1, 1) if small_input else (2, 0)
        self.conv = BasicConv2d(192, 192, 3, stride=s, padding=p, width=width)
        self.maxpool = nn.MaxPool2d(3, stride=s, padding=p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.conv(x), self.maxpool(x)], 1)


class InceptionA(nn.Module):
    """35x35, Figure 4: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = conv(384, 96, 1)
        self.branch1 = nn.Sequential(conv(384, 64, 1), conv(64, 96, 3, padding=1))
        self.branch2 = nn.Sequential(conv(384, 64, 1), conv(64, 96, 3, padding=1), conv(96, 96, 3, padding=1))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                     conv(384, 96, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class ReductionA(nn.Module):
    """35 -> 17, Figure 7: 3x3/2 (n) | 1x1 (k) -> 3x3 (l) -> 3x3/2 (m) | 3x3/2 max pool.

    Table 1 of the paper gives k, l, m, n: 192, 224, 256, 384 in Inception-v4 and
    256, 256, 384, 384 in Inception-ResNet-v2."""

    def __init__(self, in_channels: int, k: int, l: int, m: int, n: int, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = conv(in_channels, n, 3, stride=2)
        self.branch1 = nn.Sequential(
            conv(in_channels, k, 1), conv(k, l, 3, padding=1), conv(l, m, 3, stride=2))
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)


class InceptionB(nn.Module):
    """17x17, Figure 5: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg pool -> 1x1."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = conv(1024, 384, 1)
        self.branch1 = nn.Sequential(
            conv(1024, 192, 1),
            conv(192, 224, (1, 7), padding=(0, 3)), conv(224, 256, (7, 1), padding=(3, 0)))
        self.branch2 = nn.Sequential(
            conv(1024, 192, 1),
            conv(192, 192, (7, 1), padding=(3, 0)), conv(192, 224, (1, 7), padding=(0, 3)),
            conv(224, 224, (7, 1), padding=(3, 0)), conv(224, 256, (1, 7), padding=(0, 3)))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                     conv(1024, 128, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class ReductionB(nn.Module):
    """17 -> 8, Figure 8: 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | 3x3/2 max pool."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = nn.Sequential(conv(1024, 192, 1), conv(192, 192, 3, stride=2))
        self.branch1 = nn.Sequential(
            conv(1024, 256, 1),
            conv(256, 256, (1, 7), padding=(0, 3)), conv(256, 320, (7, 1), padding=(3, 0)),
            conv(320, 320, 3, stride=2))
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)


class InceptionC(nn.Module):
    """8x8, Figure 6: 1x1 | 1x1 -> (1x3 | 3x1) | 1x1 -> 3x1 -> 1x3 -> (1x3 | 3x1) | avg pool -> 1x1."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = conv(1536, 256, 1)
        self.branch1_0 = conv(1536, 384, 1)
        self.branch1_1a = conv(384, 256, (1, 3), padding=(0, 1))
        self.branch1_1b = conv(384, 256, (3, 1), padding=(1, 0))
        self.branch2_0 = conv(1536, 384, 1)
        self.branch2_1 = conv(384, 448, (3, 1), padding=(1, 0))
        self.branch2_2 = conv(448, 512, (1, 3), padding=(0, 1))
        self.branch2_3a = conv(512, 256, (1, 3), padding=(0, 1))
        self.branch2_3b = conv(512, 256, (3, 1), padding=(1, 0))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                     conv(1536, 256, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1_0(x)
        b2 = self.branch2_2(self.branch2_1(self.branch2_0(x)))
        return torch.cat([self.branch0(x), self.branch1_1a(b1), self.branch1_1b(b1),
                          self.branch2_3a(b2), self.branch2_3b(b2), self.branch3(x)], 1)


class InceptionV4(nn.Module):
    """Inception-v4 as timm builds it: stem, 4 x A, reduction A, 7 x B, reduction B, 3 x C."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 small_input: bool = False, dropout: float = 0.2):
        super().__init__()
        s, p = (1, 1) if small_input else (2, 0)  # the stem's stride and padding
        self.features = nn.Sequential(
            BasicConv2d(in_channels, scaled(32, width), 3, stride=s, padding=p),
            BasicConv2d(32, 32, 3, padding=p, width=width),
            BasicConv2d(32, 64, 3, padding=1, width=width),
            Mixed3a(small_input, width), Mixed4a(small_input, width), Mixed5a(small_input, width),
            *[InceptionA(width) for _ in range(4)],
            ReductionA(384, 192, 224, 256, 384, width),
            *[InceptionB(width) for _ in range(7)],
            ReductionB(width),
            *[InceptionC(width) for _ in range(3)],
        )
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.head_drop = nn.Dropout(dropout)
        self.last_linear = nn.Linear(scaled(1536, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_linear(self.head_drop(torch.flatten(self.global_pool(self.features(x)), 1)))


# --------------------------------------------------------------------------------------
# Inception-ResNet-v2 (timm's module names)


class Mixed5b(nn.Module):
    """End of the stem (TensorFlow-Slim's): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = conv(192, 96, 1)
        self.branch1 = nn.Sequential(conv(192, 48, 1), conv(48, 64, 5, padding=2))
        self.branch2 = nn.Sequential(conv(192, 64, 1), conv(64, 96, 3, padding=1), conv(96, 96, 3, padding=1))
        self.branch3 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                     conv(192, 64, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class InceptionResNetA(nn.Module):
    """35x35, Figure 16 (timm's Block35): relu(x + scale * 1x1(1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3))."""

    def __init__(self, scale: float, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.scale = scale
        self.branch0 = conv(320, 32, 1)
        self.branch1 = nn.Sequential(conv(320, 32, 1), conv(32, 32, 3, padding=1))
        self.branch2 = nn.Sequential(conv(320, 32, 1), conv(32, 48, 3, padding=1), conv(48, 64, 3, padding=1))
        self.conv2d = nn.Conv2d(scaled(128, width), scaled(320, width), 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)
        return self.relu(x + self.scale * self.conv2d(branches))


class InceptionResNetB(nn.Module):
    """17x17, Figure 17 (timm's Block17): relu(x + scale * 1x1(1x1 | 1x1 -> 1x7 -> 7x1))."""

    def __init__(self, scale: float, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.scale = scale
        self.branch0 = conv(1088, 192, 1)
        self.branch1 = nn.Sequential(
            conv(1088, 128, 1),
            conv(128, 160, (1, 7), padding=(0, 3)), conv(160, 192, (7, 1), padding=(3, 0)))
        self.conv2d = nn.Conv2d(scaled(384, width), scaled(1088, width), 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = torch.cat([self.branch0(x), self.branch1(x)], 1)
        return self.relu(x + self.scale * self.conv2d(branches))


class ReductionBResNet(nn.Module):
    """17 -> 8, Figure 18 (timm's Mixed_7a):
    1x1 -> 3x3/2 | 1x1 -> 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | 3x3/2 max pool."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.branch0 = nn.Sequential(conv(1088, 256, 1), conv(256, 384, 3, stride=2))
        self.branch1 = nn.Sequential(conv(1088, 256, 1), conv(256, 288, 3, stride=2))
        self.branch2 = nn.Sequential(
            conv(1088, 256, 1), conv(256, 288, 3, padding=1), conv(288, 320, 3, stride=2))
        self.branch3 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class InceptionResNetC(nn.Module):
    """8x8, Figure 19 (timm's Block8): relu(x + scale * 1x1(1x1 | 1x1 -> 1x3 -> 3x1)),
    the last one of the network without the ReLU."""

    def __init__(self, scale: float, relu: bool = True, width: float = 1.0):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        self.scale = scale
        self.branch0 = conv(2080, 192, 1)
        self.branch1 = nn.Sequential(
            conv(2080, 192, 1),
            conv(192, 224, (1, 3), padding=(0, 1)), conv(224, 256, (3, 1), padding=(1, 0)))
        self.conv2d = nn.Conv2d(scaled(448, width), scaled(2080, width), 1)
        self.relu = nn.ReLU(inplace=True) if relu else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = torch.cat([self.branch0(x), self.branch1(x)], 1)
        return self.relu(x + self.scale * self.conv2d(branches))


class InceptionResNetV2(nn.Module):
    """Inception-ResNet-v2 as timm builds it: stem, 10 x A, reduction A, 20 x B,
    reduction B, 10 x C (the last unscaled, without ReLU), a 1x1 conv to 1536.

    ``blocks`` sets the numbers of A, B and C blocks (for reduced variants);
    ``stem_pool`` keeps the stem's first max pooling with ``small_input``."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3,
                 residual_scale: tuple[float, float, float] = (0.17, 0.10, 0.20), width: float = 1.0,
                 small_input: bool = False, dropout: float = 0.2,
                 blocks: tuple[int, int, int] = (10, 20, 10), stem_pool: bool = False):
        super().__init__()
        conv = partial(BasicConv2d, width=width)
        scale_a, scale_b, scale_c = residual_scale
        blocks_a, blocks_b, blocks_c = blocks
        s, p = (1, 1) if small_input else (2, 0)  # the stem's stride and padding
        self.conv2d_1a = BasicConv2d(in_channels, scaled(32, width), 3, stride=s, padding=p)
        self.conv2d_2a = conv(32, 32, 3, padding=p)
        self.conv2d_2b = conv(32, 64, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2) if stem_pool or not small_input else nn.Identity()
        self.conv2d_3b = conv(64, 80, 1)
        self.conv2d_4a = conv(80, 192, 3, padding=p)
        self.maxpool_5a = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2)
        self.mixed_5b = Mixed5b(width)
        self.repeat = nn.Sequential(*[InceptionResNetA(scale_a, width) for _ in range(blocks_a)])
        self.mixed_6a = ReductionA(320, 256, 256, 384, 384, width)
        self.repeat_1 = nn.Sequential(*[InceptionResNetB(scale_b, width) for _ in range(blocks_b)])
        self.mixed_7a = ReductionBResNet(width)
        self.repeat_2 = nn.Sequential(*[InceptionResNetC(scale_c, width=width) for _ in range(blocks_c - 1)])
        self.block8 = InceptionResNetC(1.0, relu=False, width=width)
        self.conv2d_7b = conv(2080, 1536, 1)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.head_drop = nn.Dropout(dropout)
        self.classif = nn.Linear(scaled(1536, width), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool_3a(self.conv2d_2b(self.conv2d_2a(self.conv2d_1a(x))))
        x = self.maxpool_5a(self.conv2d_4a(self.conv2d_3b(x)))
        x = self.repeat_1(self.mixed_6a(self.repeat(self.mixed_5b(x))))
        x = self.block8(self.repeat_2(self.mixed_7a(x)))
        x = torch.flatten(self.global_pool(self.conv2d_7b(x)), 1)
        return self.classif(self.head_drop(x))


# --------------------------------------------------------------------------------------
# Builders. Smallest images: each unpadded 3x3/2 layer needs 3 pixels and leaves
# (n - 3) // 2 + 1; each unpadded 3x3 takes 2 away. Walking back from the last grid
# reduction (3 pixels in) gives the minimum; the v3 auxiliary classifier needs 17
# pixels on its grid.

SMALL_HINT = "Use small_input=True for smaller images such as 28x28 or 32x32."


@register
def inception_v3(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 width: float = 1.0, small_input: bool = False, dropout: float = 0.5) -> InceptionV3:
    """Inception v3 with its auxiliary classifier, torchvision-compatible."""
    model = InceptionV3(num_classes, in_channels, aux_logits, width, small_input, dropout)
    sizes = {(False, False): 75, (False, True): 299, (True, False): 7, (True, True): 35}
    min_size = sizes[small_input, aux_logits]
    hint = "" if small_input else SMALL_HINT
    if aux_logits:
        hint = (f"The auxiliary classifier needs {min_size}x{min_size} images; pass aux_logits=False "
                f"for images from {sizes[small_input, False]}x{sizes[small_input, False]}. {hint}").strip()
    return expect_input(model, InputSpec("inception_v3", in_channels, min_size=min_size, hint=hint))


@register
def inception_v4(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 small_input: bool = False, dropout: float = 0.2) -> InceptionV4:
    """Inception-v4, timm-compatible."""
    model = InceptionV4(num_classes, in_channels, width, small_input, dropout)
    return expect_input(model, InputSpec("inception_v4", in_channels, min_size=7 if small_input else 75,
                                         hint="" if small_input else SMALL_HINT))


@register
def inception_resnet_v2(num_classes: int = 1000, in_channels: int = 3,
                        residual_scale: float | tuple[float, float, float] = (0.17, 0.10, 0.20),
                        width: float = 1.0, small_input: bool = False,
                        dropout: float = 0.2, blocks: tuple[int, int, int] = (10, 20, 10),
                        stem_pool: bool = False) -> InceptionResNetV2:
    """Inception-ResNet-v2, timm-compatible. ``residual_scale``: one factor for all
    blocks, or one each for the 35x35, 17x17 and 8x8 blocks. ``blocks``: how many
    A, B and C blocks (the paper's 10, 20, 10; at least one C block, the unscaled last).
    ``stem_pool`` (with ``small_input``): keep the stem's first 3x3/2 max pooling, so a
    28x28 image meets the blocks on 13x13, 6x6 and 2x2 grids, at about a quarter of the cost."""
    if isinstance(residual_scale, (int, float)):
        residual_scale = (residual_scale,) * 3
    if len(blocks) != 3 or min(blocks[:2]) < 0 or blocks[2] < 1:
        raise ValueError(f"blocks must be three counts (A, B, C) with at least one C block, got {blocks}")
    if stem_pool and not small_input:
        raise ValueError("stem_pool=True is for small_input=True (the large stem pools anyway)")
    model = InceptionResNetV2(num_classes, in_channels, tuple(residual_scale), width, small_input, dropout,
                              tuple(blocks), stem_pool)
    min_size = (15 if stem_pool else 7) if small_input else 75
    return expect_input(model, InputSpec("inception_resnet_v2", in_channels, min_size=min_size,
                                         hint="" if small_input else SMALL_HINT))
