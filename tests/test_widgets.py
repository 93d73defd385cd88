"""Tests of cnnbook.widgets, headless: the explorers are driven by setting their
sliders, and what they show is checked against PyTorch's own layers."""

from __future__ import annotations

import ipywidgets
import matplotlib
import pytest
import torch
from torch import nn

matplotlib.use("Agg")

from cnnbook.widgets import (  # noqa: E402
    CONV_GALLERY,
    CONV_RANGES,
    ConvOutputExplorer,
    TapDiagram,
    conv_output_explorer,
    conv_output_figure,
    conv_report,
)


@pytest.fixture(scope="module")
def explorer() -> ConvOutputExplorer:
    return conv_output_explorer()


def torch_output(w: int, f: int, s: int, p: int, d: int) -> int:
    return nn.Conv1d(1, 1, f, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, w)).shape[-1]


# ------------------------------------------------------------------ the pure report

@pytest.mark.parametrize("w, f, s, p, d", [(7, 3, 1, 0, 1), (7, 3, 2, 1, 1), (8, 3, 3, 0, 1),
                                           (32, 5, 1, 8, 6), (5, 3, 1, 1, 1), (5, 3, 2, 1, 1),
                                           (7, 1, 2, 0, 1), (227, 11, 4, 0, 1)])
def test_report_matches_pytorch(w, f, s, p, d):
    report = conv_report(w, f, s, p, d)
    assert report.output == torch_output(w, f, s, p, d)
    assert report.error is None
    assert report.formula.endswith(f"= {report.output}")
    # the first window starts at 0, the last one at (n - 1) S, and the taps are D apart
    assert report.taps(0) == [k * d for k in range(f)]
    assert report.taps(-1)[0] == (report.output - 1) * s
    assert report.taps(-1)[-1] < report.padded


def test_report_finds_dropped_and_unread_positions():
    tiled = conv_report(7, 3, 2, 1)
    assert tiled.warning is None and tiled.dropped == [] and tiled.unread == []
    ragged = conv_report(8, 3, 3)                       # (8 - 3) / 3 leaves 2 behind
    assert ragged.output == 2 and ragged.dropped == [6, 7]
    assert "not a multiple of S = 3" in ragged.warning and "all 2 input pixels" in ragged.warning
    assert conv_report(6, 3, 2, 1).dropped == [7] and "zero padding only" in conv_report(6, 3, 2, 1).warning
    # a 1x1 convolution with stride 2 never reads the odd positions
    assert conv_report(7, 1, 2).unread == [1, 3, 5]
    dilated = conv_report(7, 3, 1, 2, 2)
    assert "F' = D(F - 1) + 1 = 2·(3 - 1) + 1 = 5" in dilated.formula and dilated.output == 7


@pytest.mark.parametrize("w, f, s, p, d, reason", [
    (3, 5, 1, 0, 1, "fits nowhere"),
    (7, 3, 1, 2, 1, "more than half the kernel"),
    (5, 3, 1, 0, 3, "dilated to 7"),
])
def test_invalid_settings_are_explained(w, f, s, p, d, reason):
    report = conv_report(w, f, s, p, d)
    assert not report.valid and reason in report.error
    assert report.taps(0) == [] and report.dropped == [] and report.unread == []
    assert report.formula.endswith("which is invalid") and report.title.endswith("invalid")


# ------------------------------------------------------------------ the widget

