"""What crosses between the grader and a sandboxed submission: data, never code.

A submission's answers come to the grader as JSON built by ``encode``: numbers, strings,
lists, dicts, tensors and arrays (their raw bytes), and, for a function or a module, a
handle that the grader calls back through the sandbox. ``decode`` turns that JSON into
plain Python values, tensors and the grader's proxies and nothing else, so an answer
cannot carry an object whose ``__eq__`` says yes to everything, or a pickle that runs
code in the grader. The other way (grader -> sandbox) the grader's own arguments travel
pickled: the sandbox may trust the grader, not the reverse.
"""

from __future__ import annotations

import base64
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

MAX_ITEMS = 100_000          # elements of a list or dict, or of a tensor, in one answer
MAX_DEPTH = 20
_DTYPES = {str(t).removeprefix("torch."): t for t in (torch.float16, torch.bfloat16,
                                                      torch.float32, torch.float64,
                                                        torch.int8, torch.uint8, torch.int16, torch.int32,
                                                        torch.int64, torch.bool)}
_NUMPY_DTYPES = {"float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"}


def encode(value: Any, handle_of: Callable[[Any], int], depth: int = 0) -> Any:
    """``value`` as JSON-able data; functions and modules as handles from ``handle_of`` (in the sandbox)."""
    if depth > MAX_DEPTH:
        return {"unsupported": "a structure nested too deeply"}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    for kind in (bool, int, float,
                 str):   # subclasses too, as the plain kind: the grader compares plain values
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        if str(tensor.dtype).removeprefix("torch.") not in _DTYPES or tensor.numel() > MAX_ITEMS:
            return {"unsupported": f"a {tensor.dtype} tensor of {tensor.numel()} elements"}
        raw = tensor.view(torch.uint8) if tensor.dtype == torch.bool else tensor
        return {"tensor": str(tensor.dtype).removeprefix("torch."), "shape": list(tensor.shape),
                "bytes": base64.b64encode(raw.reshape(-1).view(torch.uint8).numpy().tobytes()).decode()}
    if isinstance(value, np.ndarray):
        if str(value.dtype) not in _NUMPY_DTYPES or value.size > MAX_ITEMS:
            return {"unsupported": f"a {value.dtype} array of {value.size} elements"}
        return {"array": str(value.dtype), "shape": list(value.shape),
                "bytes": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode()}
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            return {"unsupported": f"a sequence of {len(value)} items"}
        items = [encode(item, handle_of, depth + 1) for item in value]
        return {"tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(key, str) for key in value) and len(value) <= MAX_ITEMS:
        return {"dict": {key: encode(item, handle_of, depth + 1) for key, item in value.items()}}
    if isinstance(value, nn.Module):
        return _encode_module(value, handle_of, depth)
    if callable(value):
        return {"function": handle_of(value), "name": getattr(value, "__name__", type(value).__name__)}
    return {"unsupported": type(value).__name__}


def _encode_module(module: nn.Module, handle_of: Callable[[Any], int], depth: int) -> dict:
    """A module: its class, its plain attributes, parameters, buffers and children; a handle for forward."""
    internal = set(vars(nn.Module()))
    attributes = {name: encode(value, handle_of, depth + 1) for name, value in vars(module).items()
                  if name not in internal and (value is None or type(value) in (bool, int,
                                                                                float, str, tuple))}
    tensors = lambda named: {name: encode(t, handle_of, depth + 1) for name, t in named if t is not None}
    return {"module": handle_of(module), "class": f"{type(module).__module__}.{type(module).__qualname__}",
            "attributes": attributes, "training": module.training,
            "parameters": tensors(module._parameters.items()), "buffers": tensors(module._buffers.items()),
            "children": {name: encode(child, handle_of, depth + 1) for name,
                         child in module.named_children()}}


class Unsupported:
    """An answer of a kind that cannot be sent as data: never equal to anything, not even itself."""

    def __init__(self, what: str):
        self.what = what

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.what}, which cannot be graded>"


def decode(data: Any, remote: Callable[[str, int, str], Any], depth: int = 0) -> Any:
    """The grader's reading of ``encode``'s output; ``remote(kind, handle, name)`` makes a proxy."""
    if depth > MAX_DEPTH + 2:
        raise ValueError("the answer is nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, remote, depth + 1) for item in data]
    if type(data) is not dict:
        raise ValueError(f"unexpected data of type {type(data).__name__}")
    if "tuple" in data:
        return tuple(decode(item, remote, depth + 1) for item in _list(data["tuple"]))
    if "dict" in data:
        return {str(key): decode(item, remote, depth + 1) for key, item in dict(data["dict"]).items()}
    if "tensor" in data:
        dtype, shape = _DTYPES[data["tensor"]], [int(n) for n in data["shape"]]
        raw = bytearray(base64.b64decode(data["bytes"]))
        storage = torch.uint8 if dtype == torch.bool else dtype
        tensor = torch.frombuffer(raw, dtype=storage) if raw else torch.empty(0, dtype=storage)
        return tensor.to(dtype).reshape(shape) if dtype == torch.bool else tensor.reshape(shape)
    if "array" in data:
        if data["array"] not in _NUMPY_DTYPES:
            raise ValueError(f"unexpected array type {data['array']!r}")
        return np.frombuffer(base64.b64decode(data["bytes"]), dtype=data["array"]).reshape(
            [int(n) for n in data["shape"]]).copy()
    if "function" in data:
        return remote("function", int(data["function"]), str(data.get("name", "function")))
    if "module" in data:
        return _decode_module(data, remote, depth)
    if "unsupported" in data:
        return Unsupported(str(data["unsupported"]))
    raise ValueError(f"unexpected data with keys {sorted(data)[:5]}")


def _list(data: Any) -> list:
    if type(data) is not list:
        raise ValueError("expected a list")
    return data


def _decode_module(data: dict, remote: Callable[[str, int, str], Any], depth: int) -> nn.Module:
    """PyTorch's own layers are rebuilt here from their data (their code is trusted); any
    other module becomes a proxy whose forward runs in the sandbox, with its parts rebuilt."""
    module_path, _, name = str(data["class"]).rpartition(".")
    layer = getattr(nn, name, None)
    if module_path.startswith("torch.nn.modules.") and isinstance(layer,
                                                                  type) and issubclass(layer, nn.Module) \
            and layer.__module__ == module_path:
        module = layer.__new__(layer)
        nn.Module.__init__(module)
        for key, value in dict(data["attributes"]).items():
            if key not in vars(module) and not str(key).startswith("__"):
                setattr(module, str(key), decode(value, remote, depth + 1))
    else:
        module = remote("module", int(data["module"]), name)
    module.train(bool(data["training"]))
    for key, value in dict(data["parameters"]).items():
        module.register_parameter(str(key), _parameter(decode(value, remote, depth + 1)))
    for key, value in dict(data["buffers"]).items():
        module.register_buffer(str(key), _tensor(decode(value, remote, depth + 1)))
    for key, value in dict(data["children"]).items():
        child = decode(value, remote, depth + 1)
        if not isinstance(child, nn.Module):
            raise ValueError("a module's child is not a module")
        module.add_module(str(key), child)
    return module


def _parameter(value: Any) -> nn.Parameter:
    tensor = _tensor(value)
    return nn.Parameter(tensor, requires_grad=tensor.is_floating_point())


def _tensor(value: Any) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ValueError("a module's parameter or buffer is not a tensor")
    return value.clone()
