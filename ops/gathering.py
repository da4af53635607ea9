"""Indexing along one dim: gather, scatter (store or add), index_select and masked_select, checked
like torch and then run on the backend's gather and scatter primitives (the kernels of advanced
indexing): gather(x, dim, index) is x[i0, ..., index, ..., ik] with every other dim indexed by its
own position, an arange seen along that dim only (stride 0 elsewhere)."""
from __future__ import annotations

import numpy as np

from tkern import dtypes

from .allocation import bump_version, empty
from .array import Array
from .backend import backend_for
from .copying import clone, converted, fill
from .elementwise import _device_mismatch as device_mismatch, common_device, expand_to
from .indexing import getitem
from .reduction import reduce
from .shapes import broadcast_shapes, normalize_dim

_INDEX_TYPES = (dtypes.int64, dtypes.int32)


def _check_index_type(name: str, index: Array) -> None:
    if index.dtype not in _INDEX_TYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


def _check_devices(x: Array, *others) -> None:
    for other in others:
        if isinstance(other, Array) and other.device != x.device:
            raise device_mismatch(x.device, other.device)


def _first_out_of_range(index: Array, size: int) -> int | None:
    """The first entry (row-major) of ``index`` outside [0, size), or None, found on the host before
    anything is written, as torch checks. From a GPU only the index's extremes come back (one
    synchronisation), and the whole index only when one of them is out of range."""
    backend = backend_for(index.device)
    if index.device.type != "cpu":
        low, high = (backend.to_numpy(reduce(op, index)).item() for op in ("min", "max"))
        if low >= 0 and high < size:
            return None
    values = backend.to_numpy(index).reshape(-1)
    bad = (values < 0) | (values >= size)
    if not bad.any():
        return None
    return int(values[int(np.flatnonzero(bad)[0])])


def _check_range(index: Array, size: int, dim: int) -> None:
    value = _first_out_of_range(index, size) if index.numel() else None
    if value is not None:
        raise RuntimeError(f"index {value} is out of bounds for dimension {dim} with size {size}")


def _positions(index: Array, dim: int) -> tuple:
    """One int64 Array per dim of index's shape: ``index`` itself (as int64) on ``dim``, elsewhere
    each element's own position along that dim (an arange broadcast with stride 0)."""
    backend = backend_for(index.device)
    shape = index.shape
    positions = []
    for d, n in enumerate(shape):
        if d == dim:
            positions.append(converted(index, dtypes.int64))
            continue
        line = empty((n,), dtypes.int64, index.device)
        if n:
            backend.sequence(line, 0, 1, n - 1, n, dtypes.int64)
        positions.append(line.view_as(shape, tuple(1 if k == d else 0 for k in range(len(shape))), 0))
    return tuple(positions)


def _as_1d(a: Array) -> Array:
    return a.view_as((1,), (1,), a.offset) if not a.shape else a


def _check_shapes(index: Array, x: Array, dim: int, src: Array | None, gathering: bool) -> None:
    """torch's size checks: index no larger than x apart from dim, nor than src anywhere."""
    for d in range(index.ndim):
        if (d != dim and index.shape[d] > x.shape[d]) or (src is not None and index.shape[d] > src.shape[d]):
            if gathering:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                                   f"larger than self {list(x.shape)} apart from dimension {dim}")
            message = (f"Expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart from "
                       f"dimension {dim}")
            if src is not None:
                message += f" and to be no larger size than src {list(src.shape)}"
            raise RuntimeError(message)


def gather(x: Array, dim: int, index: Array) -> Array:
    """out[i][j] = x[index[i][j]][j] (dim 0): a new Array of index's shape and x's dtype."""
    dim = normalize_dim(dim, x.ndim)
    _check_index_type("gather", index)
    _check_devices(x, index)
    if max(index.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    shape = index.shape
    x, index = _as_1d(x), _as_1d(index)
    _check_shapes(index, x, dim, None, gathering=True)
    out = empty(index.shape, x.dtype, x.device)
    if out.numel():
        _check_range(index, x.shape[dim], dim)
        backend_for(x.device).gather(out, x, _positions(index, dim))
    return out if out.shape == shape else out.view_as(shape, (), 0)


def scatter(x: Array, dim: int, index: Array, src, accumulate: bool, name: str = "scatter",
            out: Array | None = None) -> Array:
    """x with src (an Array, of which the index-shaped corner is read, or a number) written at
    index along dim, or added there (``accumulate``, repeated indices adding up): into ``out``
    (x itself for the in-place forms) or a new copy of x."""
    dim = normalize_dim(dim, x.ndim)
    _check_index_type(name, index)
    _check_devices(x, index, src)
    source = src if isinstance(src, Array) else None
    if source is not None and source.dtype is not x.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.numel() and max(index.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if source is not None and index.numel() and max(source.ndim, 1) != max(x.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    target = clone(x) if out is None else out
    if not index.numel():
        return target
    index, whole = _as_1d(index), _as_1d(target)
    if source is not None:
        source = _as_1d(source)
    _check_shapes(index, whole, dim, source, gathering=False)
    _check_range(index, whole.shape[dim], dim)
    if source is None:
        value = empty((), x.dtype, x.device)
        fill(value, src)
        values = expand_to(value, index.shape)
    else:
        values = source.view_as(index.shape, source.strides, source.offset)
    bump_version(target)
    backend_for(x.device).scatter(whole, _positions(index, dim), values, accumulate)
    return target


def index_select(x: Array, dim: int, index: Array) -> Array:
    """x's slices at ``index`` (a vector, or a 0-d index) along dim."""
    dim = normalize_dim(dim, x.ndim)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in _INDEX_TYPES:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    _check_devices(x, index)
    size = x.shape[dim] if x.ndim else 1
    if index.numel() and _first_out_of_range(index, size) is not None:
        raise IndexError("index out of range in self")
    if not x.ndim:
        return clone(x)
    shape = x.shape[:dim] + (index.numel(),) + x.shape[dim + 1:]
    out = empty(shape, x.dtype, x.device)
    if out.numel():
        key: list[Array | None] = [None] * x.ndim
        key[dim] = converted(_as_1d(index), dtypes.int64)
        # an index on one dim only: the gathered layout is x's own (numpy's rule keeps it in place)
        backend_for(x.device).gather(out, x, tuple(key))
    return out


def masked_select(x: Array, mask: Array) -> Array:
    """The 1-d Array of x's elements where ``mask`` (bool, broadcast with x) is True: x[mask] once
    both are broadcast to one shape."""
    if mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(x.shape, mask.shape)
    common_device((x, mask))  # (a 0-d mask in host memory may join, as a number would)
    return getitem(expand_to(x, shape), expand_to(converted(mask, device=x.device), shape), None)
