"""Network in Network: Lin, Chen and Yan, "Network in network", ICLR 2014.

An mlpconv block is a convolution followed by two 1x1 convolutions ("cccp" layers in
the authors' code), each with a ReLU: a small multilayer perceptron slid over the
image that mixes channels at every position. The last block emits one map per class
and global average pooling turns each map into a logit: no fully connected layers.

The paper describes its networks in words only ("three stacked mlpconv layers"); the
filter counts here are those of the authors' released networks:

- ``CFGS["imagenet"]`` (the default): four mlpconv blocks on AlexNet's layout, 96-256-
  384-1024 filters, from the Caffe model zoo;
- ``CFGS["cifar"]`` (``small_input=True``, for 28x28 or 32x32 images): the paper's
  CIFAR-10 network, 192-160-96, 192-192-192 and 192-192-classes filters.

As in Caffe, pooling rounds up (``ceil_mode``) and the class maps pass through a ReLU
before the average. Where we differ: He et al.'s initialisation instead of small
Gaussians. ``width`` multiplies every layer's width except the class maps.
``class_relu=False`` leaves the class maps linear: with the ReLU, a class whose map is
negative everywhere gets no gradient and never recovers, which happens at high
learning rates.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .inputs import InputSpec, expect_input
from ._registry import register
from ._width import scaled

# An mlpconv block is (kernel, stride, padding, (filters of the conv and its two 1x1s));
# None stands for the number of classes. Between blocks: "max" or "avg" 3x3/2 pooling
# and "drop" dropout.
CFGS: dict[str, list] = {
    "imagenet": [
        (11, 4, 0, (96, 96, 96)), "max",
        (5, 1, 2, (256, 256, 256)), "max",
        (3, 1, 1, (384, 384, 384)), "max", "drop",
        (3, 1, 1, (1024, 1024, None)),
    ],
    "cifar": [
        (5, 1, 2, (192, 160, 96)), "max", "drop",
        (5, 1, 2, (192, 192, 192)), "avg", "drop",
        (3, 1, 1, (192, 192, None)),
    ],
}


class MLPConv(nn.Sequential):
    """A convolution and two 1x1 convolutions, each followed by a ReLU."""

    def __init__(self, in_channels: int, channels: tuple[int, int, int], kernel_size: int,
                 stride: int = 1, padding: int = 0, last_relu: bool = True):
        c1, c2, c3 = channels
        super().__init__(OrderedDict(
            conv=nn.Conv2d(in_channels, c1, kernel_size, stride, padding), relu=nn.ReLU(inplace=True),
            cccp1=nn.Conv2d(c1, c2, 1), relu1=nn.ReLU(inplace=True),
            cccp2=nn.Conv2d(c2, c3, 1), relu2=nn.ReLU(inplace=True) if last_relu else nn.Identity(),
        ))


class NiN(nn.Module):
    """Mlpconv blocks and global average pooling (see the module docstring)."""

    def __init__(self, cfg: list, num_classes: int = 1000, in_channels: int = 3,
                 width: float = 1.0, dropout: float = 0.5, class_relu: bool = True):
        super().__init__()
        layers: dict[str, nn.Module] = {}
        n = 0  # blocks so far: pool2 and drop2 follow mlpconv2
        for v in cfg:
            if v == "max":
                layers[f"pool{n}"] = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif v == "avg":
                layers[f"pool{n}"] = nn.AvgPool2d(3, stride=2, ceil_mode=True)
            elif v == "drop":
                layers[f"drop{n}"] = nn.Dropout(dropout)
            else:
                kernel, stride, padding, channels = v
                n += 1
                last_relu = class_relu or channels[-1] is not None   # None: the class maps
                channels = tuple(num_classes if c is None else scaled(c, width) for c in channels)
                layers[f"mlpconv{n}"] = MLPConv(in_channels, channels, kernel, stride, padding, last_relu)
                in_channels = channels[-1]
        self.features = nn.Sequential(OrderedDict(layers))
        self.gap = nn.AdaptiveAvgPool2d(1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.gap(self.features(x)), 1)


@register
def nin(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
        small_input: bool = False, dropout: float = 0.5, class_relu: bool = True) -> NiN:
    """Network in Network: the released ImageNet model, or with ``small_input=True``
    the paper's CIFAR-10 network for 28x28 or 32x32 images; ``class_relu=False`` drops
    the ReLU on the class maps."""
    model = NiN(CFGS["cifar" if small_input else "imagenet"], num_classes, in_channels, width, dropout,
                class_relu)
    # Smallest images: a 3x3/2 pooling that rounds up needs 2 pixels to leave 1 and 4 to
    # leave 2, so two of them need 4 (cifar); three need 8, and 39 before an 11x11/4 conv.
    hint = "" if small_input else "Use small_input=True for images from 4x4 (such as 28x28 or 32x32)."
    return expect_input(model, InputSpec("nin", in_channels, min_size=4 if small_input else 39, hint=hint))
