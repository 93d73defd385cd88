"""What every explorer shares.

Each explorer is a small class and is itself a widget (an ``ipywidgets.VBox``): its
state is the values of its controls, and what it shows is computed from that state
by pure functions that tests call without a browser. Figures are matplotlib
``Figure`` objects (not pyplot's), created once; an update changes their artists in
place and renders them to PNG in an ``Image`` widget, so a notebook saved with its
widget state shows the current picture on the website too, where no kernel runs.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from contextlib import contextmanager

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..data import denormalize

class StaticPicture:
    """Mixin: a widget's output also carries its current picture as a PNG image.

    Pages built without widget support (or with the widget state stripped) then
    still show what the widget showed when the notebook was saved.
    """

    image: widgets.Image

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle



# --------------------------------------------------------------------------- the base

class Explorer(StaticPicture, widgets.VBox):
    """Integer sliders from ``controls`` = {name: (label, low, high)}, and an ``update`` hook.

    Subclasses set ``controls``, lay out ``self.children`` and implement ``update``,
    which is called once at the start and after every change of a slider.
    """

    controls: dict[str, tuple[str, int, int]] = {}

    def __init__(self, **values: int):
        super().__init__()
        check_ranges(self.controls, values)
        self._holding = False
        self.sliders = {
            name: widgets.IntSlider(value=values[name], min=low, max=high, description=label,
                                    continuous_update=False, style={"description_width": "initial"},
                                    layout=widgets.Layout(width="230px"))
            for name, (label, low, high) in self.controls.items()}
        for slider in self.sliders.values():
            slider.observe(self._changed, names="value")

    @property
    def settings(self) -> dict[str, int]:
        """The current slider values by name."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def set(self, **values: int) -> None:
        """Set several sliders at once (one update); out-of-range values raise ValueError."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}; "
                             f"the settings are {', '.join(self.controls)}")
        check_ranges(self.controls, {**self.settings, **values})
        self._holding = True
        try:
            for name, value in values.items():
                self.sliders[name].value = value
        finally:
            self._holding = False
        self.update()

    def _changed(self, change) -> None:
        if not self._holding:
            self.update()

    def update(self) -> None:
        raise NotImplementedError


def check_ranges(controls: dict[str, tuple[str, int, int]], values: dict[str, int]) -> None:
    """Raise ValueError naming the valid range of the first value outside its slider's range."""
    for name, (label, low, high) in controls.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be from {low} to {high} (the range of the {label!r} slider), "
                             f"got {value}")


def png(figure: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()




def message_html(text: str, kind: str = "error") -> str:
    """A coloured note for a widget's message line: kind is "error", "warning", "info" or "ok"."""
    colour = {"error": "#b00020", "warning": "#b35900", "info": "#555555", "ok": "#1a7f37"}[kind]
    return f'<div style="border-left:4px solid {colour};padding:2px 8px;color:{colour}">{html.escape(text)}</div>'


def display_images(images: torch.Tensor, dataset: str | None) -> np.ndarray:
    """Images (N, C, H, W) as the model takes them, as (N, H, W, 3) floats in [0, 1] to draw.

    With the ``dataset`` they were normalised for, the normalisation is undone;
    without it each image is stretched to its own minimum and maximum.
    """
    images = images.detach().float().cpu()
    if dataset is not None:
        shown = denormalize(images, dataset)
    else:
        low = images.amin(dim=(1, 2, 3), keepdim=True)
        high = images.amax(dim=(1, 2, 3), keepdim=True)
        shown = (images - low) / (high - low).clamp_min(1e-12)
    if shown.shape[1] == 1:
        shown = shown.expand(-1, 3, -1, -1)
    elif shown.shape[1] != 3:
        shown = shown[:, :1].expand(-1, 3, -1, -1)   # more than 3 channels: show the first
    return shown.permute(0, 2, 3, 1).numpy()


def dropdown(options, value, description: str, width: str = "260px") -> widgets.Dropdown:
    return widgets.Dropdown(options=options, value=value, description=description,
                            style={"description_width": "initial"}, layout=widgets.Layout(width=width))


def slider(value: int, low: int, high: int, description: str, width: str = "230px") -> widgets.IntSlider:
    return widgets.IntSlider(value=value, min=low, max=high, description=description, continuous_update=False,
                             style={"description_width": "initial"}, layout=widgets.Layout(width=width))


def single_threaded(compute):
    """Run ``compute`` on one CPU thread: an explorer's small computations gain nothing from
    more, and on a busy machine waiting for the other threads costs several times the work."""
    @functools.wraps(compute)
    def run(*args, **kwargs):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return compute(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)
    return run


class ModelExplorer(StaticPicture, widgets.VBox):
    """The frame of the explorers of a model: controls, one figure, a line of numbers, a message.

    A subclass creates ``self.figure`` and its controls, passes the controls to
    ``watch``, lays out ``self.children`` and implements ``update``. A bad value
    is refused with ``refuse``: the message says why, nothing else changes.
    """

    def __init__(self, dpi: int):
        super().__init__()
        self.dpi = dpi
        self.image = widgets.Image(format="png")
        self.numbers, self.message = widgets.HTML(), widgets.HTML()
        self._holding = False

    def watch(self, *controls: widgets.ValueWidget) -> None:
        for control in controls:
            control.observe(self._changed, names="value")

    def _changed(self, change) -> None:
        if not self._holding:
            self.changed(change["owner"])

    def changed(self, control: widgets.ValueWidget) -> None:
        """Called when the reader moves ``control``; by default, redraw."""
        self.message.value = ""
        self.update()

    @contextmanager
    def holding(self):
        """Set several controls without an update for each."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def refuse(self, text: str) -> bool:
        self.message.value = message_html(text)
        return False

    def render(self) -> None:
        self.image.value = png(self.figure, self.dpi)

    def update(self) -> None:
        raise NotImplementedError
