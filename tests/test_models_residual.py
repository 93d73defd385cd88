"""The residual families: ResNet, highway, pre-activation ResNet, wide ResNet, ResNeXt,
stochastic depth, DenseNet, DPN and ResNeSt.

Reference models (torchvision, timm) are built with random weights; ours are built on
the meta device and take the reference's tensors, which is both the strict
state_dict check and fast.
"""

import pytest
import timm
import torch
import torch.fx
import torchvision
from torch import nn

from cnnbook import models
from cnnbook.analysis import capture_activations
from cnnbook.models._registry import _BUILDERS
from cnnbook.models.blocks import BasicBlock, Bottleneck, PreActBasicBlock
from cnnbook.models.densenet import DenseNet, densenet_bc, saved_tensor_bytes
from cnnbook.models.dpn import DualPathBlock, cifar_dpn
from cnnbook.models.highway import HighwayBlock
from cnnbook.models.preact_resnet import PreActResNet
from cnnbook.models.resnext import AggregatedPathsBlock, ConcatPathsBlock, cifar_resnext, copy_resnext_weights
from cnnbook.models.stochastic_depth import StochasticDepth, linear_survival
from cnnbook.models.wide_resnet import wide_resnet

FAMILIES = {f"cnnbook.models.{m}" for m in
            ("resnet", "highway", "preact_resnet", "wide_resnet", "resnext", "densenet", "dpn", "resnest")}
OURS = sorted(n for n in models.names() if _BUILDERS[n].__module__ in FAMILIES)
REFERENCED = [n for n in OURS if models.info(n).library]
# Paper-only models (no library twin); the 1001-layer one has its own test.
UNREFERENCED = [n for n in OURS if not models.info(n).library and n != "preact_resnet1001"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The inputs are tiny: one thread is as fast, and much faster on a shared, loaded CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def count(module: nn.Module, skip_bn: bool = False) -> int:
    return sum(p.numel() for m in module.modules() if not (skip_bn and isinstance(m, nn.BatchNorm2d))
               for p in m.parameters(recurse=False))


def reference(library: str, name: str) -> nn.Module:
    return torchvision.models.get_model(name) if library == "torchvision" else timm.create_model(name)


def randomize_bn_statistics(model: nn.Module) -> None:
    """Make BN running statistics non-trivial so that eval-mode comparisons mean something."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)


def smallest_input(model: nn.Module, batch: int = 2) -> torch.Tensor:
    spec = model.input_spec
    return torch.randn(batch, spec.channels, spec.min_size, spec.min_size)


def test_every_model_of_the_families_is_covered():
    assert len(REFERENCED) == 22
    assert {"resnet110", "resnet110_stochastic_depth", "plain20", "plain56", "plain18", "plain34", "highway",
            "preact_resnet110", "preact_resnet164", "preact_resnet1001", "wrn28_10", "wrn16_8",
            "densenet_bc100"} <= set(OURS)


@pytest.mark.parametrize("name", REFERENCED)
def test_matches_reference_weights_and_outputs(name):
    info = models.info(name)
    torch.manual_seed(0)
    ref = reference(info.library, info.library_name).eval()
    randomize_bn_statistics(ref)
    with torch.device("meta"):
        ours = models.create(name)
    ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
    assert count(ours) == count(ref) == info.library_params
    ours.eval()
    x = smallest_input(ours, batch=1)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), rtol=1e-4, atol=1e-5)
    del ref
    torch.fx.symbolic_trace(ours)
    ours.train()
    ours(smallest_input(ours)).sum().backward()  # forward and backward at the smallest input
    assert all(p.grad is not None for p in ours.parameters())


@pytest.mark.parametrize("name", UNREFERENCED)
def test_fx_and_backward_at_the_smallest_input(name):
    torch.manual_seed(0)
    model = models.create(name).eval()
    x = smallest_input(model)
    traced = torch.fx.symbolic_trace(model)
    torch.testing.assert_close(traced(x), model(x))
    for gate in model.modules():
        if isinstance(gate, StochasticDepth):
            gate.survival = 1.0     # every branch runs, so every parameter gets a gradient
    model.train()
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", [n for n in OURS if models.info(n).paper_params])
def test_parameter_counts_match_the_papers(name):
    """Our count, printed as the paper prints it ("0.27M", "36.5M"), is the paper's."""
    info = models.info(name)
    with torch.device("meta"):
        millions = count(models.create(name), skip_bn=info.paper_without_bn) / 1e6
    digits = len(info.paper_params.removesuffix("M").partition(".")[2])
    assert f"{millions:.{digits}f}M" == info.paper_params


def test_option_a_shortcuts_add_no_parameters():
    assert count(models.create("plain20")) == count(models.create("resnet20"))


def test_preact_resnet1001_parameters_fx_and_backward():
    model = models.create("preact_resnet1001")
    assert count(model) == 10_327_706   # the paper's 10.2M leaves out the BN parameters (0.15M)
    assert len(model.stages[2].blocks) == 111
    torch.fx.symbolic_trace(model)
    model(smallest_input(model)).sum().backward()


def test_preact_resnet20_is_resnet20_with_full_pre_activation():
    pre, post = models.create("preact_resnet20"), models.create("resnet20", shortcut="projection")
    main_path = [n for n, m in pre.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in n]
    assert len(main_path) == 20                       # 19 3x3 convolutions and the 1x1 classifier
    assert [len(stage.blocks) for stage in pre.stages] == [3, 3, 3]
    assert [stage.blocks[-1].conv2.out_channels for stage in pre.stages] == [16, 32, 64]
    # the same convolutions; post-activation adds a BN to each projection, pre-activation a final BN
    assert count(pre, skip_bn=True) == count(post, skip_bn=True)
    with pytest.raises(ValueError, match="6n\\+2"):
        models.preact_resnet.cifar_preact("preact_resnet21", 21, 10, 3, 1.0)


def test_exact_counts_of_the_cifar_resnets():
    assert count(models.create("resnet110")) == 1_727_962
    assert count(models.create("wrn28_10")) == 36_479_194


# --- ResNet knobs ---------------------------------------------------------------

def test_small_input_width_and_channels_for_fashion_mnist():
    for name in ("resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "preact_resnet18",
                 "resnest50d", "dpn68", "densenet121", "plain18"):
        kwargs = dict(num_classes=10, in_channels=1, small_input=True)
        if name not in ("dpn68", "densenet121", "plain18"):
            kwargs["width"] = 0.25
        model = models.create(name, **kwargs)
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10), name
    stem = models.create("resnet18", small_input=True).conv1
    assert stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    with torch.device("meta"):
        assert count(models.create("resnet18", width=0.5)) < count(models.create("resnet18")) / 3


