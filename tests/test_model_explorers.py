"""Headless tests of the model explorers: set controls, click, upload, and check the
state and what is computed against the analysis functions."""

from __future__ import annotations

import base64
import html
import io

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

matplotlib.use("Agg")

from cnnbook.analysis import capture_activations, effective_receptive_field, grad_cam, receptive_field  # noqa: E402
from cnnbook.data import normalize  # noqa: E402
from cnnbook.models import create  # noqa: E402
from cnnbook.widgets import activation_explorer, filter_viewer, grad_cam_view, receptive_field_explorer  # noqa: E402


@pytest.fixture(scope="module")
def lenet() -> torch.nn.Module:
    torch.manual_seed(0)
    return create("lenet").eval()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def _picture(widget) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(widget.image.value)))


# ------------------------------------------------------------------ receptive-field explorer

@pytest.fixture()
def rf(lenet, images):
    return receptive_field_explorer(lenet, images, dataset="fashion-mnist", erf_images=4)


def test_rf_explorer_starts_at_the_centre_of_the_last_layer(rf, lenet):
    assert rf.layers == ["features.c1", "features.relu1", "features.s2", "features.c3", "features.relu3",
                         "features.s4"]
    assert rf.layer == "features.s4" and rf.grid() == (5, 5) and rf.unit == (2, 2)
    assert (rf.row_slider.max, rf.col_slider.max) == (4, 4)
    assert rf.rectangle == receptive_field(lenet, (1, 28, 28)).rectangle((2, 2), "features_s4")
    assert "16x16" in rf.numbers.value and rf.message.value == ""
    assert _picture(rf).shape[:2] == (272, 768)


def test_rf_explorer_units_by_select_slider_and_click(rf, lenet, images):
    assert rf.select(layer="features.c3", row=1, col=8)
    fields = receptive_field(lenet, (1, 28, 28))
    assert rf.rectangle == fields.rectangle((1, 8), "features_c3") == ((0, 13), (14, 27))
    expected = effective_receptive_field(lenet, "features.c3", (1, 8), images=images[:4])
    assert torch.allclose(rf.erf.gradient, expected.gradient, atol=1e-6)   # the widget computes on one thread
    rf.col_slider.value = 3                     # as a reader would
    assert rf.unit == (1, 3) and "columns 4 to 17" in rf.numbers.value
    # a click on a cell of the feature map picks that unit
    assert rf.click(*_where(rf, rf.map_axes, 6.2, 4.9))
    assert rf.unit == (5, 6)
    # a click on the input image picks the unit whose field is centred nearest: c3's
    # unit (r, c) is centred on pixel (2r + 4.5, 2c + 4.5)
    assert rf.click(*_where(rf, rf.image_axes, 1, 0))
    assert rf.unit == (0, 0)
    assert rf.click(*_where(rf, rf.image_axes, 2 * 7 + 4.5, 2 * 3 + 4.5))
    assert rf.unit == (3, 7)


def _where(explorer, axes, x: float, y: float) -> tuple[float, float]:
    """The figure fraction, from the top left, of data point (x, y) of ``axes``: where to click."""
    px, py = axes.transData.transform((x, y))
    return px / explorer.figure.bbox.width, 1 - py / explorer.figure.bbox.height


def test_rf_explorer_new_layer_resets_the_unit_and_the_picture_changes(rf):
    before = _picture(rf)
    rf.layer_menu.value = "features.c1"
    assert rf.unit == (14, 14) and rf.rectangle == ((12, 16), (12, 16))
    assert not np.array_equal(before, _picture(rf))
    assert rf.erf.inside_analytic_field()


def test_rf_explorer_refuses_bad_values_with_a_message(rf):
    state = (rf.layer, rf.unit)
    assert not rf.select(row=7)
    assert "not on the 5x5 map" in rf.message.value and "rows run from 0 to 4" in rf.message.value
    assert not rf.select(layer="features.c2")
    assert "no layer 'features.c2'" in html.unescape(rf.message.value)
    assert not rf.select(image=6)
    assert not rf.click(0.5, 0.99)    # below the panels
    assert (rf.layer, rf.unit) == state
    assert rf.select(row=0) and rf.message.value == ""


def test_rf_explorer_constructor_errors(lenet, images):
    with pytest.raises(KeyError, match="Did you mean"):
        receptive_field_explorer(lenet, images, layers=["features.c4"])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        receptive_field_explorer(lenet, images[0])


def test_explorers_leave_a_static_picture(rf):
    bundle = rf._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == rf.image.value


# ------------------------------------------------------------------ activation explorer

