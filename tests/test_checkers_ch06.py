"""Chapter 6's checkers accept the right answers and reject wrong ones."""

from cnnbook.exercises import check


def test_naive_3a_macs():
    assert check("ch6.naive-3a-macs", 28 * 28 * 192 * (64 + 128 * 9 + 32 * 25))
    assert not check("ch6.naive-3a-macs", 128_049_152)   # the reduced module's


def test_reduced_seed_macs():
    assert check("ch6.reduced-seed-macs", 271_351_808)
    assert not check("ch6.reduced-seed-macs", 358_000_000)   # the source article's


def test_aux_params():
    assert check("ch6.aux-params", 512 * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000)
    assert not check("ch6.aux-params", 512 * 128 + 2048 * 1024 + 1024 * 1000)   # no biases, no BN


def test_lr_halving_epochs():
    assert check("ch6.lr-halving-epochs", 136)
    assert not check("ch6.lr-halving-epochs", 128)
