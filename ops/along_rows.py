"""Operations along one dim, run by the backend on rows: the scans (cumsum, cumprod) and sort. The
dim is moved last and made dense, so a backend sees a contiguous (rows, n) Array and writes a
contiguous (rows, n) result, which is moved back to the input's layout of dims here."""
from __future__ import annotations

from tkern import dtypes

from .array import Array, contiguous_strides, numel_of
from .allocation import empty
from .backend import backend_for
from .copying import contiguous, converted
from .shapes import normalize_dim
from .views import permute


def _rows(x: Array, dim: int) -> tuple:
    """(x as a contiguous (rows, n) Array with dim last, the permutation that moved it there)."""
    order = tuple(d for d in range(x.ndim) if d != dim) + ((dim,) if x.ndim else ())
    moved = contiguous(permute(x, order) if order != tuple(range(x.ndim)) else x)
    n = x.shape[dim] if x.ndim else 1
    rows = numel_of(x.shape) // n if n else 0
    return moved.view_as((rows, n), (n, 1), moved.offset), order


def _back(result: Array, shape: tuple, order: tuple) -> Array:
    """A (rows, n) result in the input's shape, dense in its order of dims."""
    moved_shape = tuple(shape[d] for d in order)
    moved = result.view_as(moved_shape, contiguous_strides(moved_shape), result.offset)
    inverse = tuple(order.index(d) for d in range(len(order)))
    return contiguous(permute(moved, inverse)) if order != tuple(range(len(order))) else moved


def scan_dtype(x: Array, dtype) -> dtypes.dtype:
    """cumsum/cumprod's result type: dtype= when given, int64 for integer and bool inputs."""
    if dtype is not None:
        return dtype
    return x.dtype if x.dtype.is_floating_point else dtypes.int64


def scan(op: str, x: Array, dim: int, dtype=None) -> Array:
    """'sum' or 'prod' accumulated along dim (the input first cast to the result type, as torch's)."""
    dim = normalize_dim(dim, x.ndim)
    result = scan_dtype(x, dtype)
    x = converted(x, result)
    out = empty(x.shape, result, x.device)
    if not out.numel():
        return out
    rows, order = _rows(x, dim)
    scanned = empty(rows.shape, result, x.device)
    backend_for(x.device).scan(op, scanned, rows)
    return _back(scanned, x.shape, order)


def sort(x: Array, dim: int = -1, descending: bool = False) -> tuple[Array, Array]:
    """(values, int64 indices) sorted stably along dim; NaN sorts above every number, as in torch."""
    dim = normalize_dim(dim, x.ndim)
    if not x.numel():
        return empty(x.shape, x.dtype, x.device), empty(x.shape, dtypes.int64, x.device)
    rows, order = _rows(x, dim)
    values = empty(rows.shape, x.dtype, x.device)
    indices = empty(rows.shape, dtypes.int64, x.device)
    backend_for(x.device).sort(values, indices, rows, descending)
    return _back(values, x.shape, order), _back(indices, x.shape, order)
