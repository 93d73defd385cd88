"""The model registry: ``create(name, **kwargs)`` and ``names()``."""

from __future__ import annotations

import difflib
from typing import Callable

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


def create(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name``; keyword arguments go to its builder."""
    try:
        builder = _BUILDERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, _BUILDERS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"unknown model {name!r}.{hint} cnnbook.models.names() lists all {len(_BUILDERS)}."
        ) from None
    return builder(**kwargs)
