"""Device choice, source display and exercise checkers."""

import pytest
import torch

from cnnbook import device, exercises
from cnnbook.models.lenet import LeNet
from cnnbook.source import show_source


def test_device_override(monkeypatch):
    monkeypatch.setenv("CNNBOOK_DEVICE", "cpu")
    assert device.default_device() == torch.device("cpu")
    monkeypatch.delenv("CNNBOOK_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert device.default_device().type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CNNBOOK_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="unset CNNBOOK_DEVICE"):
        device.default_device()


def test_cpu_runs_plain_float32():
    cpu = torch.device("cpu")
    assert device.amp_dtype(cpu) is None and not device.prefers_channels_last(cpu)
    with device.autocast(cpu):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_show_source():
    source = show_source(LeNet)
    assert str(source).startswith("# cnnbook.models.lenet.LeNet\n")
    assert "class LeNet(nn.Module):" in source.text
    assert "<span style=" in source._repr_html_()
    method = show_source(LeNet.forward)
    assert method.text.startswith("def forward")  # dedented
    with pytest.raises(TypeError, match="cannot show the source"):
        show_source(42)


def test_checkers_accept_right_and_reject_wrong_answers():
    assert exercises.check("ch1.output-size", lambda w, f, s, p: (w - f + 2 * p) // s + 1)
    wrong = exercises.check("ch1.output-size", lambda w, f, s, p: (w - f + p) // s + 1)
    assert not wrong and "PyTorch gives" in wrong.message
    assert exercises.check("ch1.conv-params", 760)
    assert not exercises.check("ch1.conv-params", 750)
    assert not exercises.check("ch1.conv-params", "760")
    assert exercises.check("ch1.stacked-rf", lambda n: 2 * n + 1)
    assert not exercises.check("ch1.stacked-rf", lambda n: 3 * n)
    assert exercises.check("ch2.full-c3-params", 2416)
    assert exercises.check("ch2.c1-connections", 122304)
    import torch.nn as nn
    good = lambda: nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                                 nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))
    assert exercises.check("ch2.lenet-32", good)


def test_checker_feedback_and_errors():
    crashed = exercises.check("ch1.output-size", lambda w, f, s, p: 1 / 0)
    assert not crashed and "ZeroDivisionError" in crashed.message
    assert "not yet" in str(crashed) and "&#10008;" in crashed._repr_html_()
    with pytest.raises(ValueError, match="ch1.conv-params"):
        exercises.check("ch1.nope", 1)


def test_show_images_grid():
    from cnnbook.plotting import show_images
    images = torch.arange(5 * 3 * 4 * 4, dtype=torch.uint8).reshape(5, 3, 4, 4)
    figure = show_images(images, labels=list("abcde"), ncols=3)
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert len(figure.axes) == 6 and [ax.get_title() for ax in titled] == list("abcde")
    shown = titled[1].images[0].get_array()
    assert shown.shape == (4, 4, 3) and abs(float(shown[0, 0, 0]) - 48 / 255) < 1e-6


def test_chapter1_checkers():
    assert exercises.check("ch1.dilated-rf", lambda n: 3 ** n)
    assert not exercises.check("ch1.dilated-rf", lambda n: 2 * n + 1)
    assert exercises.check("ch1.fc-conv-grid", lambda s: s // 32 - 6)
    assert not exercises.check("ch1.fc-conv-grid", lambda s: s // 32 - 7)
    right = [[0, 1, 0, 0], [0, 1, 4, 0], [0, 0, 1, 1], [1, 0, 0, 0]]
    assert exercises.check("ch1.maxpool-grad", right)
    wrong = [row[:] for row in right]
    wrong[1][2] = 1
    feedback = exercises.check("ch1.maxpool-grad", wrong)
    assert not feedback and "row 1, column 2" in feedback.message
    assert "shape" in exercises.check("ch1.maxpool-grad", [[0, 1]]).message