def test_v1_puts_the_stride_in_the_first_1x1():
    v15, v1 = models.create("resnet50"), models.create("resnet50", stride_in_1x1=True)
    block15, block1 = v15.layer2[0], v1.layer2[0]
    assert block15.conv1.stride == (1, 1) and block15.conv2.stride == (2, 2)
    assert block1.conv1.stride == (2, 2) and block1.conv2.stride == (1, 1)
    v1.load_state_dict(v15.state_dict())
    v1.eval(), v15.eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(v1(x), v15(x))


def test_plain_networks_have_no_shortcuts():
    with torch.device("meta"):
        plain, res = models.create("plain34"), models.create("resnet34")
    assert count(plain) < count(res)  # no projections
    assert all(m.downsample is None and not m.residual for m in plain.modules() if isinstance(m, BasicBlock))
    block = BasicBlock(8, 8, shortcut="none").eval()
    x = torch.randn(1, 8, 6, 6)
    torch.testing.assert_close(block(x),
                               block.relu(block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))))
    assert count(models.create("plain56")) == count(models.create("resnet56"))  # option A is parameter-free


def test_cifar_resnet_zero_padding_shortcut():
    block = models.create("resnet20").layer2[0]
    x = torch.randn(1, 16, 8, 8)
    out = block.downsample(x)
    assert out.shape == (1, 32, 4, 4)
    torch.testing.assert_close(out[:, :16], x[:, :, ::2, ::2])
    assert out[:, 16:].abs().sum() == 0
    assert count(models.create("resnet20", shortcut="projection")) > count(models.create("resnet20"))


