"""Indexing: basic keys (ints, slices, Ellipsis, None) as views; integer and boolean tensors as
gathers and scatters. Every index is validated before anything is read or written at it: on the
host at once where the index is in host memory, else by the device backend, which raises at its
next synchronisation (as torch's device-side asserts) rather than read the index back."""
from __future__ import annotations

import operator

import numpy as np

from tkern import dtypes

from .allocation import TORCH_TYPE_NAMES, bump_version, empty
from .array import Array, numel_of
from .backend import backend_for
from .copying import checked_scalar, converted, copy_into, fill
from .elementwise import expand_to
from .shapes import broadcast_shapes
from .views import select, slice_dim, unsqueeze

_INDEX_DTYPES = (dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool)
_MASK_DTYPES = (dtypes.bool, dtypes.uint8)


def _is_int(k) -> bool:
    return hasattr(k, "__index__") and not isinstance(k, (bool, Array, list, tuple))


def _normalize_key(key, ndim: int, as_array) -> list:
    """The key as a list with lists turned into Arrays, 0-d integer Arrays into ints, and the
    Ellipsis expanded into full slices."""
    if not isinstance(key, tuple):
        key = (key,)
    items = []
    for k in key:
        if isinstance(k, (list, tuple)) or (type(k).__module__ == "numpy" and hasattr(k, "ndim") and k.ndim):
            k = as_array(k)
        if isinstance(k, Array):
            # (a 0-d tensor of any integer type is a number; only float ones are refused)
            if k.dtype not in _INDEX_DTYPES and (k.shape or k.dtype.is_floating_point):
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if not k.shape:
                # a 0-d index is a number; a 0-d mask is True or False (a new dim of size 1 or 0)
                mask = k.dtype is dtypes.bool or k.dtype is dtypes.uint8
                k = backend_for(k.device).to_numpy(k).item()
                if mask:
                    k = bool(k)
        elif not (k is None or k is Ellipsis or isinstance(k, (slice, bool)) or _is_int(k)):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                f"indices (got {type(k).__name__})")
        items.append(k)
    consumed = sum(k.ndim if isinstance(k, Array) and k.dtype in (dtypes.bool, dtypes.uint8) else
                   0 if k is None or k is Ellipsis or isinstance(k, bool) else 1 for k in items)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if Ellipsis in items:
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items = items[:at] + [slice(None)] * (ndim - consumed) + [k for k in items[at + 1:] if k is not Ellipsis]
    else:
        items += [slice(None)] * (ndim - consumed)
    return items


def _apply_basic(x: Array, items: list):
    """Apply ints, slices and None as views; return the view and [(dim in view, index Array)]."""
    view, dim, advanced = x, 0, []
    for k in items:
        if k is None:
            view = unsqueeze(view, dim)
            dim += 1
        elif isinstance(k, bool):
            # torch: a new dim of size 1, indexed by [0] (True) or [] (False) like an integer tensor,
            # so it broadcasts with the key's other tensor indices (and the result is a copy)
            view = unsqueeze(view, dim)
            index = empty((1,) if k else (0,), dtypes.int64, x.device)
            if k:
                backend_for(x.device).fill(index, 0)
            advanced.append((dim, index))
            dim += 1
        elif isinstance(k, slice):
            start, stop, step = k.start, k.stop, k.step
            step = 1 if step is None else operator.index(step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, _ = slice(start, stop, step).indices(view.shape[dim])
            view = slice_dim(view, dim, start, max(stop, start), step)
            dim += 1
        elif isinstance(k, Array):
            if k.dtype in (dtypes.bool, dtypes.uint8):
                dim = _add_mask(view, dim, k, advanced)
            else:
                advanced.append((dim, k))
                dim += 1
        else:
            view = select(view, dim, operator.index(k))
    return view, advanced


def _add_mask(view: Array, dim: int, mask: Array, advanced: list) -> int:
    for i, size in enumerate(mask.shape):
        if view.shape[dim + i] != size:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {i} does not match the shape of the "
                f"indexed tensor {list(view.shape)} at index {dim + i}")
    coords = backend_for(mask.device).nonzero(mask)
    for i in range(mask.ndim):
        column = Array(coords.storage, coords.shape[:1], coords.strides[:1], coords.offset + i * coords.strides[1],
                       coords.dtype)
        advanced.append((dim + i, column))
    return dim + mask.ndim


def _in_host_memory(a: Array) -> bool:
    return a.device.type == "cpu"


def _index_shape(advanced: list) -> tuple:
    """The shape the index Arrays broadcast to, or torch's IndexError."""
    try:
        return broadcast_shapes(*(idx.shape for _, idx in advanced))
    except RuntimeError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(idx.shape)) for _, idx in advanced)) from None


