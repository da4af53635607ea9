"""tkern.accelerator: the device-agnostic view of the GPU, like torch.accelerator (tkern's one
accelerator type is 'cuda')."""
from __future__ import annotations

from . import cuda as _cuda
from .device import device as _device


def is_available() -> bool:
    """Whether a GPU tkern can use is present: ``tkern.accelerator.is_available()``."""
    return _cuda.is_available()


def current_accelerator(check_available: bool = False) -> _device | None:
    """device('cuda') when tkern has a GPU to use, else None (as torch on a machine without one)."""
    if _cuda.is_available():
        return _device("cuda")
    return None


def device_count() -> int:
    return _cuda.device_count() if _cuda.is_available() else 0


def current_device_index() -> int:
    return _cuda.current_device()


def set_device_index(device) -> None:
    _cuda.set_device(device)


def synchronize(device=None) -> None:
    _cuda.synchronize(device)
