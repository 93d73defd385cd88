"""LeNet: LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE 1998.

``lenet5`` is the network as published: scaled tanh, trainable subsampling, the
partial C3 connection table and Euclidean RBF outputs. ``lenet`` is the modern
simplification everyone trains: ReLU, max pooling, a full C3 and linear outputs.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

from .inputs import InputSpec, expect_input
from ._registry import register

# Table I of the paper: the S2 maps that each of the 16 C3 maps reads.
C3_TABLE: list[list[int]] = (
    [[j % 6 for j in range(i, i + 3)] for i in range(6)]      # 6 maps see 3 neighbours
    + [[j % 6 for j in range(i, i + 4)] for i in range(6)]    # 6 maps see 4 neighbours
    + [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]              # 3 see 4 non-adjacent
    + [list(range(6))]                                        # 1 sees all 6
)


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2 / 3))


class Subsampling(nn.Module):
    """S2/S4: each map sums 2x2 blocks, times a trainable coefficient, plus a trainable bias."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), 0.25))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sum = 4 * F.avg_pool2d(x, 2)
        return block_sum * self.weight[:, None, None] + self.bias[:, None, None]


class PartialConv(nn.Module):
    """C3: one 5x5 convolution per output map over only the input maps ``table`` lists."""

    def __init__(self, table: list[list[int]], kernel_size: int = 5):
        super().__init__()
        self.table = table
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size) for inputs in table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, inputs]) for conv, inputs in zip(self.maps, self.table)], dim=1)


class RBFOutput(nn.Module):
    """Euclidean RBF units: logit_i = -||x - w_i||^2 with fixed codes w_i in {-1, +1}.

    The paper drew the 84-dimensional codes of the digits from 7x12 bitmaps and
    notes that random +-1 codes work too; we use random ones (seeded, not trained).
    """

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        codes = torch.randint(0, 2, (num_classes, in_features), generator=torch.Generator().manual_seed(0))
        self.register_buffer("codes", codes.float() * 2 - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -torch.cdist(x, self.codes).pow(2)


class LeNet5(nn.Module):
    """LeNet-5 as published: 32x32 inputs (pad 28x28 digits by 2 on each side)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.features = nn.Sequential(OrderedDict(
            c1=nn.Conv2d(in_channels, 6, 5), act1=ScaledTanh(),
            s2=Subsampling(6), act2=ScaledTanh(),
            c3=PartialConv(C3_TABLE), act3=ScaledTanh(),
            s4=Subsampling(16), act4=ScaledTanh(),
            c5=nn.Conv2d(16, 120, 5), act5=ScaledTanh(),
        ))
        self.classifier = nn.Sequential(OrderedDict(
            flatten=nn.Flatten(), f6=nn.Linear(120, 84), act6=ScaledTanh(),
            output=RBFOutput(84, num_classes),
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class LeNet(nn.Module):
    """The modern LeNet for 28x28 inputs: ReLU, 2x2 max pooling, full C3, linear outputs.

    ``width`` multiplies the number of feature maps (6 and 16 at width 1).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 1):
        super().__init__()
        c1, c3 = 6 * width, 16 * width
        self.features = nn.Sequential(OrderedDict(
            c1=nn.Conv2d(in_channels, c1, 5, padding=2), relu1=nn.ReLU(inplace=True),
            s2=nn.MaxPool2d(2),
            c3=nn.Conv2d(c1, c3, 5), relu3=nn.ReLU(inplace=True),
            s4=nn.MaxPool2d(2),
        ))
        self.classifier = nn.Sequential(OrderedDict(
            flatten=nn.Flatten(), c5=nn.Linear(c3 * 5 * 5, 120), relu5=nn.ReLU(inplace=True),
            f6=nn.Linear(120, 84), relu6=nn.ReLU(inplace=True),
            output=nn.Linear(84, num_classes),
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register
def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 as published (1998)."""
    return expect_input(LeNet5(num_classes, in_channels), InputSpec(
        "lenet5", in_channels, size=(32, 32),
        hint="Pad 28x28 images to 32x32 (cnnbook.data.load(..., pad=2)) or use 'lenet'."))


def add_batch_norm(model: LeNet) -> LeNet:
    """Insert batch normalisation before every ReLU of a modern LeNet, in place.

    C1 and C3 get ``BatchNorm2d`` (``bn1``, ``bn3``), C5 and F6 ``BatchNorm1d``
    (``bn5``, ``bn6``). The layer before each normalisation loses its bias: the
    normalisation subtracts the mean anyway, and its learned shift takes the bias's place.
    """
    for block_name in ("features", "classifier"):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for name, layer in getattr(model, block_name).named_children():
            if isinstance(layer, nn.ReLU):
                before = next(reversed(layers.values()))
                before.bias = None
                norm = nn.BatchNorm2d if isinstance(before, nn.Conv2d) else nn.BatchNorm1d
                layers[name.replace("relu", "bn")] = norm(before.weight.shape[0])
            layers[name] = layer
        setattr(model, block_name, nn.Sequential(layers))
    return model


@register
def lenet(num_classes: int = 10, in_channels: int = 1, width: int = 1, batch_norm: bool = False) -> LeNet:
    """The modern LeNet (ReLU, max pooling) for 28x28 images; ``batch_norm`` adds
    batch normalisation before every ReLU (``add_batch_norm``)."""
    model = LeNet(num_classes, in_channels, width)
    if batch_norm:
        add_batch_norm(model)
    return expect_input(model, InputSpec(
        "lenet", in_channels, size=(28, 28), hint="Resize or crop the images to 28x28."))
