"""numpy's ``__array_interface__`` (export) and the ``__cuda_array_interface__`` (version 3, both ways),
and the choice ``as_tensor`` makes among the ways an object can lend its memory."""
from __future__ import annotations

from typing import cast

import numpy as np

from tkern import cuda as _cuda

from . import dtypes
from .device import as_device
from .foreign_memory import layout_of, tensor_over
from .tensor import Tensor

# torch writes bfloat16 as ml_dtypes does: two bytes of no numpy type
_BFLOAT16_TYPESTR = "<V2"


def _typestr(dtype: dtypes.dtype) -> str:
    return _BFLOAT16_TYPESTR if dtype is dtypes.bfloat16 else dtype.numpy.str


def _describe(tensor: Tensor) -> dict:
    a, item = tensor._a, tensor._a.dtype.itemsize
    strides = None if a.is_contiguous() else tuple(s * item for s in a.strides)
    return {"shape": tuple(a.shape), "typestr": _typestr(a.dtype), "strides": strides, "version": 3,
            "data": (tensor.data_ptr() if a.numel() else 0, False)}


def host_interface(tensor: Tensor) -> dict:
    """``Tensor.__array_interface__`` of a 'cpu' tensor (numpy views its memory). AttributeError where
    numpy should fall back to ``__array__`` instead: another device, requires_grad (which ``__array__``
    then refuses as torch does), and bfloat16 (no typestr numpy reads as bfloat16)."""
    if tensor._a.device.type != "cpu":
        raise AttributeError(f"__array_interface__ is only defined for 'cpu' tensors, not {tensor.device}: use "
                             "Tensor.cpu() to copy the tensor to host memory")
    if tensor._requires_grad or tensor._a.dtype is dtypes.bfloat16:
        raise AttributeError("__array_interface__ is not defined for tensors that require grad or hold bfloat16")
    description = _describe(tensor)
    if not tensor._a.numel():
        # numpy refuses a NULL pointer: an empty view points at its storage, which it never reads
        description["data"] = (tensor.data_ptr(), False)
    return description


def cuda_interface(tensor: Tensor) -> dict:
    """``Tensor.__cuda_array_interface__`` (version 3) of a 'cuda' tensor: ``stream`` is the stream tkern
    launches on (None under the interpreter, where kernels finish before they return and the pointer
    is host memory)."""
    if tensor._a.device.type != "cuda":
        raise AttributeError(
            f"Can't get __cuda_array_interface__ on non-CUDA tensor type: {tensor.device} "
            "If CUDA data is required use tensor.cuda() to copy tensor to device memory.")
    if tensor._requires_grad:
        raise RuntimeError(
            "Can't get __cuda_array_interface__ on Variable that requires grad. If gradients aren't required, "
            "use var.detach() to get Variable that doesn't require grad.")
    from tkern.ops import cuda_memory
    return dict(_describe(tensor), stream=cuda_memory.current_stream(cast(int, tensor._a.device.index)))


def _dtype_of(typestr: str) -> dtypes.dtype:
    if typestr == _BFLOAT16_TYPESTR:
        return dtypes.bfloat16
    return dtypes.from_numpy_dtype(np.dtype(typestr))


def from_cuda_interface(obj, device=None) -> Tensor:
    """A 'cuda' tensor over the memory an object describes by ``__cuda_array_interface__`` (kept alive
    by the tensor). The pointer is taken to be on ``device`` (default: the current GPU); with a
    ``stream``, tkern's current stream first waits for the work queued on it."""
    description = obj.__cuda_array_interface__
    if description.get("mask") is not None:
        raise BufferError("__cuda_array_interface__ with a mask is not supported")
    address, read_only = description["data"]
    if read_only:
        raise BufferError("the array is read-only (__cuda_array_interface__ data[1] is True), and tkern tensors "
                          "are always writable: copy it first")
    dtype = _dtype_of(description["typestr"])
    strides = description.get("strides")
    if strides is not None:
        if any(s % dtype.itemsize for s in strides):
            raise BufferError(f"strides {tuple(strides)} are not multiples of the element size {dtype.itemsize}")
        strides = tuple(s // dtype.itemsize for s in strides)
    target = as_device(device if device is not None else "cuda")
    if target.type != "cuda":
        raise ValueError(f"__cuda_array_interface__ describes 'cuda' memory, not {target}")
    layout = layout_of(address or 0, 0, description["shape"], strides, dtype)
    _cuda.check_ordinal(cast(int, target.index))  # (a 'cuda' device has its index)
    stream = description.get("stream")
    if stream is not None:
        from tkern.ops import cuda_memory
        cuda_memory.wait_for_stream(cast(int, target.index), stream)
    return tensor_over(layout, target, owner=obj)


def lends_memory(data) -> bool:
    """Whether ``data`` (not a tkern Tensor or numpy array) lends its memory as torch.as_tensor takes it:
    by the CUDA array interface or DLPack (numpy's __array_interface__ alone is not enough for torch)."""
    return not isinstance(data, (Tensor, np.ndarray, np.generic)) and (
        hasattr(data, "__cuda_array_interface__") or hasattr(data, "__dlpack__"))


def shared_tensor(data, device=None) -> Tensor:
    """A tensor sharing the memory ``data`` lends (for which ``lends_memory`` is true), preferring, as
    torch does, the CUDA array interface to DLPack; on another device than ``device`` asks, a copy there."""
    from .dlpack import from_dlpack
    target = as_device(device) if device is not None else None
    if not hasattr(data, "__cuda_array_interface__"):
        return from_dlpack(data, device=target)
    shared = from_cuda_interface(data, target if target is not None and target.type == "cuda" else None)
    return shared if target is None else shared.to(target)
