"""The receptive-field explorer: pick a layer and a unit, see what it sees.

Left, the input image with the unit's analytic receptive field (dashed where it
reaches into the padding); middle, the layer's feature map (mean over channels)
with the unit marked, where a click picks a unit; right, the effective receptive
field, the mean absolute gradient of the unit over the given images (Luo et al.,
2016), with the same rectangle. Clicking on the image picks the unit whose field
is centred nearest the click.
"""

from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from ipyevents import Event
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from ..analysis import (EffectiveReceptiveField, ReceptiveField, capture_activations, effective_receptive_field,
                        find_layer, receptive_field, spatial_layers)
from ._base import ModelExplorer, display_images, dropdown, single_threaded, slider

__all__ = ["ReceptiveFieldExplorer", "receptive_field_explorer"]


class ReceptiveFieldExplorer(ModelExplorer):
    """Controls: ``layer`` (dropdown), ``image``, ``row`` and ``col`` (sliders); clicks on the picture.

    ``select(layer=..., row=..., col=..., image=...)`` sets any of them at once;
    ``click(x, y)`` acts as a click at figure fraction (x, y) from the top left.
    The state after an update: ``unit``, ``rectangle``, ``erf`` and ``message``.
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, layers: Sequence[str] | None = None,
                 dataset: str | None = None, erf_images: int = 8, dpi: int = 80):
        super().__init__(dpi)
        if images.dim() != 4:
            raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
        self.model, self.images = model.eval(), images
        self.fields: ReceptiveField = receptive_field(model, tuple(images.shape[1:]))
        self.layers = list(layers) if layers is not None else spatial_layers(model, tuple(images.shape[1:]))
        for name in self.layers:
            self.fields.module_output(name)   # a KeyError that names the close ones
        self.shown = display_images(images, dataset)
        self.erf_images = images[:erf_images]
        self._maps: dict[str, torch.Tensor] = {}
        self._erfs: dict[tuple[str, tuple[int, int]], EffectiveReceptiveField] = {}

        self.layer_menu = dropdown(self.layers, self.layers[-1], "layer")
        self.image_slider = slider(0, 0, len(images) - 1, "image")
        self.row_slider, self.col_slider = slider(0, 0, 0, "unit row"), slider(0, 0, 0, "unit column")
        self._build_figure()
        self.clicks = Event(source=self.image, watched_events=["click"])
        self.clicks.on_dom_event(self._clicked)
        self.children = [widgets.HBox([self.layer_menu, self.image_slider]),
                         widgets.HBox([self.row_slider, self.col_slider]), self.image, self.numbers, self.message]
        self.watch(self.layer_menu, self.image_slider, self.row_slider, self.col_slider)
        self.select(layer=self.layers[-1])

    # ------------------------------------------------------------ state
    @property
    def layer(self) -> str:
        return self.layer_menu.value

    @property
    def unit(self) -> tuple[int, int]:
        return self.row_slider.value, self.col_slider.value

    def grid(self, layer: str | None = None) -> tuple[int, int]:
        """The (rows, cols) of the layer's feature map."""
        return tuple(self.fields.module_output(layer or self.layer).output_shape[-2:])

    def select(self, layer: str | None = None, row: int | None = None, col: int | None = None,
               image: int | None = None) -> bool:
        """Set any of the controls; a new layer without a unit selects its centre unit.

        A bad value leaves everything as it was and explains itself in ``message``
        (False is returned).
        """
        layer = self.layer if layer is None else layer
        if layer not in self.layers:
            return self.refuse(f"no layer {layer!r} here; the layers are {', '.join(self.layers)}")
        rows, cols = self.grid(layer)
        if layer != self.layer or self.row_slider.max != rows - 1 or self.col_slider.max != cols - 1:
            row = rows // 2 if row is None else row
            col = cols // 2 if col is None else col
        row, col = self.unit[0] if row is None else row, self.unit[1] if col is None else col
        if not (0 <= row < rows and 0 <= col < cols):
            return self.refuse(f"unit ({row}, {col}) is not on the {rows}x{cols} map of {layer}: "
                                f"rows run from 0 to {rows - 1}, columns from 0 to {cols - 1}")
        image = self.image_slider.value if image is None else image
        if not 0 <= image < len(self.images):
            return self.refuse(f"image {image} does not exist: there are {len(self.images)} (0 to {len(self.images) - 1})")
        with self.holding():
            self.layer_menu.value = layer
            self.row_slider.max, self.col_slider.max = rows - 1, cols - 1
            self.row_slider.value, self.col_slider.value, self.image_slider.value = row, col, image
        self.message.value = ""
        self.update()
        return True

    def click(self, x: float, y: float) -> bool:
        """A click at figure fraction (x, y), measured from the top left of the picture."""
        point = (x * self.figure.bbox.width, (1 - y) * self.figure.bbox.height)   # display units, from bottom left
        for axes in (self.map_axes, self.image_axes):
            if axes.bbox.contains(*point):
                px, py = axes.transData.inverted().transform(point)
                if axes is self.map_axes:
                    return self.select(row=int(round(py)), col=int(round(px)))
                return self.select(row=self._nearest_unit(py, 0), col=self._nearest_unit(px, 1))
        return self.refuse("click on the input image or on the feature map to choose a unit")

    def _nearest_unit(self, pixel: float, axis: int) -> int:
        row = self.fields.module_output(self.layer)
        centre0 = (row.size[axis] - 1) / 2 - row.padding[axis]   # the centre of unit 0's field
        return int(np.clip(round((pixel - centre0) / row.stride[axis]), 0, self.grid()[axis] - 1))

    def changed(self, control: widgets.ValueWidget) -> None:
        self.select()

    def _clicked(self, event: dict) -> None:
        width, height = event.get("boundingRectWidth") or 1, event.get("boundingRectHeight") or 1
        self.click(event["relativeX"] / width, event["relativeY"] / height)

    # ------------------------------------------------------------ computing and drawing
    @property
    def rectangle(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return self.fields.rectangle(self.unit, self.fields.module_output(self.layer).name)

    @property
    @single_threaded
    def erf(self) -> EffectiveReceptiveField:
        key = (self.layer, self.unit)
        if key not in self._erfs:
            self._erfs[key] = effective_receptive_field(self.model, self.layer, self.unit, images=self.erf_images,
                                                             fields=self.fields)
        return self._erfs[key]

    @single_threaded
    def feature_map(self) -> torch.Tensor:
        """The mean over channels of the current layer's output for the current image."""
        if self.layer not in self._maps:
            self._maps[self.layer] = capture_activations(self.model, self.images, [self.layer])[self.layer].mean(1)
        return self._maps[self.layer][self.image_slider.value].cpu()

    def _build_figure(self) -> None:
        self.figure = Figure(figsize=(9.6, 3.4), dpi=self.dpi)
        self.image_axes, self.map_axes, self.erf_axes = self.figure.subplots(1, 3)
        self.figure.subplots_adjust(left=0.03, right=0.97, top=0.86, bottom=0.05, wspace=0.25)
        self.image_artist = self.image_axes.imshow(self.shown[0], interpolation="nearest")
        self.map_artist = self.map_axes.imshow(np.zeros((1, 1)), cmap="viridis", interpolation="nearest")
        self.erf_artist = self.erf_axes.imshow(np.zeros(self.shown.shape[1:3]), cmap="magma", interpolation="nearest")
        self.boxes = [Rectangle((0, 0), 1, 1, fill=False, lw=2, ec=colour, ls=style)
                      for colour, style in [("#ff3b30", "-"), ("#ff3b30", "--"), ("#30d5ff", "-")]]
        self.image_axes.add_patch(self.boxes[0])
        self.image_axes.add_patch(self.boxes[1])   # the part of the field in the padding, outlined dashed
        self.erf_axes.add_patch(self.boxes[2])
        self.marker = Rectangle((0, 0), 1, 1, fill=False, lw=2, ec="#ff3b30")
        self.map_axes.add_patch(self.marker)
        for axes, title in [(self.image_axes, "input and receptive field"), (self.map_axes, "feature map (click a unit)"),
                            (self.erf_axes, "effective receptive field")]:
            axes.set_title(title, fontsize=10)
            axes.set_xticks([]), axes.set_yticks([])

    def update(self) -> None:
        (top, bottom), (left, right) = self.rectangle
        height, width = self.shown.shape[1:3]
        self.image_artist.set_data(self.shown[self.image_slider.value])
        self.boxes[0].set_bounds(max(left, 0) - 0.5, max(top, 0) - 0.5,
                                 min(right, width - 1) - max(left, 0) + 1, min(bottom, height - 1) - max(top, 0) + 1)
        self.boxes[1].set_bounds(left - 0.5, top - 0.5, right - left + 1, bottom - top + 1)
        self.boxes[1].set_visible(top < 0 or left < 0 or bottom >= height or right >= width)
        margin = max(0, -top, -left, bottom - height + 1, right - width + 1)
        for axes in (self.image_axes, self.erf_axes):
            axes.set_xlim(-0.5 - margin, width - 0.5 + margin)
            axes.set_ylim(height - 0.5 + margin, -0.5 - margin)

        fmap = self.feature_map().numpy()
        self.map_artist.set_data(fmap)
        self.map_artist.set_extent((-0.5, fmap.shape[1] - 0.5, fmap.shape[0] - 0.5, -0.5))
        self.map_artist.set_clim(fmap.min(), fmap.max() if fmap.max() > fmap.min() else fmap.min() + 1)
        self.marker.set_xy((self.unit[1] - 0.5, self.unit[0] - 0.5))

        erf = self.erf
        gradient = erf.gradient.numpy()
        self.erf_artist.set_data(gradient)
        self.erf_artist.set_clim(0, gradient.max() if gradient.max() > 0 else 1)
        self.boxes[2].set_bounds(left - 0.5, top - 0.5, right - left + 1, bottom - top + 1)
        self.render()
        self.numbers.value = self.numbers_html(erf)

    def numbers_html(self, erf: EffectiveReceptiveField) -> str:
        row = self.fields.module_output(self.layer)
        (top, bottom), (left, right) = self.rectangle
        pair = "x".join
        return (f"<b>{self.layer}</b> ({pair(map(str, self.grid()))} map), unit {self.unit}: "
                f"receptive field <b>{pair(map(str, row.size))}</b>, stride {pair(map(str, row.stride))}, "
                f"padding {pair(map(str, row.padding))}; it sees rows {top} to {bottom} and columns {left} to "
                f"{right}. 90% of the gradient lies in the central {erf.effective_size(0.9)}x{erf.effective_size(0.9)} "
                f"({erf.fraction_of_analytic(0.9):.0%} of the side), averaged over {erf.images} images.")


def receptive_field_explorer(model: nn.Module, images: torch.Tensor, layers: Sequence[str] | None = None, *,
                             dataset: str | None = None, erf_images: int = 8) -> ReceptiveFieldExplorer:
    """An interactive view of the receptive field of any unit of ``model``.

    ``images`` (N, C, H, W) are inputs as the model takes them; ``dataset`` names
    the dataset they were normalised for (to show them in true colours).
    ``layers`` defaults to ``analysis.spatial_layers``: convolutions, poolings
    and blocks. The ERF is averaged over the first ``erf_images`` images, and
    cached per unit.
    """
    for name in layers or []:
        find_layer(model, name)
    return ReceptiveFieldExplorer(model, images, layers, dataset, erf_images)
