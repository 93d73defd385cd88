"""The classic families: AlexNet, VGG, NiN, GoogLeNet, BN-Inception, Inception v3/v4 and
Inception-ResNet-v2.

Speed: references are built on the meta device and filled with random values by tiling
a small random pool (much faster than their own initialisation of 100M+ weights); ours
are built on the meta device and take the reference's tensors, which is the strict
state_dict check. Training steps run at the smallest input with the width multiplier
(the same code at a fraction of the cost); full widths are exercised by the reference
comparisons and by shape inference on the meta device.
"""

import re
import warnings

import pytest
import timm
import torch
import torch.fx
import torchvision
from torch import nn

from cnnbook import models
from cnnbook.models._registry import _BUILDERS
from cnnbook.models.alexnet import lrn

FAMILIES = {f"cnnbook.models.{m}" for m in ("alexnet", "vgg", "nin", "googlenet", "inception")}
OURS = sorted(n for n in models.names() if _BUILDERS[n].__module__ in FAMILIES)
REFERENCED = [n for n in OURS if models.info(n).library]
INCEPTIONS = ("inception_v3", "inception_v4", "inception_resnet_v2")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These tensors are small: synchronising threads costs more than it saves, and far
    more when other processes share the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return models.create(name, **kwargs)


def randomize_(model: nn.Module) -> nn.Module:
    """Give every parameter and batch-norm statistic random values, with fan-in scaling
    so that activations stay of order one through deep networks."""
    pool = torch.randn(65537, generator=torch.Generator().manual_seed(0))  # a prime: no alignment
    with torch.no_grad():
        for i, t in enumerate(model.state_dict().values()):
            if not t.is_floating_point():
                t.zero_()
                continue
            values = pool.roll(i * 7919)
            t.copy_(values.repeat(t.numel() // values.numel() + 1)[:t.numel()].view_as(t))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.mul_(0.1).add_(1)
                m.bias.mul_(0.1)
                m.running_mean.mul_(0.1)
                m.running_var.abs_().add_(0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.mul_((m.weight[0].numel() * 0.5) ** -0.5)
                if m.bias is not None:
                    m.bias.mul_(0.1)
    return model


def reference(library: str, name: str, **kwargs) -> nn.Module:
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if library == "torchvision":
            ref = torchvision.models.get_model(name, weights=None, **kwargs)
        else:
            ref = timm.create_model(name, pretrained=False, **kwargs)
    return randomize_(ref.to_empty(device="cpu"))


def logits(out) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def test_every_classic_model_is_covered():
    assert len(OURS) == 18 and len(REFERENCED) == 13
    assert set(OURS) - set(REFERENCED) == {"alexnet_paper", "vgg11_lrn", "vgg16_c", "nin", "bn_inception"}


@pytest.mark.parametrize("name", REFERENCED)
def test_matches_reference_weights_and_outputs(name):
    info = models.info(name)
    torch.manual_seed(0)
    ref = reference(info.library, info.library_name).eval()
    ours = meta(name)
    ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
    ours.eval()
    assert count(ours) == count(ref) == info.library_params
    size = ours.input_spec.min_size
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        expected = ref(x)
        torch.testing.assert_close(ours(x), expected, rtol=1e-4, atol=1e-5 * expected.abs().max().item())
        assert expected.std() > 1e-3  # the comparison is not between two near-zero outputs


@pytest.mark.parametrize("name", OURS)
def test_fx_and_backward_at_the_smallest_input(name):
    """Full width: traced on the meta device, with the shapes it promises. Reduced width:
    traced graph equals the module; one training step at the smallest input."""
    full = meta(name)
    size = full.input_spec.min_size
    out = torch.fx.symbolic_trace(full.eval())(torch.empty(1, 3, size, size, device="meta"))
    assert out.shape == (1, 1000)

    torch.manual_seed(0)
    model = models.create(name, width=0.125 if name in INCEPTIONS else 0.25).eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), model(x))
    model.train()
    out = model(x)
    sum(o.sum() for o in out).backward() if isinstance(out, tuple) else out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", OURS)
def test_small_input_channels_and_classes_for_fashion_mnist(name):
    width = 0.125 if name in INCEPTIONS else 0.25
    kwargs = dict(num_classes=10, in_channels=1, small_input=True, width=width)
    if name == "inception_v3":
        kwargs["aux_logits"] = False  # its auxiliary classifier needs 35x35 (tested below)
    torch.manual_seed(0)
    model = models.create(name, **kwargs).train()
    out = model(torch.randn(2, 1, 28, 28))
    for o in out if isinstance(out, tuple) else [out]:
        assert o.shape == (2, 10)
    logits(out).sum().backward()
    del kwargs["in_channels"], kwargs["num_classes"]
    assert models.create(name, **kwargs).eval()(torch.randn(1, 3, 32, 32)).shape == (1, 1000)  # CIFAR


# Every variant's smallest input; tested to be tight: one pixel less fails inside the
# network too, not only in the input check.
MIN_SIZES = [
    ("alexnet", {}, 63), ("alexnet", {"small_input": True}, 15),
    ("alexnet_paper", {}, 67), ("alexnet_paper", {"small_input": True}, 15),
    ("vgg11", {}, 32), ("vgg11", {"small_input": True}, 16), ("vgg11_lrn", {}, 32),
    ("vgg16_c", {"small_input": True}, 16),
    ("nin", {}, 39), ("nin", {"small_input": True}, 4),
    ("googlenet", {}, 15), ("googlenet", {"small_input": True}, 2),
    ("googlenet", {"small_input": True, "stem_pool": True}, 4),
    ("googlenet", {"aux_logits": False}, 15),
    ("bn_inception", {}, 7), ("bn_inception", {"small_input": True}, 1),
    ("inception_v3", {}, 299), ("inception_v3", {"small_input": True}, 35),
    ("inception_v3", {"aux_logits": False}, 75),
    ("inception_v3", {"aux_logits": False, "small_input": True}, 7),
    ("inception_v4", {}, 75), ("inception_v4", {"small_input": True}, 7),
    ("inception_resnet_v2", {}, 75), ("inception_resnet_v2", {"small_input": True}, 7),
]


@pytest.mark.parametrize("name, kwargs, size", MIN_SIZES,
                         ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_smallest_input_is_tight_and_checked(name, kwargs, size):
    model = models.create(name, width=0.125, **kwargs)
    assert model.input_spec.min_size == size
    aux = kwargs.get("aux_logits", True) and name in ("googlenet", "inception_v3")
    model.train(aux)  # the auxiliary classifiers only run in training mode
    batch = 2 if aux else 1
    with torch.no_grad():
        model(torch.randn(batch, 3, size, size))
        if size == 1:
            return
        x = torch.randn(batch, 3, size - 1, size - 1)
        with pytest.raises(ValueError, match=f"at least {size}x{size}, got 3x{size - 1}x{size - 1}"):
            model(x)
        with pytest.raises(RuntimeError):
            model.forward(x)  # without the input check


@pytest.mark.parametrize("name, shape, message", [
    ("alexnet", (1, 3, 32, 32), "alexnet expects 3-channel images of at least 63x63, got 3x32x32. "
                                "Use small_input=True for images from 15x15"),
    ("vgg16", (1, 1, 224, 224), "vgg16 expects 3-channel images of at least 32x32, got 1x224x224"),
    ("vgg16", (1, 3, 28, 28), "Use small_input=True for images from 16x16"),
    ("nin", (3, 32, 32), "expects a batch of shape (N, C, H, W)"),
    ("googlenet", (1, 3, 14, 14), "at least 15x15, got 3x14x14. Use small_input=True"),
    ("inception_v3", (1, 3, 224, 224), "at least 299x299, got 3x224x224. The auxiliary classifier needs "
                                       "299x299 images; pass aux_logits=False for images from 75x75"),
    ("inception_resnet_v2", (1, 3, 64, 64), "at least 75x75, got 3x64x64. Use small_input=True"),
])
def test_wrong_input_says_what_is_expected(name, shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        meta(name)(torch.zeros(shape))


def test_wrong_channels_with_in_channels_knob():
    model = meta("bn_inception", in_channels=1, small_input=True)
    with pytest.raises(ValueError, match="expects 1-channel images of at least 1x1, got 3x28x28"):
        model(torch.zeros(1, 3, 28, 28))


def test_width_must_give_whole_channel_counts():
    with pytest.raises(ValueError, match="width=0.3 turns a 64-channel layer into 19.2 channels"):
        models.create("googlenet", width=0.3)
    assert count(meta("vgg16", width=0.5)) < count(meta("vgg16")) / 3


# --- AlexNet ----------------------------------------------------------------------------

def test_alexnet_paper_layers_and_parameters():
    net = meta("alexnet_paper")
    f, c = net.features, net.classifier
    conv = lambda k, c_in, c_out, groups=1: (k * k * c_in // groups + 1) * c_out
    expected = {
        f.conv1: conv(11, 3, 96), f.conv2: conv(5, 96, 256, groups=2), f.conv3: conv(3, 256, 384),
        f.conv4: conv(3, 384, 384, groups=2), f.conv5: conv(3, 384, 256, groups=2),
        c.fc6: (6 * 6 * 256 + 1) * 4096, c.fc7: (4096 + 1) * 4096, c.fc8: (4096 + 1) * 1000,
    }
    for layer, n in expected.items():
        assert count(layer) == n
    assert count(net) == sum(expected.values()) == 60_965_224  # the paper's "60 million"
    assert count(c.fc8) != 4096 * 4096  # seed 002's table is wrong about the logits layer
    assert count(f) < count(c) / 15  # parameters live in the FC layers
    assert net.features(torch.empty(1, 3, 227, 227, device="meta")).shape == (1, 256, 6, 6)
    assert [f.conv1.out_channels, f.conv2.out_channels, f.conv3.out_channels, f.conv4.out_channels,
            f.conv5.out_channels] == [96, 256, 384, 384, 256]
    # torchvision's single-GPU variant has more parameters than the paper's
    assert count(meta("alexnet")) == 61_100_840


def test_grouped_convolution_keeps_the_two_gpus_apart():
    conv2 = models.create("alexnet_paper", width=0.25).features.conv2  # 24 -> 64, groups=2
    x = torch.randn(1, 24, 7, 7, requires_grad=True)
    (grad,) = torch.autograd.grad(conv2(x)[0, :32].sum(), x)
    assert grad[0, :12].abs().sum() > 0 and grad[0, 12:].abs().sum() == 0


def test_lrn_is_the_papers_formula():
    a = torch.randn(2, 9, 4, 4) * 10
    n, k, alpha, beta = 5, 2.0, 1e-4, 0.75
    expected = torch.stack([
        a[:, i] / (k + alpha * (a[:, max(0, i - n // 2):min(8, i + n // 2) + 1] ** 2).sum(1)) ** beta
        for i in range(9)], 1)
    torch.testing.assert_close(lrn()(a), expected)
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in meta("alexnet_paper").modules()) == 2


# --- VGG --------------------------------------------------------------------------------

# Table 1 of the paper, column by column ("conv3-64" = 3x3 convolution with 64 filters).
VGG_TABLE = {
    "vgg11": "conv3-64 M conv3-128 M conv3-256 conv3-256 M conv3-512 conv3-512 M conv3-512 conv3-512 M",
    "vgg11_lrn": "conv3-64 LRN M conv3-128 M conv3-256 conv3-256 M conv3-512 conv3-512 M "
                 "conv3-512 conv3-512 M",
    "vgg13": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 M conv3-512 conv3-512 M "
             "conv3-512 conv3-512 M",
    "vgg16_c": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 conv1-256 M "
               "conv3-512 conv3-512 conv1-512 M conv3-512 conv3-512 conv1-512 M",
    "vgg16": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 conv3-256 M "
             "conv3-512 conv3-512 conv3-512 M conv3-512 conv3-512 conv3-512 M",
    "vgg19": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 conv3-256 conv3-256 M "
             "conv3-512 conv3-512 conv3-512 conv3-512 M conv3-512 conv3-512 conv3-512 conv3-512 M",
}


def vgg_parameters(column: str) -> int:
    total, c_in = 0, 3
    for layer in column.split():
        if layer.startswith("conv"):
            k, c_out = map(int, layer[4:].split("-"))
            total, c_in = total + (k * k * c_in + 1) * c_out, c_out
    return total + (7 * 7 * 512 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000


@pytest.mark.parametrize("name, millions", [
    ("vgg11", 133), ("vgg11_lrn", 133), ("vgg13", 133), ("vgg16_c", 134), ("vgg16", 138), ("vgg19", 144)])
def test_vgg_parameters_match_table_2(name, millions):
    net = meta(name)
    assert count(net) == vgg_parameters(VGG_TABLE[name])
    assert round(count(net) / 1e6) == millions
    assert count(net.classifier[0]) > 100e6  # the first FC layer alone
    kernels = [m.kernel_size[0] for m in net.features if isinstance(m, nn.Conv2d)]
    assert kernels == [int(layer[4]) for layer in VGG_TABLE[name].split() if layer.startswith("conv")]
    assert net(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 1000)


def test_vgg_bn_forms_and_small_input():
    bn = meta("vgg16_bn")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in bn.modules()) == 13
    assert count(bn) == count(meta("vgg16")) + 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512)
    small = meta("vgg11", small_input=True)
    assert sum(isinstance(m, nn.MaxPool2d) for m in small.features) == 4
    assert small.classifier[0].in_features == 512


# --- NiN --------------------------------------------------------------------------------

def nin_parameters(blocks: list[tuple[int, int, tuple[int, int, int]]]) -> int:
    total = 0
    for k, c_in, (c1, c2, c3) in blocks:
        total += (k * k * c_in + 1) * c1 + (c1 + 1) * c2 + (c2 + 1) * c3
    return total


def test_nin_parameters_from_the_layer_spec():
    imagenet = [(11, 3, (96, 96, 96)), (5, 96, (256, 256, 256)), (3, 256, (384, 384, 384)),
                (3, 384, (1024, 1024, 1000))]
    cifar = [(5, 3, (192, 160, 96)), (5, 96, (192, 192, 192)), (3, 192, (192, 192, 10))]
    assert count(meta("nin")) == nin_parameters(imagenet) == 7_595_176
    assert count(meta("nin", small_input=True, num_classes=10)) == nin_parameters(cifar) == 966_986
    assert count(meta("alexnet")) / count(meta("nin")) > 8  # no FC layers


def test_nin_global_average_pooling():
    torch.manual_seed(0)
    model = models.create("nin", small_input=True, num_classes=10, width=0.25).eval()
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        maps = model.features(x)
        assert maps.shape == (2, 10, 8, 8)  # one 8x8 map per class
        torch.testing.assert_close(model(x), maps.mean((2, 3)))
        assert model(torch.randn(2, 3, 48, 40)).shape == (2, 10)  # any size: no FC layer to fit
    assert [type(m).__name__ for m in model.features.mlpconv1] == ["Conv2d", "ReLU"] * 3
    assert model.features.mlpconv1.cccp1.kernel_size == (1, 1)


def test_nin_class_relu_only_on_the_class_maps():
    torch.manual_seed(0)
    caffe = models.create("nin", small_input=True, num_classes=10, width=0.25).eval()
    linear = models.create("nin", small_input=True, num_classes=10, width=0.25, class_relu=False).eval()
    assert isinstance(linear.features.mlpconv3.relu2, nn.Identity)
    assert isinstance(linear.features.mlpconv2.relu2,
                      nn.ReLU) and isinstance(linear.features.mlpconv3.relu1, nn.ReLU)
    assert count(linear) == count(caffe)
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        assert (caffe(x) >= 0).all() and (linear(x) < 0).any()   # averages of ReLU maps are never negative


# --- GoogLeNet and BN-Inception ---------------------------------------------------------

GOOGLENET_TABLE = {  # Table 1: in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def conv_bn(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + 2 * c_out


def test_googlenet_parameters_from_table_1():
    modules = sum(conv_bn(1, c, a) + conv_bn(1, c, b) + conv_bn(3, b, b3) + conv_bn(1, c, r)
                  + conv_bn(5, r, c5) + conv_bn(1, c, p)
                  for c, a, b, b3, r, c5, p in GOOGLENET_TABLE.values())
    stem = conv_bn(7, 3, 64) + conv_bn(1, 64, 64) + conv_bn(3, 64, 192)
    paper = meta("googlenet", aux_logits=False, paper_5x5=True)
    assert count(paper) == stem + modules + 1024 * 1000 + 1000 == 7_005_832
    torchvision_3x3 = sum((25 - 9) * r * c5 for _, _, _, _, r, c5, _ in GOOGLENET_TABLE.values())
    assert count(meta("googlenet", aux_logits=False)) == count(paper) - torchvision_3x3 == 6_624_904
    aux = lambda c_in: conv_bn(1, c_in, 128) + (128 * 4 * 4 + 1) * 1024 + (1024 + 1) * 1000
    assert count(meta("googlenet")) == 6_624_904 + aux(512) + aux(528) == 13_004_888
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)


def test_googlenet_auxiliary_classifiers_match_torchvision_in_training():
    torch.manual_seed(0)
    ref = reference("torchvision", "googlenet", dropout=0.0, dropout_aux=0.0, init_weights=False).train()
    ours = meta("googlenet", dropout=0.0, dropout_aux=0.0)
    ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
    ours.train()
    x = torch.randn(2, 3, 15, 15)
    with torch.no_grad():
        out, expected = ours(x), ref(x)
    assert out._fields == ("logits", "aux1", "aux2")
    torch.testing.assert_close(out.logits, expected.logits)
    torch.testing.assert_close(out.aux1, expected.aux_logits1)
    torch.testing.assert_close(out.aux2, expected.aux_logits2)
    traced = torch.fx.symbolic_trace(ours)
    assert type(traced(x)).__name__ == "GoogLeNetOutputs"
    assert meta("googlenet", aux_logits=False).aux1 is None


def test_googlenet_stem_pool_quarters_the_modules():
    full = meta("googlenet", small_input=True, aux_logits=False, width=0.125)
    pooled = meta("googlenet", small_input=True, stem_pool=True, aux_logits=False, width=0.125)
    assert count(pooled) == count(full)   # the same layers, one more pooling
    assert isinstance(full.maxpool1, nn.Identity) and isinstance(pooled.maxpool1, nn.MaxPool2d)
    x = torch.empty(1, 3, 28, 28, device="meta")
    stem = lambda net: net.maxpool2(net.conv3(net.conv2(net.maxpool1(net.conv1(x)))))
    assert stem(full).shape[-1] == 28 and stem(pooled).shape[-1] == 14   # the grid of inception3a
    with pytest.raises(ValueError, match="pass small_input=True"):
        models.create("googlenet", stem_pool=True)


# Figure 5: in, #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool proj,
# and the module's output grid at 224x224.
BN_INCEPTION_TABLE = {
    "3a": (192, 64, 64, 64, 64, 96, 32, 28), "3b": (256, 64, 64, 96, 64, 96, 64, 28),
    "3c": (320, 0, 128, 160, 64, 96, 0, 14), "4a": (576, 224, 64, 96, 96, 128, 128, 14),
    "4b": (576, 192, 96, 128, 96, 128, 128, 14), "4c": (576, 160, 128, 160, 128, 160, 128, 14),
    "4d": (608, 96, 128, 192, 160, 192, 128, 14), "4e": (608, 0, 128, 192, 192, 256, 0, 7),
    "5a": (1056, 352, 192, 320, 160, 224, 128, 7), "5b": (1024, 352, 192, 320, 192, 224, 128, 7),
}


def test_bn_inception_matches_figure_5():
    total = conv_bn(7, 3, 64) + conv_bn(1, 64, 64) + conv_bn(3, 64, 192) + 1024 * 1000 + 1000
    for c, a, r, b, dr, d, p, _ in BN_INCEPTION_TABLE.values():
        total += (conv_bn(1, c, a) if a else 0) + conv_bn(1, c, r) + conv_bn(3, r, b)
        total += conv_bn(1, c, dr) + conv_bn(3, dr, d) + conv_bn(3, d, d) + (conv_bn(1, c, p) if p else 0)
    net = meta("bn_inception")
    assert count(net) == total == 11_285_224  # the paper's text says 13.6M
    x = torch.empty(1, 3, 224, 224, device="meta")
    x = net.maxpool2(net.conv3(net.conv2(net.maxpool1(net.conv1(x)))))
    names = list(BN_INCEPTION_TABLE)
    for name, next_name in zip(names, names[1:] + [None]):
        x = getattr(net, f"inception{name}")(x)
        channels = BN_INCEPTION_TABLE[next_name][0] if next_name else 1024
        assert x.shape == (1, channels, BN_INCEPTION_TABLE[name][-1], BN_INCEPTION_TABLE[name][-1]), name
    no_5x5 = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (5, 5)]
    assert no_5x5 == [] and net.conv1.conv.kernel_size == (7, 7)


# --- Inception v3, v4, Inception-ResNet-v2 -----------------------------------------------

def test_inception_v3_auxiliary_classifier():
    torch.manual_seed(0)
    ref = reference("torchvision", "inception_v3", init_weights=False).eval()
    ours = meta("inception_v3")
    ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
    grid = torch.randn(2, 768, 17, 17)
    with torch.no_grad():
        torch.testing.assert_close(ours.AuxLogits.eval()(grid), ref.AuxLogits(grid))

    model = models.create("inception_v3", small_input=True, width=0.125, num_classes=7).train()
    seen = []
    model.Mixed_6e.register_forward_hook(lambda module, args, out: seen.append(out))
    x = torch.randn(2, 3, 35, 35)
    with torch.no_grad():
        out = model(x)
        assert out._fields == ("logits", "aux") and out.aux.shape == (2, 7) and seen[0].shape[-1] == 17
        torch.testing.assert_close(out.aux, model.AuxLogits(seen[0]))
        assert model.eval()(x).shape == (2, 7)
    assert meta("inception_v3", aux_logits=False).AuxLogits is None


def test_inception_small_input_keeps_the_parameters_and_the_grids():
    for name in INCEPTIONS:
        assert count(meta(name, small_input=True)) == count(meta(name)), name
    net, seen = meta("inception_v3", small_input=True, aux_logits=False), []
    for grid in (net.Mixed_5d, net.Mixed_6e, net.Mixed_7c):
        grid.register_forward_hook(lambda module, args, out: seen.append(out.shape[-1]))
    net.eval()(torch.empty(1, 3, 32, 32, device="meta"))
    assert seen == [32, 15, 7]  # the paper's 35, 17 and 8


def test_inception_resnet_residual_scale():
    default = meta("inception_resnet_v2")
    assert {b.scale for b in default.repeat} == {0.17} and {b.scale for b in default.repeat_1} == {0.10}
    assert {b.scale for b in default.repeat_2} == {0.20} and default.block8.scale == 1.0
    assert isinstance(default.block8.relu, nn.Identity)
    one = meta("inception_resnet_v2", residual_scale=0.3)
    assert {b.scale for b in [*one.repeat, *one.repeat_1, *one.repeat_2]} == {0.3}

    torch.manual_seed(0)
    model = models.create("inception_resnet_v2", residual_scale=(0.0, 0.1, 0.2), width=0.125).eval()
    x = torch.randn(1, 40, 5, 5)  # 320 channels at width 1/8
    with torch.no_grad():
        torch.testing.assert_close(model.repeat[0](x), torch.relu(x))  # scale 0: the identity, then ReLU
        block = model.repeat_1[0]
        y = torch.randn(1, 136, 5, 5)
        branches = torch.cat([block.branch0(y), block.branch1(y)], 1)
        torch.testing.assert_close(block(y), torch.relu(y + 0.1 * block.conv2d(branches)))


def test_inception_resnet_reduced_blocks_and_stem_pool():
    net = meta("inception_resnet_v2", small_input=True, stem_pool=True, blocks=(1, 2, 1))
    assert (len(net.repeat), len(net.repeat_1), len(net.repeat_2)) == (1, 2, 0)  # the last C block is block8
    assert count(net) < count(meta("inception_resnet_v2", small_input=True))
    seen = []
    for grid in (net.conv2d_4a, net.repeat, net.repeat_1, net.block8):
        grid.register_forward_hook(lambda module, args, out: seen.append(out.shape[-1]))
    net.eval()(torch.empty(1, 3, 28, 28, device="meta"))
    assert seen == [13, 13, 6, 2]  # pooled once after the first three convolutions
    assert count(meta("inception_resnet_v2", small_input=True,
                      stem_pool=True)) == count(meta("inception_resnet_v2"))
    with pytest.raises(ValueError, match="small_input"):
        models.create("inception_resnet_v2", stem_pool=True)
    with pytest.raises(ValueError, match="at least one C block"):
        models.create("inception_resnet_v2", blocks=(1, 2, 0))
    with pytest.raises(ValueError, match="at least 15x15"):
        models.create("inception_resnet_v2", small_input=True, stem_pool=True,
                      width=0.125)(torch.zeros(1, 3, 14, 14))


def test_inception_v4_stem_and_grids():
    net = meta("inception_v4")
    shapes = []
    x = torch.empty(1, 3, 299, 299, device="meta")
    for layer in net.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes[5] == (384, 35, 35)  # the stem, Figure 3
    assert shapes[9] == (384, 35, 35) and shapes[10] == (1024, 17, 17)
    assert shapes[17] == (1024, 17, 17) and shapes[18] == (1536, 8, 8) and shapes[21] == (1536, 8, 8)
