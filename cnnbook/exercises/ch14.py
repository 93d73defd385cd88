"""Checkers for chapter 14: DenseNet."""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from ..models.densenet import DenseBlock, DenseLayer, densenet121
from ._core import checker, expect_number, expect_tensor, parameter_count

Layer = Callable[[torch.Tensor], torch.Tensor]


@checker("ch14.block3-channels")
def _block3_channels(answer: int) -> tuple[bool, str]:
    """Channels leaving DenseNet-121's third dense block (256 in, 24 layers, k = 32)."""
    with torch.device("meta"):   # only the shapes matter
        expected = densenet121().features.transition3.norm.num_features
    return expect_number(answer, expected, "the block's output is the concatenation of its input and the "
                                           "k new channels of every layer.")


@checker("ch14.dense-layer-params")
def _dense_layer_params(answer: int) -> tuple[bool, str]:
    """Parameters of DenseNet-121's first dense layer: 64 channels in, k = 32, bottleneck 4k."""
    expected = parameter_count(DenseLayer(64, 32))
    return expect_number(answer, expected, "BN on the 64 inputs, a 1x1 convolution to 4k = 128 channels, "
                                           "BN on those, a 3x3 convolution to k = 32; no biases, 2 BN "
                                           "parameters per channel.")


def _inputs_per_layer(num_layers: int) -> list[int]:
    """How many feature maps each layer of a dense block reads (counted on a real block)."""
    block = DenseBlock(num_layers, 8, 4)
    counts = []
    for layer in block.values():
        layer.register_forward_pre_hook(lambda module, args: counts.append(len(args[0])))
    with torch.no_grad():
        block(torch.zeros(1, 8, 4, 4))
    return counts


@checker("ch14.connections")
def _connections(answer: int) -> tuple[bool, str]:
    """Direct connections into the layers of a 12-layer dense block (the block input counts)."""
    return expect_number(answer, sum(_inputs_per_layer(12)),
                         "layer l reads the block input and the outputs of the l - 1 layers before it.")


@checker("ch14.dense-block")
def _dense_block(dense_block: Callable[[Sequence[Layer], torch.Tensor], torch.Tensor]) -> tuple[bool, str]:
    """``dense_block(layers, x)``: each layer reads the concatenation of x and all earlier outputs;
    the block returns the concatenation of x and every layer's output."""
    torch.manual_seed(14)
    block = DenseBlock(4, 8, 4).eval()
    layers = [lambda t, layer=layer: layer([t]) for layer in block.values()]
    x = torch.randn(2, 8, 6, 6, generator=torch.Generator().manual_seed(14))
    with torch.no_grad():
        expected, got = block(x), dense_block(layers, x)
    return expect_tensor(got, expected,
                         "that is dense connectivity: every layer sees everything before it in the block.",
                         "the shape is right but not the values: every layer must read the concatenation "
                         "(torch.cat along dimension 1) of x and all outputs so far, in that order.",
                         shape_hint=": 8 input channels plus 4 layers of k = 4 new channels each.")
