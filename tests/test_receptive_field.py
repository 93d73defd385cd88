"""Tests of cnnbook.analysis.receptive_field: hand-computed stacks, published values
(Araujo, Norris and Sim, Distill 2019), and an independent check by gradients: the
input pixels that one unit depends on must lie inside (and, for a network with
positive weights and no max pooling, exactly fill) the rectangle it reports."""

from __future__ import annotations

import inspect

import pytest
import torch
import torchvision
from torch import fx, nn

from cnnbook.analysis import ReceptiveField, UnsupportedLayerError, receptive_field
from cnnbook.models import create, names
from cnnbook.models._registry import _BUILDERS


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small(name: str, **kwargs) -> nn.Module:
    """The model ``name``, as narrow as its builder allows: receptive fields do not depend on width."""
    if "width" in inspect.signature(_BUILDERS[name]).parameters and name != "lenet":
        kwargs.setdefault("width", 0.5 if name.startswith("resnext") else 0.125)
    return create(name, **kwargs)


def stack(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(*layers)


def conv(k, s=1, p=0, d=1) -> nn.Conv2d:
    return nn.Conv2d(1, 1, k, s, p, d)


# ------------------------------------------------------------------ hand-computed stacks

def test_three_3x3_convolutions_see_7x7():
    rf = receptive_field(stack(conv(3, p=1), nn.ReLU(), conv(3, p=1), nn.ReLU(), conv(3, p=1)), (1, 32, 32))
    assert (rf.size, rf.stride, rf.padding) == ((7, 7), (1, 1), (3, 3))
    assert [r.size for r in rf.layers] == [(1, 1), (3, 3), (3, 3), (5, 5), (5, 5), (7, 7)]
    assert rf.rectangle((0, 0)) == ((-3, 3), (-3, 3))
    assert rf.rectangle((10, 4)) == ((7, 13), (1, 7))
    assert not rf.misaligned and not rf.sees_whole_image


def test_stride_multiplies_the_jump():
    rf = receptive_field(stack(conv(3, s=2), conv(3)), (1, 32, 32))
    assert (rf.size, rf.stride, rf.padding) == ((7, 7), (2, 2), (0, 0))
    assert rf.rectangle((1, 2)) == ((2, 8), (4, 10))


def test_dilations_1_2_4_see_15():
    rf = receptive_field(stack(conv(3, p=1, d=1), conv(3, p=2, d=2), conv(3, p=4, d=4)), (1, 32, 32))
    assert (rf.size, rf.stride, rf.padding) == ((15, 15), (1, 1), (7, 7))


def test_asymmetric_kernel_per_axis():
    rf = receptive_field(stack(nn.Conv2d(1, 1, (1, 7), padding=(0, 3)),
                               nn.Conv2d(1, 1, (3, 1), 2)), (1, 20, 20))
    assert rf.layers[1].size == (1, 7)
    assert (rf.size, rf.stride, rf.padding) == ((3, 7), (2, 2), (0, 3))


def test_ceil_mode_changes_the_map_not_the_field():
    floor = receptive_field(stack(conv(3), nn.MaxPool2d(2, 2)), (1, 9, 9))
    ceil = receptive_field(stack(conv(3), nn.MaxPool2d(2, 2, ceil_mode=True)), (1, 9, 9))
    assert floor.layers[-1].output_shape == (1, 3, 3) and ceil.layers[-1].output_shape == (1, 4, 4)
    assert (ceil.size, ceil.stride, ceil.padding) == (floor.size, floor.stride, floor.padding)
    assert (ceil.size, ceil.stride, ceil.padding) == ((4, 4), (2, 2), (0, 0))
    assert ceil.rectangle((3, 3)) == ((6, 9), (6, 9))   # the last window hangs over the edge of the 9x9 image


def test_functional_layers_and_conv1d():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(1, 1, 5, 3))

        def forward(self, x):
            x = nn.functional.conv2d(x, self.weight, padding=(2, 1), dilation=(1, 2))
            x = nn.functional.max_pool2d(x, 3, stride=2, padding=1)
            return nn.functional.avg_pool2d(x, 2)

    rf = receptive_field(Functional(), (1, 16, 16))
    # conv: extent (5, 5), padding (2, 1); max pool 3/2: (7, 7), jump 2, padding +1; avg pool 2/2: (9, 9), jump 4
    assert (rf.size, rf.stride, rf.padding) == ((9, 9), (4, 4), (3, 2))
    one_d = receptive_field(nn.Sequential(nn.Conv1d(1, 1, 3, 2), nn.Conv1d(1, 1, 3)), (1, 40))
    assert (one_d.size, one_d.stride, one_d.rectangle((3,))) == ((7,), (2,), ((6, 12),))