@pytest.fixture()
def act(lenet, images):
    return activation_explorer(lenet, images, class_names=[f"class {c}" for c in range(10)],
                               dataset="fashion-mnist")


def test_activation_explorer_shows_the_captured_maps(act, lenet, images):
    assert act.layer == "features.c1"
    assert act.select(layer="features.c3", image=2, first=8)
    truth = capture_activations(lenet, images, ["features.c3"])["features.c3"]
    assert torch.allclose(act.activations(), truth, atol=1e-6)
    means = truth[2].mean(dim=(1, 2))
    assert act.strongest(3) == means.argsort(descending=True)[:3].tolist()
    assert act.channel_slider.max == 15 and act.first_slider.value == 8
    shown = act.map_artist.get_array()
    assert np.allclose(shown[:10, :10], truth[2, 8].numpy())          # first tile = channel 8
    assert shown.shape == (10, 8 * 11 - 1) and shown.mask[0, 10]     # channels 8-15 in a row, gaps between


def test_top_patches_are_the_strongest_units_and_their_fields(act, lenet, images):
    act.select(layer="features.c3", channel=5)
    maps = capture_activations(lenet, images, ["features.c3"])["features.c3"][:, 5]
    patches = act.top_patches()
    best = maps.flatten(1).max(dim=1).values
    assert [i for i, _, _ in patches] == best.argsort(descending=True).tolist()
    index, unit, value = patches[0]
    assert maps[index][unit] == value == best.max()
    assert act.patch(index, unit).shape == (14, 14, 3)                 # c3's receptive field
    corner = act.patch(index, (0, 0))
    assert np.all(corner[:2] == 0.5) and np.all(corner[:, :2] == 0.5)  # padding shown grey


def test_activation_explorer_refuses_bad_values(act):
    assert not act.select(layer="features.c3", channel=16)
    assert "no such channel" in act.message.value and "0 to 15" in act.message.value
    assert act.layer == "features.c1"
    assert not act.select(image=-1)


def _png_bytes(size: tuple[int, int], mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color=200 if mode == "L" else (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_reader_image_upload(act):
    assert act.add_image(_png_bytes((28, 28), "RGB"))
    assert len(act.images) == 7 and act.image_slider.value == 6
    assert "converted from RGB to L" in act.message.value
    gray = round(0.299 * 200 + 0.587 * 10 + 0.114 * 10)   # PIL's luminance
    expected = normalize(torch.full((1, 1, 28, 28), gray, dtype=torch.uint8), "fashion-mnist")
    assert torch.allclose(act.images[6], expected[0])
    assert not act.add_image(_png_bytes((32, 20), "L"))
    assert "32x20 pixels; this model takes 28x28" in act.message.value
    assert not act.add_image(b"not an image")
    assert "not an image" in act.message.value and len(act.images) == 7


# ------------------------------------------------------------------ filters and Grad-CAM

def test_filter_viewer(lenet):
    viewer = filter_viewer(lenet)
    pictures = viewer.pictures()
    assert pictures.shape == (6, 5, 5, 3) and pictures.min() >= 0 and pictures.max() <= 1
    weight = lenet.features.c1.weight[:, 0].detach()
    k = int(weight.flatten(1).abs().argmax(1)[0])
    strongest = np.unravel_index(k, (5, 5))
    assert np.allclose(pictures[0][strongest], [1, 0, 0] if weight[0].flatten()[k] > 0 else [0, 0, 1])
    viewer.layer_menu.value = "features.c3"
    assert viewer.channel_slider.max == 5 and viewer.pictures().shape == (16, 5, 5, 3)
    with pytest.raises(ValueError, match="not a Conv2d"):
        filter_viewer(lenet, "features.s2")
    rgb = filter_viewer(create("alexnet", num_classes=10))
    assert rgb.channel_slider.disabled and rgb.pictures().shape == (64, 11, 11, 3)


def test_grad_cam_view(lenet, images):
    view = grad_cam_view(lenet, images, class_names=[f"c{c}" for c in range(10)])
    assert view.layer_menu.value == "features.s4"
    assert view.select(image=3, layer="features.c3", target=7)
    truth = grad_cam(lenet, images, "features.c3", 7)
    assert torch.allclose(view.cam().heatmap, truth.heatmap, atol=1e-5)   # one thread vs two: rounding
    assert np.allclose(view.cam_artist.get_array(), truth.heatmap[3].numpy(), atol=1e-5)
    assert "evidence for <b>c7</b>" in view.numbers.value
    assert not view.select(target=10) and "0 to 9" in view.message.value
    with pytest.raises(ValueError, match="does not output feature maps"):
        grad_cam_view(lenet, images, "classifier.c5")
