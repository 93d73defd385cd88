"""Where to compute: CUDA, then Apple MPS, then CPU; ``CNNBOOK_DEVICE`` overrides.

Mixed precision and channels_last help on CUDA GPUs only, so the helpers here
turn them on there and leave CPU and MPS runs in plain float32.
"""

from __future__ import annotations

import contextlib
import os

import torch


def default_device() -> torch.device:
    """``CNNBOOK_DEVICE`` if set (``cpu``, ``cuda``, ``cuda:1``, ``mps``), else the best available."""
    wanted = os.environ.get("CNNBOOK_DEVICE")
    if wanted:
        device = torch.device(wanted)
        available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
        if not available.get(device.type, False):
            raise RuntimeError(f"CNNBOOK_DEVICE={wanted!r} but no {device.type} device is available here; "
                               "unset CNNBOOK_DEVICE to pick the best available device.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
