"""Views: new shapes and strides over the same storage, never a copy (reshape copies only when
the layout forces it, like torch)."""
from __future__ import annotations

from .allocation import TORCH_TYPE_NAMES
from .array import Array
from .copying import contiguous
from .shapes import expand_strides, infer_size, normalize_dim, normalize_dims, view_strides


def view(x: Array, shape) -> Array:
    shape = infer_size(shape, x.numel())
    strides = view_strides(x.shape, x.strides, shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension "
            "spans across two contiguous subspaces). Use .reshape(...) instead.")
    return x.view_as(shape, strides, x.offset)


def view_dtype(x: Array, dtype) -> Array:
    """x's bytes read as another dtype (torch's Tensor.view(dtype)); with a different element size
    the last dim, which must have stride 1, shrinks or grows by the size ratio."""
    old, new = x.dtype.itemsize, dtype.itemsize
    if old == new:
        return Array(x.storage, x.shape, x.strides, x.offset, dtype)
    names = f"to view {TORCH_TYPE_NAMES[x.dtype]} as {TORCH_TYPE_NAMES[dtype]} (different element sizes)"
    if not x.shape:
        raise RuntimeError(f"self.dim() cannot be 0 {names}")
    if x.strides[-1] != 1:
        raise RuntimeError(f"self.stride(-1) must be 1 {names}, but got {x.strides[-1]}")
    if old > new:
        ratio = old // new
        shape = x.shape[:-1] + (x.shape[-1] * ratio,)
        strides = tuple(st * ratio for st in x.strides[:-1]) + (1,)
        return Array(x.storage, shape, strides, x.offset * ratio, dtype)
    ratio = new // old
    if x.shape[-1] % ratio:
        raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {names}, but got {x.shape[-1]}")
    if x.offset % ratio:
        raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {names}, but got {x.offset}")
    for i, st in enumerate(x.strides[:-1]):
        if st % ratio:
            raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {names}, but got {st}")
    shape = x.shape[:-1] + (x.shape[-1] // ratio,)
    strides = tuple(st // ratio for st in x.strides[:-1]) + (1,)
    return Array(x.storage, shape, strides, x.offset // ratio, dtype)


def reshape(x: Array, shape) -> Array:
    shape = infer_size(shape, x.numel())
    strides = view_strides(x.shape, x.strides, shape)
    if strides is None:
        return view(contiguous(x), shape)
    return x.view_as(shape, strides, x.offset)


def permute(x: Array, dims) -> Array:
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}")
    dims = [normalize_dim(d, x.ndim) for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return x.view_as(tuple(x.shape[d] for d in dims), tuple(x.strides[d] for d in dims), x.offset)


def transpose(x: Array, dim0: int, dim1: int) -> Array:
    ndim = len(x.shape)
    d0, d1 = normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
    if ndim == 0:
        return x.view_as(x.shape, x.strides, x.offset)
    shape, strides = list(x.shape), list(x.strides)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    strides[d0], strides[d1] = strides[d1], strides[d0]
    return x.view_as(tuple(shape), tuple(strides), x.offset)


def t(x: Array) -> Array:
    shape, strides = x.shape, x.strides
    if len(shape) == 2:
        return x.view_as((shape[1], shape[0]), (strides[1], strides[0]), x.offset)
    if len(shape) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(shape)}D")
    return x.view_as(shape, strides, x.offset)


def expand(x: Array, shape) -> Array:
    shape = tuple(shape)
    strides = expand_strides(x.shape, x.strides, shape)
    lead = len(shape) - x.ndim
    final = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    if any(s < 0 for s in final):
        raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {list(shape)}")
    return x.view_as(final, strides, x.offset)


def squeeze(x: Array, dims=None) -> Array:
    if dims is None:
        keep = [i for i, s in enumerate(x.shape) if s != 1]
    else:
        drop = normalize_dims(dims, x.ndim)
        keep = [i for i in range(x.ndim) if not (i in drop and x.shape[i] == 1)]
    return x.view_as(tuple(x.shape[i] for i in keep), tuple(x.strides[i] for i in keep), x.offset)


def unsqueeze(x: Array, dim: int) -> Array:
    d = normalize_dim(dim, x.ndim + 1)
    stride = x.strides[d] * x.shape[d] if d < x.ndim else 1
    return x.view_as(x.shape[:d] + (1,) + x.shape[d:], x.strides[:d] + (stride,) + x.strides[d:], x.offset)


def flatten(x: Array, start_dim: int = 0, end_dim: int = -1) -> Array:
    s, e = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    merged = 1
    for size in x.shape[s:e + 1]:
        merged *= size
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:])


