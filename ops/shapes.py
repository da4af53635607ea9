"""Shape arithmetic: dims, broadcasting and view strides, as small pure functions."""
from __future__ import annotations

from functools import lru_cache

from .array import contiguous_strides, numel_of


def normalize_dim(dim: int, ndim: int) -> int:
    """Wrap a negative dim like torch; IndexError naming the valid range otherwise."""
    if type(dim) is int and 0 <= dim < ndim:
        return dim
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    bound = max(ndim, 1)
    if dim < -bound or dim >= bound:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
    return dim + bound if dim < 0 else dim


def normalize_dims(dims, ndim: int) -> tuple:
    """A sorted tuple of distinct non-negative dims; None means every dim."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    result = []
    for d in dims:
        d = normalize_dim(d, ndim)
        if d in result:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        result.append(d)
    return tuple(sorted(result))


@lru_cache(maxsize=4096)
def broadcast_shapes(*shapes: tuple) -> tuple:
    """torch.broadcast_shapes: align on the right, sizes equal or 1."""
    ndim = max(len(s) for s in shapes)
    result = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape):
            j = ndim - len(shape) + i
            if result[j] == 1:
                result[j] = size
            elif size != 1 and size != result[j]:
                raise RuntimeError(
                    f"The size of tensor a ({result[j]}) must match the size of tensor b ({size}) "
                    f"at non-singleton dimension {i}")
    return tuple(result)


def expand_strides(shape: tuple, strides: tuple, target: tuple) -> tuple:
    """Strides that read ``shape`` as ``target``, with stride 0 where it is broadcast."""
    if len(target) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(target)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})")
    lead = len(target) - len(shape)
    result = [0] * lead
    for i, (size, stride) in enumerate(zip(shape, strides)):
        want = target[lead + i]
        if want == -1:
            want = size
        if size == want:
            result.append(stride)
        elif size == 1:
            result.append(0)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({size}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(target)}.  Tensor sizes: {list(shape)}")
    return tuple(result)


def infer_size(shape, numel: int) -> tuple:
    """Resolve one -1 in a requested shape (view/reshape)."""
    shape = tuple(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"shape must be a sequence of ints, got {type(s).__name__}")
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or numel % known != 0:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        i = unknown[0]
        return shape[:i] + (numel // known,) + shape[i + 1:]
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple):
    """Strides for viewing old as new without a copy, or None when the layout does not allow it.

    Walks chunks of old dims that are contiguous with each other and splits each chunk
    into the new dims that multiply to its size (torch's computeStride).
    """
    if numel_of(old_shape) == 0:
        return contiguous_strides(tuple(new_shape))
    if not old_shape:
        return (1,) * len(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1] if old_strides else 1
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def check_shape_arg(size) -> tuple:
    """Accept f(2, 3), f((2, 3)), f([2, 3]) or f(Size) as torch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if hasattr(s, "__index__") and not isinstance(s, bool):
            s = s.__index__()
        else:
            raise TypeError(f"expected a sequence of integers as size, but got an element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)
