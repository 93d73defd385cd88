"""Chapter 9's checkers accept the right answers and reject wrong ones."""

from cnnbook.exercises import check


def test_resnet1001_blocks():
    assert check("ch9.resnet1001-blocks", 3 * (1001 - 2) // 9)
    assert not check("ch9.resnet1001-blocks", (1001 - 2) // 9)     # one stage only
    assert not check("ch9.resnet1001-blocks", (1001 - 2) // 2)     # as if the blocks were basic


def test_preact_bottleneck_params():
    convs = 64 * 16 + 9 * 16 * 16 + 16 * 64
    assert check("ch9.preact-bottleneck-params", convs + 2 * (64 + 16 + 16))
    assert not check("ch9.preact-bottleneck-params", convs)
    assert not check("ch9.preact-bottleneck-params", convs + 2 * (16 + 16 + 64 + 64))  # a final BN too


def test_scaled_shortcut():
    assert check("ch9.scaled-shortcut", 0.95 ** 17)
    assert not check("ch9.scaled-shortcut", 0.95 ** 18)   # counted the projecting first block
    assert not check("ch9.scaled-shortcut", 0.95)
    assert not check("ch9.scaled-shortcut", "0.418")


def full_preactivation(block, x):
    out = block.conv1(block.relu(block.norm1(x)))
    return block.conv2(block.relu(block.norm2(out))) + x


def post_activation_order(block, x):
    out = block.relu(block.norm1(block.conv1(x)))
    return block.relu(block.norm2(block.conv2(out)) + x)


def relu_only_preactivation(block, x):
    out = block.norm1(block.conv1(block.relu(x.clone())))
    return block.norm2(block.conv2(block.relu(out))) + x


def test_preact_forward():
    assert check("ch9.preact-forward", full_preactivation)
    assert not check("ch9.preact-forward", post_activation_order)
    assert not check("ch9.preact-forward", relu_only_preactivation)
    assert not check("ch9.preact-forward", lambda block, x: block.relu(full_preactivation(block, x)))
    assert not check("ch9.preact-forward", lambda block, x: (x + 1).shape)