def _checked_indices(view: Array, advanced: list, shape: tuple | None = None) -> tuple:
    """(one entry per dim of view: None, or an int64 Array on view's device broadcast to the common
    index shape; the shape of view[indices]). Indices in host memory are checked here before they
    go anywhere, raising IndexError at once; the device backend checks the others where they live,
    raising at its next synchronisation. Negative entries stay as they are: the backend counts them
    from the end."""
    if shape is None:
        shape = _index_shape(advanced)
    if 0 not in shape and any(view.shape[dim] == 0 for dim, _ in advanced):
        # torch's shape-only check: no index is valid along a dim of size 0
        raise IndexError("index is out of bounds for dimension with size 0")
    if _in_host_memory(view):
        # (a device index of a host tensor has to come to the host anyway)
        advanced = [(dim, converted(idx, device=view.device)) for dim, idx in advanced]
    gathered = _gathered_shape(view, [dim for dim, _ in advanced], shape)
    if numel_of(gathered):  # (like torch, only indices that select something are checked)
        _check_on_host([(view.shape[dim], idx) for dim, idx in advanced if _in_host_memory(idx)], shape)
    indices: list[Array | None] = [None] * view.ndim
    for dim, idx in advanced:
        indices[dim] = expand_to(converted(idx, dtypes.int64, view.device), shape)
    return tuple(indices), gathered


def _check_on_host(sized: list, shape: tuple) -> None:
    """IndexError for the first position of the common index ``shape`` (then the first index) whose
    index lies outside [-size, size); ``sized`` holds (size, index Array) per index, in dim order."""
    first = None
    for k, (size, idx) in enumerate(sized):
        values = backend_for(idx.device).to_numpy(idx)
        if ((values < -size) | (values >= size)).any():
            values = np.broadcast_to(values, shape).reshape(-1)
            at = int(np.flatnonzero((values < -size) | (values >= size))[0])
            if first is None or at < first[0]:
                first = (at, int(values[at]), k, size)
    if first is not None:
        _, value, k, size = first
        raise IndexError(f"index {value} is out of bounds for dimension {k} with size {size}")


def check_class_targets(target: Array, classes: int, ignore_index: int) -> None:
    """IndexError, as torch's nll_loss, for an entry of the int64 ``target`` outside [0, classes) that
    is not ignore_index: raised at once for a target in host memory, at the next synchronisation for
    one on a GPU (its values never come to the host)."""
    backend_for(target.device).check_class_targets(target, classes, ignore_index)


def _gathered_shape(view: Array, dims: list, index_shape: tuple) -> tuple:
    """The shape of view[indices] for indices on ``dims`` (increasing) broadcast to index_shape."""
    rest = [view.shape[d] for d in range(view.ndim) if d not in dims]
    if dims == list(range(dims[0], dims[-1] + 1)):
        before = [view.shape[d] for d in range(dims[0])]
        return tuple(before) + index_shape + tuple(rest[len(before):])
    return index_shape + tuple(rest)


def _basic_view(x: Array, key) -> Array | None:
    """x[key] in one pass for the common keys, made of ints, slices and None only; None for every
    other key (and for keys that must raise), which the general path then handles."""
    if type(key) is not tuple:
        key = (key,)
    shape, strides, offset = [], [], x.offset
    sizes, steps = x.shape, x.strides
    ndim, dim = len(sizes), 0
    for k in key:
        kind = type(k)
        if kind is slice:
            start, stop, step = k.start, k.stop, k.step
            if dim == ndim or not (step is None or type(step) is int and step > 0) or not (
                    start is None or type(start) is int) or not (stop is None or type(stop) is int):
                return None
            start, stop, step = k.indices(sizes[dim])
            length = (stop - start + step - 1) // step if stop > start else 0
            offset += start * steps[dim]
            shape.append(length)
            strides.append(steps[dim] * step)
            dim += 1
        elif kind is int:
            if dim == ndim or not -sizes[dim] <= k < sizes[dim]:
                return None
            offset += (k + sizes[dim] if k < 0 else k) * steps[dim]
            dim += 1
        elif k is None:
            shape.append(1)
            # the stride torch gives a new dim: the extent of the dim it stands before
            strides.append(steps[dim] * sizes[dim] if dim < ndim else 1)
        else:
            return None
    return Array(x.storage, (*shape, *sizes[dim:]), (*strides, *steps[dim:]), offset, x.dtype)


