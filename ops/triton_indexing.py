"""Indexing kernels: gather (x[indices]), scatter (x[indices] = values, or +=), index checks and nonzero.

Gather and scatter walk the gathered shape in row-major order. Every operand gets strides over that
shape: x's on the sliced dims (0 on the index dims), each index Array's on the index dims (0 on the
sliced ones), so one coalesced layout serves them all and views (transposed, stepped, offset,
expanded) are read and written in place. The loaded index values (negative ones counted from the
end) times x's strides of the indexed dims complete the element offset into x.

Indices are checked on the device, never read back to the host: gather reads nothing for a position
whose index is out of range and records the failure in the GPU's error flag (ops/device_errors.py);
scatter first runs a check pass over the indices alone, and the writing kernel writes nothing when
the flag is set. The error is raised at the next synchronisation. Class targets of a loss are
checked by the same pass.

nonzero counts the nonzero elements per block, scans the block counts into starting ranks, and then
writes each nonzero element's coordinates at its rank (a cumsum inside the block).
"""
from __future__ import annotations

from typing import cast

import triton
import triton.language as tl

from tkern import dtypes

from . import device_errors
from .array import Array
from .device_errors import INDEX_OUT_OF_BOUNDS, TARGET_OUT_OF_BOUNDS, is_clear, record_failure
from .triton_launcher import Launcher
from .triton_elementwise import block_indices, strided_offsets
from .triton_arguments import BLOCK, coalesce, grid_for, needs_int64, pointer

# scatter modes
_STORE, _ATOMIC_ADD, _OR, _SPLICE_ADD = 0, 1, 2, 3

# Triton has no atomic add narrower than 32 bits except float16 (and its interpreter none for
# bfloat16): these accumulate by compare-and-swap on the 32-bit word that holds the element
_SPLICED = (dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.bfloat16)

# nonzero: elements per program of the count and write kernels, and counts per step of the scan
_NONZERO_BLOCK = 2048
_SCAN_BLOCK = 1024


# ----- index checks -----


@triton.jit
def _checked(i, bound, ignore, CHECK: tl.constexpr):
    """(i as a position along a dim of ``bound`` entries, whether i is valid there): an index counts
    negative entries from the end; a class target lies in [0, bound) or is ``ignore``."""
    if CHECK == INDEX_OUT_OF_BOUNDS:
        i = tl.where(i < 0, i + bound, i)
        valid = (i >= 0) & (i < bound)
    else:
        valid = (i == ignore) | ((i >= 0) & (i < bound))
    return i, valid


@triton.jit
def _record_first_failure(flag_ptr, stamp, failed, idx, sizes, index_ptrs, index_offsets, index_strides, bounds,
                          ignore, K: tl.constexpr, NDIM: tl.constexpr, CHECK: tl.constexpr):
    """Record the block's first failed position (``failed`` per position ``idx`` of the common index
    layout) with its first invalid index, read again there: the common path, no failure, keeps no
    more than the ``failed`` mask live."""
    if tl.max(failed.to(tl.int32), axis=0) > 0:
        position = tl.min(tl.where(failed, idx.to(tl.int64), 2 ** 63 - 1), axis=0)
        dim = tl.full([], -1, tl.int64)
        value = tl.full([], 0, tl.int64)
        size = tl.full([], 0, tl.int64)
        for k in tl.static_range(K):
            raw = tl.load(index_ptrs[k] + index_offsets[k] + strided_offsets(position, sizes, index_strides[k], NDIM))
            _, valid = _checked(raw, bounds[k], ignore, CHECK)
            first = (dim < 0) & ~valid
            value = tl.where(first, raw, value)
            size = tl.where(first, bounds[k], size)
            dim = tl.where(first, k, dim)
        record_failure(flag_ptr, stamp, position, dim, value, size, CHECK)


