"""Where to compute: CUDA, then Apple MPS, then CPU; ``CNNBOOK_DEVICE`` overrides.

Mixed precision and channels_last help on CUDA GPUs only, so the helpers here
turn them on there and leave CPU and MPS runs in plain float32.
"""

from __future__ import annotations

import contextlib
import os

import torch


class DeviceError(ValueError, RuntimeError):
    """A device that is misspelt or not on this machine (a ValueError; a RuntimeError for older callers)."""


def parse_device(text: str | torch.device, source: str = "device") -> torch.device:
    """``text`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) as a device that exists here.

    ``source`` names where the text came from (``--device``, ``CNNBOOK_DEVICE``)
    in the ``DeviceError`` raised for a misspelt device or one this machine lacks.
    """
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError):
        hint = " (PyTorch calls NVIDIA GPUs 'cuda')" if str(text).lower().startswith("gpu") else ""
        raise DeviceError(f"{source}={text!r} is not a device: use cpu, cuda, cuda:N or mps{hint}.") from None
    leave_out = f"unset {source}" if source.isupper() else f"leave out {source}"   # a variable, or an option
    way_out = f"use cpu, or {leave_out} to pick the best available device."
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            why = "this PyTorch is built without CUDA" if torch.version.cuda is None else "no GPU or driver found"
            raise DeviceError(f"{source}={text!r} but no CUDA GPU is usable here ({why}); {way_out}")
        if (device.index or 0) >= count:
            raise DeviceError(f"{source}={text!r} but this machine has {count} GPU(s), cuda:0 to cuda:{count - 1}.")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"{source}={text!r} but Apple's MPS is not available here; {way_out}")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"{source}={text!r}: cnnbook trains on cpu, cuda or mps only.")
    return device


def default_device() -> torch.device:
    """``CNNBOOK_DEVICE`` if set (``cpu``, ``cuda``, ``cuda:1``, ``mps``), else the best available."""
    wanted = os.environ.get("CNNBOOK_DEVICE")
    if wanted:
        return parse_device(wanted, "CNNBOOK_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve(device: torch.device | str | None) -> torch.device:
    """``device`` checked with ``parse_device``, or ``default_device()`` when None."""
    return default_device() if device is None else parse_device(device)


def describe(device: torch.device) -> str:
    """A short name for logs: ``cpu``, ``cuda (NVIDIA H100)``, ``mps``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype that helps on ``device``: bfloat16 or float16 on CUDA, none elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """Mixed precision on CUDA; a do-nothing context elsewhere or when disabled."""
    dtype = amp_dtype(device)
    if not enabled or dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def prefers_channels_last(device: torch.device) -> bool:
    """channels_last speeds up convolutions on CUDA (tensor cores); elsewhere it does not."""
    return device.type == "cuda"
