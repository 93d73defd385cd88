"""Highway networks: Srivastava, Greff and Schmidhuber, "Training very deep networks",
NeurIPS 2015 (and "Highway networks", arXiv 2015).

A highway layer computes y = H(x) T(x) + x (1 - T(x)): a transform gate
T(x) = sigmoid(conv(x) + b_T) decides, per unit, how much of the transformed H(x)
to pass and how much of the input to carry. With b_T negative (the paper uses -1 to
-3, deeper nets the more negative) the layers start close to the identity, which is
what lets deep highway networks train. A ResNet block is the special case T = C = 1.

``highway`` is a small convolutional highway network for 28x28 Fashion-MNIST: in
each stage a plain 3x3 convolution sets the width, ``blocks`` highway layers
follow, and 2x2 max pooling separates the stages; global average pooling and a
linear layer classify. The paper's networks differ in size and used no batch
normalization; neither does this one.
"""

from __future__ import annotations

import torch
from torch import nn

from ._registry import register
from .blocks import checked


class HighwayBlock(nn.Module):
    """y = H(x) T(x) + x (1 - T(x)), with H = ReLU(conv3x3) and T = sigmoid(conv3x3 + b_T)."""

    def __init__(self, channels: int, gate_bias: float = -2.0):
        super().__init__()
        self.transform = nn.Conv2d(channels, channels, 3, padding=1)
        self.gate = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.constant_(self.gate.bias, gate_bias)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.transform(x))
        t = torch.sigmoid(self.gate(x))
        return h * t + x * (1 - t)


class Highway(nn.Module):
    """Stages of a width-setting convolution and highway blocks, joined by max pooling."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, channels: tuple[int, ...] = (32, 64),
                 blocks: int = 4, gate_bias: float = -2.0):
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i, width in enumerate(channels):
            if i > 0:
                layers.append(nn.MaxPool2d(2))
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(inplace=True)]
            layers += [HighwayBlock(width, gate_bias) for _ in range(blocks)]
            c = width
        self.features = nn.Sequential(*layers)
        self.reduction = 2 ** (len(channels) - 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


@register
def highway(num_classes: int = 10, in_channels: int = 1, channels: tuple[int, ...] = (32, 64),
            blocks: int = 4, gate_bias: float = -2.0) -> nn.Module:
    """A convolutional highway network; ``blocks`` highway layers per stage, gate bias ``gate_bias``."""
    model = Highway(num_classes, in_channels, tuple(channels), blocks, gate_bias)
    return checked(model, "highway", in_channels, model.reduction)
