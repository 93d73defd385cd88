"""DenseNet: Huang, Liu, van der Maaten and Weinberger, "Densely connected
convolutional networks", CVPR 2017.

* ``densenet121``, ``densenet169``, ``densenet201``: the ImageNet DenseNet-BC of the
  paper's Table 1 (growth rate k = 32), with torchvision's module names
  (``features.denseblock1.denselayer1.norm1`` ...), so its weights load unchanged.
* ``densenet_bc100``: the CIFAR DenseNet-BC with L = 100, k = 12 (0.8M parameters),
  three dense blocks of 16 layers after a 3x3 convolution of 2k channels.
* ``densenet_bc(growth_rate, block_config)``: a CIFAR DenseNet-BC of any growth rate
  and dense blocks (not registered; ``densenet_bc100`` is ``densenet_bc(12, (16, 16, 16))``).
  ``stem_pool=True`` adds BN, ReLU and 2x2 max pooling to its stem, so that the dense
  blocks of a 28x28 image start on 14x14, at about a quarter of the cost.

``memory_efficient=True`` recomputes the concatenation, BN, ReLU and 1x1 convolution
of each layer during the backward pass instead of storing them (torch checkpointing,
as torchvision; Pleiss et al., "Memory-efficient implementation of DenseNets", 2017).
It gives the same outputs and gradients; like torchvision's, the recomputation
updates the BN running statistics a second time. ``saved_tensor_bytes`` measures the
memory it saves. ``torch.fx`` traces through the checkpoint, so a traced model
computes the same function without the memory saving.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

from ._registry import register
from .blocks import checked, init_weights

# (growth rate, layers per dense block, channels of the stem)
CONFIGS: dict[str, tuple[int, tuple[int, ...], int]] = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}


class DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 to ``bn_size * k`` channels (the "B" bottleneck), then BN-ReLU-conv3x3 to k."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4, drop_rate: float = 0.0,
                 memory_efficient: bool = False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.memory_efficient = memory_efficient

    def bottleneck(self, *features: torch.Tensor) -> torch.Tensor:
        return self.conv1(self.relu1(self.norm1(torch.cat(features, 1))))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        if self.memory_efficient and self.training:
            out = checkpoint(self.bottleneck, *features, use_reentrant=False)
        else:
            out = self.bottleneck(*features)
        return self.dropout(self.conv2(self.relu2(self.norm2(out))))


class DenseBlock(nn.ModuleDict):
    """``denselayer1`` ... ``denselayerN``: each layer reads the block input and all earlier outputs."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, **layer_kwargs):
        super().__init__({f"denselayer{i + 1}": DenseLayer(in_channels + i * growth_rate, growth_rate,
                                                          **layer_kwargs)
                          for i in range(num_layers)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


def transition(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN-ReLU-conv1x1 (compression "C") and 2x2 average pooling between dense blocks."""
    return nn.Sequential(OrderedDict(
        norm=nn.BatchNorm2d(in_channels), relu=nn.ReLU(inplace=True),
        conv=nn.Conv2d(in_channels, out_channels, 1, bias=False), pool=nn.AvgPool2d(2, 2)))


class DenseNet(nn.Module):
    """Stem, dense blocks joined by transitions that halve channels and resolution, BN, classifier.

    ``small_input=True`` makes the stem a single 3x3/1 convolution (the paper's CIFAR
    networks) instead of the 7x7/2 convolution, BN, ReLU and max pooling;
    ``stem_pool=True`` (with ``small_input``) follows it with BN, ReLU and 2x2 max pooling.
    """

    def __init__(self, growth_rate: int, block_config: tuple[int, ...], num_init_features: int,
                 num_classes: int = 1000, in_channels: int = 3, bn_size: int = 4,
                 compression: float = 0.5, drop_rate: float = 0.0, small_input: bool = False,
                 memory_efficient: bool = False, stem_pool: bool = False):
        super().__init__()
        if stem_pool and not small_input:
            raise ValueError("stem_pool=True adds a pooling to the small-input stem; pass small_input=True "
                             "too (the ImageNet stem already pools).")
        if small_input:
            stem = OrderedDict(conv0=nn.Conv2d(in_channels, num_init_features, 3, 1, padding=1, bias=False))
            if stem_pool:
                stem.update(norm0=nn.BatchNorm2d(num_init_features), relu0=nn.ReLU(inplace=True),
                            pool0=nn.MaxPool2d(2))
        else:
            stem = OrderedDict(
                conv0=nn.Conv2d(in_channels, num_init_features, 7, 2, padding=3, bias=False),
                norm0=nn.BatchNorm2d(num_init_features), relu0=nn.ReLU(inplace=True),
                pool0=nn.MaxPool2d(3, 2, padding=1))
        self.reduction = 2 ** (len(block_config) - 1) * (2 if stem_pool else 1 if small_input else 4)
        self.features = nn.Sequential(stem)
        c = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", DenseBlock(
                num_layers, c, growth_rate, bn_size=bn_size, drop_rate=drop_rate,
                memory_efficient=memory_efficient))
            c += num_layers * growth_rate
            if i < len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", transition(c, int(c * compression)))
                c = int(c * compression)
        self.features.add_module("norm5", nn.BatchNorm2d(c))
        self.classifier = nn.Linear(c, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.features(x), inplace=True)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


def saved_tensor_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct tensors autograd keeps for the backward pass of ``model(x)``.

    This is the activation memory of training (weights and gradients aside).
    """
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    out.sum().backward()
    return sum(storages.values())


def densenet(name: str, num_classes: int, in_channels: int, small_input: bool, **kwargs) -> nn.Module:
    growth_rate, block_config, num_init_features = CONFIGS[name]
    model = DenseNet(growth_rate, block_config, num_init_features, num_classes, in_channels,
                     small_input=small_input, **kwargs)
    return checked(model, name, in_channels, model.reduction, small_input)


@register
def densenet121(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                memory_efficient: bool = False, drop_rate: float = 0.0) -> nn.Module:
    """DenseNet-121 (torchvision-compatible)."""
    return densenet("densenet121", num_classes, in_channels, small_input,
                    memory_efficient=memory_efficient, drop_rate=drop_rate)


@register
def densenet169(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                memory_efficient: bool = False, drop_rate: float = 0.0) -> nn.Module:
    """DenseNet-169 (torchvision-compatible)."""
    return densenet("densenet169", num_classes, in_channels, small_input,
                    memory_efficient=memory_efficient, drop_rate=drop_rate)


@register
def densenet201(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                memory_efficient: bool = False, drop_rate: float = 0.0) -> nn.Module:
    """DenseNet-201 (torchvision-compatible)."""
    return densenet("densenet201", num_classes, in_channels, small_input,
                    memory_efficient=memory_efficient, drop_rate=drop_rate)


def densenet_bc(growth_rate: int, block_config: tuple[int, ...], num_classes: int = 10, in_channels: int = 3,
                stem_pool: bool = False, memory_efficient: bool = False, drop_rate: float = 0.0,
                name: str | None = None) -> nn.Module:
    """CIFAR DenseNet-BC: a 3x3 stem of 2k channels, dense blocks of ``block_config`` layers.

    Its depth L counts the weighted layers: two convolutions per dense layer, the stem,
    the transitions and the classifier (L = 100 for three blocks of 16).
    """
    if growth_rate < 1 or not block_config or min(block_config) < 1:
        raise ValueError(f"a DenseNet needs a growth rate of at least 1 and at least one dense block of at "
                         f"least one layer, got growth_rate={growth_rate}, block_config={block_config}")
    depth = 2 * sum(block_config) + len(block_config) + 1
    model = DenseNet(growth_rate, tuple(block_config), 2 * growth_rate, num_classes, in_channels,
                     small_input=True, stem_pool=stem_pool, memory_efficient=memory_efficient,
                     drop_rate=drop_rate)
    return checked(model, name or f"densenet_bc{depth}_k{growth_rate}", in_channels, model.reduction)


@register
def densenet_bc100(num_classes: int = 10, in_channels: int = 3, memory_efficient: bool = False,
                   drop_rate: float = 0.0) -> nn.Module:
    """CIFAR DenseNet-BC, L = 100, k = 12 (0.8M parameters) for 32x32 (or 28x28) images."""
    return densenet_bc(12, (16, 16, 16), num_classes, in_channels, memory_efficient=memory_efficient,
                       drop_rate=drop_rate, name="densenet_bc100")
