"""Faults in building, checking and analysing models, and in choosing a device: each
gives an error that says what was wrong and what to do, before any work. Each test
is a row of the fault table in docs/robustness.md."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnbook import device, models
from cnnbook.__main__ import main
from cnnbook.analysis import capture_activations, grad_cam, receptive_field, summary
from cnnbook.analysis.receptive_field import UnsupportedLayerError

# ---------------------------------------------------------------- create()


@pytest.mark.parametrize("name", [None, 3, ["lenet"]])
def test_model_name_must_be_a_string(name):
    for ask in (models.create, models.info):
        with pytest.raises(TypeError, match=r"model name must be a string such as 'lenet'.*names\(\)"):
            ask(name)


@pytest.mark.parametrize("key, value", [("num_classes", 0), ("num_classes", -3), ("num_classes", 2.5),
                                        ("num_classes", True), ("num_classes", "ten"), ("in_channels", 0)])
def test_counts_must_be_whole_numbers_of_at_least_one(key, value):
    with pytest.raises(ValueError, match=f"lenet: {key} must be a whole number of at least 1, got {value!r}"):
        models.create("lenet", **{key: value})


@pytest.mark.parametrize("value", [0, -1, "wide"])
def test_width_must_be_a_positive_number(value):
    with pytest.raises(ValueError, match="width is a multiplier .* above 0"):
        models.create("resnet20", width=value)


def test_unknown_argument_of_a_builder_lists_what_it_accepts():
    with pytest.raises(TypeError) as caught:
        models.create("lenet", widht=2)
    assert str(caught.value) == ("lenet takes no argument 'widht'. Did you mean 'width'? "
                                 "It accepts: num_classes, in_channels, width, batch_norm.")


@pytest.mark.parametrize("name", ["resnet18", "resnet20", "resnext50_32x4d"])
def test_unknown_argument_passed_on_to_the_network_is_named(name):
    """These builders pass further options to their classes: a misspelt one used to fail inside a block."""
    with pytest.raises(TypeError) as caught:
        models.create(name, num_classes=10, stride_in1x1=True)
    message = str(caught.value)
    assert message.startswith(f"{name} takes no argument 'stride_in1x1'.") and "num_classes, in_channels" in message
    assert f"help(cnnbook.models.{name})" in message and "__init__" not in message


def test_a_good_argument_passed_on_still_works():
    model = models.create("resnet50", num_classes=10, width=0.25, stride_in_1x1=True)
    assert model.fc.out_features == 10


# ---------------------------------------------------------------- a model's own input checks


def test_integer_images_are_refused_with_the_conversion():
    model = models.create("lenet")
    with pytest.raises(TypeError, match=r"lenet expects floating-point images, got torch.uint8.*normalize"):
        model(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "lenet"])
def test_batch_of_one_in_training_mode(name):
    """At its smallest input size a model's last maps are 1x1: one image leaves batch norm one value."""
    model = models.create(name, num_classes=10, **({"batch_norm": True} if name == "lenet" else {}))
    spec = model.input_spec
    size = spec.min_size or spec.size[0]
    image = torch.randn(1, spec.channels, size, size)
    with pytest.raises(ValueError,
                       match=rf"{name}: batch normalisation \(.*\) gets a single value per channel.*"
                                         r"batches of 2 or more, or call model.eval\(\)"):
        model.train()(image)
    model.eval()(image)                          # single images are fine in eval mode
    model.train()(image.expand(2, -1, -1, -1))   # and batches of two in training


def test_batch_of_one_with_large_maps_still_trains():
    """Batch norm can train on one image when its maps have more than one pixel: no false alarm."""
    model = models.create("resnet20", num_classes=10)
    model.train()(torch.randn(1, 3, 32, 32)).sum().backward()


# ---------------------------------------------------------------- summary and receptive_field


@pytest.mark.parametrize("analyse", [summary, receptive_field])
def test_analysis_runs_the_models_input_check_first(analyse):
    with pytest.raises(ValueError, match=r"^lenet expects 1x28x28 images, got 3x28x28. Resize"):
        analyse(models.create("lenet"), (3, 28, 28))


@pytest.mark.parametrize("analyse", [summary, receptive_field])
@pytest.mark.parametrize("size", [(0, 28, 28), (1, -28, 28), (1, 28.0, 28), ()])
def test_analysis_input_size_must_be_positive_whole_numbers(analyse, size):
    with pytest.raises(ValueError, match="input_size must be .*whole numbers above 0"):
        analyse(models.create("lenet"), size)


@pytest.mark.parametrize("analyse", [summary, receptive_field])
def test_analysis_input_size_needs_three_numbers_for_images(analyse):
    with pytest.raises(ValueError,
                       match=r"lenet expects 1x28x28 images: input_size must be \(C, H, W\), got \(28, 28\)"):
        analyse(models.create("lenet"), (28, 28))


