"""The output-size explorer of chapter 1: ``conv_output_explorer`` explores the output
size of a convolution along one axis; ``conv_output_figure`` is its static counterpart,
small multiples of a few settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..analysis import conv_output_fits, conv_output_size
from ._base import Explorer, png

__all__ = ["ConvReport", "conv_report", "TapDiagram", "ConvOutputExplorer",
           "conv_output_explorer", "conv_output_figure", "CONV_RANGES", "CONV_GALLERY"]


# --------------------------------------------------------------------------- output size

CONV_RANGES: dict[str, tuple[str, int, int]] = {
    "size": ("input W", 1, 32),
    "kernel": ("kernel F", 1, 11),
    "stride": ("stride S", 1, 8),
    "padding": ("padding P", 0, 8),
    "dilation": ("dilation D", 1, 6),
}


@dataclass(frozen=True)
class ConvReport:
    """What a convolution with these settings does along one axis of its input.

    Positions are indices into the padded input, 0 to ``padded - 1``; the real input
    occupies ``padding`` to ``padding + size - 1``.
    """

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    output: int | None      # None when the settings are invalid
    error: str | None       # why they are invalid (conv_output_size's ValueError)
    warning: str | None     # set when the windows do not tile the padded input

    @property
    def span(self) -> int:
        """The extent of the (dilated) kernel on the input: D(F - 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        return self.size + 2 * self.padding

    @property
    def valid(self) -> bool:
        return self.output is not None

    def taps(self, index: int) -> list[int]:
        """Positions the kernel reads for output ``index`` (negative counts from the end)."""
        if not self.valid:
            return []
        index = index % self.output
        return [index * self.stride + k * self.dilation for k in range(self.kernel)]

    @property
    def dropped(self) -> list[int]:
        """Trailing positions that no window covers: the remainder of (W - F' + 2P) / S."""
        if not self.valid:
            return []
        end = (self.output - 1) * self.stride + self.span
        return list(range(end, self.padded))

    @property
    def unread(self) -> list[int]:
        """Input positions (not padding) that no tap of any output reads."""
        if not self.valid:
            return []
        read = {t for i in range(self.output) for t in self.taps(i)}
        return [p for p in range(self.padding, self.padding + self.size) if p not in read]

    @property
    def formula(self) -> str:
        """The output-size formula with these numbers substituted (plain text)."""
        w, f, s, p, d = self.size, self.kernel, self.stride, self.padding, self.dilation
        room = w - self.span + 2 * p
        lines = []
        if d > 1:
            lines.append(f"F' = D(F - 1) + 1 = {d}·({f} - 1) + 1 = {self.span}")
            name = "F'"
        else:
            name = "F"
        quotient = room // s
        result = f"{quotient + 1}" if self.valid else f"{quotient + 1}, which is invalid"
        lines.append(f"⌊(W - {name} + 2P) / S⌋ + 1 = ⌊({w} - {self.span} + 2·{p}) / {s}⌋ + 1"
                     f" = ⌊{room} / {s}⌋ + 1 = {result}")
        return "\n".join(lines)

    @property
    def title(self) -> str:
        settings = f"W={self.size}, F={self.kernel}, S={self.stride}, P={self.padding}"
        if self.dilation > 1:
            settings += f", D={self.dilation}"
        if not self.valid:
            return f"{settings}: invalid"
        return f"{settings} → {self.output} output{'s' if self.output != 1 else ''}"


def conv_report(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> ConvReport:
    """The output size of a convolution along one axis, why it is invalid, or what it drops."""
    try:
        output: int | None = conv_output_size(size, kernel, stride, padding, dilation)
        error = None
    except ValueError as invalid:
        output, error = None, str(invalid)
    warning = None
    if output is not None and not conv_output_fits(size, kernel, stride, padding, dilation):
        room = size + 2 * padding - (dilation * (kernel - 1) + 1)
        left = room % stride
        first = size + 2 * padding - left              # padded index of the first dropped position
        real = max(0, min(padding + size, first + left) - max(padding, first))
        plural = "s" if left != 1 else ""
        if real == left:
            what = "an input pixel" if left == 1 else f"all {left} input pixels"
        elif real == 0:
            what = "zero padding only"
        else:
            what = f"{real} input pixel{'s' if real != 1 else ''} and {left - real} of padding"
        name = "F'" if dilation > 1 else "F"
        warning = (f"The stride does not tile the input: W - {name} + 2P = {room} is not a multiple of "
                   f"S = {stride}, so the last {left} position{plural} of the padded input ({what}) "
                   f"{'falls' if left == 1 else 'fall'} in no window. PyTorch rounds down and ignores "
                   f"{'it' if left == 1 else 'them'}.")
    return ConvReport(size, kernel, stride, padding, dilation, output, error, warning)


# colours of the diagram, RGBA
_WHITE, _PAD, _UNREAD, _DROPPED = (1, 1, 1, 1), (0.85, 0.85, 0.85, 1), (1.0, 0.87, 0.87, 1), (0.93, 0.55, 0.55, 1)
_FIRST, _LAST = (0.12, 0.47, 0.71, 1), (1.0, 0.50, 0.05, 1)
_FIRST_SPAN, _LAST_SPAN = (0.80, 0.88, 0.95, 1), (1.0, 0.90, 0.80, 1)
_MAX_CELLS = CONV_RANGES["size"][2] + 2 * CONV_RANGES["padding"][2]


class TapDiagram:
    """The padded input along one axis and the kernel taps of the first and last outputs.

    Row 0 is the padded input (padding grey, input pixels read by no window pink,
    positions dropped by the stride red); rows 1 and 2 mark the taps of the first
    and the last output, with the window's span lightly shaded. The artists are
    made once; ``draw(report)`` updates them in place.
    """

    rows = ("padded input", "first output", "last output")

    def __init__(self, ax, fontsize: float = 9, aspect: str = "equal", min_cells: int = 8):
        self.ax, self.min_cells = ax, min_cells
        self.image = ax.imshow(np.ones((3, 1, 4)), interpolation="nearest", aspect=aspect)
        self.grid = LineCollection([], colors="0.55", linewidths=0.6)
        ax.add_collection(self.grid)
        self.outline = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.2)
        ax.add_patch(self.outline)
        self.message = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center",
                               fontsize=fontsize, color="#b00020", wrap=True)
        ax.set_yticks(range(3), self.rows, fontsize=fontsize)
        ax.tick_params(axis="x", labelsize=fontsize - 1, length=2)
        ax.tick_params(axis="y", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        self.fontsize = fontsize

    @staticmethod
    def colours(report: ConvReport) -> np.ndarray:
        """The (3, padded, 4) RGBA picture of ``report`` (pure: used by draw and by tests)."""
        cells = np.empty((3, report.padded, 4))
        cells[:] = _WHITE
        cells[0, :report.padding] = cells[0, report.padding + report.size:] = _PAD
        if not report.valid:
            cells[1:] = _PAD
            return cells
        cells[0, report.unread] = _UNREAD
        cells[0, report.dropped] = _DROPPED
        for row, index, span, tap in ((1, 0, _FIRST_SPAN, _FIRST), (2, -1, _LAST_SPAN, _LAST)):
            taps = report.taps(index)
            cells[row, taps[0]:taps[-1] + 1] = span
            cells[row, taps] = tap
        return cells

    def draw(self, report: ConvReport) -> None:
        n = report.padded
        self.image.set_data(self.colours(report))
        self.image.set_extent((-0.5, n - 0.5, 2.5, -0.5))
        self.ax.set_xlim(-0.5, max(n, self.min_cells) - 0.5)
        self.ax.set_ylim(2.5, -0.5)
        self.grid.set_segments([[(x - 0.5, -0.5), (x - 0.5, 2.5)] for x in range(n + 1)]
                               + [[(-0.5, y - 0.5), (n - 0.5, y - 0.5)] for y in range(4)])
        self.outline.set_bounds(report.padding - 0.5, -0.5, report.size, 1)   # the real input
        step = max(1, -(-report.size // 8))
        ticks = list(range(0, report.size, step))
        self.ax.set_xticks([t + report.padding for t in ticks], [str(t) for t in ticks])
        self.ax.set_title(report.title, fontsize=self.fontsize + 1, loc="left")
        self.message.set_text("" if report.valid else "invalid settings")
        self.message.set_visible(not report.valid)


def _legend(figure, fontsize: float) -> None:
    """The colour key of ``TapDiagram`` along the bottom of ``figure``."""
    key = [(_PAD, "zero padding"), (_UNREAD, "input read by no tap"), (_DROPPED, "dropped by the stride"),
           (_FIRST, "taps of the first output"), (_LAST, "taps of the last output"),
           (_FIRST_SPAN, "skipped by dilation")]
    figure.legend([Patch(facecolor=c, edgecolor="0.55") for c, _ in key], [label for _, label in key],
                  loc="lower center", ncol=len(key), fontsize=fontsize, frameon=False,
                  handlelength=1.2, columnspacing=1.0, handletextpad=0.4)


class ConvOutputExplorer(Explorer):
    """Sliders for W, F, S, P, D; the formula with the numbers; the taps of the first and last output.

    ``report`` is the current ``ConvReport``; ``output_text`` and ``message`` are the
    HTML widgets that show the formula and the verdict.
    """

    controls = CONV_RANGES

    def __init__(self, size: int = 7, kernel: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1,
                 dpi: int = 80):
        super().__init__(size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
        self.dpi = dpi
        self.output_text = widgets.HTML()
        self.message = widgets.HTML()
        self.figure = Figure(figsize=(8.4, 2.0))
        self.diagram = TapDiagram(self.figure.add_subplot(), aspect="auto", min_cells=16)
        self.figure.subplots_adjust(left=0.12, right=0.99, top=0.84, bottom=0.25)
        _legend(self.figure, fontsize=7.5)
        self.image = widgets.Image(format="png")
        s = self.sliders
        self.children = [widgets.HBox([s["size"], s["kernel"], s["stride"]]),
                         widgets.HBox([s["padding"], s["dilation"]]),
                         self.output_text, self.message, self.image]
        self.update()

    def update(self) -> None:
        self.report = conv_report(**self.settings)
        self.output_text.value = self.output_html(self.report)
        self.message.value = self.message_html(self.report)
        self.diagram.draw(self.report)
        self.image.value = png(self.figure, self.dpi)

    @staticmethod
    def output_html(report: ConvReport) -> str:
        output = "—" if report.output is None else str(report.output)
        formula = report.formula.replace("\n", "<br>")
        return (f'<div style="font-family:monospace;line-height:1.5">{formula}</div>'
                f'<div style="font-size:130%">output size: <b>{output}</b></div>')

    @staticmethod
    def message_html(report: ConvReport) -> str:
        if report.error:
            colour, text = "#b00020", f"Invalid setting. {report.error}"
        elif report.warning:
            colour, text = "#b35900", report.warning
        else:
            colour = "#1a7f37"
            text = "The windows tile the padded input exactly."
            if report.stride == 1 and report.output == report.size:
                text += " The output is as large as the input: 'same' padding."
        return f'<div style="border-left:4px solid {colour};padding:2px 8px;color:{colour}">{text}</div>'


def conv_output_explorer(size: int = 7, kernel: int = 3, stride: int = 1, padding: int = 0,
                         dilation: int = 1) -> ConvOutputExplorer:
    """An interactive widget for the output size of a convolution along one axis.

    Sliders set the input size W, kernel F, stride S, padding P and dilation D; it
    shows ⌊(W - D(F-1) - 1 + 2P) / S⌋ + 1 with the numbers substituted, why a setting
    is invalid, a warning when the stride does not tile the input, and the padded
    input with the taps of the first and last output. The ranges are in
    ``CONV_RANGES``; a value outside them raises ValueError.
    """
    return ConvOutputExplorer(size, kernel, stride, padding, dilation)


CONV_GALLERY: list[tuple[int, int, int, int, int]] = [   # (W, F, S, P, D)
    (7, 3, 1, 0, 1),     # valid convolution: shrinks by F - 1
    (7, 3, 1, 1, 1),     # 'same' padding
    (7, 3, 2, 1, 1),     # stride 2 halves (rounding up)
    (8, 3, 3, 0, 1),     # the stride does not tile: the last column is dropped
    (7, 3, 1, 2, 2),     # dilation 2: a 3-tap kernel spanning 5
    (7, 1, 2, 0, 1),     # 1x1 with stride 2: every other input is never read
]


def conv_output_figure(settings: Iterable[Sequence[int]] = CONV_GALLERY, ncols: int = 2,
                       width: float = 9.0):
    """Small multiples of the explorer's diagram for a few (W, F, S, P, D) settings (a pyplot figure)."""
    reports = [conv_report(*s) for s in settings]
    nrows = -(-len(reports) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 1.35 * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(reports):]:
        ax.axis("off")
    for ax, report in zip(axes.flat, reports):
        TapDiagram(ax, fontsize=7.5).draw(report)
    fig.tight_layout(rect=(0, 0.3 / (1.35 * nrows + 0.3), 1, 1))
    _legend(fig, fontsize=7)
    return fig
