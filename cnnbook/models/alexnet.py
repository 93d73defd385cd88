"""AlexNet: Krizhevsky, Sutskever and Hinton, "ImageNet classification with deep
convolutional neural networks", NeurIPS 2012.

``alexnet_paper`` is the network of the paper: 96-256-384-384-256 filters, ReLU, local
response normalisation after conv1 and conv2, overlapping 3x3/2 max pooling, dropout
in fc6 and fc7. The paper split every layer over two GPUs; conv2, conv4 and conv5 only
saw the half of their input on their own GPU, which is a grouped convolution with
``groups=2``. conv3 and the fully connected layers read both halves, so they are
ordinary layers (so is conv1: each GPU's 48 filters saw the whole image).

``alexnet`` is torchvision's single-GPU variant (after Krizhevsky's "One weird trick
for parallelizing convolutional neural networks", 2014): 64-192-384-256-256 filters, no
LRN, no groups, dropout before fc6 and fc7. Its modules are torchvision's, one for one,
so torchvision's weights load into it.

Where ``alexnet_paper`` differs from the paper:

- the input is 227x227, as in the released implementations; the paper's "224x224"
  does not fit an 11x11 stride-4 convolution without padding;
- the features are adaptively average-pooled to 6x6, the identity at 227x227, so that
  other sizes run too;
- PyTorch's default initialisation, not the paper's N(0, 0.01) weights with biases of 1
  in conv2, conv4, conv5 and the hidden fully connected layers.

Both builders take ``width`` (multiplies every layer's width, the 4,096 hidden units
included) and ``small_input`` (for 28x28 or 32x32 images: conv1 becomes a 3x3 stride-1
convolution and the classifier reads the globally average-pooled features instead of
a 6x6 grid).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .inputs import InputSpec, expect_input
from ._registry import register
from ._width import scaled


def lrn() -> nn.LocalResponseNorm:
    """The paper's local response normalisation, k=2, n=5, alpha=1e-4, beta=0.75:
    b = a / (k + alpha * sum of a^2 over the n neighbouring maps)^beta.

    PyTorch divides its ``alpha`` by n, hence ``alpha=5e-4`` here.
    """
    return nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """torchvision's single-GPU AlexNet (see the module docstring)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 small_input: bool = False, dropout: float = 0.5):
        super().__init__()
        c1, c2, c3, c4, c5, hidden = (scaled(c, width) for c in (64, 192, 384, 256, 256, 4096))
        if small_input:
            conv1 = nn.Conv2d(in_channels, c1, 3, padding=1)
        else:
            conv1 = nn.Conv2d(in_channels, c1, 11, stride=4, padding=2)
        self.features = nn.Sequential(
            conv1, nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
        )
        grid = 1 if small_input else 6
        self.avgpool = nn.AdaptiveAvgPool2d(grid)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * grid * grid, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class AlexNetPaper(nn.Module):
    """AlexNet as in the paper, the two GPUs as grouped convolutions (see the module docstring)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 small_input: bool = False, dropout: float = 0.5):
        super().__init__()
        c1, c2, c3, c4, c5, hidden = (scaled(c, width) for c in (96, 256, 384, 384, 256, 4096))
        if small_input:
            conv1 = nn.Conv2d(in_channels, c1, 3, padding=1)
        else:
            conv1 = nn.Conv2d(in_channels, c1, 11, stride=4)
        self.features = nn.Sequential(OrderedDict(
            conv1=conv1, relu1=nn.ReLU(inplace=True), norm1=lrn(), pool1=nn.MaxPool2d(3, stride=2),
            conv2=nn.Conv2d(c1, c2, 5, padding=2, groups=2), relu2=nn.ReLU(inplace=True),
            norm2=lrn(), pool2=nn.MaxPool2d(3, stride=2),
            conv3=nn.Conv2d(c2, c3, 3, padding=1), relu3=nn.ReLU(inplace=True),
            conv4=nn.Conv2d(c3, c4, 3, padding=1, groups=2), relu4=nn.ReLU(inplace=True),
            conv5=nn.Conv2d(c4, c5, 3, padding=1, groups=2), relu5=nn.ReLU(inplace=True),
            pool5=nn.MaxPool2d(3, stride=2),
        ))
        grid = 1 if small_input else 6
        self.avgpool = nn.AdaptiveAvgPool2d(grid)
        self.classifier = nn.Sequential(OrderedDict(
            flatten=nn.Flatten(),
            fc6=nn.Linear(c5 * grid * grid, hidden), relu6=nn.ReLU(inplace=True), drop6=nn.Dropout(dropout),
            fc7=nn.Linear(hidden, hidden), relu7=nn.ReLU(inplace=True), drop7=nn.Dropout(dropout),
            fc8=nn.Linear(hidden, num_classes),
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))


# Smallest images: three 3x3/2 poolings need 15 pixels at conv1's output; at stride 4
# that is 63 input pixels with torchvision's padding of 2 and 67 without (the paper).
SMALL_HINT = "Use small_input=True for images from 15x15 (such as 28x28 or 32x32)."


@register
def alexnet(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
            small_input: bool = False, dropout: float = 0.5) -> AlexNet:
    """torchvision's single-GPU AlexNet; ``small_input=True`` for 28x28 or 32x32 images."""
    model = AlexNet(num_classes, in_channels, width, small_input, dropout)
    return expect_input(model, InputSpec("alexnet", in_channels, min_size=15 if small_input else 63,
                                         hint="" if small_input else SMALL_HINT))


@register
def alexnet_paper(num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                  small_input: bool = False, dropout: float = 0.5) -> AlexNetPaper:
    """AlexNet as published (96-256-384-384-256 filters, LRN, groups=2), for 227x227 images."""
    model = AlexNetPaper(num_classes, in_channels, width, small_input, dropout)
    return expect_input(model, InputSpec("alexnet_paper", in_channels, min_size=15 if small_input else 67,
                                         hint="" if small_input else SMALL_HINT))