# ------------------------------------------------------------------ several paths

class Residual(nn.Module):
    def __init__(self, crop: bool):
        super().__init__()
        self.branch = nn.Conv2d(1, 1, 3, padding=0 if crop else 1)
        self.shortcut = nn.Conv2d(1, 1, 1)
        self.crop = crop

    def forward(self, x):
        short = self.shortcut(x)
        if self.crop:
            short = short[:, :, :-2, :-2]   # the size fits, the centres do not
        return torch.relu(self.branch(x) + short)


def test_residual_block_is_the_union_of_its_paths():
    rf = receptive_field(Residual(crop=False), (1, 8, 8))
    assert (rf.size, rf.stride, rf.padding) == ((3, 3), (1, 1), (1, 1))
    assert not rf.misaligned


def test_misaligned_paths_are_reported():
    rf = receptive_field(Residual(crop=True), (1, 8, 8))
    assert [name for name, _ in rf.misaligned] == ["add"]
    assert "centres" in rf.misaligned[0][1]
    # the branch sees pixels 0..2 from unit 0, the cropped shortcut pixel 0: the union is 0..2
    assert (rf.size, rf.padding) == ((3, 3), (0, 0))
    assert "Misaligned: add" in str(rf)


def test_inception_concatenation_is_aligned():
    rf = receptive_field(small("inception_v3"), (3, 299, 299))
    assert not rf.misaligned


# ------------------------------------------------------------------ published values

def test_vgg16_matches_distill():
    rf = receptive_field(small("vgg16"), (3, 224, 224))
    convs = [r for r in rf.layers if r.type == "Conv2d"]
    pools = [r for r in rf.layers if r.type == "MaxPool2d"]
    assert convs[-1].size == (196, 196)                              # conv5_3
    assert (pools[-1].size, pools[-1].stride, pools[-1].padding) == ((212, 212), (32, 32), (90, 90))  # pool5
    assert (rf.size, rf.stride, rf.padding) == ((212, 212), (32, 32), (90, 90))
    tv = receptive_field(torchvision.models.vgg16(), (3, 224, 224))
    assert (tv.size, tv.stride, tv.padding) == ((212, 212), (32, 32), (90, 90))


def test_alexnet_matches_distill():
    rf = receptive_field(small("alexnet"), (3, 224, 224))
    pool5 = [r for r in rf.layers if r.type == "MaxPool2d"][-1]
    assert (pool5.size, pool5.stride) == ((195, 195), (32, 32))
    assert rf.sees_whole_image


def test_inception_v3_matches_distill():
    rf = receptive_field(small("inception_v3"), (3, 299, 299))
    assert (rf.size, rf.stride, rf.padding) == ((1311, 1311), (32, 32), (618, 618))   # Mixed_7c


def test_inception_resnet_v2_matches_distill():
    assert receptive_field(small("inception_resnet_v2"), (3, 299, 299)).size == (3039, 3039)


def test_resnet50():
    # 427, not the article's 483: the article's TF-slim ResNet-50 strides in the last unit of
    # each stage, this one (as torchvision's) in the first; the gradient test below confirms 427.
    for model in (small("resnet50"), torchvision.models.resnet50()):
        rf = receptive_field(model, (3, 224, 224))
        assert (rf.size, rf.stride, rf.padding) == ((427, 427), (32, 32), (213, 213))
        assert rf.sees_whole_image and rf.last_spatial.output_shape[-2:] == (7, 7)


