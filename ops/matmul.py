"""Matrix products: dot, mm, bmm and matmul with torch's shape rules and batch broadcasting."""
from __future__ import annotations

from tkern import dtypes

from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array
from .backend import backend_for
from .elementwise import expand_to
from .shapes import broadcast_shapes
from .views import squeeze, unsqueeze

_SHORT_NAMES = {dtypes.float32: "float", dtypes.float64: "double", dtypes.float16: "c10::Half",
                dtypes.bfloat16: "c10::BFloat16", dtypes.int64: "long int", dtypes.int32: "int"}


def _check_dtypes(a: Array, b: Array) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{_SHORT_NAMES.get(a.dtype, a.dtype.name)} != {_SHORT_NAMES.get(b.dtype, b.dtype.name)}")
    if a.dtype is dtypes.bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    if a.device != b.device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{a.device} and {b.device}!")


def _check_batched_dtypes(a: Array, b: Array) -> None:
    """bmm's checks, in torch's order: a bool first operand, then the dtypes, then the devices."""
    if a.dtype is dtypes.bool:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if a.dtype is not b.dtype and a.device == b.device:
        raise RuntimeError(f"expected scalar type {TORCH_TYPE_NAMES[a.dtype]} but found {TORCH_TYPE_NAMES[b.dtype]}")
    _check_dtypes(a, b)


def _product(a: Array, b: Array, batch: tuple) -> Array:
    """(batch..., m, k) @ (batch..., k, n) after expanding both to the batch shape."""
    m, n = a.shape[-2], b.shape[-1]
    a = expand_to(a, batch + a.shape[-2:])
    b = expand_to(b, batch + b.shape[-2:])
    out = empty(batch + (m, n), a.dtype, a.device)
    backend_for(a.device).matmul(out, a, b, a.dtype)
    return out


def _mixed_empty_product(a: Array, b: Array, shape: tuple) -> Array | None:
    """torch's bmm checks dtypes only when it computes something: a product of another dtype pair that
    is empty, or sums over an empty k, comes back as zeros in b's dtype. None when there is work to do."""
    if a.dtype is b.dtype or a.device != b.device or (0 not in shape and a.shape[-1] != 0):
        return None
    out = empty(shape, b.dtype, b.device)
    if out.numel():
        backend_for(b.device).fill(out, 0)
    return out


def dot(a: Array, b: Array) -> Array:
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the "
            f"same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found "
            f"{TORCH_TYPE_NAMES[a.dtype]} and {TORCH_TYPE_NAMES[b.dtype]}")
    _check_dtypes(a, b)
    return squeeze(_product(unsqueeze(a, 0), unsqueeze(b, 1), ()), None)


def mm(a: Array, b: Array) -> Array:
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _check_dtypes(a, b)
    return _product(a, b, ())


def bmm(a: Array, b: Array) -> Array:
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] "
            f"but got: [{b.shape[0]}, {b.shape[1]}].")
    mixed = _mixed_empty_product(a, b, (a.shape[0], a.shape[1], b.shape[2]))
    if mixed is not None:
        return mixed
    _check_batched_dtypes(a, b)
    return _product(a, b, a.shape[:1])


def matmul(a: Array, b: Array) -> Array:
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 2:
        return mm(a, b)
    if a.ndim == 2 and b.ndim == 1 or a.ndim == 1 and b.ndim == 2:
        if b.ndim == 1 and a.shape[1] != b.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})")
    # torch folds these into mm or mv, which check dtypes first; a matrix or batch times a batch goes to bmm
    through_bmm = a.ndim >= 2 and b.ndim >= 3
    if not through_bmm:
        _check_dtypes(a, b)
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = unsqueeze(a, 0) if a_vector else a
    b2 = unsqueeze(b, 1) if b_vector else b
    if a2.shape[-1] != b2.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a2.shape[-3] if a2.ndim > 2 else 1}, {a2.shape[-1]}] but got: "
            f"[{b2.shape[-3] if b2.ndim > 2 else 1}, {b2.shape[-2]}].")
    batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    if through_bmm:
        mixed = _mixed_empty_product(a2, b2, batch + (a2.shape[-2], b2.shape[-1]))
        if mixed is not None:
            return mixed
        _check_batched_dtypes(a, b)
    out = _product(a2, b2, batch)
    if a_vector:
        out = squeeze(out, out.ndim - 2)
    if b_vector:
        out = squeeze(out, out.ndim - 1)
    return out
