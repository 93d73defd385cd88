"""The model registry: ``create(name, **kwargs)`` and ``names()``."""

from __future__ import annotations

import difflib
import inspect
import numbers
import re
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