def test_highway_gates_start_closed():
    model = models.create("highway", gate_bias=-3.0)
    gates = [m.gate.bias for m in model.modules() if isinstance(m, HighwayBlock)]
    assert len(gates) == 8 and all(torch.all(b == -3.0) for b in gates)
    block = HighwayBlock(4, gate_bias=-30.0)
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), x, atol=1e-6, rtol=0)  # T ~ 0: the input is carried
    block = HighwayBlock(4, gate_bias=30.0)
    torch.testing.assert_close(block(x), block.relu(block.transform(x)))  # T ~ 1: a plain layer
    assert models.create("highway", num_classes=5, blocks=2)(torch.randn(2, 1, 28, 28)).shape == (2, 5)


def test_wide_resnet_dropout_and_depth():
    model = wide_resnet(16, 2, dropout=0.3)
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 6
    assert all(b.dropout.p == 0.3 for b in model.stages[0].blocks)
    assert model.stages[0].blocks[0].conv1.out_channels == 32
    with pytest.raises(ValueError, match="6n\\+4"):
        wide_resnet(27, 10)


def test_wide_resnet_stem_pool():
    model = wide_resnet(10, 2, in_channels=1, stem_pool=True)
    assert model.reduction == 8 and isinstance(model.stem.pool, nn.MaxPool2d)
    shapes = []
    model.stages[0].register_forward_hook(lambda m, args, out: shapes.append(out.shape))
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10) and shapes[0] == (2, 32, 14, 14)
    assert count(model) == count(wide_resnet(10, 2, in_channels=1))   # pooling adds no parameters
    assert not hasattr(wide_resnet(10, 2).stem, "pool") and wide_resnet(10, 2).reduction == 4
    with pytest.raises(ValueError, match="small_input"):
        PreActResNet(PreActBasicBlock, [1, 1], [8, 16], stem_pool=True)


def test_resnest_radix_and_cardinality():
    kwargs = dict(num_classes=10, in_channels=1, small_input=True, width=0.25)
    for radix, cardinality in [(1, 1), (4, 1), (2, 2)]:
        model = models.create("resnest50d", radix=radix, cardinality=cardinality, **kwargs)
        conv = model.layer1[0].conv2.conv
        assert conv.groups == radix * cardinality and conv.out_channels == 16 * cardinality * radix
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
        torch.fx.symbolic_trace(model)
    with pytest.raises(ValueError, match="radix"):
        models.create("resnest50d", radix=0)


def test_resnest_attention_tap_holds_the_split_weights():
    torch.manual_seed(0)
    for radix in (1, 2, 4):
        model = models.create("resnest14d", num_classes=10, in_channels=1, radix=radix, cardinality=2,
                              width=0.25, small_input=True, stem_pool=True).eval()
        weights = capture_activations(model, torch.randn(3, 1, 28, 28), ["layer2.0.conv2.attention"])
        weights = weights["layer2.0.conv2.attention"]
        assert weights.shape == (3, radix, 64, 1, 1)
        if radix == 1:       # SE-Net's sigmoid gate: strictly between 0 and 1, not a distribution
            assert ((weights > 0) & (weights < 1)).all() and not torch.allclose(weights.sum(1),
                                                                                torch.ones(3, 64, 1, 1))
        else:                # an r-softmax: the splits' weights of each channel sum to one
            torch.testing.assert_close(weights.sum(1), torch.ones(3, 64, 1, 1))


def test_resnest14d_stem_pool_halves_the_maps():
    kwargs = dict(num_classes=10, in_channels=1, width=0.25, small_input=True)
    pooled, unpooled = models.create("resnest14d", stem_pool=True,
                                     **kwargs), models.create("resnest14d", **kwargs)
    assert pooled.reduction == 16 and unpooled.reduction == 8
    assert isinstance(pooled.maxpool, nn.MaxPool2d) and isinstance(unpooled.maxpool, nn.Identity)
    assert pooled(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="small_input"):
        models.create("resnest14d", stem_pool=True)


# --- ResNeXt: the three equivalent forms -----------------------------------------

