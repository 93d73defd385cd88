"""LeNet-5 as published and the modern LeNet; the registry's errors."""

import dataclasses

import pytest
import torch
import torch.fx

from cnnbook import models
from cnnbook.models._registry import _INFO
from cnnbook.models.lenet import C3_TABLE


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_lenet5_per_layer_parameters_match_the_paper():
    net = models.create("lenet5")
    f, c = net.features, net.classifier
    assert count(f.c1) == (5 * 5 + 1) * 6 == 156
    assert count(f.s2) == 2 * 6
    assert count(f.c3) == 6 * (3 * 25 + 1) + 6 * (4 * 25 + 1) + 3 * (4 * 25 + 1) + 1 * (6 * 25 + 1) == 1516
    assert count(f.s4) == 2 * 16
    assert count(f.c5) == (5 * 5 * 16 + 1) * 120 == 48120
    assert count(c.f6) == (120 + 1) * 84 == 10164
    assert count(c.output) == 0  # the RBF codes are fixed, not trained


def test_c3_connection_table():
    sizes = [len(inputs) for inputs in C3_TABLE]
    assert sizes == [3] * 6 + [4] * 6 + [4] * 3 + [6]
    contiguous = lambda s: any(set((i + k) % 6 for k in range(len(s))) == set(s) for i in range(6))
    assert all(contiguous(s) for s in C3_TABLE[:12])
    assert not any(contiguous(s) for s in C3_TABLE[12:15])
    assert len({tuple(s) for s in C3_TABLE}) == 16


def test_partial_conv_only_sees_its_inputs():
    c3 = models.create("lenet5").features.c3
    x = torch.randn(1, 6, 14, 14, requires_grad=True)
    for out_map, inputs in enumerate(C3_TABLE):
        (grad,) = torch.autograd.grad(c3(x)[0, out_map].sum(), x)
        seen = [i for i in range(6) if grad[0, i].abs().sum() > 0]
        assert seen == sorted(inputs)


@pytest.mark.parametrize("name, size", [("lenet5", 32), ("lenet", 28)])
def test_forward_backward_and_fx(name, size):
    model = models.create(name, num_classes=7)
    x = torch.randn(3, 1, size, size)
    out = model(x)
    assert out.shape == (3, 7)
    out.sum().backward()
    traced = torch.fx.symbolic_trace(model)
    assert torch.allclose(traced(x), model(x))


def test_modern_lenet_layers_and_width():
    net = models.create("lenet")
    assert count(net.features.c1) == 156 and count(net.features.c3) == 2416
    assert count(net.classifier.c5) == 48120 and count(net.classifier.f6) == 10164
    wide = models.create("lenet", width=2, in_channels=3)
    assert wide.features.c1.out_channels == 12 and wide(torch.zeros(1, 3, 28, 28)).shape == (1, 10)


@pytest.mark.parametrize("name, shape, message", [
    ("lenet5", (1, 1, 28, 28), "expects 1x32x32 images, got 1x28x28. Pad"),
    ("lenet", (1, 3, 28, 28), "expects 1x28x28 images, got 3x28x28"),
    ("lenet", (1, 28, 28), r"shape \(N, C, H, W\)"),
])
def test_wrong_input_says_what_is_expected(name, shape, message):
    with pytest.raises(ValueError, match=message):
        models.create(name)(torch.zeros(shape))


def test_registry():
    assert {"lenet", "lenet5"} <= set(models.names())
    assert models.names() == sorted(models.names())
    with pytest.raises(ValueError, match="Did you mean 'lenet'"):
        models.create("lenett")
    with pytest.raises(ValueError, match="unknown model 'xyz'"):
        models.create("xyz")
    with pytest.raises(ValueError, match="registered twice"):
        models.register(models.lenet.lenet)


def test_info_of_every_model():
    """Every model has its info; its facts are about registered models only."""
    infos = [models.info(name) for name in models.names()]
    assert [info.name for info in infos] == models.names()
    assert models.info("lenet") == models.ModelInfo("lenet")   # nothing known beyond its code
    resnet50 = models.info("resnet50")
    assert (resnet50.library, resnet50.library_name) == ("torchvision", "resnet50")
    assert set(_INFO) <= set(models.names())
    for i in infos:   # the facts come whole
        assert bool(i.library) == bool(i.library_name) == bool(i.library_params), i
        assert bool(i.paper_params) == bool(i.paper_source) and (i.paper_params or not i.paper_without_bn), i
    with pytest.raises(dataclasses.FrozenInstanceError):
        resnet50.library_params = 0
    with pytest.raises(ValueError, match="Did you mean 'lenet'"):
        models.info("lenett")


def test_lenet_with_batch_norm():
    plain, bn = models.create("lenet"), models.create("lenet", batch_norm=True)
    assert [n for n, _ in bn.features.named_children()] == ["c1", "bn1", "relu1", "s2", "c3",
                                                            "bn3", "relu3", "s4"]
    assert [n for n, _ in bn.classifier.named_children()] == [
        "flatten", "c5", "bn5", "relu5", "f6", "bn6", "relu6", "output"]
    assert all(getattr(bn.features, n).bias is None for n in ("c1", "c3"))
    assert all(getattr(bn.classifier, n).bias is None for n in ("c5", "f6"))
    assert bn.classifier.output.bias is not None
    normalised = 6 + 16 + 120 + 84   # one bias less, a scale and a shift more, per channel
    assert count(bn) == count(plain) + normalised == 61_706 + 226
    assert isinstance(bn.features.bn3, torch.nn.BatchNorm2d) and isinstance(bn.classifier.bn6,
                                                                            torch.nn.BatchNorm1d)
    # in training mode a sample's output depends on the rest of its batch; in eval mode it does not
    torch.manual_seed(0)
    x = torch.randn(8, 1, 28, 28)
    other = torch.cat([x[:1], torch.randn(7, 1, 28, 28)])
    with torch.no_grad():
        assert not torch.allclose(bn.train()(x)[0], bn(other)[0])
        bn.eval()
        torch.testing.assert_close(bn(x)[0], bn(other)[0])
    assert torch.allclose(torch.fx.symbolic_trace(bn)(x), bn(x))
    dropped = {f"{layer}.bias" for layer in ("features.c1", "features.c3", "classifier.c5", "classifier.f6")}
    assert set(plain.state_dict()) - dropped < set(bn.state_dict())   # the same names otherwise
