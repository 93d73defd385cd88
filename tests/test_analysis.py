"""Tests of cnnbook.analysis: layer tables against published numbers and direct
forward passes, output sizes against what PyTorch's layers produce."""

from __future__ import annotations

import itertools

import pytest
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from cnnbook.analysis import LayerRow, Summary, conv_output_fits, conv_output_size, receptive_field, summary
from cnnbook.models import create


@pytest.fixture(scope="module")
def lenet5_table() -> Summary:
    return summary(create("lenet5"), (1, 32, 32), depth=2)


# ------------------------------------------------------------------ published numbers

def test_resnet50_matches_torchvision_metadata():
    model = torchvision.models.resnet50(weights=None)
    s = summary(model, (3, 224, 224))
    meta = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta
    assert s.total_params == sum(p.numel() for p in model.parameters()) == meta["num_params"] == 25_557_032
    assert s.trainable_params == s.total_params
    assert s.total_macs == pytest.approx(4.09e9, rel=0.01)
    assert s.total_macs / 1e9 == pytest.approx(meta["_ops"], abs=0.001)   # torchvision's GFLOPS column
    # the Bottleneck's ReLU module is called three times: one row per call
    assert [r.name for r in s.rows].count("layer1.0.relu") == 3
    assert s.row("fc").output_shape == (1000,)


@pytest.mark.parametrize("name, gmacs", [("alexnet", 0.714), ("vgg16", 15.47)])
def test_published_gmacs(name: str, gmacs: float):
    model = getattr(torchvision.models, name)(weights=None)
    s = summary(model, (3, 224, 224))
    assert s.total_macs / 1e9 == pytest.approx(gmacs, abs=0.005)
    assert s.total_params == sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------ LeNet-5

def test_lenet5_depth2_layers(lenet5_table: Summary):
    expected = {  # name: (params, output shape), from the 1998 paper
        "features.c1": (156, (6, 28, 28)),
        "features.s2": (12, (6, 14, 14)),
        "features.c3": (1_516, (16, 10, 10)),
        "features.s4": (32, (16, 5, 5)),
        "features.c5": (48_120, (120, 1, 1)),
        "classifier.f6": (10_164, (84,)),
    }
    for name, (params, shape) in expected.items():
        row = lenet5_table.row(name)
        assert (row.params, row.output_shape) == (params, shape), name
    assert lenet5_table.row("features.c3").type == "PartialConv"
    assert not any(r.name.startswith("features.c3.") for r in lenet5_table.rows)
    assert lenet5_table.total_params == 60_000
    assert lenet5_table.input_size == (1, 32, 32)


def test_lenet5_macs(lenet5_table: Summary):
    assert lenet5_table.row("features.c1").macs == 6 * 28 * 28 * 25
    # C3: each output map reads 3, 4 or 6 input maps (Table I of the paper)
    assert lenet5_table.row("features.c3").macs == 10 * 10 * 25 * (6 * 3 + 9 * 4 + 6)
    assert lenet5_table.row("features.c5").macs == 120 * 16 * 25
    assert lenet5_table.row("classifier.f6").macs == 120 * 84
    assert lenet5_table.row("features.s2").macs == 0   # only convolutions and linear layers count


def test_default_rows_are_leaves_and_depth_folds():
    model = create("lenet5")
    leaves = summary(model)   # input size from model.input_spec
    assert leaves.input_size == (1, 32, 32)
    assert [r.name for r in leaves.rows if r.name.startswith("features.c3")] == \
        [f"features.c3.maps.{i}" for i in range(16)]
    assert all(r.type == "Conv2d" and r.output_shape == (1, 10, 10)
               for r in leaves.rows if r.name.startswith("features.c3"))
    top = summary(model, depth=1)
    assert [r.name for r in top.rows] == ["features", "classifier"]
    assert top.row("features").output_shape == (120, 1, 1)
    assert top.row("features").params == sum(p.numel() for p in model.features.parameters())
    for s in (top, summary(model, depth=0)):
        assert (s.total_macs, s.total_params) == (leaves.total_macs, leaves.total_params)
    assert [r.name for r in summary(model, depth=0).rows] == [""]


# ------------------------------------------------------------------ agreement with a forward pass

def test_shapes_and_memory_match_a_forward_pass():
    model = create("lenet")
    s = summary(model)
    x = torch.randn(1, 1, 28, 28)
    with torch.no_grad():
        for part in ("features", "classifier"):
            for name, layer in getattr(model, part).named_children():
                x = layer(x)
                row = s.row(f"{part}.{name}")
                assert row.output_shape == tuple(x.shape[1:])
                assert row.activation_bytes == x.numel() * 4
                assert row.params == sum(p.numel() for p in layer.parameters())
    assert s.total_activation_bytes == sum(r.activation_bytes for r in s.rows)
    assert s.row("features.c3").macs == 16 * 10 * 10 * 6 * 25


