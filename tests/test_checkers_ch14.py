"""Chapter 14's checkers accept the right answers and reject wrong ones."""

import torch

from cnnbook.exercises import check


def test_block3_channels():
    assert check("ch14.block3-channels", 256 + 24 * 32)
    assert not check("ch14.block3-channels", 24 * 32)              # forgot the block's input
    assert not check("ch14.block3-channels", (256 + 24 * 32) // 2)  # the transition's output instead


def test_dense_layer_params():
    assert check("ch14.dense-layer-params", 2 * 64 + 64 * 128 + 2 * 128 + 9 * 128 * 32)
    assert not check("ch14.dense-layer-params", 64 * 128 + 9 * 128 * 32)   # forgot the batch norms
    assert not check("ch14.dense-layer-params", 2 * 64 + 9 * 64 * 32)      # no bottleneck


def test_connections():
    assert check("ch14.connections", 12 * 13 // 2)
    assert not check("ch14.connections", 12 * 11 // 2)   # forgot the block input
    assert not check("ch14.connections", 12)             # a chain, as in a plain network


def dense_block(layers, x):
    features = [x]
    for layer in layers:
        features.append(layer(torch.cat(features, 1)))
    return torch.cat(features, 1)


def test_dense_block():
    assert check("ch14.dense-block", dense_block)
    assert not check("ch14.dense-block", lambda layers, x: x)                            # no layers run
    newest_first = lambda layers, x: torch.flip(dense_block(layers, x), (1,))
    assert not check("ch14.dense-block", newest_first)
    last_only = lambda layers, x: dense_block(layers, x)[:, -4:]
    wrong_shape = check("ch14.dense-block", last_only)
    assert not wrong_shape and "shape" in wrong_shape.message
    assert not check("ch14.dense-block", lambda layers, x: dense_block(layers, x).shape)
    only_input = check("ch14.dense-block", lambda layers,
                       x: torch.cat([x] + [layer(x) for layer in layers], 1))
    assert not only_input and "raised" in only_input.message   # layer 2 expects 8 + 4 channels
