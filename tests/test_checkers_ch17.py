"""Chapter 17's checkers accept the right answers and reject wrong ones."""

from cnnbook.exercises import check


def test_resnext_macs():
    assert check("ch17.resnext-macs", 4_230_479_872 / 4_089_184_256)
    assert not check("ch17.resnext-macs", 25_028_904 / 25_557_032)   # parameters, not MACs
    assert not check("ch17.resnext-macs", 32.0)                      # the cardinality
    assert not check("ch17.resnext-macs", "1.04")


def test_vgg16_field():
    assert check("ch17.vgg16-field", 212)
    assert not check("ch17.vgg16-field", 196)   # the last convolution, before the fifth pooling
    assert not check("ch17.vgg16-field", 224)   # the image


def test_stem_memory():
    assert check("ch17.stem-memory", 32 * 64 * 112 * 112 * 4)
    assert not check("ch17.stem-memory", 64 * 112 * 112 * 4)        # one image
    assert not check("ch17.stem-memory", 32 * 64 * 112 * 112)       # elements, not bytes