@pytest.mark.parametrize("stride, in_channels", [(1, 64), (2, 32)])
def test_resnext_block_forms_are_equal(stride, in_channels):
    torch.manual_seed(0)
    grouped = Bottleneck(in_channels, 16, stride, groups=8, width_per_group=4)
    paths = AggregatedPathsBlock(in_channels, 16, stride, cardinality=8, width_per_group=4)
    concat = ConcatPathsBlock(in_channels, 16, stride, cardinality=8, width_per_group=4)
    assert count(grouped) == count(paths) == count(concat)
    randomize_bn_statistics(grouped)
    copy_resnext_weights(grouped, paths)
    copy_resnext_weights(paths, concat)
    x = torch.randn(4, in_channels, 8, 8)
    for train in (False, True):
        for block in (grouped, paths, concat):
            block.train(train)
        with torch.no_grad():
            expected = grouped(x)
            torch.testing.assert_close(paths(x), expected, rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(concat(x), expected, rtol=1e-4, atol=1e-5)
    back = Bottleneck(in_channels, 16, stride, groups=8, width_per_group=4)
    copy_resnext_weights(concat, back)
    for key, value in grouped.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value)


def test_resnext_cardinality_in_the_zoo():
    with torch.device("meta"):
        conv = models.create("resnext101_64x4d").layer1[0].conv2
    assert conv.groups == 64 and conv.in_channels == 256


def test_cifar_resnext_29_matches_table_7():
    with torch.device("meta"):
        small = models.create("resnext29_8x64d")
    convs = [m for m in small.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) - 3 + 1 == 29   # 27 block convolutions and the stem (3 projections), plus the fc
    assert [getattr(small, s)[0].conv2.out_channels for s in small.stage_names] == [512, 1024, 2048]
    assert small.layer3[-1].conv3.out_channels == 1024 and small.layer1[0].conv2.groups == 8


def test_cifar_resnext_width_and_stem_pool():
    model = cifar_resnext(20, 8, 4, num_classes=10, in_channels=1, width=0.25, stem_pool=True)
    assert model.input_spec.model_name == "resnext20_8x4d" and model.reduction == 8
    assert [getattr(model, s)[0].conv2.out_channels for s in model.stage_names] == [32, 64, 128]
    shapes = []
    model.layer1.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10) and shapes[0] == (2, 64, 14, 14)
    assert isinstance(cifar_resnext(11, 8, 4, width=0.25).maxpool, nn.Identity)
    with pytest.raises(ValueError, match="9n\\+2"):
        cifar_resnext(28, 8, 4)
    with pytest.raises(ValueError, match="group_width"):
        cifar_resnext(29, 8, 5, width=0.375)   # 24 channels: 64 * 5 / 24 is not whole


# --- Stochastic depth -----------------------------------------------------------

def test_linear_survival_schedule():
    model = models.create("resnet110_stochastic_depth")
    gates = [m for m in model.modules() if isinstance(m, StochasticDepth)]
    assert len(gates) == 54
    assert [g.survival for g in gates] == pytest.approx([1 - l / 54 * 0.5 for l in range(1, 55)])
    assert gates[-1].survival == pytest.approx(0.5)
    assert linear_survival(4, 0.2) == pytest.approx([0.8, 0.6, 0.4, 0.2])


@pytest.mark.parametrize("mode", ["paper", "drop_path"])
def test_stochastic_depth_eval_is_deterministic_and_training_is_not(mode):
    torch.manual_seed(0)
    model = models.create("resnet110_stochastic_depth", sd_mode=mode)
    x = torch.randn(2, 3, 8, 8)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.allclose(model(x), model(x))
    traced = torch.fx.symbolic_trace(model)  # the random gate is a tensor op, so it traces
    assert not torch.allclose(traced(x), traced(x))


