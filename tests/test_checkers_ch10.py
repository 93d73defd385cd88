"""Chapter 10's checkers accept the right answers and reject wrong ones."""

from cnnbook.exercises import check
from cnnbook.exercises.ch10 import stem_output_side


def test_projection_params():
    assert check("ch10.projection-params", 128 * 320 + 320)
    assert not check("ch10.projection-params", 128 * 320)                 # forgot the bias
    assert not check("ch10.projection-params", 128 * 320 + 2 * 320)       # as if it had a batch norm
    assert not check("ch10.projection-params", "41280")


def test_reduction_a_channels():
    assert check("ch10.reduction-a-channels", 384 + 256 + 384)
    assert not check("ch10.reduction-a-channels", 384 + 256)              # forgot the pooling branch
    assert not check("ch10.reduction-a-channels", 384 + 224 + 256)


def test_stem_grid():
    assert stem_output_side(299) == 35   # the paper's Figure 3: 35x35x384
    assert check("ch10.stem-grid", 35)
    assert not check("ch10.stem-grid", 299 // 8)
    assert not check("ch10.stem-grid", 17)