def unflatten(x: Array, dim: int, sizes) -> Array:
    d = normalize_dim(dim, x.ndim)
    sizes = infer_size(tuple(sizes), x.shape[d])
    return view(x, x.shape[:d] + sizes + x.shape[d + 1:])


def narrow(x: Array, dim: int, start: int, length: int) -> Array:
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, x.ndim)
    size = x.shape[d]
    if start < -size or start > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_dim(x, d, start, start + length, 1)


def slice_dim(x: Array, dim: int, start: int, stop: int, step: int) -> Array:
    """x[..., start:stop:step, ...] along dim, with bounds already clipped."""
    length = max(0, (stop - start + step - 1) // step)
    shape = x.shape[:dim] + (length,) + x.shape[dim + 1:]
    strides = x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1:]
    # torch moves the offset to start even when nothing is left (x[5:] of 5 elements: offset 5)
    return x.view_as(shape, strides, x.offset + start * x.strides[dim])


def select(x: Array, dim: int, index: int) -> Array:
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, x.ndim)
    size = x.shape[d]
    if index < -size or index >= size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    if index < 0:
        index += size
    return x.view_as(x.shape[:d] + x.shape[d + 1:], x.strides[:d] + x.strides[d + 1:],
                     x.offset + index * x.strides[d])


def split(x: Array, split_size_or_sections, dim: int = 0) -> list:
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, x.ndim)
    size = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and not (step == 0 and size == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        # (an empty dim still gives one empty piece, as torch's split does)
        sections = [step] * (size // step) + ([size % step] if size % step else []) if size else [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {d}), but got split_sizes={sections}")
    pieces, start = [], 0
    for length in sections:
        pieces.append(slice_dim(x, d, start, start + length, 1))
        start += length
    return pieces


def chunk(x: Array, chunks: int, dim: int = 0) -> list:
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = normalize_dim(dim, x.ndim)
    size = x.shape[d]
    if size == 0:
        return [slice_dim(x, d, 0, 0, 1) for _ in range(chunks)]
    return split(x, -(-size // chunks), d)


def unbind(x: Array, dim: int = 0) -> list:
    d = normalize_dim(dim, x.ndim)
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return [select(x, d, i) for i in range(x.shape[d])]


def diagonal(x: Array, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Array:
    d1, d2 = normalize_dim(dim1, x.ndim), normalize_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if offset >= 0:
        length = max(0, min(x.shape[d1], x.shape[d2] - offset))
        start = x.offset + offset * x.strides[d2]
    else:
        length = max(0, min(x.shape[d1] + offset, x.shape[d2]))
        start = x.offset - offset * x.strides[d1]
    keep = [i for i in range(x.ndim) if i not in (d1, d2)]
    shape = tuple(x.shape[i] for i in keep) + (length,)
    strides = tuple(x.strides[i] for i in keep) + (x.strides[d1] + x.strides[d2],)
    return x.view_as(shape, strides, start if length else x.offset)


def as_strided(x: Array, shape, strides, offset: int | None = None) -> Array:
    """Any geometry over x's storage (torch.as_strided): ``offset`` counts from the storage's start."""
    shape, strides = tuple(int(n) for n in shape), tuple(int(st) for st in strides)
    offset = x.offset if offset is None else int(offset)
    if len(shape) != len(strides):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(st < 0 for st in strides):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(strides)}")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    storage = x.storage
    if 0 not in shape:
        itemsize = x.dtype.itemsize
        needed = (offset + sum((n - 1) * st for n, st in zip(shape, strides)) + 1) * itemsize
        if needed > storage.nbytes:
            raise RuntimeError(
                f"setStorage: sizes {list(shape)}, strides {list(strides)}, storage offset {offset}, and itemsize "
                f"{itemsize} requiring a storage size of {needed} are out of bounds for storage of size "
                f"{storage.nbytes}")
    return Array(storage, shape, strides, offset, x.dtype)