@triton.jit(do_not_specialize=["stamp"])
def check_indices_kernel(flag_ptr, stamp, index_ptrs, n, sizes, index_strides, index_offsets, bounds, ignore,
                         K: tl.constexpr, NDIM: tl.constexpr, CHECK: tl.constexpr, WIDE: tl.constexpr,
                         BLOCK: tl.constexpr):
    """Record in the flag the first position (in row-major order of the common index shape, then in
    k order) whose index k is not valid along a dim of bounds[k] entries."""
    idx = block_indices(WIDE, BLOCK)
    mask = idx < n
    failed = idx < 0
    for k in tl.static_range(K):
        raw = tl.load(index_ptrs[k] + index_offsets[k] + strided_offsets(idx, sizes, index_strides[k], NDIM),
                      mask=mask, other=0)
        _, valid = _checked(raw, bounds[k], ignore, CHECK)
        failed = failed | (mask & ~valid)
    _record_first_failure(flag_ptr, stamp, failed, idx, sizes, index_ptrs, index_offsets, index_strides, bounds,
                          ignore, K, NDIM, CHECK)


# ----- gather and scatter -----


@triton.jit(do_not_specialize=["stamp"])
def gather_kernel(out_ptr, x_ptr, index_ptrs, flag_ptr, stamp, n, sizes, out_strides, x_strides, index_strides,
                  index_offsets, dim_strides, bounds, out_offset, x_offset, K: tl.constexpr, NDIM: tl.constexpr,
                  WIDE: tl.constexpr, BLOCK: tl.constexpr):
    idx = block_indices(WIDE, BLOCK)
    mask = idx < n
    source = x_offset + strided_offsets(idx, sizes, x_strides, NDIM)
    failed = idx < 0
    for k in tl.static_range(K):
        where = index_offsets[k] + strided_offsets(idx, sizes, index_strides[k], NDIM)
        i, valid = _checked(tl.load(index_ptrs[k] + where, mask=mask, other=0), bounds[k], 0, INDEX_OUT_OF_BOUNDS)
        failed = failed | (mask & ~valid)
        source += i * dim_strides[k]
    # a position with an index out of range reads nothing (its output is garbage, and the error pending)
    value = tl.load(x_ptr + source, mask=mask & ~failed, other=0)
    tl.store(out_ptr + out_offset + strided_offsets(idx, sizes, out_strides, NDIM), value, mask=mask)
    _record_first_failure(flag_ptr, stamp, failed, idx, sizes, index_ptrs, index_offsets, index_strides, bounds, 0,
                          K, NDIM, INDEX_OUT_OF_BOUNDS)


@triton.jit
def _splice_add(target, value, active, anchor, BITS: tl.constexpr):
    """target[i] += value[i] where active, by compare-and-swap of the aligned 32-bit word around each
    element; lanes outside the block's range use ``anchor``'s word instead."""
    address = target.to(tl.int64, bitcast=True)
    word = (address & ~3).to(tl.pointer_type(tl.int32), bitcast=True)
    spare = (anchor.to(tl.int64, bitcast=True) & ~3).to(tl.pointer_type(tl.int32), bitcast=True)
    shift = ((address & 3) * 8).to(tl.int32)
    field: tl.constexpr = (1 << BITS) - 1
    old = tl.load(word, mask=active, other=0)
    todo = active
    while tl.max(todo.to(tl.int32), axis=0) > 0:
        bits = (old >> shift) & field
        if value.dtype == tl.bfloat16:
            current = bits.to(tl.int16).to(tl.bfloat16, bitcast=True)
            total = (current.to(tl.float32) + value.to(tl.float32)).to(tl.bfloat16)
            bits = total.to(tl.int16, bitcast=True).to(tl.int32) & field
        else:
            # two's complement: a wrapping add of the low bits is the add for signed and unsigned
            bits = (bits + value.to(tl.int32)) & field
        new = (old & ~(field << shift)) | (bits << shift)
        # atomic_cas takes no mask: a finished lane swaps its word for itself, a no-op whatever the
        # word holds (on its own word, so that such lanes do not all contend for one address)
        prev = tl.atomic_cas(tl.where(active, word, spare), old, tl.where(todo, new, old), sem="relaxed")
        todo = todo & (prev != old)
        old = prev


