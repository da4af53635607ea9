"""The allocator for device 'cuda': the one module of tkern that imports torch.

torch is used here for memory only: buffers are ``torch.empty`` of bytes (so torch's caching
allocator is reused), typed views of them are what Triton kernels take as pointers, and bytes are
copied host<->device and device<->device. Nothing here computes a value of a tkern operation.
Under TRITON_INTERPRET=1 without a GPU, 'cuda' memory is host memory and the kernels run in
Triton's interpreter.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tkern import dtypes
from tkern import cuda

TORCH_DTYPES = {
    dtypes.bool: torch.bool, dtypes.uint8: torch.uint8, dtypes.int8: torch.int8, dtypes.int16: torch.int16,
    dtypes.int32: torch.int32, dtypes.int64: torch.int64, dtypes.float16: torch.float16,
    dtypes.bfloat16: torch.bfloat16, dtypes.float32: torch.float32, dtypes.float64: torch.float64,
}

# allocations are rounded up so that every typed view of a buffer is whole
_ALIGN = 16


_DEVICES: dict = {}


def _torch_device(index: int) -> torch.device:
    device = _DEVICES.get(index)
    if device is None:
        cuda.check_ordinal(index)
        if cuda._interpreting() and cuda._gpu_count() == 0:
            device = torch.device("cpu")
        else:
            device = torch.device("cuda", index)
        _DEVICES[index] = device
    return device


def allocate(nbytes: int, dtype, index: int) -> torch.Tensor:
    """A new uninitialised buffer of at least ``nbytes`` on GPU ``index``, typed as ``dtype`` (the type
    kernels will most often see it as; any other is one ``typed`` view away). Its address is aligned
    to 512 bytes by torch's caching allocator (64 by its CPU one, under the interpreter): kernels
    specialise on 16-byte alignment, and ops/triton_launcher.py counts on every buffer having it."""
    rounded = max(-(-nbytes // _ALIGN) * _ALIGN, _ALIGN)
    try:
        return torch.empty(rounded // dtype.itemsize, dtype=TORCH_DTYPES[dtype], device=_torch_device(index))
    except RuntimeError as error:  # torch.OutOfMemoryError on a GPU, the CPU allocator's under the interpreter
        where = f"cuda:{index}" if _torch_device(index).type == "cuda" else f"cuda:{index} (host memory: interpreter)"
        # (from None: the failed frame must not keep anything alive, so that allocation can go on)
        raise cuda.OutOfMemoryError(
            f"CUDA out of memory. Tried to allocate {_size_text(rounded)} ({rounded} bytes) on {where}: "
            f"{str(error).splitlines()[0]}") from None


def _size_text(nbytes: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} bytes"


def scratch(nbytes: int) -> torch.Tensor:
    """Bytes a kernel launch needs for itself (Triton's global scratch: the TMA descriptors a persistent
    matmul builds), on the GPU launches go to. Freed when the launcher drops it: torch's caching
    allocator hands the memory out again only to work queued after this launch on the same stream."""
    from .triton_launcher import _current_device
    return allocate(nbytes, dtypes.uint8, _current_device or 0)


def typed(buffer: torch.Tensor, dtype) -> torch.Tensor:
    """The whole buffer seen as elements of ``dtype``: what a kernel receives as a base pointer."""
    return buffer.view(TORCH_DTYPES[dtype])


def _bytes(buffer: torch.Tensor) -> torch.Tensor:
    return buffer.view(torch.uint8)


def to_device(buffer: torch.Tensor, data: np.ndarray) -> None:
    """Copy a C-contiguous host array into the start of ``buffer``."""
    assert data.flags.c_contiguous
    if data.nbytes:
        source = torch.from_numpy(data.reshape(-1).view(np.uint8))
        _bytes(buffer)[:data.nbytes].copy_(source)


def to_host(buffer: torch.Tensor, start: int, nbytes: int) -> np.ndarray:
    """``nbytes`` of ``buffer`` from byte ``start``, as a new host uint8 array."""
    host = np.empty(nbytes, np.uint8)
    if nbytes:
        torch.from_numpy(host).copy_(_bytes(buffer)[start:start + nbytes])
    return host


def copy_bytes(dst: torch.Tensor, dst_start: int, src: torch.Tensor, src_start: int, nbytes: int) -> None:
    """Device-to-device copy of raw bytes (between GPUs too)."""
    if nbytes:
        _bytes(dst)[dst_start:dst_start + nbytes].copy_(_bytes(src)[src_start:src_start + nbytes])


def synchronize(index: int) -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize(index)


def device_name(index: int | None = None) -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(index or 0)
    return "Triton interpreter (host memory)"


_CAPABILITIES: dict = {}


def capability(index: int | None = None) -> tuple:
    """(major, minor) compute capability; (0, 0) under the interpreter. Asked once per device:
    matmul reads it on every launch."""
    found = _CAPABILITIES.get(index)
    if found is None:
        found = tuple(torch.cuda.get_device_capability(index or 0)) if torch.cuda.is_available() else (0, 0)
        _CAPABILITIES[index] = found
    return found


def wrap(address: int, nbytes: int, index: int, owner: Any) -> torch.Tensor:
    """``nbytes`` of memory another library owns, from ``address`` on GPU ``index`` (host memory under
    the interpreter), as a uint8 buffer that keeps ``owner`` alive: no copy. ``owner`` exposes the
    bytes through ``__array_interface__`` on the host; on a GPU torch reads the same dict as a
    ``__cuda_array_interface__``, which is how torch is told about foreign device memory."""
    if _torch_device(index).type == "cpu":
        return torch.from_numpy(np.asarray(owner))
    if not nbytes:  # no device pointer to describe: nothing will be read
        return torch.empty(0, dtype=torch.uint8, device=_torch_device(index))
    return torch.as_tensor(_CudaBytes(owner), device=_torch_device(index))


class _CudaBytes:
    """owner's byte range described to torch as device memory (torch keeps this object alive)."""

    def __init__(self, owner: Any):
        self.owner = owner
        self.__cuda_array_interface__ = dict(owner.__array_interface__, stream=None)


def current_stream(index: int) -> int | None:
    """The stream tkern launches on for GPU ``index`` (kernels go to torch's current stream) as the
    DLPack/CUDA array interface integer: 1 for the legacy default stream; None under the interpreter,
    where kernels finish before the launch returns."""
    if _torch_device(index).type == "cpu":
        return None
    pointer = torch.cuda.current_stream(index).cuda_stream
    return 1 if pointer == 0 else pointer


def _as_stream(index: int, pointer: int):
    if pointer in (0, 1):
        return torch.cuda.default_stream(index)
    return torch.cuda.ExternalStream(pointer, device=_torch_device(index))


def make_stream_wait(index: int, pointer: int) -> None:
    """The stream ``pointer`` (a consumer's) waits for the work queued so far on tkern's current stream
    of GPU ``index``: an event recorded there, waited on there (nothing blocks the host)."""
    _order(index, pointer, consumer_waits=True)


def wait_for_stream(index: int, pointer: int) -> None:
    """tkern's current stream of GPU ``index`` waits for the work queued so far on the stream
    ``pointer`` (a producer's)."""
    _order(index, pointer, consumer_waits=False)


def _order(index: int, pointer: int, consumer_waits: bool) -> None:
    if _torch_device(index).type == "cpu":
        return
    other, current = _as_stream(index, pointer), torch.cuda.current_stream(index)
    if other != current:
        waiting, awaited = (other, current) if consumer_waits else (current, other)
        event = torch.cuda.Event()
        event.record(awaited)
        waiting.wait_event(event)
