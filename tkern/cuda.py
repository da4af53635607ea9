"""tkern.cuda: whether device 'cuda' can run, found without importing torch or triton."""
from __future__ import annotations

import ctypes
import importlib.util
import os
from functools import lru_cache
from typing import Literal


class OutOfMemoryError(RuntimeError):
    """A 'cuda' allocation the GPU could not serve (torch.OutOfMemoryError's counterpart): the message
    names the bytes asked for, and the process can go on allocating."""


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@lru_cache(maxsize=1)
def _gpu_count() -> int:
    """GPUs the CUDA driver reports (0 without a driver)."""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return 0
    count = ctypes.c_int(0)
    if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0
    return count.value


def unavailable_reason() -> str | None:
    """Why device 'cuda' cannot run here, or None when it can."""
    if importlib.util.find_spec("tkern.ops.triton_backend") is None:
        return "this build of tkern has no Triton backend"
    for package in ("triton", "torch"):
        if importlib.util.find_spec(package) is None:
            return f"the {package} package is not installed"
    if not _interpreting() and _gpu_count() == 0:
        return "no CUDA GPU was found (set TRITON_INTERPRET=1 to run the Triton kernels on the CPU)"
    return None


def is_available() -> bool:
    return unavailable_reason() is None


def device_count() -> int:
    if not is_available():
        return 0
    return max(_gpu_count(), 1)


# the GPU that a bare 'cuda' means: torch's current device, which set_device and `with device(i)` move
_current = 0


def check_ordinal(index: int) -> None:
    """RuntimeError, as torch's, for a GPU index this machine does not have."""
    if index >= device_count():
        raise RuntimeError("CUDA error: invalid device ordinal")


def _index_of(value, optional: bool = False) -> int:
    """torch.cuda's device argument (an int, 'cuda:1', a device, a tkern.cuda.device) as an index.
    With ``optional``, None and a bare 'cuda' mean the current GPU; without, they are refused."""
    from .device import device as device_type
    if isinstance(value, int):
        return value
    if isinstance(value, device):
        return value.index
    if isinstance(value, str):
        value = device_type(value)
    if isinstance(value, device_type):
        if value.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {value}")
        if value.index is not None:
            return value.index
    if not optional:
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{value}")
    return _current


def current_device() -> int:
    check_available()
    return _current


def set_device(device) -> None:
    """Make ``device`` the GPU that a bare 'cuda' means; a negative index does nothing, as in torch."""
    global _current
    index = _index_of(device)
    if index < 0:
        return
    check_available()
    check_ordinal(index)
    _current = index


class device:
    """``with tkern.cuda.device(1):`` makes GPU 1 the current one inside the block (a negative
    index does nothing)."""

    def __init__(self, device) -> None:
        self.index = _index_of(device, optional=True)
        self.previous = -1

    def __enter__(self) -> None:
        self.previous = _current
        set_device(self.index)

    def __exit__(self, *exc) -> Literal[False]:
        set_device(self.previous)
        return False


def check_available() -> None:
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"tkern: device 'cuda' is not available: {reason}")


def synchronize(device=None) -> None:
    """Wait for every kernel launched on the GPU ``device`` (the current one by default; a no-op
    under the interpreter), and raise the error a kernel found there since the last synchronisation
    (an index out of range), as torch raises a device-side assert."""
    check_available()
    index = _index_of(device, optional=True)
    check_ordinal(index)
    index = _current if index < 0 else index
    from tkern.ops import cuda_memory, device_errors
    cuda_memory.synchronize(index)
    device_errors.raise_pending(index)


def get_device_name(device=None) -> str:
    check_available()
    from tkern.ops import cuda_memory
    from .device import as_device
    index = as_device(device if device is not None else "cuda").index
    return cuda_memory.device_name(index)


def manual_seed(seed: int) -> None:
    """Seed the current GPU's default generator; silently nothing where 'cuda' is unavailable, as
    in torch."""
    if is_available():
        from .random import default_generator
        default_generator("cuda").manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's default generator."""
    if is_available():
        from .device import device as device_type
        from .random import default_generator
        for index in range(device_count()):
            default_generator(device_type("cuda", index)).manual_seed(seed)


def initial_seed() -> int:
    """The seed of the current GPU's default generator."""
    check_available()
    from .random import default_generator
    return default_generator("cuda").initial_seed()