# ------------------------------------------------------------------ independent check by gradients

def _truncate(model: nn.Module, node_name: str) -> fx.GraphModule:
    """The traced model, ending at the node called ``node_name``."""
    traced = fx.symbolic_trace(model.eval())
    graph, env = fx.Graph(), {}
    for node in traced.graph.nodes:
        env[node] = graph.node_copy(node, lambda n: env[n])
        if node.name == node_name:
            graph.output(env[node])
            return fx.GraphModule(traced, graph)
    raise KeyError(node_name)


def _support(model: nn.Module, rf: ReceptiveField, unit: tuple[int, int], layer: str) -> torch.Tensor:
    """The input pixels on which unit ``unit`` (summed over channels) of ``layer`` depends."""
    x = torch.ones(1, *rf.input_size, requires_grad=True)
    _truncate(model, layer)(x)[0, :, unit[0], unit[1]].sum().backward()
    return x.grad[0].abs().sum(0) > 0


def _mask(rect, size: tuple[int, int]) -> torch.Tensor:
    (top, bottom), (left, right) = rect
    mask = torch.zeros(size, dtype=torch.bool)
    mask[max(top, 0):bottom + 1, max(left, 0):right + 1] = True
    return mask


def _positive(model: nn.Module) -> nn.Module:
    """Positive weights, identity normalisation and average instead of max pooling: every path counts."""
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                         child.ceil_mode))
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.constant_(module.weight, 1 / module.weight[0].numel())
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        if isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
            module.reset_running_stats()
    return model.eval()


def test_gradient_fills_the_rectangle_of_a_linear_stack():
    # no holes: each dilated tap (jump 2*4 = 8 pixels apart) sees 9 pixels
    model = _positive(stack(nn.Conv2d(1, 2, 3, 2, 1), nn.AvgPool2d(4, 2, 1, ceil_mode=True),
                            nn.Conv2d(2, 1, (5, 3), padding=(4, 2), dilation=2), nn.Conv2d(1, 1, (1, 7))))
    rf = receptive_field(model, (1, 48, 40))
    name = rf.last_spatial.name
    for unit in [(0, 0), (5, 3), (rf.last_spatial.output_shape[1] - 1, 0)]:
        assert torch.equal(_support(model, rf, unit, name), _mask(rf.rectangle(unit), (48, 40))), unit


def test_gradient_with_holes_stays_inside():
    model = _positive(stack(nn.Conv2d(1, 1, 1, 2), nn.Conv2d(1, 1, 3)))   # 1x1 stride 2 leaves holes
    rf = receptive_field(model, (1, 16, 16))
    support = _support(model, rf, (2, 3), rf.last_spatial.name)
    rect = _mask(rf.rectangle((2, 3)), (16, 16))
    assert rf.size == (5, 5) and not (support & ~rect).any() and support.sum() == 9


@pytest.mark.parametrize("name, size, layer, unit", [
    ("vgg16", 224, "features_30", (3, 3)),               # pool5: 212 pixels, all inside the image
    ("resnet50", 512, "layer4_2_relu_2", (8, 8)),        # 427 pixels, all inside a 512 image
    ("resnet18", 96, "layer2_1_relu_1", (5, 7)),
    ("googlenet", 128, "cat_2", (3, 2)),                 # inception blocks: concatenated branches
])
def test_gradient_fills_the_rectangle_of_models(name, size, layer, unit):
    model = _positive(small(name))
    rf = receptive_field(model, (3, size, size))
    support = _support(model, rf, unit, layer)
    assert torch.equal(support, _mask(rf.rectangle(unit, layer), (size, size)))


