"""Kernels along the rows of a contiguous (rows, n) Array: inclusive scans and a stable sort.

Scan: one program per row walks it in blocks, scanning each block (tl.cumsum / tl.cumprod) and
carrying the running total into the next, in float32 for 16-bit floats.

Sort, stable, NaN after every number (before, descending) and equal to other NaNs, -0.0 equal to
0.0, as torch's: a row of up to SORT_IN_BLOCK_MAX elements of a type of 32 bits or fewer is sorted in
one block by tl.sort, each element packed into an int64 as (order key << 32 | position), so that
positions break ties and come out of the sorted keys. Other rows (longer ones, 64-bit types) are
sorted by rank: element i goes to position #{j: x[j] comes before x[i]} + #{j < i: x[j] equal to
x[i]}. A program owns BLOCK_I elements of a row and compares them with the whole row, BLOCK_J at a
time: O(n^2) comparisons a row with no data-dependent control flow, fine up to some thousands of
elements; a merge of sorted blocks would serve long rows better.
"""
from __future__ import annotations

import triton
import triton.language as tl

from tkern import dtypes

from .array import Array
from .triton_launcher import Launcher
from .triton_arguments import compute_type, pointer

SCAN_BLOCK = 1024
SORT_IN_BLOCK_MAX = 4096
SORT_BLOCK_I = 64
SORT_BLOCK_J = 64


@triton.jit
def _multiply(a, b):
    return a * b


@triton.jit
def scan_kernel(out_ptr, x_ptr, n, x_offset, IS_SUM: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64) * n
    lanes = tl.arange(0, BLOCK)
    identity = 0 if IS_SUM else 1
    # the running total is kept as a block (every lane the same) rather than a 0-d scalar
    carry = tl.full([BLOCK], identity, COMPUTE)
    for start in range(0, n, BLOCK):
        j = start + lanes
        mask = j < n
        x = tl.load(x_ptr + x_offset + row + j, mask=mask, other=identity).to(COMPUTE)
        if IS_SUM:
            scanned = tl.cumsum(x, axis=0) + carry
        else:
            scanned = tl.associative_scan(x, 0, _multiply) * carry
        tl.store(out_ptr + row + j, scanned.to(out_ptr.dtype.element_ty), mask=mask)
        # the block's last lane holds the total so far (masked lanes hold the identity)
        carry = tl.zeros([BLOCK], COMPUTE) + tl.sum(tl.where(lanes == BLOCK - 1, scanned, 0), axis=0)


@triton.jit
def _before(a, b, DESCENDING: tl.constexpr):
    """b comes strictly before a: smaller (larger, descending), a NaN after every number."""
    a_nan = a != a
    b_nan = b != b
    if DESCENDING:
        result = (b > a) | (b_nan & ~a_nan)
    else:
        result = (b < a) | (a_nan & ~b_nan)
    return result


@triton.jit
def sort_kernel(values_ptr, indices_ptr, x_ptr, n, x_offset, DESCENDING: tl.constexpr, COMPUTE: tl.constexpr,
                BLOCK_I: tl.constexpr, BLOCK_J: tl.constexpr):
    row = tl.program_id(0).to(tl.int64) * n
    i = tl.program_id(1) * BLOCK_I + tl.arange(0, BLOCK_I)
    i_mask = i < n
    x_i = tl.load(x_ptr + x_offset + row + i, mask=i_mask, other=0)
    a = x_i.to(COMPUTE)[:, None]
    rank = tl.zeros([BLOCK_I], tl.int64)
    for start in range(0, n, BLOCK_J):
        j = start + tl.arange(0, BLOCK_J)
        j_mask = j < n
        b = tl.load(x_ptr + x_offset + row + j, mask=j_mask, other=0).to(COMPUTE)[None, :]
        equal = (a == b) | ((a != a) & (b != b))
        first = _before(a, b, DESCENDING) | (equal & (j[None, :] < i[:, None]))
        rank += tl.sum((first & j_mask[None, :]).to(tl.int64), axis=1)
    tl.store(values_ptr + row + rank, x_i, mask=i_mask)
    tl.store(indices_ptr + row + rank, i.to(tl.int64), mask=i_mask)


@triton.jit
def _order_key(x, DESCENDING: tl.constexpr):
    """An int32 whose signed order is the sort order of x (a type of 32 bits or fewer): floats by
    their bits, the negative ones' magnitude bits flipped, -0.0 as 0.0 and every NaN above +inf."""
    if x.dtype.is_floating():
        x = x.to(tl.float32)
        x = tl.where(x == 0, 0.0, x)
        bits = x.to(tl.int32, bitcast=True)
        key = tl.where(x != x, 0x7FFFFFFF, tl.where(bits < 0, bits ^ 0x7FFFFFFF, bits))
    else:
        key = x.to(tl.int32)
    if DESCENDING:
        key = ~key
    return key


@triton.jit
def sort_in_block_kernel(values_ptr, indices_ptr, x_ptr, n, x_offset, DESCENDING: tl.constexpr,
                         BLOCK: tl.constexpr):
    """One row in one block: tl.sort of (key << 32 | position), so equal keys keep their order and
    the sorted positions come out of the low half; the values are read again at those positions."""
    row = tl.program_id(0).to(tl.int64) * n
    lanes = tl.arange(0, BLOCK)
    mask = lanes < n
    key = _order_key(tl.load(x_ptr + x_offset + row + lanes, mask=mask, other=0), DESCENDING)
    packed = tl.where(mask, (key.to(tl.int64) << 32) | lanes.to(tl.int64), 0x7FFFFFFFFFFFFFFF)
    position = tl.sort(packed, 0) & 0xFFFFFFFF
    tl.store(indices_ptr + row + lanes, position, mask=mask)
    tl.store(values_ptr + row + lanes, tl.load(x_ptr + x_offset + row + position, mask=mask), mask=mask)


_launch_scan_kernel = Launcher(scan_kernel)
_launch_sort_kernel = Launcher(sort_kernel)
_launch_sort_in_block_kernel = Launcher(sort_in_block_kernel)


def scan(backend, op: str, out: Array, x: Array) -> None:
    """out (new, contiguous) = the inclusive scan of each row of x (contiguous, maybe offset)."""
    rows, n = x.shape
    _launch_scan_kernel((rows,), pointer(out), pointer(x), n, x.offset, IS_SUM=op == "sum",
                        COMPUTE=compute_type(x.dtype),
                        BLOCK=SCAN_BLOCK)


def sort(backend, values: Array, indices: Array, x: Array, descending: bool) -> None:
    """values, indices (new, contiguous) = each row of x (contiguous, maybe offset) sorted stably:
    in one block where the row fits one and its type packs into 32 bits, else by rank."""
    rows, n = x.shape
    if n <= SORT_IN_BLOCK_MAX and x.dtype.itemsize <= 4:
        _launch_sort_in_block_kernel((rows,), pointer(values), pointer(indices), pointer(x), n, x.offset,
                                     DESCENDING=descending, BLOCK=max(triton.next_power_of_2(n), 16))
        return
    # (bool compares as int8)
    compute = tl.int8 if x.dtype is dtypes.bool else compute_type(x.dtype)
    _launch_sort_kernel((rows, -(-n // SORT_BLOCK_I)), pointer(values), pointer(indices), pointer(x), n, x.offset,
                        DESCENDING=descending, COMPUTE=compute, BLOCK_I=SORT_BLOCK_I,
                        BLOCK_J=SORT_BLOCK_J)