def test_dtype_sets_the_memory():
    model = nn.Sequential(nn.Conv2d(3, 8, 3)).to(torch.float64)
    row = summary(model, (3, 10, 10), dtype=torch.float64).row("0")
    assert row.activation_bytes == 8 * 8 * 8 * 8


def test_grouped_conv_and_sequence_macs():
    model = nn.Sequential(nn.Conv1d(4, 8, 3, groups=2), nn.Flatten(), nn.Linear(8 * 8, 5))
    s = summary(model, (4, 10))
    assert [r.macs for r in s.rows] == [8 * 8 * 2 * 3, 0, 64 * 5]


def test_custom_macs_replace_the_children():
    class Counted(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

        def macs(self, inputs, output) -> int:
            return 7 * inputs[0].shape[-1]

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.block, self.head = Counted(), nn.Conv2d(2, 2, 1)

        def forward(self, x):
            return self.head(self.head(self.block(x)))

    s = summary(Twice(), (1, 5, 5))
    assert [r.name for r in s.rows] == ["block", "head", "head"]
    assert s.row("block").macs == 35 and s.row("block").params == 20
    assert s.total_macs == 35 + 2 * (2 * 25 * 2)


def test_hooks_removed_and_modes_restored():
    model = create("lenet5")
    model.train()
    model.features.c1.eval()   # a mixed state must come back as it was
    pre_hooks = {name: len(m._forward_pre_hooks) for name, m in model.named_modules()}
    summary(model, depth=2)
    with pytest.raises(ValueError, match="32x32"):   # wrong size: the model's own check fails
        summary(model, (1, 28, 28))
    for name, m in model.named_modules():
        assert not m._forward_hooks, name
        assert len(m._forward_pre_hooks) == pre_hooks[name], name
    assert model.training and model.features.training and not model.features.c1.training


def test_missing_input_size_is_explained():
    with pytest.raises(ValueError, match=r"input_size=\(C, H, W\)"):
        summary(nn.Sequential(nn.Conv2d(3, 4, 3)))
    with pytest.raises(ValueError, match="depth"):
        summary(create("lenet"), depth=-1)


def test_row_lookup_error_lists_the_names(lenet5_table: Summary):
    with pytest.raises(KeyError, match=r"'features\.c9'.*features\.c1, features\.act1"):
        lenet5_table.row("features.c9")


# ------------------------------------------------------------------ rendering

def test_text_table(lenet5_table: Summary):
    text = str(lenet5_table)
    for r in lenet5_table.rows:
        assert r.name in text
    assert "1,516" in text and "48,120" in text and "117,600" in text
    total = text.splitlines()[-2]
    assert total.startswith("Total") and "60,000" in total and f"{lenet5_table.total_macs:,}" in total
    assert "0.33 M" in text and "KB" in text
    widths = {len(line) for line in text.splitlines()[:2]}   # header and rule aligned
    assert len(widths) == 1


def test_html_table(lenet5_table: Summary):
    page = lenet5_table._repr_html_()
    assert page.startswith("<table") and page.count("<tr>") == len(lenet5_table.rows) + 2
    assert "features.c3" in page and "PartialConv" in page
    assert "60,000" in page and f"{lenet5_table.total_macs:,}" in page
    assert 'text-align:right">1,516<' in page


def test_records(lenet5_table: Summary):
    records = lenet5_table.to_records()
    assert len(records) == len(lenet5_table.rows)
    assert records[0] == {"name": "features.c1", "type": "Conv2d", "output_shape": (6, 28, 28),
                          "params": 156, "macs": 117_600, "activation_bytes": 6 * 28 * 28 * 4,
                          "receptive_field": (5, 5), "sees_whole_image": False}
    assert LayerRow(**records[4]) == lenet5_table.row("features.c3")


def test_receptive_field_column_follows_the_analysis():
    model = create("resnet18")
    table = summary(model, (3, 64, 64), depth=2)
    fields = receptive_field(model, (3, 64, 64))
    assert table.row("conv1").receptive_field == (7, 7)
    assert table.row("maxpool").receptive_field == (11, 11)
    assert table.row("layer1.0").receptive_field == fields.module_output("layer1.0").size == (27, 27)
    assert table.row("layer4.1").receptive_field == fields.size == (435, 435)
    assert table.row("fc").sees_whole_image and "image" in str(table).splitlines()[-4]


def test_receptive_field_of_each_call_of_a_shared_module():
    table = summary(create("resnet18"), (3, 64, 64))
    relus = [r.receptive_field for r in table.rows if r.name == "layer1.0.relu"]
    assert relus == [(19, 19), (27, 27)]   # after conv1 of the block, then after the sum


class _DataDependent(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


def test_receptive_field_column_says_why_it_is_empty():
    table = summary(nn.Sequential(nn.Conv2d(1, 2, 3), _DataDependent()), (1, 8, 8))
    assert all(r.receptive_field is None for r in table.rows)
    assert "Receptive fields not computed" in str(table)
    assert summary(nn.Conv2d(1, 2, 3), (1, 8, 8), receptive_fields=False).rows[0].receptive_field is None


# ------------------------------------------------------------------ output sizes

GRID = list(itertools.product(range(1, 10), range(1, 6), range(1, 4), range(0, 4), range(1, 4)))


def _torch_size(layer, size: int, *args, **kwargs) -> int | None:
    """The output size PyTorch produces, or None when it refuses the settings."""
    try:
        return layer(torch.zeros(1, 1, size, size), *args, **kwargs).shape[-1]
    except RuntimeError:
        return None


def _ours(*args, **kwargs) -> int | None:
    try:
        return conv_output_size(*args, **kwargs)
    except ValueError:
        return None


def test_conv_output_size_matches_conv2d():
    checked = 0
    for size, k, s, p, d in GRID:
        ours = _ours(size, k, s, p, d)
        theirs = _torch_size(F.conv2d, size, torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
        if p <= (d * (k - 1) + 1) // 2:
            assert ours == theirs, (size, k, s, p, d)   # both refuse a kernel larger than the input
        else:   # conv2d accepts any padding; we refuse more than half the kernel
            assert ours is None and theirs is not None
        checked += ours is not None
    assert checked > 500


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_conv_output_size_matches_max_pool(ceil_mode: bool):
    checked = 0
    for size, k, s, p, d in GRID:
        ours = _ours(size, k, s, p, d, ceil_mode=ceil_mode)
        theirs = _torch_size(F.max_pool2d, size, k, s, p, d, ceil_mode=ceil_mode)
        if ours is not None and theirs is None:
            # PyTorch's pooling also checks the padding against the undilated kernel
            assert d > 1 and p > k // 2, (size, k, s, p, d)
        else:
            assert ours == theirs, (size, k, s, p, d)
        checked += ours is not None
    assert checked > 500


def test_textbook_formula():
    assert conv_output_size(32, 5) == 28                        # LeNet C1
    assert conv_output_size(227, 11, stride=4) == 55            # AlexNet conv1
    assert conv_output_size(224, 7, stride=2, padding=3) == 112  # ResNet stem
    assert conv_output_size(112, 3, stride=2, padding=1) == 56
    assert conv_output_size(56, 3, padding=2, dilation=2) == 56  # "same" dilated convolution
    assert conv_output_size(6, 3, stride=2) == 2
    assert conv_output_size(6, 3, stride=2, ceil_mode=True) == 3


def test_conv_output_fits():
    assert conv_output_fits(32, 5)
    assert conv_output_fits(227, 11, 4) and not conv_output_fits(224, 11, 4)
    assert conv_output_fits(7, 3, 2) and not conv_output_fits(6, 3, 2)
    for size, k, s, p, d in GRID:
        if _ours(size, k, s, p, d) is not None:   # exact tiling iff ceil mode adds no window
            exact = conv_output_fits(size, k, s, p, d)
            assert exact == ((size + 2 * p - d * (k - 1) - 1) % s == 0)
            if exact:
                assert conv_output_size(size, k, s, p, d,
                                        ceil_mode=True) == conv_output_size(size, k, s, p, d)
    with pytest.raises(ValueError, match="stride"):
        conv_output_fits(10, 3, 0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=0, kernel=3), "input size must be a positive integer, got 0"),
    (dict(size=8, kernel=0), "kernel must be a positive integer, got 0"),
    (dict(size=8, kernel=3, stride=0), "stride must be a positive integer"),
    (dict(size=8, kernel=3, dilation=-1), "dilation must be a positive integer, got -1"),
    (dict(size=8, kernel=3, padding=-1), "padding must be 0 or more, got -1"),
    (dict(size=8, kernel=3, padding=2), r"more than half the kernel.*at most 1"),
    (dict(size=8, kernel=3, padding=3, dilation=2), r"dilated to 5.*at most 2"),
    (dict(size=4, kernel=7), r"7 wide, larger than the padded input of 4 \+ 2x0 = 4"),
    (dict(size=2, kernel=3, dilation=2, padding=1), r"dilated to 5\) is 5 wide.*= 4"),
])
def test_conv_output_size_errors(kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)
