"""Copies: casts, contiguous copies, copy_ with broadcasting, and fills."""
from __future__ import annotations

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


def fill(out: Array, value) -> Array:
    if out.has_internal_overlap() and out.numel() > 1:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    bump_version(out)
    backend_for(out.device).fill(out, value)
    return out
