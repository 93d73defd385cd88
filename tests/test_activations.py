"""Tests of the effective receptive field, activation capture and Grad-CAM."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnbook.analysis import (
    capture_activations,
    effective_receptive_field,
    find_layer,
    grad_cam,
    receptive_field,
    spatial_layers,
)
from cnnbook.models import create


def _stack(depth: int, relu: bool = False) -> nn.Sequential:
    layers = []
    for _ in range(depth):
        layers += [nn.Conv2d(1, 1, 3, padding=1, bias=False)] + ([nn.ReLU()] if relu else [])
    return nn.Sequential(*layers)


# ------------------------------------------------------------------ effective receptive field

def test_linear_network_fills_its_analytic_field():
    torch.manual_seed(0)
    model = _stack(4)
    erf = effective_receptive_field(model, "3", (16, 16), input_size=(1, 33, 33), samples=4)
    assert erf.rectangle == ((12, 20), (12, 20))
    assert erf.support() == erf.rectangle


@pytest.mark.parametrize("name, size, layer", [("lenet", 28, "features.c3"), ("resnet20", 32, "layer2.2"),
                                               ("googlenet", 64, "inception3b")])
def test_support_lies_inside_the_analytic_field(name, size, layer):
    torch.manual_seed(0)
    model = create(name) if name != "googlenet" else create(name, num_classes=10, aux_logits=False)
    channels = model.input_spec.channels
    erf = effective_receptive_field(model, layer, input_size=(channels, size, size), samples=4)
    assert erf.gradient.sum() > 0
    assert erf.inside_analytic_field()
    (top, bottom), (left, right) = erf.rectangle
    outside = erf.gradient.clone()
    outside[max(top, 0):bottom + 1, max(left, 0):right + 1] = 0
    assert outside.abs().max() == 0


def test_effective_field_is_a_shrinking_fraction_of_the_analytic_one():
    # Luo et al.: with uniform weights the gradient is a binomial, whose width grows as sqrt(depth).
    fractions = []
    for depth in (2, 8, 32):
        model = _stack(depth)
        for conv in model:
            nn.init.constant_(conv.weight, 1.0)
        erf = effective_receptive_field(model, str(depth - 1), input_size=(1, 2 * depth + 9, 2 * depth + 9),
                                        samples=1)
        assert erf.support() == erf.rectangle
        fractions.append(erf.fraction_of_analytic(0.9))
    assert fractions[0] > fractions[1] > fractions[2]
    assert fractions[2] < 0.5


def test_random_initialisations_are_averaged_and_seeded():
    model = create("lenet")
    own = effective_receptive_field(model, "features.c3", samples=4)
    fresh = effective_receptive_field(model, "features.c3", samples=4, initialisations=3, seed=1)
    again = effective_receptive_field(model, "features.c3", samples=4, initialisations=3, seed=1)
    assert torch.equal(fresh.gradient, again.gradient)
    assert not torch.allclose(own.gradient, fresh.gradient)
    assert fresh.initialisations == 3 and fresh.inside_analytic_field()


def test_default_unit_is_the_centre_and_images_may_be_given():
    model = create("lenet")
    images = torch.randn(5, 1, 28, 28)
    erf = effective_receptive_field(model, "features.c1", images=images)
    assert erf.unit == (14, 14) and erf.images == 5
    assert erf.rectangle == receptive_field(model, (1, 28, 28)).rectangle((14, 14), "features_c1")


def test_bad_unit_and_layer_say_what_is_allowed():
    model = create("lenet")
    with pytest.raises(ValueError, match="indices run from 0 to"):
        effective_receptive_field(model, "features.c3", (10, 3), samples=1)
    with pytest.raises(KeyError, match="Did you mean"):
        effective_receptive_field(model, "features.c4", samples=1)


# ------------------------------------------------------------------ activations

def test_capture_returns_the_layers_outputs_and_removes_its_hooks():
    model = create("lenet").train()
    images = torch.randn(3, 1, 28, 28)
    captured = capture_activations(model, images, ["features.c1", "features.s4"])
    assert list(captured) == ["features.c1", "features.s4"]
    assert torch.equal(captured["features.c1"], model.features.c1(images))   # before the in-place ReLU
    assert captured["features.c1"].min() < 0
    assert captured["features.s4"].shape == (3, 16, 5, 5) and not captured["features.s4"].requires_grad
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training


def test_unknown_layer_names_the_close_ones():
    with pytest.raises(KeyError, match="features.c1"):
        capture_activations(create("lenet"), torch.zeros(1, 1, 28, 28), "features.cl")
    with pytest.raises(KeyError, match="top-level layers are: features, classifier"):
        find_layer(create("lenet"), "zzz")


def test_spatial_layers_run_once_and_are_maps():
    assert spatial_layers(create("lenet"), (1, 28, 28)) == [
        "features.c1", "features.relu1", "features.s2", "features.c3", "features.relu3", "features.s4"]
    names = spatial_layers(create("resnet18"), (3, 64, 64))
    assert "layer1.0" in names and "layer4.1" in names and "layer1.0.relu" not in names   # relu runs twice


# ------------------------------------------------------------------ Grad-CAM

class _Spotter(nn.Module):
    """Class c's score is the average of channel c of a 1x1 convolution: Grad-CAM must find the bright spot."""

    def __init__(self):
        super().__init__()
        self.features = nn.Conv2d(2, 2, 1, bias=False)
        nn.init.eye_(self.features.weight[:, :, 0, 0])
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.features(x)).flatten(1)


def test_grad_cam_finds_the_evidence_for_each_class():
    images = torch.zeros(2, 2, 16, 16)
    images[0, 0, 2:5, 3:6] = 1.0     # class 0's evidence, top left
    images[1, 1, 10:14, 9:12] = 1.0  # class 1's evidence, bottom right
    cam = grad_cam(_Spotter(), images, "features")
    assert cam.classes.tolist() == [0, 1]
    assert cam.heatmap.shape == (2, 16, 16) and float(cam.heatmap.max()) == pytest.approx(1.0)
    assert cam.heatmap[0, 2:5, 3:6].min() == 1.0 and cam.heatmap[0, 8:, 8:].max() == 0
    assert cam.heatmap[1, 10:14, 9:12].min() == 1.0 and cam.heatmap[1, :8, :8].max() == 0
    other = grad_cam(_Spotter(), images, "features", classes=1)   # image 0 has no evidence of class 1
    assert other.heatmap[0].max() == 0 and other.classes.tolist() == [1, 1]


def test_grad_cam_on_a_model_and_its_errors():
    model = create("lenet")
    cam = grad_cam(model, torch.randn(4, 1, 28, 28), "features.c3", classes=[0, 1, 2, 3])
    assert cam.maps.shape == (4, 10, 10) and cam.probabilities.sum(1).allclose(torch.ones(4))
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="from 0 to 9"):
        grad_cam(model, torch.randn(2, 1, 28, 28), "features.c3", classes=[3, 10])
    with pytest.raises(ValueError, match="not \\(N, C, H, W\\) maps"):
        grad_cam(model, torch.randn(2, 1, 28, 28), "classifier.c5")
