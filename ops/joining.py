"""cat and stack: one output, each input copied into its slice."""
from __future__ import annotations

from functools import reduce

from tkern.dtypes import promote_types

from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array
from .backend import backend_for
from .elementwise import common_device
from .shapes import normalize_dim
from .views import slice_dim, unsqueeze


def cat(arrays: list, dim: int = 0, out_dtype=None) -> Array:
    """The arrays joined along dim; ``out_dtype``: the dtype of an out= target, checked first."""
    if not arrays:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, a in enumerate(arrays):
        if not a.shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    if out_dtype is not None and reduce(promote_types, (a.dtype for a in arrays)).category > out_dtype.category:
        raise TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                        f"{TORCH_TYPE_NAMES[out_dtype]}")
    # torch skips 1-D empty inputs when placing the others, and takes any dim when there are no others
    placed = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]
    reference = placed[0] if placed else arrays[0]
    d = normalize_dim(dim, reference.ndim) if placed else 0
    for i, a in enumerate(arrays):
        if a.ndim == 1 and a.shape[0] == 0 and a is not reference:
            continue
        if a.ndim != reference.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {reference.ndim} and {a.ndim}")
        for j in range(a.ndim):
            if j != d and a.shape[j] != reference.shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {reference.shape[j]} "
                    f"but got size {a.shape[j]} for tensor number {i} in the list.")
    device = common_device(arrays)
    dtype = reduce(promote_types, (a.dtype for a in arrays))
    shape = list(reference.shape)
    shape[d] = sum(a.shape[d] for a in placed)
    out = empty(tuple(shape), dtype, device)
    backend = backend_for(device)
    start = 0
    for a in placed:
        length = a.shape[d]
        if length:
            target = slice_dim(out, d, start, start + length, 1)
            if a.device != device:
                raise RuntimeError(
                    f"Expected all tensors to be on the same device, but found at least two devices, "
                    f"{device} and {a.device}!")
            backend.copy(target, a)
        start += length
    return out


def stack(arrays: list, dim: int = 0) -> Array:
    if not arrays:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(arrays[0].shape)} at entry 0 and "
                f"{list(a.shape)} at entry {i}")
    d = normalize_dim(dim, arrays[0].ndim + 1)
    return cat([unsqueeze(a, d) for a in arrays], d)