def test_analysis_reports_a_model_below_its_minimum_size():
    with pytest.raises(ValueError, match="resnet18 expects 3-channel images of at least"):
        receptive_field(models.create("resnet18"), (3, 8, 8))


class PerImage(nn.Module):
    """A forward that loops over the batch in Python: fine to run, impossible for torch.fx to trace."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return torch.stack([self.conv(x[i:i + 1])[0] for i in range(x.shape[0])])


def test_summary_of_an_untraceable_forward_leaves_the_receptive_fields_out():
    table = summary(PerImage(), (1, 8, 8))
    assert table.rows[0].output_shape == (2, 6, 6) and table.rows[0].receptive_field is None
    assert "Receptive fields not computed: torch.fx cannot trace PerImage" in str(table)
    with pytest.raises(UnsupportedLayerError, match=r"range\(x.shape\[0\]\)"):
        receptive_field(PerImage(), (1, 8, 8))


# ---------------------------------------------------------------- activations and Grad-CAM


def test_capturing_a_layer_that_never_runs():
    model = models.create("googlenet", num_classes=10, small_input=True, width=0.25)
    images = torch.randn(2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"'aux1.fc2' did not run .* in eval mode.*auxiliary classifiers"):
        capture_activations(model, images, ["inception3a", "aux1.fc2"])
    with pytest.raises(ValueError, match=r"'aux2.conv' did not run"):
        grad_cam(model, images, "aux2.conv")
    assert capture_activations(model, images, ["inception3a"])["inception3a"].shape[0] == 2


# ---------------------------------------------------------------- devices


@pytest.mark.parametrize("text, message", [
    ("gpu",
     r"CNNBOOK_DEVICE='gpu' is not a device: use cpu, cuda, cuda:N or mps \(PyTorch calls NVIDIA GPUs 'cuda'\)"),
    ("GPU:0", "is not a device"),
    ("cpu0", "is not a device"),
    ("meta", "cnnbook trains on cpu, cuda or mps only"),
])
def test_misspelt_device_variable(monkeypatch, text, message):
    monkeypatch.setenv("CNNBOOK_DEVICE", text)
    with pytest.raises(device.DeviceError, match=message):
        device.default_device()


def test_cuda_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(device.DeviceError,
                       match=r"--device='cuda' but no CUDA GPU is usable here .*leave out --device"):
        device.parse_device("cuda", "--device")


def test_cuda_index_beyond_the_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(device.DeviceError, match="has 2 GPU\\(s\\), cuda:0 to cuda:1"):
        device.parse_device("cuda:2")
    assert device.parse_device("cuda:1") == torch.device("cuda", 1)


def test_mps_where_there_is_none(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(device.DeviceError, match="Apple's MPS is not available here"):
        device.parse_device("mps")


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("args, message", [
    (["summary", "--model", "lenet", "--input-size", "3", "28", "28"],
     "lenet expects 1x28x28 images, got 3x28x28"),
    (["summary", "--model", "lenet", "--input-size", "1", "0", "28"], "whole numbers above 0"),
    (["summary", "--model", "lenet", "--arg", "num_classes=0"],
     "num_classes must be a whole number of at least 1"),
    (["summary", "--model", "resnet20", "--arg", "widht=2"],
     "resnet20 takes no argument 'widht'. Did you mean 'width'?"),
    (["train", "--model", "lenet", "--device", "gpu"], "--device='gpu' is not a device"),
    (["train", "--model", "lenet", "--device", "cuda:7"], "--device='cuda:7' but"),
])
def test_command_line_errors(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_loader_on_a_device_that_is_not_here(monkeypatch):
    from cnnbook import data
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    images, labels = torch.zeros(4, 1, 8, 8, dtype=torch.uint8), torch.zeros(4)
    with pytest.raises(device.DeviceError, match="'cuda' but no CUDA GPU is usable here"):
        data.DeviceLoader(images, labels, 2, device="cuda", mean=0.0, std=1.0)


@pytest.mark.parametrize("name, key", [("resnext50_32x4d", "groups"), ("wide_resnet50_2", "width_per_group")])
def test_argument_the_builder_sets_itself(name, key):
    with pytest.raises(TypeError, match=f"^{name} sets {key} itself: .* Leave {key} out"):
        models.create(name, num_classes=10, **{key: 8})


def test_summary_in_a_dtype_the_weights_are_not():
    with pytest.raises(ValueError,
                       match=r"weights are torch.float32 but dtype=torch.float64: pass dtype=torch.float32"):
        summary(models.create("lenet"), dtype=torch.float64)
    with pytest.raises(TypeError, match="lenet expects floating-point images, got torch.uint8"):
        summary(models.create("lenet"), dtype=torch.uint8)
    assert summary(models.create("lenet").double(), dtype=torch.float64).total_params > 0
