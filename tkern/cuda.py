"""tkern.cuda: whether device 'cuda' can run, found without importing torch or triton."""
from __future__ import annotations

import ctypes
import importlib.util
import os
from functools import lru_cache


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


def check_available() -> None:
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"tkern: device 'cuda' is not available: {reason}")


def synchronize(device=None) -> None:
    """Wait for every kernel launched on the GPU (a no-op under the interpreter)."""
    check_available()
    from tkern.ops import cuda_memory
    cuda_memory.synchronize()


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
        from .device import device
        from .random import default_generator
        for index in range(device_count()):
            default_generator(device("cuda", index)).manual_seed(seed)


def initial_seed() -> int:
    """The seed of the current GPU's default generator."""
    check_available()
    from .random import default_generator
    return default_generator("cuda").initial_seed()