@triton.jit
def scatter_kernel(x_ptr, values_ptr, index_ptrs, flag_ptr, n, sizes, values_strides, x_strides, index_strides,
                   index_offsets, dim_strides, bounds, values_offset, x_offset, MODE: tl.constexpr,
                   BITS: tl.constexpr, K: tl.constexpr, NDIM: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
    """x[indices] = values (or +=) for indices the check pass found valid: nothing is written while
    the error flag holds a failure."""
    idx = block_indices(WIDE, BLOCK)
    mask = (idx < n) & is_clear(flag_ptr)
    value = tl.load(values_ptr + values_offset + strided_offsets(idx, sizes, values_strides, NDIM), mask=mask)
    target = x_ptr + x_offset + strided_offsets(idx, sizes, x_strides, NDIM)
    for k in tl.static_range(K):
        where = index_offsets[k] + strided_offsets(idx, sizes, index_strides[k], NDIM)
        i, _ = _checked(tl.load(index_ptrs[k] + where, mask=mask, other=0), bounds[k], 0, INDEX_OUT_OF_BOUNDS)
        target += i * dim_strides[k]
    if MODE == 0:
        tl.store(target, value, mask=mask)
    elif MODE == 1:
        tl.atomic_add(target, value, mask=mask, sem="relaxed")
    elif MODE == 2:
        # bool accumulation is a logical or: every writer writes True, so races are harmless
        tl.store(target, value, mask=mask & (value != 0))
    else:
        _splice_add(target, value, mask, x_ptr, BITS)


def _layout(shape: tuple, operand: Array, x: Array, indices: tuple) -> tuple:
    """(sizes, operand strides, x strides, index strides per index, x strides of the indexed dims, x
    sizes of the indexed dims, index Arrays), coalesced over ``shape``, the gathered shape that operand
    (out or values) has."""
    dims = [d for d, i in enumerate(indices) if i is not None]
    index_arrays = [indices[d] for d in dims]
    index_ndim = index_arrays[0].ndim
    sliced = [d for d in range(x.ndim) if indices[d] is None]
    # numpy's rule: adjacent index dims stay in place, separated ones go first
    before = sliced[:dims[0]] if dims == list(range(dims[0], dims[-1] + 1)) else []
    after = sliced[len(before):]
    x_strides = tuple(x.strides[d] for d in before) + (0,) * index_ndim + tuple(x.strides[d] for d in after)
    index_strides = [(0,) * len(before) + tuple(i.strides) + (0,) * len(after) for i in index_arrays]
    sizes, merged = coalesce(shape, [operand.strides, x_strides] + index_strides)
    return (sizes, merged[0], merged[1], tuple(merged[2:]), tuple(x.strides[d] for d in dims),
            tuple(x.shape[d] for d in dims), index_arrays)


_launch_check_indices_kernel = Launcher(check_indices_kernel)
_launch_gather_kernel = Launcher(gather_kernel)
_launch_scatter_kernel = Launcher(scatter_kernel)


def _check_indices(index_arrays: list, bounds: tuple, ignore: int, check: int) -> None:
    """Launch the check pass of index_arrays (one common shape) against bounds; a failure is raised
    at the GPU's next synchronisation."""
    shape = index_arrays[0].shape
    n = index_arrays[0].numel()
    sizes, strides = coalesce(shape, [i.strides for i in index_arrays])
    flag, stamp = device_errors.for_validation(index_arrays[0].device.index)
    _launch_check_indices_kernel(
        grid_for(n), flag, stamp, tuple(pointer(i) for i in index_arrays), n, sizes, tuple(strides),
        tuple(i.offset for i in index_arrays), bounds, ignore, K=len(index_arrays), NDIM=len(sizes), CHECK=check,
        WIDE=needs_int64(n + BLOCK, index_arrays), BLOCK=BLOCK)


def check_class_targets(backend, target: Array, classes: int, ignore_index: int) -> None:
    """IndexError at the next synchronisation when an int64 target other than ignore_index lies
    outside [0, classes)."""
    if target.numel():
        _check_indices([target], (classes,), ignore_index, TARGET_OUT_OF_BOUNDS.value)


def gather(backend, out: Array, x: Array, indices: tuple) -> None:
    """out = x[indices] (numpy's advanced indexing with None for a whole dim); an index out of range
    raises IndexError at the next synchronisation."""
    n = out.numel()
    if n == 0:
        return
    sizes, out_strides, x_strides, index_strides, dim_strides, bounds, index_arrays = _layout(out.shape, out, x,
                                                                                             indices)
    flag, stamp = device_errors.for_validation(cast(int, x.device.index))  # (a 'cuda' device has its index)
    _launch_gather_kernel(
        grid_for(n), pointer(out), pointer(x), tuple(pointer(i) for i in index_arrays), flag, stamp, n, sizes,
        out_strides, x_strides, index_strides, tuple(i.offset for i in index_arrays), dim_strides, bounds,
        out.offset, x.offset, K=len(index_arrays), NDIM=len(sizes),
        WIDE=needs_int64(n + BLOCK, [out, x] + index_arrays), BLOCK=BLOCK)


def _private(backend, a: Array, x: Array) -> Array:
    """a, or a dense copy of it when it shares memory with x: all of it must be read before x is written."""
    if not a.shares_memory_with(x):
        return a
    dense = backend.empty(a.shape, a.dtype, a.device)
    backend.copy(dense, a)
    return dense


def scatter(backend, x: Array, indices: tuple, values: Array, accumulate: bool) -> None:
    """x[indices] = values, or += with duplicates adding up when ``accumulate``; with an index out of
    range nothing is written, and IndexError is raised at the next synchronisation."""
    n = values.numel()
    if n == 0:
        return
    values = _private(backend, values, x)
    indices = tuple(None if i is None else _private(backend, i, x) for i in indices)
    if not accumulate:
        mode = _STORE
    elif x.dtype is dtypes.bool:
        mode = _OR
    elif x.dtype in _SPLICED:
        mode = _SPLICE_ADD
    else:
        mode = _ATOMIC_ADD
    sizes, values_strides, x_strides, index_strides, dim_strides, bounds, index_arrays = _layout(values.shape,
                                                                                                 values, x, indices)
    _check_indices(index_arrays, bounds, 0, INDEX_OUT_OF_BOUNDS.value)
    _launch_scatter_kernel(
        grid_for(n), pointer(x), pointer(values), tuple(pointer(i) for i in index_arrays),
        device_errors.for_reading(cast(int, x.device.index)), n, sizes, values_strides, x_strides, index_strides,
        tuple(i.offset for i in index_arrays), dim_strides, bounds, values.offset, x.offset, MODE=mode,
        BITS=8 * x.dtype.itemsize, K=len(index_arrays), NDIM=len(sizes),
        WIDE=needs_int64(n + BLOCK, [x, values] + index_arrays), BLOCK=BLOCK)


# ----- nonzero -----


@triton.jit
def _nonzero_in_block(x_ptr, n, sizes, strides, x_offset, NDIM: tl.constexpr, WIDE: tl.constexpr,
                      BLOCK: tl.constexpr):
    """(positions, whether each is a nonzero element) for this program's block of x in row-major order."""
    idx = block_indices(WIDE, BLOCK)
    mask = idx < n
    x = tl.load(x_ptr + x_offset + strided_offsets(idx, sizes, strides, NDIM), mask=mask)
    if x.dtype == tl.float16 or x.dtype == tl.bfloat16:
        x = x.to(tl.float32)
    # NaN != 0 holds, so NaN counts as nonzero like in torch
    return idx, mask & (x != 0)


@triton.jit
def nonzero_count_kernel(counts_ptr, x_ptr, n, sizes, strides, x_offset, NDIM: tl.constexpr,
                         WIDE: tl.constexpr, BLOCK: tl.constexpr):
    _, hits = _nonzero_in_block(x_ptr, n, sizes, strides, x_offset, NDIM, WIDE, BLOCK)
    tl.store(counts_ptr + tl.program_id(0), tl.sum(hits.to(tl.int32), axis=0))


@triton.jit
def exclusive_scan_kernel(starts_ptr, counts_ptr, m, BLOCK: tl.constexpr):
    """starts[i] = counts[0] + ... + counts[i - 1] for i <= m (starts[m] is the total), in one program."""
    lanes = tl.arange(0, BLOCK)
    # the running total is kept as a block (every lane the same) rather than a 0-d scalar
    carry = tl.zeros([BLOCK], tl.int64)
    for begin in range(0, m, BLOCK):
        i = begin + lanes
        c = tl.load(counts_ptr + i, mask=i < m, other=0).to(tl.int64)
        tl.store(starts_ptr + i, carry + tl.cumsum(c, axis=0) - c, mask=i < m)
        carry += tl.sum(c, axis=0)
    tl.store(starts_ptr + m + lanes, carry, mask=lanes == 0)


@triton.jit
def nonzero_write_kernel(out_ptr, x_ptr, starts_ptr, n, sizes, strides, shape, x_offset, NDIM: tl.constexpr,
                         DIMS: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
    idx, hits = _nonzero_in_block(x_ptr, n, sizes, strides, x_offset, NDIM, WIDE, BLOCK)
    h = hits.to(tl.int32)
    rank = tl.load(starts_ptr + tl.program_id(0)) + (tl.cumsum(h, axis=0) - h).to(tl.int64)
    row = out_ptr + rank * DIMS
    rem = idx
    for k in tl.static_range(DIMS):
        tl.store(row + (DIMS - 1 - k), (rem % shape[DIMS - 1 - k]).to(tl.int64), mask=hits)
        rem = rem // shape[DIMS - 1 - k]


_launch_nonzero_count_kernel = Launcher(nonzero_count_kernel)
_launch_exclusive_scan_kernel = Launcher(exclusive_scan_kernel)
_launch_nonzero_write_kernel = Launcher(nonzero_write_kernel)

def nonzero(backend, x: Array) -> Array:
    """A new int64 Array (count, x.ndim) of the coordinates of x's nonzero elements in row-major order."""
    n = x.numel()
    if n == 0:
        return backend.empty((0, x.ndim), dtypes.int64, x.device)
    sizes, (strides,) = coalesce(x.shape, [x.strides])
    grid = grid_for(n, _NONZERO_BLOCK)
    wide = needs_int64(n + _NONZERO_BLOCK, [x])
    blocks = grid[0]
    counts = backend.empty((blocks,), dtypes.int32, x.device)
    _launch_nonzero_count_kernel(grid, pointer(counts), pointer(x), n, sizes, strides, x.offset, NDIM=len(sizes),
                               WIDE=wide, BLOCK=_NONZERO_BLOCK)
    starts = backend.empty((blocks + 1,), dtypes.int64, x.device)
    _launch_exclusive_scan_kernel((1,), pointer(starts), pointer(counts), blocks, BLOCK=_SCAN_BLOCK)
    # the count sets the result's shape: the one sync, as in torch
    total = int(backend.to_numpy(starts.view_as((1,), (1,), blocks))[0])
    out = backend.empty((total, x.ndim), dtypes.int64, x.device)
    if total and x.ndim:
        _launch_nonzero_write_kernel(grid, pointer(out), pointer(x), pointer(starts), n, sizes, strides, x.shape, x.offset,
                                   NDIM=len(sizes), DIMS=x.ndim, WIDE=wide, BLOCK=_NONZERO_BLOCK)
    return out