def test_dropped_branches_are_not_computed():
    torch.manual_seed(0)
    model = models.create("resnet110_stochastic_depth", width=0.25).train()
    calls = []
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)][1:]   # the branches' convolutions
    for conv in convs:
        conv.register_forward_hook(lambda *args: calls.append(1))
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    model(x).sum().backward()                          # a skipped block still trains the rest
    expected = 2 * sum(1 - l / 54 * 0.5 for l in range(1, 55))   # two convolutions per surviving block
    assert 0 < len(calls) < len(convs) and x.grad is not None
    counts = []
    for _ in range(40):
        calls.clear()
        model(torch.randn(2, 3, 16, 16))
        counts.append(len(calls))
    assert abs(sum(counts) / len(counts) - expected) < 6   # 81 expected of 108; sd of the mean ~1
    model.eval()
    calls.clear()
    model(torch.randn(2, 3, 16, 16))
    assert len(calls) == len(convs)                     # every branch at test time


@pytest.mark.parametrize("mode", ["paper", "drop_path"])
def test_stochastic_depth_agrees_with_eval_in_expectation(mode):
    torch.manual_seed(0)
    sd = StochasticDepth(0.7, mode)
    branch = torch.randn(8, 3, 2, 2)
    sd.train()
    mean = sum(sd(branch) for _ in range(4000)) / 4000
    sd.eval()
    torch.testing.assert_close(mean, sd(branch), rtol=0, atol=0.1 * branch.abs().max().item())


def test_paper_gate_is_per_batch_and_drop_path_per_sample():
    torch.manual_seed(0)
    ones = torch.ones(256, 1, 1, 1)
    paper, drop_path = StochasticDepth(0.5, "paper"), StochasticDepth(0.5, "drop_path")
    for _ in range(5):
        assert len(paper(ones).unique()) == 1
    assert set(drop_path(ones).unique().tolist()) == {0.0, 2.0}  # kept samples are scaled by 1/p
    paper.eval(), drop_path.eval()
    torch.testing.assert_close(paper(ones), 0.5 * drop_path(ones))  # same net, the scale moved


def test_survival_one_is_the_plain_block():
    x = torch.randn(2, 4, 3, 3)
    for mode in ("paper", "drop_path"):
        sd = StochasticDepth(1.0, mode)
        torch.testing.assert_close(sd(x), x)
        sd.eval()
        torch.testing.assert_close(sd(x), x)
    torch.manual_seed(0)
    always = models.create("resnet110_stochastic_depth", survival_last=1.0)
    plain = models.create("resnet110")
    plain.load_state_dict(always.state_dict())
    assert not any(isinstance(m, StochasticDepth) for m in always.modules())
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(always(x), plain(x))
    with pytest.raises(ValueError, match="mode"):
        StochasticDepth(0.5, "sometimes")


# --- DenseNet memory-efficient mode -----------------------------------------------

def test_densenet_memory_efficient_same_outputs_gradients_less_memory():
    torch.manual_seed(0)
    plain = models.create("densenet_bc100")
    efficient = models.create("densenet_bc100", memory_efficient=True)
    efficient.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    out_plain, out_efficient = plain(x), efficient(x)
    torch.testing.assert_close(out_efficient, out_plain)
    out_plain.square().sum().backward()
    out_efficient.square().sum().backward()
    for (name, p), q in zip(plain.named_parameters(), efficient.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-5, msg=name)
    saved_plain, saved_efficient = saved_tensor_bytes(plain, x), saved_tensor_bytes(efficient, x)
    assert saved_efficient < 0.5 * saved_plain, (saved_plain, saved_efficient)


def test_densenet_bc_growth_rate_blocks_and_stem_pool():
    model = densenet_bc(12, (3, 6, 6), in_channels=1, stem_pool=True)
    assert model.input_spec.model_name == "densenet_bc34_k12"     # 2 x 15 dense convs + stem, 2 transitions, fc
    channels = [layer.conv1.in_channels for layer in model.features.denseblock2.values()]
    assert channels == [30 + 12 * i for i in range(6)]              # (24 + 3 x 12) / 2 = 30, then + k per layer
    assert model.classifier.in_features == (30 + 6 * 12) // 2 + 6 * 12
    shapes = {}
    for name in ("pool0", "denseblock1", "denseblock3"):
        model.features.get_submodule(name).register_forward_hook(
            lambda m, args, out, name=name: shapes.__setitem__(name, tuple(out.shape)))
    model(torch.randn(2, 1, 28, 28)).sum().backward()
    assert shapes == {"pool0": (2, 24, 14, 14), "denseblock1": (2, 60, 14, 14), "denseblock3": (2, 123, 3, 3)}
    assert model.input_spec.min_size == 8
    with pytest.raises(ValueError, match="small_input=True"):
        DenseNet(12, (3,), 24, stem_pool=True)
    with pytest.raises(ValueError, match="growth rate"):
        densenet_bc(0, (3, 6))
    assert count(models.create("densenet_bc100")) == count(densenet_bc(12, (16, 16, 16)))