def test_gradient_of_trained_like_weights_stays_inside():
    for model, size in [(create("lenet"), 28), (small("resnet18"), 64)]:
        torch.manual_seed(0)
        rf = receptive_field(model, (model.input_spec.channels, size, size))
        unit = tuple(n // 2 for n in rf.last_spatial.output_shape[-2:])
        support = _support(model, rf, unit, rf.last_spatial.name)
        assert support.any() and not (support & ~_mask(rf.rectangle(unit), (size, size))).any()


# ------------------------------------------------------------------ whole models

def test_global_pooling_sees_the_whole_image():
    rf = receptive_field(small("resnet18"), (3, 224, 224))
    assert rf.sees_whole_image
    assert (rf.size, rf.stride, rf.padding) == ((435, 435), (32, 32), (217, 217))
    assert rf.last_spatial.name == "layer4_1_relu_1"
    assert rf.gated_from is None   # global pooling makes a 1x1 map, not a gated one
    assert rf.layer("avgpool").global_ and rf.layer("fc").global_
    assert rf.rectangle((0, 0), "fc") == ((0, 223), (0, 223))
    assert rf.layer("layer1.0.conv1") == rf.layer("layer1_0_conv1")
    assert "whole image" in str(rf) and "<table>" in rf._repr_html_()


def test_attention_gates_see_the_whole_image_unless_asked():
    model = small("resnest50d")
    exact = receptive_field(model, (3, 224, 224))
    assert exact.last_spatial.name.startswith("layer1_0")   # the first split attention sees everything
    position = [row.name for row in exact.layers].index   # the gated map is inside the first block
    assert position(exact.layer("layer1.0.conv1").name) < position(exact.gated_from.name) < position(exact.layer("layer1.0").name)
    assert f"From {exact.gated_from.name} on" in str(exact) and "global_context=False" in str(exact)
    features = receptive_field(model, (3, 224, 224), global_context=False)
    assert features.last_spatial.name.startswith("layer4") and features.sees_whole_image
    assert features.gated_from is None and "global_context" not in str(features)
    assert features.stride == (32, 32) and features.size[0] > 224


@pytest.mark.parametrize("name", names())
def test_every_model(name):
    model = small(name)
    spec = model.input_spec
    # the ImageNet size the model was designed for, where its adaptive pooling is a plain pooling
    imagenet = {"inception_v3": 299, "alexnet_paper": 227}.get(name, 224)
    size = spec.size or ((imagenet, imagenet) if spec.min_size >= 32 else (spec.min_size, spec.min_size))
    rf = receptive_field(model, (spec.channels, *size))
    assert rf.sees_whole_image, name
    assert all(r >= 1 for r in rf.size) and all(j >= 1 for j in rf.stride), name
    assert rf.rectangle((0, 0))[0][0] == -rf.padding[0]


def test_default_input_size_comes_from_the_model():
    assert receptive_field(create("lenet")).input_size == (1, 28, 28)


# ------------------------------------------------------------------ errors

def test_unit_out_of_range():
    rf = receptive_field(stack(conv(3), conv(3)), (1, 10, 10))   # the last map is 6x6
    with pytest.raises(ValueError, match=r"unit \(6, 0\) is not in layer"):
        rf.rectangle((6, 0))
    with pytest.raises(ValueError, match="6x6"):
        rf.rectangle((0, -1))
    with pytest.raises(KeyError, match="no layer named"):
        rf.rectangle((0, 0), "nope")


def test_unknown_spatial_module_is_an_error():
    with pytest.raises(UnsupportedLayerError, match="Upsample '1'"):
        receptive_field(stack(conv(3), nn.Upsample(scale_factor=2), conv(3)), (1, 10, 10))
    with pytest.raises(UnsupportedLayerError, match="ConvTranspose2d"):
        receptive_field(stack(nn.ConvTranspose2d(1, 1, 3)), (1, 10, 10))

    class Roll(nn.Module):
        def forward(self, x):
            return torch.roll(x, 1, dims=3)

    with pytest.raises(UnsupportedLayerError, match="roll"):
        receptive_field(Roll(), (1, 10, 10))
