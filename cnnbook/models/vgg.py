"""VGG: Simonyan and Zisserman, "Very deep convolutional networks for large-scale image
recognition", ICLR 2015.

``CFGS`` is the paper's Table 1 written as torchvision writes it: a number is a 3x3
convolution with that many filters (each followed by a ReLU, and by batch normalisation
before the ReLU in the ``_bn`` forms), ``(1, n)`` a 1x1 convolution with n filters,
"M" a 2x2 max pooling with stride 2 and "LRN" AlexNet's local response normalisation.
Three fully connected layers (4096, 4096, classes) with dropout follow. ``vgg11`` ...
``vgg19`` and their ``_bn`` forms are torchvision's models, module for module, so its
weights load into them; ``vgg11_lrn`` (A-LRN) and ``vgg16_c`` (C) complete the table.

Where we differ from the paper: the features are adaptively average-pooled to 7x7 (the
identity at 224x224) as in torchvision, the convolutions use He et al.'s (2015)
initialisation instead of N(0, 0.01) and initialising deeper nets from A, and the
``_bn`` forms postdate the paper.

``width`` multiplies every layer's width (the 4,096 hidden units included).
``small_input=True`` is for 28x28 or 32x32 images: the first max pooling is dropped
(so four halvings remain) and the classifier reads the globally average-pooled
features instead of a 7x7 grid.
"""

from __future__ import annotations

import torch
from torch import nn

from .inputs import InputSpec, expect_input
from ._registry import register
from ._width import scaled
from .alexnet import lrn

CFGS: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (1, 256), "M", 512, 512, (1, 512), "M",
          512, 512, (1, 512), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def make_layers(cfg: list, in_channels: int, batch_norm: bool, width: float) -> nn.Sequential:
    """The convolutional part of a configuration, in torchvision's module order."""
    layers: list[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
        elif v == "LRN":
            layers.append(lrn())
        else:
            kernel, channels = v if isinstance(v, tuple) else (3, v)
            channels = scaled(channels, width)
            layers.append(nn.Conv2d(in_channels, channels, kernel, padding=kernel // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(channels))
            layers.append(nn.ReLU(inplace=True))
            in_channels = channels
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG configuration from ``CFGS`` (see the module docstring)."""

    def __init__(self, cfg: list, num_classes: int = 1000, in_channels: int = 3,
                 batch_norm: bool = False, width: float = 1.0, small_input: bool = False,
                 dropout: float = 0.5):
        super().__init__()
        if small_input:
            cfg = cfg.copy()
            cfg.remove("M")  # keep the first stage at full resolution
        self.features = make_layers(cfg, in_channels, batch_norm, width)
        grid = 1 if small_input else 7
        channels, hidden = scaled(512, width), scaled(4096, width)
        self.avgpool = nn.AdaptiveAvgPool2d(grid)
        self.classifier = nn.Sequential(
            nn.Linear(channels * grid * grid, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )
        for m in self.features:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _vgg(name: str, cfg: str, batch_norm: bool, num_classes: int, in_channels: int,
         width: float, small_input: bool, dropout: float) -> VGG:
    model = VGG(CFGS[cfg], num_classes, in_channels, batch_norm, width, small_input, dropout)
    # Five halvings need 32 pixels (2^5); four, with small_input, need 16.
    hint = "" if small_input else "Use small_input=True for images from 16x16 (such as 28x28)."
    return expect_input(model, InputSpec(name, in_channels, min_size=16 if small_input else 32, hint=hint))


@register
def vgg11(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
          small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-11, configuration A."""
    return _vgg("vgg11", "A", False, num_classes, in_channels, width, small_input, dropout)


@register
def vgg11_bn(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
             small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-11 (A) with batch normalisation."""
    return _vgg("vgg11_bn", "A", True, num_classes, in_channels, width, small_input, dropout)


@register
def vgg11_lrn(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
              small_input: bool = False, dropout: float = 0.5) -> VGG:
    """Configuration A-LRN: A with local response normalisation after the first layer."""
    return _vgg("vgg11_lrn", "A-LRN", False, num_classes, in_channels, width, small_input, dropout)


@register
def vgg13(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
          small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-13, configuration B."""
    return _vgg("vgg13", "B", False, num_classes, in_channels, width, small_input, dropout)


@register
def vgg13_bn(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
             small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-13 (B) with batch normalisation."""
    return _vgg("vgg13_bn", "B", True, num_classes, in_channels, width, small_input, dropout)


@register
def vgg16_c(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
            small_input: bool = False, dropout: float = 0.5) -> VGG:
    """Configuration C: 16 layers, the last convolution of stages 3-5 a 1x1."""
    return _vgg("vgg16_c", "C", False, num_classes, in_channels, width, small_input, dropout)


@register
def vgg16(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
          small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-16, configuration D."""
    return _vgg("vgg16", "D", False, num_classes, in_channels, width, small_input, dropout)


@register
def vgg16_bn(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
             small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-16 (D) with batch normalisation."""
    return _vgg("vgg16_bn", "D", True, num_classes, in_channels, width, small_input, dropout)


@register
def vgg19(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
          small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-19, configuration E."""
    return _vgg("vgg19", "E", False, num_classes, in_channels, width, small_input, dropout)


@register
def vgg19_bn(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
             small_input: bool = False, dropout: float = 0.5) -> VGG:
    """VGG-19 (E) with batch normalisation."""
    return _vgg("vgg19_bn", "E", True, num_classes, in_channels, width, small_input, dropout)