def test_torchvision_densenet_weights_load_into_memory_efficient_mode():
    with torch.device("meta"):
        ours = models.create("densenet121", memory_efficient=True)
        ref = torchvision.models.densenet121(memory_efficient=True)
    ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
    assert ours.features.denseblock1.denselayer1.norm1.weight.shape == (64,)


def test_cifar_dpn_widths_paths_and_stem_pool():
    model = models.create("dpn20_small")
    shapes = {}
    for name, block in model.features.named_children():
        if isinstance(block, DualPathBlock):
            block.register_forward_hook(lambda m, args, out,
                                        name=name: shapes.__setitem__(name, tuple(out.shape)))
    model(torch.randn(2, 1, 28, 28)).sum().backward()
    # residual width bw plus a dense path of 3 inc after a stage's first block, one inc more per block
    assert shapes == {"conv2_1": (2, 32 + 24, 14, 14), "conv2_2": (2, 32 + 32, 14, 14),
                      "conv3_1": (2, 64 + 48, 7, 7), "conv3_2": (2, 64 + 64, 7, 7),
                      "conv4_1": (2, 128 + 48, 4, 4), "conv4_2": (2, 128 + 64, 4, 4)}
    assert model.features.conv2_1.c3x3_b.conv.groups == 2 and model.input_spec.min_size == 8
    assert isinstance(cifar_dpn((1,), (8,), (8,), (4,), 4, stem_pool=False).features.conv1_pool, nn.Identity)
    assert models.create("dpn68").input_spec.min_size == 32
    assert models.create("dpn68", small_input=True).input_spec.min_size == 8
    residual_only = cifar_dpn((1, 2), (8, 8), (8, 16), (0, 0), groups=4)
    dense_only = cifar_dpn((1, 2), (8, 8), (0, 0), (4, 4), groups=4)
    assert residual_only.classifier.in_channels == 16 and dense_only.classifier.in_channels == 3 * 4 + 4
    for model in (residual_only, dense_only):
        model(torch.randn(2, 1, 28, 28)).sum().backward()
    with pytest.raises(ValueError, match="not both 0"):
        cifar_dpn((1,), (8,), (0,), (0,), 4)
    with pytest.raises(ValueError, match="multiple of groups"):
        cifar_dpn((1,), (10,), (8,), (4,), 4)
    with pytest.raises(ValueError, match="one entry per stage"):
        cifar_dpn((1, 1), (8,), (8,), (4,), 4)


# --- Bad input --------------------------------------------------------------------

@pytest.mark.parametrize("name, small, shape, message", [
    ("resnet50", {}, (1, 3, 16, 16), "at least 32x32.*small_input=True"),
    ("resnet50", {}, (1, 1, 224, 224), "3-channel"),
    ("resnet18", {"small_input": True}, (1, 3, 4, 4), "at least 8x8"),
    ("resnet56", {}, (1, 3, 2, 2), "at least 4x4"),
    ("densenet121", {"in_channels": 1}, (1, 3, 64, 64), "1-channel"),
    ("highway", {}, (1, 3, 28, 28), "1-channel"),
    ("dpn68", {}, (3, 224, 224), "shape \\(N, C, H, W\\)"),
])
def test_bad_input_says_what_is_expected(name, small, shape, message):
    model = models.create(name, **small)
    with pytest.raises(ValueError, match=message):
        model(torch.randn(*shape))


def test_unknown_variant_names():
    with pytest.raises(ValueError, match="resnet50"):
        models.create("resnet51")
    with pytest.raises(ValueError, match="6n\\+2"):
        from cnnbook.models.resnet import cifar_resnet
        cifar_resnet("resnet21", 21, 10, 3, 1.0)
