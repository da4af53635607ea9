"""Errors that kernels find on a GPU (an index out of range), raised on the host at the next
synchronisation, as torch raises its device-side asserts, so that checking costs no host round trip.

Each GPU has one flag: a small int64 buffer, allocated on first use. A validating kernel records its
first failure there with ``record_failure``: the stamp of its launch, the failure's position in the
launch's element order, which check failed, the dim, the offending value and the size. A launch
keeps the failure of lowest position whatever order its programs run in, and once one launch has
recorded, later ones leave the record alone, so the error raised is the one a host loop would meet
first. A kernel that must write nothing after a failure reads the flag's stamp first
(``is_clear``).

Every synchronisation point of the Triton backend calls ``raise_pending``: it reads the flag only
when a validating kernel has been launched on that GPU since the last read, and when one failed,
clears the flag and raises the recorded error.
"""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from tkern import dtypes

from . import cuda_memory

# the flag's int64 slots (constexprs: kernels read them)
_STAMP, _POSITION, _CHECK, _DIM, _VALUE, _SIZE, _LOCK = (tl.constexpr(slot) for slot in range(7))
_SLOTS = 8

# what a failure was: a kernel's CHECK
INDEX_OUT_OF_BOUNDS = tl.constexpr(1)
TARGET_OUT_OF_BOUNDS = tl.constexpr(2)

_FLAGS: dict = {}  # GPU index -> its flag buffer
# GPU index -> the stamp its last validating launch got; present only while the flag may be set
_STAMPS: dict = {}


def _flag(index: int):
    flag = _FLAGS.get(index)
    if flag is None:
        flag = _FLAGS[index] = cuda_memory.allocate(_SLOTS * 8, dtypes.int64, index)
        cuda_memory.to_device(flag, np.zeros(_SLOTS, np.int64))
    return flag


def for_validation(index: int) -> tuple:
    """(flag buffer, stamp) for a kernel launch on GPU ``index`` that may record a failure; the GPU's
    next synchronisation then reads the flag."""
    stamp = _STAMPS.get(index, 0) + 1
    flag = _flag(index)
    _STAMPS[index] = stamp
    return flag, stamp


def for_reading(index: int):
    """The flag buffer of GPU ``index``, for a kernel that only reads whether it is clear."""
    return _flag(index)


def raise_pending(index: int) -> None:
    """Raise the error a kernel recorded on GPU ``index`` since the last call, clearing the flag;
    nothing to read (no device access at all) when no validating kernel has run since."""
    if index not in _STAMPS:
        return
    del _STAMPS[index]
    flag = _FLAGS[index]
    record = cuda_memory.to_host(flag, 0, _SLOTS * 8).view(np.int64)
    if record[_STAMP] == 0:
        return
    cuda_memory.to_device(flag, np.zeros(_SLOTS, np.int64))
    raise _error(int(record[_CHECK]), int(record[_DIM]), int(record[_VALUE]), int(record[_SIZE]))


def _error(check: int, dim: int, value: int, size: int) -> Exception:
    if check == TARGET_OUT_OF_BOUNDS.value:
        return IndexError(f"Target {value} is out of bounds.")
    return IndexError(f"index {value} is out of bounds for dimension {dim} with size {size}")


@triton.jit
def is_clear(flag_ptr):
    """Whether no failure is recorded in the flag (a scalar)."""
    return tl.load(flag_ptr + _STAMP) == 0


@triton.jit
def record_failure(flag_ptr, stamp, position, dim, value, size, CHECK: tl.constexpr):
    """Record a failure found at ``position`` (int64 scalars all) unless an earlier launch has
    recorded one, or this launch (``stamp``) one at a lower position."""
    # programs that failed take turns; the lock is held for a few stores
    free = tl.full([], 0, tl.int64)
    while tl.atomic_cas(flag_ptr + _LOCK, free, free + 1) != free:
        pass
    owner = tl.load(flag_ptr + _STAMP, volatile=True)
    recorded = tl.load(flag_ptr + _POSITION, volatile=True)
    if (owner == 0) | ((owner == stamp) & (position < recorded)):
        tl.store(flag_ptr + _POSITION, position)
        tl.store(flag_ptr + _CHECK, CHECK)
        tl.store(flag_ptr + _DIM, dim)
        tl.store(flag_ptr + _VALUE, value)
        tl.store(flag_ptr + _SIZE, size)
        tl.store(flag_ptr + _STAMP, stamp)
    tl.atomic_xchg(flag_ptr + _LOCK, free)
