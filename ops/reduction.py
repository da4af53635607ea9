"""Reductions: output dtypes, keepdim and empty-input rules like torch, over any set of dims."""
from __future__ import annotations

from collections import namedtuple

from tkern import dtypes

from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array
from .backend import backend_for
from .elementwise import binary
from .shapes import normalize_dim, normalize_dims

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


_ALL_DIMS = [tuple(range(n)) for n in range(65)]


def _accumulator(d: dtypes.dtype) -> dtypes.dtype:
    if d in (dtypes.float16, dtypes.bfloat16):
        return dtypes.float32
    return d if d.is_floating_point else dtypes.int64


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def reduction_dims(dims, ndim: int) -> tuple:
    """normalize_dims, except that a 0-d input takes dim 0 or -1 (checked like torch) and reduces over none."""
    dims = normalize_dims(dims, ndim)
    return dims if ndim else ()


def _every_dim_if_empty(dims):
    """torch reduces over every dim when handed an empty dim list (all/any excepted: over none)."""
    if dims is not None and not isinstance(dims, int) and len(dims) == 0:
        return None
    return dims


def _reduce_types(op: str, d: dtypes.dtype, dtype) -> tuple:
    """(compute, result) dtypes of a reduction, like torch."""
    if op in ("sum", "prod"):
        result = dtype or (d if d.is_floating_point else dtypes.int64)
        return _accumulator(result), result
    if op in ("all", "any"):
        result = dtypes.uint8 if d is dtypes.uint8 else dtypes.bool
        return result, result
    return d, d


# (op, input dtype, dtype argument, device type) -> the backend's launcher, bound once per combination
_REDUCE_PLANS: dict = {}


def _plan_reduce(op: str, x: Array, dtype):
    return backend_for(x.device).reduce_launcher(op, *_reduce_types(op, x.dtype, dtype))


def reduce(op: str, x: Array, dims=None, keepdim: bool = False, dtype=None) -> Array:
    """sum, prod, max, min, all, any over ``dims`` (None: every dim)."""
    if dtype is not None and dtype is not x.dtype and dtype.is_floating_point is not x.dtype.is_floating_point or (
            dtype is dtypes.bool and x.dtype is not dtypes.bool):
        # torch casts to dtype= first: prod([0.5, 0.5], dtype=bool) is True, sum([0.5, 0.5], dtype=int64) 0
        x = _cast(x, dtype)
    key = (op, x.dtype, dtype, x.device.type)
    launch = _REDUCE_PLANS.get(key)
    if launch is None:
        launch = _REDUCE_PLANS[key] = _plan_reduce(op, x, dtype)
    every_dim = dims is None or op != "all" and op != "any" and _every_dim_if_empty(dims) is None
    if (op == "max" or op == "min") and x.shape:
        # (amax and amin come this way; max() and min() check first, under their own names)
        if every_dim and x.numel() == 0:
            raise RuntimeError(
                f"a{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        # torch checks each dim's range and size in turn, before it looks for repeated dims
        for d in () if every_dim else (dims if isinstance(dims, (tuple, list)) else (dims,)):
            if x.shape[normalize_dim(d, x.ndim)] == 0:
                raise IndexError(f"a{op}(): Expected reduction dim {normalize_dim(d, x.ndim)} to have non-zero size.")
    if every_dim:
        dims = _ALL_DIMS[len(x.shape)]
    else:
        dims = normalize_dims(dims, x.ndim) if x.shape else reduction_dims(dims, 0)
    return launch(x, dims, keepdim)


def reduce_all_values(op: str, x: Array) -> Array:
    """max()/min() with no dim: a 0-d result, an error on an empty input."""
    if x.numel() == 0:
        raise RuntimeError(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument.")
    return reduce(op, x, None, False)


def reduce_to_scalar(op: str, x: Array):
    """A Python number: op over all of x (for validating indices and exponents)."""
    value = reduce(op, x)
    return backend_for(value.device).to_numpy(value).item()


def mean(x: Array, dims=None, keepdim: bool = False, dtype=None) -> Array:
    result = dtype or x.dtype
    if not result.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {TORCH_TYPE_NAMES[result]}")
    dims_n = reduction_dims(_every_dim_if_empty(dims), x.ndim)
    count = 1
    for d in dims_n:
        count *= x.shape[d]
    total = reduce("sum", x, dims_n, keepdim, _accumulator(result))
    quotient = binary("div", total, count) if count else binary("mul", total, float("nan"))
    return _cast(quotient, result)


def var(x: Array, dims=None, correction: float = 1, keepdim: bool = False, take_sqrt: bool = False) -> Array:
    if not x.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims_n = reduction_dims(_every_dim_if_empty(dims), x.ndim)
    count = 1
    for d in dims_n:
        count *= x.shape[d]
    # float16/bfloat16 are read in place and promoted to float32 by the subtraction, never copied first;
    # float32 is worked in float64, as torch's CPU kernel accumulates it (the std of 1e30s is finite)
    centre = mean(x, dims_n, True, dtype=dtypes.float64 if x.dtype is dtypes.float32 else _accumulator(x.dtype))
    deviation = binary("sub", x, centre)
    squares = binary("mul", deviation, deviation)
    total = reduce("sum", squares, dims_n, keepdim)
    result = binary("div", total, max(count - correction, 0))
    if take_sqrt:
        from .elementwise import unary
        result = unary("sqrt", result)
    return _cast(result, x.dtype)


def _cast(x: Array, d: dtypes.dtype) -> Array:
    from .copying import converted
    return converted(x, d)


def max_min_with_indices(op: str, x: Array, dim: int, keepdim: bool = False) -> ValuesIndices:
    d = normalize_dim(dim, x.ndim)
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    kept = _kept_shape(x.shape, (d,)) if x.ndim else ()
    values = empty(kept, x.dtype, x.device)
    indices = empty(kept, dtypes.int64, x.device)
    if x.numel():
        backend_for(x.device).arg_reduce(op, values, indices, x, d if x.ndim else None)
        if not x.ndim:
            backend_for(x.device).copy(values, x)
    if keepdim or not x.ndim:
        return ValuesIndices(values, indices)
    shape = kept[:d] + kept[d + 1:]
    return ValuesIndices(values.view_as(shape, _without(values.strides, d), 0),
                         indices.view_as(shape, _without(indices.strides, d), 0))


def _without(strides: tuple, d: int) -> tuple:
    return strides[:d] + strides[d + 1:]


def arg_reduce(op: str, x: Array, dim=None, keepdim: bool = False) -> Array:
    name = "argmax" if op == "max" else "argmin"
    if x.dtype is dtypes.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if x.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        shape = (1,) * x.ndim if keepdim else ()
        out = empty(shape, dtypes.int64, x.device)
        backend_for(x.device).arg_reduce(op, None, out, x, None)
        return out
    d = normalize_dim(dim, x.ndim)
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return max_min_with_indices(op, x, d, keepdim).indices
