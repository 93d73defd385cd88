"""The model registry: ``create(name, **kwargs)``, ``names()`` and ``info(name)``."""

from __future__ import annotations

import difflib
import inspect
import numbers
import re
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: make ``builder`` available as ``create(builder.__name__)``."""
    name = builder.__name__
    if name in _BUILDERS:
        raise ValueError(f"model name {name!r} is registered twice")
    _BUILDERS[name] = builder
    return builder


def names() -> list[str]:
    """All model names, sorted."""
    return sorted(_BUILDERS)


def create(name: str, **kwargs: Any) -> nn.Module:
    """Build the model registered as ``name``; keyword arguments go to its builder.

    The name, the argument names and the counts every model takes
    (``num_classes``, ``in_channels``, ``width``) are checked before anything is
    built: a mistake is a ValueError or TypeError that says what is accepted.
    """
    if not isinstance(name, str):
        raise TypeError(f"the model name must be a string such as 'lenet', got {name!r}; "
                        "cnnbook.models.names() lists them.")
    try:
        builder = _BUILDERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, _BUILDERS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"unknown model {name!r}.{hint} cnnbook.models.names() lists all {len(_BUILDERS)}."
        ) from None
    _check_counts(name, kwargs)
    parameters = inspect.signature(builder).parameters
    named = [p for p, spec in parameters.items() if spec.kind is not inspect.Parameter.VAR_KEYWORD]
    passes_on = len(named) < len(parameters)   # **kwargs: further options for the network's classes
    unknown = [key for key in kwargs if key not in named]
    if unknown and not passes_on:
        raise _unknown_argument(name, unknown[0], named, passes_on)
    try:
        return builder(**kwargs)
    except TypeError as error:   # an option passed on by **kwargs that no class takes, or that the builder sets
        match = re.search(r"(unexpected|multiple values for) keyword argument '(\w+)'", str(error))
        if match is None or match[2] not in unknown:
            raise
        if match[1] == "unexpected":
            raise _unknown_argument(name, match[2], named, passes_on) from None
        raise TypeError(f"{name} sets {match[2]} itself: that is what makes it {name}. Leave {match[2]} out, "
                        "or build the network's class directly.") from None


def _check_counts(name: str, kwargs: dict[str, Any]) -> None:
    """num_classes and in_channels must be whole numbers >= 1, width a number > 0."""
    for key in ("num_classes", "in_channels"):
        value = kwargs.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name}: {key} must be a whole number of at least 1, got {value!r}.")
    width = kwargs.get("width", 1)
    if isinstance(width, bool) or not isinstance(width, numbers.Real) or not width > 0:
        raise ValueError(f"{name}: width is a multiplier of the channel counts and must be a number "
                         f"above 0, got {width!r}.")


def _unknown_argument(name: str, key: str, named: list[str], passes_on: bool) -> TypeError:
    close = difflib.get_close_matches(key, named, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    more = f" and the options of the network's classes listed in help(cnnbook.models.{name})" if passes_on else ""
    return TypeError(f"{name} takes no argument {key!r}.{hint} It accepts: {', '.join(named)}{more}.")


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a model besides its code.

    ``library`` and ``library_name`` name the torchvision or timm model it equals: the
    same module names and parameter shapes, so that model's state_dict loads with
    ``strict=True`` and gives the same outputs. ``library_params`` is that model's
    parameter count. ``paper_params`` is the count its paper prints (``paper_source``
    says where); the model has it at the printed precision, without the batch-norm
    parameters where ``paper_without_bn`` (as those papers count).
    """

    name: str
    library: str | None = None
    library_name: str | None = None
    library_params: int | None = None
    paper_params: str | None = None
    paper_source: str | None = None
    paper_without_bn: bool = False


def info(name: str) -> ModelInfo:
    """What the model registered as ``name`` equals in torchvision or timm, and its paper's count."""
    if not isinstance(name, str) or name not in _BUILDERS:
        create(name)   # raises the error that says which names there are
    return _INFO.get(name, ModelInfo(name))


