"""Copies: casts, contiguous copies, copy_ with broadcasting, and fills."""
from __future__ import annotations

import math
import numbers

from tkern import dtypes

from .allocation import bump_version, check_no_partial_overlap, empty
from .array import Array
from .backend import backend_for
from .elementwise import expand_to


def copy_into(dst: Array, src: Array) -> None:
    """dst.copy_(src): src broadcast to dst's shape, cast to dst's dtype, across devices."""
    if dst.has_internal_overlap():
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    check_no_partial_overlap(dst, (src,))
    src = expand_to(src, dst.shape) if src.shape != dst.shape else src
    bump_version(dst)
    if src.device == dst.device:
        backend_for(dst.device).copy(dst, src)
        return
    if src.device.type == dst.device.type:
        # another GPU: a kernel reads only its own GPU's memory, so the bytes cross densely in src's
        # dtype, and any layout or dtype change happens on either side of the crossing
        dense = contiguous(src)
        direct = dense.dtype is dst.dtype and dst.is_contiguous()
        moved = dst if direct else empty(dense.shape, dense.dtype, dst.device)
        backend_for(dst.device).copy(moved, dense)
        if not direct:
            backend_for(dst.device).copy(dst, moved)
        return
    host_values = backend_for(src.device).to_numpy(src)
    staged = backend_for(dst.device).from_numpy(host_values, dst.device)
    backend_for(dst.device).copy(dst, staged)


def converted(x: Array, dtype=None, device=None, force_copy: bool = False) -> Array:
    """x in another dtype and/or on another device; x itself when nothing changes."""
    dtype = x.dtype if dtype is None else dtype
    device = x.device if device is None else device
    if dtype is x.dtype and device == x.device and not force_copy:
        return x
    out = empty(x.shape, dtype, device)
    copy_into(out, x)
    return out


def contiguous(x: Array) -> Array:
    if x.is_contiguous():
        return x
    out = empty(x.shape, x.dtype, x.device)
    backend_for(x.device).copy(out, x)
    return out


def clone(x: Array) -> Array:
    out = empty(x.shape, x.dtype, x.device)
    backend_for(x.device).copy(out, x)
    return out


_C_TYPE_NAMES = {
    dtypes.uint8: "uint8_t", dtypes.int8: "int8_t", dtypes.int16: "int16_t", dtypes.int32: "int",
    dtypes.int64: "int64_t", dtypes.float16: "c10::Half", dtypes.bfloat16: "c10::BFloat16", dtypes.float32: "float",
    dtypes.float64: "double",
}
_FLOAT_MAX = {dtypes.float16: 65504.0, dtypes.bfloat16: 3.3895313892515355e38, dtypes.float32: 3.4028234663852886e38,
              dtypes.float64: 1.7976931348623157e308}
# the magnitude from which a double rounds to infinity in the type (its max plus half a last-place step)
_ROUNDS_TO_INFINITY = {dtypes.float16: 65520.0, dtypes.bfloat16: 3.3961775292304797e38}


def _overflow(dtype) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[dtype]} without overflow")


def _integer_range(dtype) -> tuple[int, int]:
    bits = 8 * dtype.itemsize
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if dtype.is_signed else (0, (1 << bits) - 1)


def checked_scalar(value, dtype, *, from_setitem: bool = False):
    """A Python number as ``dtype`` stores it, or torch's error when it does not fit (c10's checked
    conversion): a negative int wraps into an unsigned type down to -max; floats into an integer
    type truncate and must lie in its range; finite floats beyond a float type's max are refused.
    ``from_setitem`` follows torch's ``x[key] = number``, which reads ints as int64 and lets halves
    and bfloat16 round out of range to infinity."""
    if not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral):
        value = int(value)
        if from_setitem and not -(1 << 63) <= value < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
        if value < -(1 << 63):
            raise OverflowError("can't convert negative int to unsigned")
        if value >= (1 << 64):
            raise OverflowError("int too big to convert")
    if dtype is dtypes.bool:
        return bool(value)
    if dtype.is_floating_point:
        if from_setitem and dtype in _ROUNDS_TO_INFINITY:
            return math.copysign(math.inf, value) if abs(value) >= _ROUNDS_TO_INFINITY[dtype] else float(value)
        if not math.isinf(value) and abs(value) > _FLOAT_MAX[dtype]:  # (NaN compares False and passes, as in torch)
            raise _overflow(dtype)
        return float(value)
    low, high = _integer_range(dtype)
    if isinstance(value, int):
        if not dtype.is_signed and -high <= value < 0:
            return value + high + 1  # torch lets a negative int wrap into an unsigned type
        if not low <= value <= high:
            raise _overflow(dtype)
        return value
    if math.isnan(value) or not low <= value <= high:
        raise _overflow(dtype)
    return int(value)


def fill(out: Array, value, *, from_setitem: bool = False, as_copy: bool = False) -> Array:
    """out.fill_(value) for a Python number, refused as torch refuses it when it does not fit out's dtype.
    fill_ writes a number to overlapping targets (x.expand(4, 3)); torch refuses them only where it
    writes through copy_: ``x[key] = number`` (``from_setitem``) and fill_ with a tensor on out's
    device (``as_copy``)."""
    value = checked_scalar(value, out.dtype, from_setitem=from_setitem)
    if (from_setitem or as_copy) and out.has_internal_overlap():
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    bump_version(out)
    backend_for(out.device).fill(out, value)
    return out
