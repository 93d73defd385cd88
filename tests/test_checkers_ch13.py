"""Chapter 13's checkers accept the right answers and reject wrong ones."""

import torch

from cnnbook.exercises import check


def test_expected_blocks_1202():
    blocks = 3 * 200
    assert check("ch13.expected-blocks-1202", blocks - 0.5 * (blocks + 1) / 2)   # 449.75
    assert check("ch13.expected-blocks-1202", (3 * blocks - 1) / 4)
    assert not check("ch13.expected-blocks-1202", 0.75 * blocks)                    # 450: off by 1/4
    assert not check("ch13.expected-blocks-1202", 0.75 * 1202)                      # layers, not blocks
    assert not check("ch13.expected-blocks-1202", "449.75")


def test_survival_for_budget():
    assert check("ch13.survival-for-budget", 19 / 55)
    assert check("ch13.survival-for-budget", 0.3455)
    assert not check("ch13.survival-for-budget", 36 / 54)      # the mean survival, not the last one
    assert not check("ch13.survival-for-budget", 1 - 18 / 27)  # forgot the +1 in (L + 1) / 2
    assert not check("ch13.survival-for-budget", None)


def per_sample(x, survival, training):
    if not training:
        return x
    keep = (torch.rand(x.shape[0], 1, 1, 1) < survival).to(x.dtype)
    return x * keep / survival


def test_drop_path_accepts_per_sample_gates_and_leaves_the_random_state():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    assert check("ch13.drop-path", per_sample)
    assert torch.equal(torch.get_rng_state(), before)


def test_drop_path_rejects_wrong_versions():
    def per_batch(x, survival, training):
        if not training:
            return x
        return x * (torch.rand(()) < survival).to(x.dtype) / survival

    def unscaled(x, survival, training):
        return per_sample(x, survival, training) * (survival if training else 1)

    def per_element(x, survival, training):
        if not training:
            return x
        return x * (torch.rand_like(x) < survival).to(x.dtype) / survival

    def drops_too_often(x, survival, training):
        return per_sample(x, survival / 2, training) / 2 if training else x

    def scales_at_test(x, survival, training):
        return per_sample(x, survival, training) if training else x * survival

    for wrong in (per_batch, unscaled, per_element, drops_too_often, scales_at_test):
        assert not check("ch13.drop-path", wrong), wrong.__name__
