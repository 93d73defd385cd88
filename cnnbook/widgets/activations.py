"""Explorers of what a trained network computes: its feature maps, its filters, and
where the evidence for a class lies (Grad-CAM)."""

from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image, UnidentifiedImageError
from torch import nn

from ..analysis import capture_activations, find_layer, grad_cam, receptive_field, spatial_layers
from ..data import normalize
from ._base import ModelExplorer, display_images, dropdown, message_html, single_threaded, slider

__all__ = ["ActivationExplorer", "activation_explorer", "FilterViewer", "filter_viewer",
           "GradCAMView", "grad_cam_view"]


def _blank(axes) -> None:
    axes.set_xticks([]), axes.set_yticks([])


def _mosaic(tiles: np.ndarray, columns: int, gap: float) -> np.ndarray:
    """Tiles (n, h, w[, 3]) laid out ``columns`` to a row, one pixel of ``gap`` between them."""
    n, h, w = tiles.shape[:3]
    rows = -(-n // columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1, *tiles.shape[3:]), gap, dtype=float)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = tile
    return out


def _check_layers(model: nn.Module, images: torch.Tensor, layers: Sequence[str] | None) -> list[str]:
    if images.dim() != 4:
        raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    for name in layers or []:
        find_layer(model, name)
    return list(layers) if layers else spatial_layers(model, tuple(images.shape[1:]))


# --------------------------------------------------------------------------- activations

class ActivationExplorer(ModelExplorer):
    """Feature maps of one layer for one image, its strongest channels, and the input
    patches (receptive fields) that excite a chosen channel most, over all the images.

    Controls: ``image``, ``layer``, ``first`` (first channel shown), ``channel``
    (whose patches are shown) and an upload button for the reader's own image.
    """

    maps_shown = 16
    patches_shown = 10

    def __init__(self, model: nn.Module, images: torch.Tensor, layers: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None, dataset: str | None = None, dpi: int = 80):
        super().__init__(dpi)
        self.layers = _check_layers(model, images, layers)
        self.model, self.class_names, self.dataset = model.eval(), class_names, dataset
        self.fields = receptive_field(model, tuple(images.shape[1:]))
        self._set_images(images)
        self.image_slider = slider(0, 0, len(images) - 1, "image")
        self.layer_menu = dropdown(self.layers, self.layers[0], "layer")
        self.first_slider = slider(0, 0, 0, "channels from")
        self.channel_slider = slider(0, 0, 0, "patches of channel")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your image")
        self.upload.observe(self._uploaded, names="value")
        self._build_figure()
        self.watch(self.image_slider, self.layer_menu, self.first_slider, self.channel_slider)
        self.children = [widgets.HBox([self.layer_menu, self.image_slider, self.upload]),
                         widgets.HBox([self.first_slider, self.channel_slider]), self.image, self.numbers, self.message]
        self.select(layer=self.layers[0])

    def _set_images(self, images: torch.Tensor) -> None:
        self.images = images
        self.shown = display_images(images, self.dataset)
        self._activations: dict[str, torch.Tensor] = {}
        self._logits = None

    # ------------------------------------------------------------ state
    @property
    def layer(self) -> str:
        return self.layer_menu.value

    @single_threaded
    def activations(self, layer: str | None = None) -> torch.Tensor:
        """(N, C, h, w): the layer's output for every image, computed once."""
        layer = layer or self.layer
        if layer not in self._activations:
            self._activations[layer] = capture_activations(self.model, self.images, [layer])[layer].float().cpu()
        return self._activations[layer]

    def strongest(self, count: int = 5) -> list[int]:
        """The channels with the largest mean activation on the current image, strongest first."""
        means = self.activations()[self.image_slider.value].mean(dim=(1, 2))
        return means.argsort(descending=True)[:count].tolist()

    def top_patches(self, channel: int | None = None) -> list[tuple[int, tuple[int, int], float]]:
        """(image, unit, activation) of the images whose strongest unit of ``channel`` is strongest."""
        channel = self.channel_slider.value if channel is None else channel
        maps = self.activations()[:, channel]
        best, where = maps.flatten(1).max(dim=1)
        order = best.argsort(descending=True)[:self.patches_shown]
        width = maps.shape[-1]
        return [(int(i), (int(where[i]) // width, int(where[i]) % width), float(best[i])) for i in order]

    def patch(self, image: int, unit: tuple[int, int]) -> np.ndarray:
        """The part of the shown image that ``unit`` of the current layer sees, padded in grey."""
        (top, bottom), (left, right) = self.fields.rectangle(unit, self.fields.module_output(self.layer).name)
        height, width = self.shown.shape[1:3]
        margin = max(0, -top, -left, bottom - height + 1, right - width + 1)
        padded = np.pad(self.shown[image], ((margin, margin), (margin, margin), (0, 0)), constant_values=0.5)
        return padded[top + margin:bottom + margin + 1, left + margin:right + margin + 1]

    def select(self, layer: str | None = None, image: int | None = None, first: int | None = None,
               channel: int | None = None) -> bool:
        """Set any of the controls; a bad value is refused with a message."""
        layer = self.layer if layer is None else layer
        if layer not in self.layers:
            return self.refuse(f"no layer {layer!r} here; the layers are {', '.join(self.layers)}")
        channels = self.activations(layer).shape[1]
        new_layer = layer != self.layer or self.channel_slider.max != channels - 1
        first = (0 if new_layer else self.first_slider.value) if first is None else first
        image = self.image_slider.value if image is None else image
        if not 0 <= image < len(self.images):
            return self.refuse(f"image {image} does not exist: there are {len(self.images)} (0 to {len(self.images) - 1})")
        if channel is None:
            channel = self._strongest_of(layer, image) if new_layer else self.channel_slider.value
        for name, value in [("first", first), ("channel", channel)]:
            if not 0 <= value < channels:
                return self.refuse(f"{name}={value}: no such channel; {layer} has {channels} channels "
                                   f"(0 to {channels - 1})")
        with self.holding():
            self.layer_menu.value = layer
            self.image_slider.max = len(self.images) - 1
            self.first_slider.max = self.channel_slider.max = channels - 1
            self.first_slider.value, self.channel_slider.value, self.image_slider.value = first, channel, image
        self.message.value = ""
        self.update()
        return True

    def _strongest_of(self, layer: str, image: int) -> int:
        return int(self.activations(layer)[image].mean(dim=(1, 2)).argmax())

    def changed(self, control: widgets.ValueWidget) -> None:
        self.select()

    # ------------------------------------------------------------ the reader's image
    def add_image(self, data: bytes) -> bool:
        """Add an image file's bytes to the images and show it; a wrong file is refused with a message."""
        try:
            picture = Image.open(io.BytesIO(data))
            picture.load()
        except (UnidentifiedImageError, OSError) as error:
            return self.refuse(f"that file is not an image PIL can read ({error}); try a PNG or JPEG")
        channels, height, width = self.images.shape[1:]
        if picture.size != (width, height):
            return self.refuse(f"the image is {picture.size[0]}x{picture.size[1]} pixels; this model takes "
                               f"{width}x{height}: resize it to {width}x{height} first")
        mode = {1: "L", 3: "RGB"}.get(channels)
        if mode is None:
            return self.refuse(f"the model takes {channels}-channel inputs, which an image file cannot give")
        note = "" if picture.mode == mode else f" (converted from {picture.mode} to {mode})"
        pixels = torch.from_numpy(np.array(picture.convert(mode))).reshape(height, width, channels)
        pixels = pixels.permute(2, 0, 1)[None].contiguous()
        new = normalize(pixels, self.dataset) if self.dataset else pixels.float() / 255
        self._set_images(torch.cat([self.images, new.to(self.images)]))
        self.select(image=len(self.images) - 1)
        self.message.value = message_html(f"your image is number {len(self.images) - 1}{note}", "ok")
        return True

    def _uploaded(self, change) -> None:
        for upload in change["new"]:
            self.add_image(bytes(upload["content"]))

    # ------------------------------------------------------------ drawing
    # Four axes only, each map and patch a tile of one mosaic image: drawing many
    # small axes is what makes a matplotlib figure slow.
    def _build_figure(self) -> None:
        self.figure = Figure(figsize=(10, 5.6), dpi=self.dpi)
        grid = self.figure.add_gridspec(3, 5, height_ratios=[1.6, 0.9, 0.8], hspace=0.5, wspace=0.1,
                                        left=0.03, right=0.98, top=0.94, bottom=0.03)
        self.input_axes = self.figure.add_subplot(grid[0, 0])
        self.map_axes = self.figure.add_subplot(grid[0, 1:])
        self.bar_axes = self.figure.add_subplot(grid[1, :])
        self.patch_axes = self.figure.add_subplot(grid[2, :])
        self.input_artist = self.input_axes.imshow(self.shown[0])
        viridis = matplotlib.colormaps["viridis"].with_extremes(bad="white")   # white gaps between the maps
        self.map_artist = self.map_axes.imshow(np.zeros((1, 1)), cmap=viridis)
        self.outline = Rectangle((0, 0), 1, 1, fill=False, ec="#ff3b30", lw=2)
        self.map_axes.add_patch(self.outline)
        self.patch_artist = self.patch_axes.imshow(np.ones((1, 1, 3)))
        self.bars = self.bar_axes.vlines([], [], [], lw=3)
        self.bar_axes.tick_params(labelsize=7)
        self.bar_axes.yaxis.set_major_locator(MaxNLocator(3))
        self.bar_axes.set_title("mean activation per channel (5 strongest in red)", fontsize=9)
        for axes in (self.input_axes, self.map_axes, self.patch_axes):
            _blank(axes)

    def update(self) -> None:
        image, first, channel = self.image_slider.value, self.first_slider.value, self.channel_slider.value
        maps = self.activations()[image]
        self.input_artist.set_data(self.shown[image])
        self.input_axes.set_title(f"image {image}{self._prediction(image)}", fontsize=9)

        shown = maps[first:first + self.maps_shown].numpy()
        mosaic = _mosaic(shown, columns=8, gap=np.nan)
        self.map_artist.set_data(mosaic)
        self.map_artist.set_extent((-0.5, mosaic.shape[1] - 0.5, mosaic.shape[0] - 0.5, -0.5))
        self.map_artist.set_clim(float(shown.min()), max(float(shown.max()), float(shown.min()) + 1e-6))
        h, w = shown.shape[1:]
        self.outline.set_visible(first <= channel < first + len(shown))
        k = channel - first
        self.outline.set_bounds((k % 8) * (w + 1) - 0.5, (k // 8) * (h + 1) - 0.5, w, h)
        self.map_axes.set_title(f"{self.layer}: channels {first}-{first + len(shown) - 1} ({channel} outlined)",
                                fontsize=9)

        means = maps.mean(dim=(1, 2)).numpy()
        strongest = set(self.strongest())
        self.bars.set_segments([[(c, 0), (c, m)] for c, m in enumerate(means)])
        self.bars.set_color(["#ff3b30" if c in strongest else "#8e8e93" for c in range(len(means))])
        self.bars.set_linewidth(max(0.5, min(6.0, 600 / len(means))))
        self.bar_axes.set_xlim(-0.6, len(means) - 0.4)
        self.bar_axes.set_ylim(min(0.0, float(means.min())) * 1.05, max(float(means.max()), 1e-6) * 1.05)

        patches = self.top_patches()
        tiles = np.stack([self.patch(index, unit) for index, unit, _ in patches])
        strip = _mosaic(tiles, columns=len(tiles), gap=1.0)
        self.patch_artist.set_data(strip)
        self.patch_artist.set_extent((-0.5, strip.shape[1] - 0.5, strip.shape[0] - 0.5, -0.5))
        self.patch_axes.set_title(f"the inputs channel {channel} responds to most", fontsize=9)
        self.render()
        self.numbers.value = (f"<b>{self.layer}</b>: {maps.shape[0]} channels of {maps.shape[1]}x{maps.shape[2]}. "
                              f"Strongest on image {image}: {', '.join(map(str, self.strongest()))}. Bottom: the "
                              f"receptive fields of channel {channel}'s strongest unit in images "
                              f"{', '.join(str(i) for i, _, _ in patches)}.")

    @single_threaded
    def _prediction(self, image: int) -> str:
        if self._logits is None:
            with torch.no_grad():
                self._logits = self.model(self.images).float().cpu()
        label = int(self._logits[image].argmax())
        return f": {self.class_names[label] if self.class_names else label}"


def activation_explorer(model: nn.Module, images: torch.Tensor, layers: Sequence[str] | None = None, *,
                        class_names: Sequence[str] | None = None, dataset: str | None = None) -> ActivationExplorer:
    """An interactive view of the feature maps of ``model`` on ``images`` (N, C, H, W), as the model takes them.

    ``dataset`` names the dataset the images were normalised for: it is used to
    show them and to normalise the reader's uploaded image the same way.
    ``layers`` defaults to ``analysis.spatial_layers``.
    """
    return ActivationExplorer(model, images, layers, class_names, dataset)


# --------------------------------------------------------------------------- filters

class FilterViewer(ModelExplorer):
    """The filters of a convolution as little images: in colour when they read 3 channels,
    otherwise one input channel at a time (``channel``). Red is positive, blue negative
    for one channel; colour filters are stretched to their own range."""

    grid = (4, 16)

    def __init__(self, model: nn.Module, layer: str | None = None, dpi: int = 80):
        super().__init__(dpi)
        self.convolutions = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
        if not self.convolutions:
            raise ValueError(f"{type(model).__name__} has no Conv2d layer to show")
        if layer is not None and layer not in self.convolutions:
            find_layer(model, layer)
            raise ValueError(f"{layer!r} is not a Conv2d; the convolutions are {', '.join(self.convolutions)}")
        self.model = model
        self.layer_menu = dropdown(self.convolutions, layer or self.convolutions[0], "layer")
        self.channel_slider = slider(0, 0, 0, "input channel")
        self.figure = Figure(figsize=(10, 2.9), dpi=self.dpi)
        self.axes = self.figure.subplots(*self.grid)
        self.figure.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.01, wspace=0.08, hspace=0.08)
        self.artists = [axes.imshow(np.zeros((1, 1, 3))) for axes in self.axes.flat]
        for axes in self.axes.flat:
            _blank(axes)
        self.watch(self.layer_menu, self.channel_slider)
        self.children = [widgets.HBox([self.layer_menu, self.channel_slider]), self.image, self.numbers]
        self.changed(self.layer_menu)

    @property
    def weight(self) -> torch.Tensor:
        return find_layer(self.model, self.layer_menu.value).weight.detach().float().cpu()

    def pictures(self) -> np.ndarray:
        """(filters, k, k, 3) in [0, 1]: what the figure shows."""
        weight = self.weight
        if weight.shape[1] == 3:
            low = weight.amin(dim=(1, 2, 3), keepdim=True)
            high = weight.amax(dim=(1, 2, 3), keepdim=True)
            return ((weight - low) / (high - low).clamp_min(1e-12)).permute(0, 2, 3, 1).numpy()
        one = weight[:, self.channel_slider.value]
        scale = one.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
        signed = (one / scale).numpy()    # -1 .. 1
        red, blue = np.clip(signed, 0, 1), np.clip(-signed, 0, 1)
        return np.stack([1 - blue, 1 - red - blue, 1 - red], axis=-1).clip(0, 1)

    def changed(self, control: widgets.ValueWidget) -> None:
        if control is self.layer_menu:
            with self.holding():
                self.channel_slider.value = 0
                self.channel_slider.max = self.weight.shape[1] - 1
                self.channel_slider.disabled = self.weight.shape[1] == 3
        self.update()

    def update(self) -> None:
        pictures = self.pictures()
        for k, (axes, artist) in enumerate(zip(self.axes.flat, self.artists)):
            axes.set_visible(k < len(pictures))
            if k < len(pictures):
                artist.set_data(pictures[k])
                artist.set_extent((-0.5, pictures.shape[2] - 0.5, pictures.shape[1] - 0.5, -0.5))
        out, inputs, *kernel = self.weight.shape
        shown = min(out, self.axes.size)
        self.figure.suptitle(f"{self.layer_menu.value}: {shown} of {out} filters, {'x'.join(map(str, kernel))}"
                             + ("" if inputs == 3 else f", input channel {self.channel_slider.value} of {inputs}"),
                             fontsize=10)
        self.render()
        self.numbers.value = f"{out} filters of {inputs}x{'x'.join(map(str, kernel))} weights each."


def filter_viewer(model: nn.Module, layer: str | None = None) -> FilterViewer:
    """The filters of ``layer`` (default: the first convolution) of ``model``, as images."""
    return FilterViewer(model, layer)


# --------------------------------------------------------------------------- Grad-CAM

class GradCAMView(ModelExplorer):
    """Grad-CAM (Selvaraju et al., 2017): the image, the heat map of the evidence for a
    class at a layer laid over it, and the top five probabilities.

    Controls: ``image``, ``layer`` and ``target`` (a class, or -1 for the predicted one).
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, layer: str | None = None,
                 class_names: Sequence[str] | None = None, dataset: str | None = None, dpi: int = 80):
        super().__init__(dpi)
        self.layers = _check_layers(model, images, None)
        if layer is not None and layer not in self.layers:
            find_layer(model, layer)
            raise ValueError(f"{layer!r} does not output feature maps; choose one of {', '.join(self.layers)}")
        self.model, self.images = model.eval(), images
        self.shown = display_images(images, dataset)
        with torch.no_grad():
            classes = model(images[:1]).shape[1]
        self.class_names = list(class_names) if class_names else [str(c) for c in range(classes)]
        if len(self.class_names) != classes:
            raise ValueError(f"{len(self.class_names)} class names for a model with {classes} outputs")
        self._cams: dict[tuple[str, int], object] = {}
        self.image_slider = slider(0, 0, len(images) - 1, "image")
        self.layer_menu = dropdown(self.layers, layer or self.layers[-1], "layer")
        self.target_menu = dropdown([("predicted class", -1)] + [(n, c) for c, n in enumerate(self.class_names)],
                                    -1, "explain")
        self.figure = Figure(figsize=(9.6, 3.0), dpi=self.dpi)
        self.image_axes, self.cam_axes, self.bar_axes = self.figure.subplots(1, 3)
        self.figure.subplots_adjust(left=0.02, right=0.97, top=0.88, bottom=0.08, wspace=0.35)
        self.image_artist = self.image_axes.imshow(self.shown[0])
        self.under_artist = self.cam_axes.imshow(self.shown[0])
        self.cam_artist = self.cam_axes.imshow(np.zeros(self.shown.shape[1:3]), cmap="jet", alpha=0.45, vmin=0, vmax=1)
        for axes in (self.image_axes, self.cam_axes):
            _blank(axes)
        self.top = min(5, classes)
        self.bars = self.bar_axes.barh(range(self.top)[::-1], [0] * self.top)
        self.bar_axes.set_xlim(0, 1)
        self.bar_axes.set_title(f"probabilities (top {self.top})", fontsize=10)
        self.bar_axes.tick_params(labelsize=8)
        self.watch(self.image_slider, self.layer_menu, self.target_menu)
        self.children = [widgets.HBox([self.layer_menu, self.image_slider, self.target_menu]),
                         self.image, self.numbers, self.message]
        self.update()

    @single_threaded
    def cam(self):
        """The Grad-CAM of every image for the current layer and target, computed once."""
        key = (self.layer_menu.value, self.target_menu.value)
        if key not in self._cams:
            target = None if key[1] == -1 else key[1]
            self._cams[key] = grad_cam(self.model, self.images, key[0], target)
        return self._cams[key]

    def select(self, image: int | None = None, layer: str | None = None, target: int | None = None) -> bool:
        """Set any of the controls; a bad value is refused with a message."""
        if image is not None and not 0 <= image < len(self.images):
            return self.refuse(f"image {image} does not exist: there are {len(self.images)} (0 to {len(self.images) - 1})")
        if layer is not None and layer not in self.layers:
            return self.refuse(f"no layer {layer!r} here; the layers are {', '.join(self.layers)}")
        if target is not None and not -1 <= target < len(self.class_names):
            return self.refuse(f"class {target} does not exist: classes run from 0 to {len(self.class_names) - 1} "
                               "(-1 explains the predicted class)")
        with self.holding():
            for control, value in [(self.image_slider, image), (self.layer_menu, layer), (self.target_menu, target)]:
                if value is not None:
                    control.value = value
        self.message.value = ""
        self.update()
        return True

    def update(self) -> None:
        image = self.image_slider.value
        cam = self.cam()
        self.image_artist.set_data(self.shown[image])
        self.under_artist.set_data(self.shown[image])
        self.cam_artist.set_data(cam.heatmap[image].cpu().numpy())
        probabilities = cam.probabilities[image].cpu()
        explained = int(cam.classes[image])
        self.image_axes.set_title(f"image {image}", fontsize=10)
        self.cam_axes.set_title(f"evidence for '{self.class_names[explained]}'", fontsize=10)
        top = probabilities.argsort(descending=True)[:self.top].tolist()
        for bar, c in zip(self.bars, top):
            bar.set_width(float(probabilities[c]))
            bar.set_color("#ff3b30" if c == explained else "#8e8e93")
        self.bar_axes.set_yticks(range(self.top)[::-1], [self.class_names[c] for c in top])
        self.render()
        self.numbers.value = (f"Grad-CAM at <b>{self.layer_menu.value}</b> ({cam.maps.shape[-2]}x{cam.maps.shape[-1]} "
                              f"map, scaled up): where the evidence for <b>{self.class_names[explained]}</b> "
                              f"(probability {float(probabilities[explained]):.2f}) lies.")


def grad_cam_view(model: nn.Module, images: torch.Tensor, layer: str | None = None, *,
                  class_names: Sequence[str] | None = None, dataset: str | None = None) -> GradCAMView:
    """An interactive Grad-CAM of ``model`` on ``images``; ``layer`` defaults to the last spatial layer."""
    return GradCAMView(model, images, layer, class_names, dataset)
