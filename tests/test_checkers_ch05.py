"""Chapter 5's checkers accept the right answers and reject wrong ones."""

import torch
from torch import nn

from cnnbook.exercises import check


def test_fc_head_params():
    assert check("ch5.fc-head-params", 10 * 8 * 8 * 10 + 10)
    assert not check("ch5.fc-head-params", 10 * 8 * 8 * 10)        # forgot the biases
    assert not check("ch5.fc-head-params", "6410")


def to_linear(conv):
    linear = nn.Linear(conv.in_channels, conv.out_channels)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0])
        linear.bias.copy_(conv.bias)
    return linear


def test_conv1x1_as_linear():
    assert check("ch5.conv1x1-as-linear", to_linear)
    assert not check("ch5.conv1x1-as-linear", lambda conv: nn.Linear(conv.in_channels, conv.out_channels))
    transposed = check("ch5.conv1x1-as-linear", lambda conv: nn.Linear(conv.out_channels, conv.in_channels))
    assert not transposed and "raised" in transposed.message
    assert not check("ch5.conv1x1-as-linear", lambda conv: conv)


def test_mlpconv1_macs():
    assert check("ch5.mlpconv1-macs", 32 * 32 * (5 * 5 * 3 * 192 + 192 * 160 + 160 * 96))
    assert not check("ch5.mlpconv1-macs", 32 * 32 * 5 * 5 * 3 * 192)   # the 5x5 convolution alone
