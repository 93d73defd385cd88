"""Chapter 3's checkers accept the right answers and reject wrong ones."""

from cnnbook.exercises import check


def test_fc8_params():
    assert check("ch3.fc8-params", 4096 * 1000 + 1000)
    assert not check("ch3.fc8-params", 4096 * 4096)          # the source article's error
    assert not check("ch3.fc8-params", 4096 * 1000)          # forgot the biases
    assert not check("ch3.fc8-params", "4097000")


def test_grouped_params():
    assert check("ch3.grouped-params", lambda c_in, c_out, k,
                 groups: c_out * (c_in // groups) * k * k + c_out)
    ungrouped = check("ch3.grouped-params", lambda c_in, c_out, k, groups: c_out * c_in * k * k + c_out)
    assert not ungrouped and "conv_params(96, 256, 5, 2)" in ungrouped.message
    no_bias = check("ch3.grouped-params", lambda c_in, c_out, k, groups: c_out * (c_in // groups) * k * k)
    assert not no_bias and "biases" in no_bias.message
    assert not check("ch3.grouped-params", lambda c_in, c_out, k, groups: None)


def test_crop_count():
    assert check("ch3.crops", 33 * 33 * 2)
    assert not check("ch3.crops", 32 * 32 * 2)              # the paper's 2,048
    assert not check("ch3.crops", 33 * 33)                  # no mirrors
