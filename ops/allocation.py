"""Output allocation and the checks torch makes on a caller-supplied output."""
from __future__ import annotations

from tkern import dtypes

from .array import Array
from .backend import backend_for

TORCH_TYPE_NAMES = {
    dtypes.bool: "Bool", dtypes.uint8: "Byte", dtypes.int8: "Char", dtypes.int16: "Short",
    dtypes.int32: "Int", dtypes.int64: "Long", dtypes.float16: "Half", dtypes.bfloat16: "BFloat16",
    dtypes.float32: "Float", dtypes.float64: "Double",
}


def empty(shape: tuple, dtype, device) -> Array:
    return backend_for(device).empty(shape, dtype, device)


def check_output(out: Array, shape: tuple, result_dtype) -> None:
    """An in-place or out= target must have the result's shape, a dtype the result may be cast
    to, and no two elements sharing memory."""
    if out.shape != shape:
        raise RuntimeError(
            f"output with shape {list(out.shape)} doesn't match the broadcast shape {list(shape)}")
    if not dtypes.can_cast(result_dtype, out.dtype):
        raise RuntimeError(
            f"result type {TORCH_TYPE_NAMES[result_dtype]} can't be cast to the desired output type "
            f"{TORCH_TYPE_NAMES[out.dtype]}")
    if out.has_internal_overlap():
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")


def bump_version(out: Array) -> None:
    # an Array whose storage was never made has a version nobody has read yet
    storage = out._storage
    if storage is not None:
        storage.version += 1


def check_no_partial_overlap(out: Array, operands) -> None:
    """An input may be the output itself, but not another view into the memory being written. As in
    torch, only views that each fill their memory range densely are compared (by range); interleaved
    views such as x[::2] and x[1::2] are let through."""
    for x in operands:
        if type(x) is not Array or x is out or x.numel() == 0 or out.numel() == 0:
            continue
        if x.shares_memory_with(out):
            (lo_x, hi_x), (lo_o, hi_o) = (x.offset, x.last_offset()), (out.offset, out.last_offset())
            dense = hi_x - lo_x + 1 == x.numel() and hi_o - lo_o + 1 == out.numel()
            same = lo_x == lo_o and hi_x == hi_o and _walk(x) == _walk(out)
            if dense and not same and lo_x <= hi_o and lo_o <= hi_x:
                raise RuntimeError(
                    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")


def _walk(a: Array) -> tuple:
    """a's sizes and strides without its size-1 dims: two views with the same walk and start visit the
    same elements in the same order (x[2:3] and the 0-d value it is assigned back from, say)."""
    return tuple((n, s) for n, s in zip(a.shape, a.strides) if n != 1)