def test_explorer_is_a_widget_showing_the_defaults(explorer):
    assert isinstance(explorer, ipywidgets.Widget)
    assert explorer.settings == {"size": 7, "kernel": 3, "stride": 1, "padding": 0, "dilation": 1}
    assert "output size: <b>5</b>" in explorer.output_text.value
    assert "⌊(7 - 3 + 2·0) / 1⌋ + 1" in explorer.output_text.value
    assert "tile the padded input exactly" in explorer.message.value
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_moving_sliders_updates_the_display(explorer):
    explorer.set(size=7, kernel=3, stride=1, padding=0, dilation=1)
    explorer.sliders["padding"].value = 1
    assert explorer.report.output == 7 and "'same' padding" in explorer.message.value
    explorer.sliders["stride"].value = 2
    assert explorer.report.output == 4 and "output size: <b>4</b>" in explorer.output_text.value
    explorer.sliders["dilation"].value = 2
    assert explorer.report.output == torch_output(7, 3, 2, 1, 2)
    assert "F' = D(F - 1) + 1" in explorer.output_text.value
    # the figure is updated in place: same figure, same image artist, new picture
    image_artist, png = explorer.diagram.image, explorer.image.value
    explorer.sliders["size"].value = 12
    assert explorer.diagram.image is image_artist and explorer.image.value != png
    assert explorer.diagram.image.get_array().shape[1] == 12 + 2 * 1
    assert explorer.diagram.ax.get_title(loc="left") == explorer.report.title


def test_ragged_stride_warns(explorer):
    explorer.set(size=8, kernel=3, stride=3, padding=0, dilation=1)
    assert explorer.report.output == 2
    assert "does not tile" in explorer.message.value and "#b35900" in explorer.message.value


def test_invalid_setting_shows_the_reason_without_raising(explorer):
    explorer.set(size=3, kernel=5, stride=1, padding=0, dilation=1)
    assert explorer.report.output is None
    assert "output size: <b>—</b>" in explorer.output_text.value
    assert "Invalid setting" in explorer.message.value and "fits nowhere" in explorer.message.value
    assert explorer.diagram.message.get_visible()
    explorer.sliders["padding"].value = 2      # padding 2 makes the 5-wide kernel fit
    assert explorer.report.output == 3 and not explorer.diagram.message.get_visible()


def test_set_updates_once(explorer, monkeypatch):
    calls = []
    original = ConvOutputExplorer.update
    monkeypatch.setattr(ConvOutputExplorer, "update", lambda self: calls.append(1) or original(self))
    explorer.set(size=9, kernel=5, padding=2)
    assert len(calls) == 1 and explorer.report.output == 9


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 0}, "size must be from 1 to 32"),
    ({"kernel": 12}, "kernel must be from 1 to 11"),
    ({"stride": 9}, "stride must be from 1 to 8"),
    ({"padding": -1}, "padding must be from 0 to 8"),
    ({"dilation": 7}, "dilation must be from 1 to 6"),
    ({"kernel": 2.5}, "kernel must be an integer from 1 to 11"),
])
def test_out_of_range_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_output_explorer(**kwargs)


def test_set_checks_names_and_ranges(explorer):
    with pytest.raises(ValueError, match="unknown setting"):
        explorer.set(groups=2)
    with pytest.raises(ValueError, match="stride must be from 1 to 8"):
        explorer.set(stride=20)


def test_ranges_are_the_sliders_ranges(explorer):
    for name, (label, low, high) in CONV_RANGES.items():
        slider = explorer.sliders[name]
        assert (slider.description, slider.min, slider.max) == (label, low, high)


# ------------------------------------------------------------------ the static figure

def test_diagram_colours_mark_padding_taps_and_drops():
    report = conv_report(9, 3, 3, 1)               # padded 11, windows at 0, 3, 6: 9 and 10 dropped
    cells = TapDiagram.colours(report)
    assert cells.shape == (3, 11, 4)
    assert report.dropped == [9, 10] and "1 input pixel and 1 of padding" in report.warning
    white, padding, dropped = cells[0, 1], cells[0, 0], cells[0, 9]
    assert (white == 1).all() and len({tuple(white), tuple(padding), tuple(dropped)}) == 3
    assert (cells[0, 10] == dropped).all()          # the dropped padding is marked dropped too
    assert (cells[1, [0, 1, 2]] == cells[1, 0]).all() and (cells[2, [3, 4, 5]] == cells[2, 3]).all()


def test_gallery_figure_has_a_panel_per_setting():
    import matplotlib.pyplot as plt
    fig = conv_output_figure()
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == [conv_report(*s).title for s in CONV_GALLERY]
    plt.close(fig)