# The papers whose counts the paper-only models reproduce.
RESNET = "Deep Residual Learning for Image Recognition, Table 6"
IDENTITY = "Identity Mappings in Deep Residual Networks, Tables 3 and 4"
WRN = "Wide Residual Networks, Table 4"
RESNEXT = "Aggregated Residual Transformations for Deep Neural Networks, Table 7"
DENSENET = "Densely Connected Convolutional Networks, Table 2"
_INFO = {entry.name: entry for entry in [
    # the torchvision and timm twins, classic families first
    ModelInfo("alexnet", "torchvision", "alexnet", 61_100_840),
    ModelInfo("vgg11", "torchvision", "vgg11", 132_863_336),
    ModelInfo("vgg11_bn", "torchvision", "vgg11_bn", 132_868_840),
    ModelInfo("vgg13", "torchvision", "vgg13", 133_047_848),
    ModelInfo("vgg13_bn", "torchvision", "vgg13_bn", 133_053_736),
    ModelInfo("vgg16", "torchvision", "vgg16", 138_357_544),
    ModelInfo("vgg16_bn", "torchvision", "vgg16_bn", 138_365_992),
    ModelInfo("vgg19", "torchvision", "vgg19", 143_667_240),
    ModelInfo("vgg19_bn", "torchvision", "vgg19_bn", 143_678_248),
    ModelInfo("googlenet", "torchvision", "googlenet", 13_004_888),
    ModelInfo("inception_v3", "torchvision", "inception_v3", 27_161_264),
    ModelInfo("inception_v4", "timm", "inception_v4", 42_679_816),
    ModelInfo("inception_resnet_v2", "timm", "inception_resnet_v2", 55_843_464),
    # residual families
    ModelInfo("resnet18", "torchvision", "resnet18", 11_689_512),
    ModelInfo("resnet34", "torchvision", "resnet34", 21_797_672),
    ModelInfo("resnet50", "torchvision", "resnet50", 25_557_032),
    ModelInfo("resnet101", "torchvision", "resnet101", 44_549_160),
    ModelInfo("resnet152", "torchvision", "resnet152", 60_192_808),
    ModelInfo("wide_resnet50_2", "torchvision", "wide_resnet50_2", 68_883_240),
    ModelInfo("wide_resnet101_2", "torchvision", "wide_resnet101_2", 126_886_696),
    ModelInfo("resnext50_32x4d", "torchvision", "resnext50_32x4d", 25_028_904),
    ModelInfo("resnext101_32x8d", "torchvision", "resnext101_32x8d", 88_791_336),
    ModelInfo("resnext101_64x4d", "torchvision", "resnext101_64x4d", 83_455_272),
    ModelInfo("densenet121", "torchvision", "densenet121", 7_978_856),
    ModelInfo("densenet169", "torchvision", "densenet169", 14_149_480),
    ModelInfo("densenet201", "torchvision", "densenet201", 20_013_928),
    ModelInfo("preact_resnet18", "timm", "resnetv2_18", 11_687_720),
    ModelInfo("preact_resnet34", "timm", "resnetv2_34", 21_795_880),
    ModelInfo("preact_resnet50", "timm", "resnetv2_50", 25_549_352),
    ModelInfo("preact_resnet101", "timm", "resnetv2_101", 44_541_480),
    ModelInfo("preact_resnet152", "timm", "resnetv2_152", 60_185_128),
    ModelInfo("dpn68", "timm", "dpn68", 12_611_602),
    ModelInfo("dpn92", "timm", "dpn92", 37_668_392),
    ModelInfo("resnest50d", "timm", "resnest50d", 27_483_240),
    ModelInfo("resnest14d", "timm", "resnest14d", 10_611_688),
    # paper-only models: the counts their papers print
    ModelInfo("resnet20", paper_params="0.27M", paper_source=RESNET),
    ModelInfo("resnet32", paper_params="0.46M", paper_source=RESNET),
    ModelInfo("resnet44", paper_params="0.66M", paper_source=RESNET),
    ModelInfo("resnet56", paper_params="0.85M", paper_source=RESNET),
    ModelInfo("resnet110", paper_params="1.7M", paper_source=RESNET),
    ModelInfo("preact_resnet110", paper_params="1.7M", paper_source=IDENTITY),
    ModelInfo("preact_resnet164", paper_params="1.7M", paper_source=IDENTITY),
    ModelInfo("preact_resnet1001", paper_params="10.2M", paper_source=IDENTITY, paper_without_bn=True),
    ModelInfo("wrn28_10", paper_params="36.5M", paper_source=WRN),
    ModelInfo("wrn16_8", paper_params="11.0M", paper_source=WRN),
    ModelInfo("wrn40_4", paper_params="8.9M", paper_source=WRN),
    ModelInfo("resnext29_8x64d", paper_params="34.4M", paper_source=RESNEXT, paper_without_bn=True),
    ModelInfo("resnext29_16x64d", paper_params="68.1M", paper_source=RESNEXT, paper_without_bn=True),
    ModelInfo("densenet_bc100", paper_params="0.8M", paper_source=DENSENET),
]}
