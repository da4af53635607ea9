"""Tensors over memory another library owns (DLPack capsules, array interfaces): no copy, the owner
kept alive by the storage for as long as any view of it lives."""
from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np

from tkern.ops.array import Array, contiguous_strides, numel_of

from . import dtypes
from .device import device as device_type
from .storage import Storage
from .tensor import Tensor, wrap

# kernels on 'cuda' count on every buffer starting 16-byte aligned (ops/triton_launcher.py): a
# foreign pointer is moved down to that alignment and the difference becomes the storage offset
_ALIGN = 16
# numpy refuses a NULL pointer even for no bytes: an empty range points here (nothing is ever read)
_NOWHERE = np.empty(_ALIGN, np.uint8)


class ForeignBytes:
    """``nbytes`` of foreign memory from ``address``, described as a uint8 ``__array_interface__`` (on a
    GPU, ops/cuda_memory.py hands torch the same dict as a ``__cuda_array_interface__``). Whatever views
    it keeps it, so ``owner``, alive; ``release`` runs once, when the last of them goes."""

    def __init__(self, address: int, nbytes: int, owner: object = None, release=None):
        self.owner = owner
        self._release = release
        self.__array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "version": 3,
                                    "data": (address if nbytes else _NOWHERE.ctypes.data, False)}

    def __del__(self):
        release, self._release = self._release, None
        if release is not None:
            release()


class Layout(NamedTuple):
    """Where a foreign view sits once its pointer is moved down to 16-byte alignment."""
    base: int
    nbytes: int
    shape: tuple
    strides: tuple
    offset: int
    dtype: dtypes.dtype


def layout_of(data: int, byte_offset: int, shape: tuple, strides: tuple | None, dtype: dtypes.dtype) -> Layout:
    """The layout of a view with element (0, ..., 0) at byte ``data + byte_offset`` and ``strides``
    counted in elements (None: contiguous); BufferError for one a tkern tensor cannot view (negative
    strides, elements off their alignment). Checks only: nothing is claimed yet. The storage starts at
    ``data`` moved down to alignment, so a producer's storage offset (DLPack's byte_offset) is kept."""
    shape = tuple(int(n) for n in shape)
    strides = contiguous_strides(shape) if strides is None else tuple(int(s) for s in strides)
    item = dtype.itemsize
    if any(s < 0 for s in strides):
        raise BufferError("tensors with negative strides are not supported: copy the array first")
    base = data - data % _ALIGN
    if (data - base + byte_offset) % item:
        raise BufferError(f"the data pointer {data + byte_offset:#x} is not aligned to the element size ({item} "
                          f"bytes) of {dtype}: copy the array first")
    offset = (data - base + byte_offset) // item
    if not numel_of(shape):
        return Layout(0, 0, shape, strides, offset, dtype)
    reach = offset + sum((n - 1) * s for n, s in zip(shape, strides)) + 1
    return Layout(base, reach * item, shape, strides, offset, dtype)


def tensor_over(layout: Layout, device: device_type, owner: object = None, release=None) -> Tensor:
    """A tensor viewing foreign memory laid out as ``layout`` (from ``layout_of``) on ``device``;
    ``owner`` is kept alive and ``release`` called once, when the storage and every view of it die."""
    memory = ForeignBytes(layout.base, layout.nbytes, owner, release)
    if device.type == "cpu":
        data = np.asarray(memory)
    else:
        from tkern.ops import cuda_memory
        data = cuda_memory.wrap(layout.base, layout.nbytes, cast(int, device.index), memory)
    storage = Storage(data, layout.nbytes, device)
    return wrap(Array(storage, layout.shape, layout.strides, layout.offset, layout.dtype))