def getitem(x: Array, key, as_array) -> Array:
    view = _basic_view(x, key)
    if view is not None:
        return view
    view, advanced = _apply_basic(x, _normalize_key(key, x.ndim, as_array))
    if not advanced:
        return view
    indices, shape = _checked_indices(view, advanced)
    out = empty(shape, x.dtype, x.device)
    if out.numel():
        backend_for(x.device).gather(out, view, indices)
    return out


def setitem(x: Array, key, value, as_array, accumulate: bool = False) -> None:
    """x[key] = value, value a scalar or an Array broadcast to the indexed shape; with
    ``accumulate`` x[key] += value where repeated indices add up (indexing's backward)."""
    items = _normalize_key(key, x.ndim, as_array)
    if isinstance(value, Array):
        value = _without_leading_ones(value)
    else:
        value = checked_scalar(value, x.dtype, from_setitem=True)
    view, advanced = _apply_basic(x, items)
    if not advanced:
        if isinstance(value, Array):
            copy_into(view, value)
        else:
            fill(view, value, from_setitem=True)
        return
    index_tensors = [k for k in items if isinstance(k, (Array, bool))]
    # torch reads a lone True as a new dim of size 1 and copies into it, casting like basic keys
    _put(view, advanced, value, accumulate, _lone_mask(index_tensors), must_match=type(key) is not bool)


def _lone_mask(index_tensors: list) -> Array | None:
    """The mask when it is the only index tensor: torch then writes a one-element value through
    masked_fill_, which casts it, instead of index_put_, which refuses another dtype."""
    if len(index_tensors) == 1 and isinstance(index_tensors[0], Array) and index_tensors[0].dtype in _MASK_DTYPES:
        return index_tensors[0]
    return None


def _put(view: Array, advanced: list, value, accumulate: bool, lone_mask: Array | None,
         must_match: bool = True) -> None:
    """view[advanced indices] = value (a scalar or an Array), checked entirely before anything is written."""
    if not isinstance(value, Array) or value.numel() == 1 and lone_mask is not None and not accumulate:
        if lone_mask is not None and not accumulate and lone_mask.dtype is dtypes.uint8:
            raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")
        if isinstance(value, Array):
            value = value.view_as((), (), value.offset)
            must_match = False
            if value.dtype is not view.dtype and lone_mask is not None:
                # masked_fill_ reads the value as a number and converts it checked, as torch's .item()
                # does: a value the target's dtype cannot hold is refused, not wrapped
                value = checked_scalar(backend_for(value.device).to_numpy(value).item(), view.dtype)
    # torch's order of checks: indices broadcast together, the value to their result, then dtypes
    if advanced:
        index_shape = _index_shape(advanced)
        shape = _gathered_shape(view, [dim for dim, _ in advanced], index_shape)
    else:  # (index_put_ with 0-d integer indices only: they select)
        shape = view.shape
    if isinstance(value, Array):
        value = _broadcast_value(value, shape)
        if must_match and value.dtype is not view.dtype:
            raise RuntimeError(
                f"Index put requires the source and destination dtypes match, got {TORCH_TYPE_NAMES[view.dtype]} "
                f"for the destination and {TORCH_TYPE_NAMES[value.dtype]} for the source.")
    if not advanced:
        copy_into(view, value)
        return
    indices, shape = _checked_indices(view, advanced, index_shape)
    if isinstance(value, Array):
        value = converted(value, view.dtype, view.device)
    else:
        scalar, value = value, empty((), view.dtype, view.device)
        fill(value, scalar)
    value = _broadcast_value(value, shape)
    bump_version(view)
    if value.numel():
        backend_for(view.device).scatter(view, indices, value, accumulate)


def _broadcast_value(value: Array, shape: tuple) -> Array:
    try:
        return expand_to(value, shape)
    except RuntimeError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(shape)}") from None


def _without_leading_ones(value: Array) -> Array:
    # torch lets a value with extra leading size-1 dims fill a lower-dimensional selection
    lead = 0
    while lead < value.ndim and value.shape[lead] == 1:
        lead += 1
    return value.view_as(value.shape[lead:], value.strides[lead:], value.offset) if lead else value


def index_put(x: Array, indices: tuple, values: Array, accumulate: bool) -> None:
    """torch's index_put_: indices holds one index Array per leading dim of x; a bool or uint8 Array
    is a mask over as many dims as it has."""
    # torch counts index tensors, not the dims they cover: a 0-d mask of a 0-d tensor is one too many
    if len(indices) > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim} (got {len(indices)})")
    view, advanced = _apply_basic(x, _normalize_key(indices, x.ndim, None))
    _put(view, advanced, values, accumulate, _lone_mask(list(indices)))
