"""Chapter 4's checkers accept the right answers and reject wrong ones."""

from cnnbook.exercises import check


def test_stack_params():
    assert check("ch4.stack-params", lambda n, c: n * (9 * c * c + c))
    no_bias = check("ch4.stack-params", lambda n, c: n * 9 * c * c)
    assert not no_bias and "stack_params(1, 3)" in no_bias.message
    assert not check("ch4.stack-params", lambda n,
                     c: (2 * n + 1) ** 2 * c * c + c)   # the single large filter


def test_fc6_params():
    assert check("ch4.fc6-params", 7 * 7 * 512 * 4096 + 4096)
    assert not check("ch4.fc6-params", 7 * 7 * 512 * 4096)
    assert not check("ch4.fc6-params", 4096 * 4096 + 4096)


def test_conv1_memory():
    assert check("ch4.conv1-memory", 64 * 224 * 224 * 4)
    assert not check("ch4.conv1-memory", 64 * 224 * 224)       # values, not bytes
    assert not check("ch4.conv1-memory", 64 * 224 * 224 * 8)


def test_pool3_rf():
    assert check("ch4.pool3-rf", 44)
    wrong = check("ch4.pool3-rf", 40)                         # pool3's own window forgotten
    assert not wrong and "jump is 8" in wrong.message
