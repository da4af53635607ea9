"""Reduction kernels: sum, prod, max, min, all, any over any set of dims, and argmax/argmin.

The input is read in place as a two-level view: the kept dims (one per output element, "m") and the
reduced dims ("r"), each coalesced on its own, so transposed, stepped, expanded and offset views
need no copy. A program owns BLOCK_M outputs and walks their reduced extent in [BLOCK_M, BLOCK_R]
tiles, accumulating lane by lane; the lanes are folded once at the end. The tile is laid out with
whichever of m and r has the smaller stride as its fast axis, so loads stay coalesced both for
row reductions (x.sum(-1)) and for column reductions (x.sum(0)).

When there are too few outputs to fill the GPU and the reduced extent is large, the reduced extent
is split over a second grid axis: stage 1 writes one partial per (output, chunk) to a temporary
and stage 2 reduces the partials with the same kernel.
"""
from __future__ import annotations

from functools import lru_cache

import triton
import triton.language as tl

from tkern import dtypes

from . import triton_arguments
from .array import Array, contiguous_strides
from .triton_launcher import Launcher
from .triton_arguments import coalesce, compute_type, needs_int64, pointer, sm_count

# ----- tuning: read at every launch, so tests can shrink them to force the multi-program paths -----

# elements of x one program holds per loop iteration
TILE_ELEMENTS = 4096
# programs wanted in flight before the reduced extent gets split; None: four per SM on a GPU, and one
# under the interpreter, where every program runs in Python one after the other, so one big program
# is fastest
TARGET_PROGRAMS: int | None = None
# the least work (elements of x) a program of a split reduction gets
SPLIT_MIN_WORK = 32768
# tiles with a column-reduction layout keep at least this many outputs along the fast axis
OUTER_MIN_M = 32
OUTER_MAX_M = 128

_INT64_MAX = 2 ** 63 - 1
_INT32_MAX = 2 ** 31 - 1


def _target_programs() -> int:
    # (the interpreter flag is read here, not at import: the compile-only driver of bench/ turns it
    # off after import to plan and compile as for a GPU)
    if TARGET_PROGRAMS is not None:
        return TARGET_PROGRAMS
    return 1 if triton_arguments.INTERPRETING else 4 * sm_count()


# ----- combine functions -----


@triton.jit
def _better(a, b, IS_MAX: tl.constexpr):
    """a strictly beats b: greater (or smaller), and NaN beats every number like in torch."""
    if IS_MAX:
        wins = a > b
    else:
        wins = a < b
    if a.dtype.is_floating():
        wins = wins | ((a != a) & (b == b))
    return wins


@triton.jit
def _combine(OP: tl.constexpr, a, b):
    if OP == "sum":
        return a + b
    elif OP == "prod":
        return a * b
    elif OP == "max" or OP == "any":
        return tl.where(_better(b, a, True), b, a)
    else:  # min, all
        return tl.where(_better(b, a, False), b, a)


@triton.jit
def _arg_combine(a, ia, b, ib, IS_MAX: tl.constexpr):
    """(value, index) of the better pair; equal values (or two NaNs) keep the smaller index."""
    same = a == b
    if a.dtype.is_floating():
        same = same | ((a != a) & (b != b))
    take_b = _better(b, a, IS_MAX) | (same & (ib < ia))
    return tl.where(take_b, b, a), tl.where(take_b, ib, ia)


@triton.jit
def _product(acc, AXIS: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr, INTERPRET: tl.constexpr):
    """The product over AXIS of acc, a [ROWS, WIDTH] tile (or its transpose when AXIS is 0)."""
    if INTERPRET:
        # the interpreter runs a custom tl.reduce one element at a time in Python: fold in halves instead
        if AXIS == 0:
            acc = tl.trans(acc)
        # (the interpreter turns assigned names into tensors, so the widths stay inline expressions)
        for step in tl.static_range(1, 32):
            if (WIDTH >> step) >= 1:
                left, right = tl.split(tl.reshape(acc, [ROWS, WIDTH >> step, 2]))
                acc = left * right
        return tl.reshape(acc, [ROWS])
    else:
        return tl.reduce(acc, AXIS, _mul)


@triton.jit
def _mul(a, b):
    return a * b


@triton.jit
def _fold(OP: tl.constexpr, acc, AXIS: tl.constexpr, ROWS: tl.constexpr, WIDTH: tl.constexpr,
          INTERPRET: tl.constexpr):
    """Reduce the lanes of acc along AXIS. max/min fold through the built-in reductions (fast in the
    interpreter too) with NaN put back explicitly, since the built-ins treat NaN differently on the
    GPU and in the interpreter."""
    if OP == "sum":
        return tl.sum(acc, AXIS)
    elif OP == "prod":
        return _product(acc, AXIS, ROWS, WIDTH, INTERPRET)
    elif OP == "max" or OP == "any":
        if acc.dtype.is_floating():
            nan = acc != acc
            best = tl.max(tl.where(nan, float("-inf"), acc), AXIS)
            return tl.where(tl.max(nan.to(tl.int8), AXIS) != 0, float("nan"), best)
        return tl.max(acc, AXIS)
    else:
        if acc.dtype.is_floating():
            nan = acc != acc
            best = tl.min(tl.where(nan, float("inf"), acc), AXIS)
            return tl.where(tl.max(nan.to(tl.int8), AXIS) != 0, float("nan"), best)
        return tl.min(acc, AXIS)


# ----- tile geometry shared by both kernels -----


@triton.jit
def _offsets(idx, sizes, strides, NDIM: tl.constexpr):
    """Element offsets of the row-major positions ``idx`` over ``sizes`` with ``strides``.

    (Not triton_elementwise.strided_offsets: its constexpr reassigned inside tl.static_range does not
    compile for NDIM >= 2 outside the interpreter.) The outermost dim needs no modulo: idx is in range
    wherever it is used unmasked."""
    if NDIM == 1:
        off = idx * strides[0]
    else:
        off = (idx % sizes[NDIM - 1]) * strides[NDIM - 1]
        rem = idx // sizes[NDIM - 1]
        for k in tl.static_range(2, NDIM):
            off += (rem % sizes[NDIM - k]) * strides[NDIM - k]
            rem = rem // sizes[NDIM - k]
        off += rem * strides[0]
    return off


@triton.jit
def _tile(M, R, k_sizes, k_x_strides, x_offset, K_NDIM: tl.constexpr, INNER: tl.constexpr, WIDE: tl.constexpr,
          BLOCK_M: tl.constexpr, BLOCK_R: tl.constexpr, CHUNK_ITERS, X_ALIGN: tl.constexpr):
    """(m, m_mask, row base offsets, row mask, lanes, first r, iterations whose r are all in range)
    for this program; m-side values come shaped for the tile ([BLOCK_M, 1] or [1, BLOCK_M]), lanes the
    other way. X_ALIGN: an element multiple every row base is known to be (from x's offset and kept
    strides), which lets contiguous rows load in 16-byte vectors whatever their offset's and stride's
    other factors."""
    pid_m = tl.program_id(0)
    pid_s = tl.program_id(1)
    if WIDE:
        m = pid_m.to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M).to(tl.int64)
        lanes = tl.arange(0, BLOCK_R).to(tl.int64)
        r_begin = pid_s.to(tl.int64) * CHUNK_ITERS * BLOCK_R
    else:
        m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        lanes = tl.arange(0, BLOCK_R)
        r_begin = pid_s * CHUNK_ITERS * BLOCK_R
    m_mask = m < M
    base = x_offset + _offsets(m, k_sizes, k_x_strides, K_NDIM)
    if X_ALIGN > 1:
        base = tl.multiple_of(base, X_ALIGN)
    full = tl.minimum((R - r_begin) // BLOCK_R, CHUNK_ITERS)
    if INNER:
        return m, m_mask, base[:, None], m_mask[:, None], lanes[None, :], r_begin, full
    else:
        return m, m_mask, base[None, :], m_mask[None, :], lanes[:, None], r_begin, full


# ----- the kernels -----


@triton.jit
def _as_compute(OP: tl.constexpr, v, COMPUTE: tl.constexpr):
    if OP == "all" or OP == "any":
        v = (v != 0).to(COMPUTE)
    else:
        v = v.to(COMPUTE)
    return v


@triton.jit
def reduce_kernel(out_ptr, x_ptr, M, R, CHUNK_ITERS, x_offset, out_offset, out_split_stride,
                  k_sizes, k_x_strides, k_out_strides, r_sizes, r_strides,
                  OP: tl.constexpr, COMPUTE: tl.constexpr, IDENTITY: tl.constexpr, K_NDIM: tl.constexpr,
                  R_NDIM: tl.constexpr, INNER: tl.constexpr, X_ALIGN: tl.constexpr, WIDE: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_R: tl.constexpr, INTERPRET: tl.constexpr):
    m, m_mask, base, row_mask, lanes, r_begin, full = _tile(M, R, k_sizes, k_x_strides, x_offset, K_NDIM, INNER,
                                                           WIDE, BLOCK_M, BLOCK_R, CHUNK_ITERS, X_ALIGN)
    if INNER:
        acc = tl.full([BLOCK_M, BLOCK_R], IDENTITY, COMPUTE)
    else:
        acc = tl.full([BLOCK_R, BLOCK_M], IDENTITY, COMPUTE)
    # the iterations whose r are all in range first, masked by row only (a mask constant along the
    # rows keeps vector loads), then the rest of the chunk masked by r as well
    for i in range(0, full):
        r = r_begin + i * BLOCK_R + lanes
        v = tl.load(x_ptr + base + _offsets(r, r_sizes, r_strides, R_NDIM), mask=row_mask)
        # (rows past M hold whatever: each row folds on its own and theirs are never stored)
        acc = _combine(OP, acc, _as_compute(OP, v, COMPUTE))
    for i in range(full, CHUNK_ITERS):
        r = r_begin + i * BLOCK_R + lanes
        mask = row_mask & (r < R)
        v = tl.load(x_ptr + base + _offsets(r, r_sizes, r_strides, R_NDIM), mask=mask)
        # (not through the load's `other`: the identity need not fit x's dtype, e.g. -128 for bool)
        acc = _combine(OP, acc, tl.where(mask, _as_compute(OP, v, COMPUTE), IDENTITY))
    if INNER:
        total = _fold(OP, acc, 1, BLOCK_M, BLOCK_R, INTERPRET)
    else:
        total = _fold(OP, acc, 0, BLOCK_M, BLOCK_R, INTERPRET)
    out = out_offset + _offsets(m, k_sizes, k_out_strides, K_NDIM) + tl.program_id(1) * out_split_stride
    tl.store(out_ptr + out, total, mask=m_mask)


@triton.jit
def arg_reduce_kernel(index_ptr, value_ptr, x_ptr, partial_index_ptr, M, R, CHUNK_ITERS, x_offset,
                      index_offset, value_offset, out_split_stride,
                      k_sizes, k_x_strides, k_index_strides, k_value_strides, r_sizes, r_strides,
                      IS_MAX: tl.constexpr, COMPUTE: tl.constexpr, IDENTITY: tl.constexpr,
                      INDEX: tl.constexpr, SENTINEL: tl.constexpr, HAS_VALUES: tl.constexpr,
                      PARTIALS: tl.constexpr, K_NDIM: tl.constexpr, R_NDIM: tl.constexpr, INNER: tl.constexpr,
                      X_ALIGN: tl.constexpr, WIDE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_R: tl.constexpr):
    """Per output, the first index of the largest (IS_MAX) or smallest value, a NaN beating all.
    With PARTIALS, x holds stage-1 winners and partial_index_ptr their indices (same layout)."""
    m, m_mask, base, row_mask, lanes, r_begin, full = _tile(M, R, k_sizes, k_x_strides, x_offset, K_NDIM, INNER,
                                                           WIDE, BLOCK_M, BLOCK_R, CHUNK_ITERS, X_ALIGN)
    if INNER:
        acc = tl.full([BLOCK_M, BLOCK_R], IDENTITY, COMPUTE)
        acc_index = tl.full([BLOCK_M, BLOCK_R], SENTINEL, INDEX)
    else:
        acc = tl.full([BLOCK_R, BLOCK_M], IDENTITY, COMPUTE)
        acc_index = tl.full([BLOCK_R, BLOCK_M], SENTINEL, INDEX)
    # as in reduce_kernel: whole iterations by row mask, then the rest by r as well
    for i in range(0, full):
        r = r_begin + i * BLOCK_R + lanes
        offsets = base + _offsets(r, r_sizes, r_strides, R_NDIM)
        v = tl.load(x_ptr + offsets, mask=row_mask).to(COMPUTE)
        if PARTIALS:
            index = tl.load(partial_index_ptr + offsets, mask=row_mask).to(INDEX)
        else:
            index = r.to(INDEX) + tl.zeros_like(acc_index)
        acc, acc_index = _arg_combine(acc, acc_index, v, index, IS_MAX)
    for i in range(full, CHUNK_ITERS):
        r = r_begin + i * BLOCK_R + lanes
        mask = row_mask & (r < R)
        offsets = base + _offsets(r, r_sizes, r_strides, R_NDIM)
        v = tl.where(mask, tl.load(x_ptr + offsets, mask=mask).to(COMPUTE), IDENTITY)
        if PARTIALS:
            index = tl.load(partial_index_ptr + offsets, mask=mask, other=SENTINEL).to(INDEX)
        else:
            index = tl.where(mask, r.to(INDEX), SENTINEL)
        acc, acc_index = _arg_combine(acc, acc_index, v, index, IS_MAX)
    # fold the lanes: the best value, then the smallest index among lanes holding it
    if INNER:
        AXIS: tl.constexpr = 1
    else:
        AXIS: tl.constexpr = 0  # type: ignore[no-redef]  # (Triton needs the constexpr annotation on each)
    if IS_MAX:
        best = _fold("max", acc, AXIS, BLOCK_M, BLOCK_R, False)
    else:
        best = _fold("min", acc, AXIS, BLOCK_M, BLOCK_R, False)
    best = tl.expand_dims(best, AXIS)
    hit = acc == best
    if acc.dtype.is_floating():
        hit = hit | ((acc != acc) & (best != best))
    winner = tl.min(tl.where(hit, acc_index, SENTINEL), AXIS)
    tl.store(index_ptr + index_offset + _offsets(m, k_sizes, k_index_strides, K_NDIM)
             + tl.program_id(1) * out_split_stride, winner, mask=m_mask)
    if HAS_VALUES:
        # the winning lane's own value, summed with zeros as integer bits: exact, -0.0 and NaN included
        chosen = acc_index == tl.expand_dims(winner, AXIS)
        if COMPUTE == tl.float64:
            value = tl.sum(tl.where(chosen, acc.to(tl.int64, bitcast=True), 0), AXIS).to(tl.float64, bitcast=True)
        elif COMPUTE == tl.float32:
            value = tl.sum(tl.where(chosen, acc.to(tl.int32, bitcast=True), 0), AXIS).to(tl.float32, bitcast=True)
        else:
            value = tl.sum(tl.where(chosen, acc, 0), AXIS)
        tl.store(value_ptr + value_offset + _offsets(m, k_sizes, k_value_strides, K_NDIM)
                 + tl.program_id(1) * out_split_stride, value, mask=m_mask)


# ----- planning -----


def _next_pow2(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def plan(M: int, R: int, inner: bool, target: int | None = None) -> tuple:
    """(BLOCK_M, BLOCK_R, n_split, iterations per chunk, num_warps) for M outputs over R reduced
    elements each; ``target`` overrides the programs wanted in flight."""
    target = _target_programs() if target is None else target
    tile = TILE_ELEMENTS
    if inner:
        block_r = min(_next_pow2(R), tile)
        block_m = min(_next_pow2(M), max(tile // block_r, 1))
        while block_m > 1 and _cdiv(M, block_m) < target:
            block_m //= 2
    else:
        block_m = min(_next_pow2(M), OUTER_MAX_M)
        while block_m > OUTER_MIN_M and _cdiv(M, block_m) < target:
            block_m //= 2
        block_r = min(_next_pow2(R), max(tile // block_m, 1))
    programs = _cdiv(M, block_m)
    iters = max(_cdiv(R, block_r), 1)
    n_split = 1
    if programs < target:
        least = max(SPLIT_MIN_WORK // min(block_m, M), block_r)
        wanted = min(_cdiv(target, programs), R // least)
        if wanted > 1:
            iters = _cdiv(_cdiv(R, wanted), block_r)
            n_split = _cdiv(R, iters * block_r)
    num_warps = 8 if block_m * block_r >= 4096 else 4 if block_m * block_r >= 512 else 2
    return block_m, block_r, n_split, iters, num_warps


class _Layout:
    """x as M outputs over kept dims (coalesced together with the outputs' strides) times R reduced
    elements over reduced dims (coalesced on their own)."""

    def __init__(self, M: int, R: int, k_sizes: tuple, k_x_strides: tuple, k_out_strides: list, r_sizes: tuple,
                 r_strides: tuple):
        self.M, self.R = M, R
        self.k_sizes, self.k_x_strides, self.k_out_strides = k_sizes, k_x_strides, k_out_strides
        self.r_sizes, self.r_strides = r_sizes, r_strides
        # the fast axis of the tile is whichever side walks memory with the smaller step (a stride-0
        # side reads one element again and again: any other side goes first)
        k_step = _step(k_x_strides[-1]) if M > 1 else None
        r_step = _step(r_strides[-1]) if R > 1 else None
        self.inner = k_step is None or (r_step is not None and r_step <= k_step)
        self._partials: dict = {}

    @classmethod
    def of(cls, shape: tuple, strides: tuple, kept: list, reduced: list, out_strides: list) -> "_Layout":
        k_shape = tuple(shape[d] for d in kept)
        k_sizes, merged = coalesce(k_shape, [tuple(strides[d] for d in kept)] + out_strides)
        r_shape = tuple(shape[d] for d in reduced)
        r_sizes, (r_strides,) = coalesce(r_shape, [tuple(strides[d] for d in reduced)])
        M = R = 1
        for s in k_shape:
            M *= s
        for s in r_shape:
            R *= s
        return cls(M, R, k_sizes, merged[0], merged[1:], r_sizes, r_strides)

    def partials(self, n_split: int) -> "_Layout":
        """Stage 2 of a split: the (M, n_split) contiguous partials reduced along their rows, written
        through this layout's outputs (one object per n_split, so its launches keep their plans)."""
        stage2 = self._partials.get(n_split)
        if stage2 is None:
            strides = _partials_strides(self.k_sizes, n_split)
            stage2 = self._partials[n_split] = _Layout(self.M, n_split, self.k_sizes, strides, self.k_out_strides,
                                                       (n_split,), (1,))
        return stage2


def _step(stride: int) -> float:
    return abs(stride) if stride else float("inf")


def _partials_strides(k_sizes: tuple, n_split: int) -> tuple:
    """Strides over the coalesced kept dims of an (M, n_split) contiguous temporary."""
    return tuple(s * n_split for s in contiguous_strides(k_sizes))


_launch_reduce_kernel = Launcher(reduce_kernel)
_launch_arg_reduce_kernel = Launcher(arg_reduce_kernel)

_IDENTITIES = {"sum": 0, "prod": 1, "all": 1, "any": 0}


def _extreme(t, largest: bool):
    if t.is_floating():
        return float("inf") if largest else float("-inf")
    bits = t.primitive_bitwidth
    if t.is_int_unsigned():
        return (1 << bits) - 1 if largest else 0
    return (1 << (bits - 1)) - 1 if largest else -(1 << (bits - 1))


def _arg_compute(d: dtypes.dtype):
    # bool compares as 0/1 bytes
    return tl.int8 if d is dtypes.bool else compute_type(d)


def _row_alignment(x: Array, layout: _Layout) -> int:
    """X_ALIGN: x's elements per 16 bytes when its offset and every kept stride are multiples of
    them (every row base then is), else 1."""
    vector = 16 // x.dtype.itemsize
    if x.offset % vector or any(stride % vector for stride in layout.k_x_strides):
        return 1
    return vector


def _wide(layout: _Layout, arrays: tuple, block_m: int, block_r: int, n_split: int, iters: int) -> bool:
    """Whether a launch needs int64 indices: an operand spans 2**31 elements, or an index a program
    forms (masked tails included, which must not wrap around and pass their bounds check) gets there."""
    m_end = _cdiv(layout.M, block_m) * block_m
    r_end = n_split * iters * block_r
    return needs_int64(max(m_end * n_split, r_end), arrays)


def _launch_reduce(op: str, out: Array, out_strides: tuple, split_stride: int, x: Array, layout: _Layout,
                   compute: dtypes.dtype, block_m: int, block_r: int, n_split: int, iters: int,
                   num_warps: int) -> None:
    # the plan key holds the layout itself: one object per cached schedule, kept alive by the key,
    # and standing for x's sizes and strides over the kept and reduced dims
    plan_key = (op, compute, out.dtype, out.offset, out_strides, split_stride, x.dtype, x.offset, layout, block_m,
                block_r, n_split, iters, num_warps)
    head = (pointer(out), pointer(x))
    if _launch_reduce_kernel.launch_planned(plan_key, head):
        return
    if op in ("all", "any"):
        tl_compute = tl.int8
    elif op in ("max", "min"):
        tl_compute = _arg_compute(x.dtype)
    else:
        tl_compute = compute_type(compute)
    identity = _extreme(tl_compute, op == "min") if op in ("max", "min") else _IDENTITIES[op]
    k_sizes = layout.k_sizes
    grid = (_cdiv(layout.M, block_m), n_split)
    _launch_reduce_kernel.launch_and_plan(plan_key, grid, head, (
        layout.M, layout.R, iters, x.offset, out.offset, split_stride,
        k_sizes, layout.k_x_strides, out_strides, layout.r_sizes, layout.r_strides,
        op, tl_compute, identity, len(k_sizes), len(layout.r_sizes), layout.inner, _row_alignment(x, layout),
        _wide(layout, (x, out), block_m, block_r, n_split, iters), block_m, block_r, triton_arguments.INTERPRETING),
        num_warps=num_warps)


def reduce(backend, op: str, x: Array, dims: tuple, keepdim: bool, compute: dtypes.dtype,
           result: dtypes.dtype) -> Array:
    """op over ``dims`` of x into a new contiguous Array of dtype ``result``, accumulating in ``compute``."""
    out_shape, layout, schedule = _schedule(x.shape, x.strides, dims, keepdim, _target_programs())
    out = backend.empty(out_shape, result, x.device)
    if schedule is None:
        return out
    block_m, block_r, n_split, iters, num_warps = schedule
    if n_split == 1:
        _launch_reduce(op, out, layout.k_out_strides[0], 0, x, layout, compute, block_m, block_r, 1, iters,
                       num_warps)
        return out
    # stage 1: one partial per (output, chunk), in the accumulation type
    partials = backend.empty((layout.M, n_split), compute, x.device)
    stage2 = layout.partials(n_split)
    _launch_reduce(op, partials, stage2.k_x_strides, 1, x, layout, compute, block_m, block_r, n_split, iters,
                   num_warps)
    # stage 2 (one program per block of outputs: there are few outputs, or there would be no split)
    block_m, block_r, _, iters, num_warps = plan(stage2.M, stage2.R, stage2.inner, target=1)
    _launch_reduce(op, out, stage2.k_out_strides[0], 0, partials, stage2, compute, block_m, block_r, 1, iters,
                   num_warps)
    return out


@lru_cache(maxsize=1024)
def _schedule(shape: tuple, strides: tuple, dims: tuple, keepdim: bool, target: int) -> tuple:
    """(output shape, layout, plan) of a reduction: the same few recur op after op, so worked out
    once each (~4 us a launch saved)."""
    kept = [d for d in range(len(shape)) if d not in dims]
    if keepdim:
        out_shape = tuple(1 if d in dims else s for d, s in enumerate(shape))
    else:
        out_shape = tuple(shape[d] for d in kept)
    out_k_strides = contiguous_strides(tuple(shape[d] for d in kept))
    # the order of the reduced dims only changes rounding: walk the smallest stride innermost
    reduced = sorted(dims, key=lambda d: -abs(strides[d]))
    layout = _Layout.of(shape, strides, kept, reduced, [out_k_strides])
    # no plan for an empty output: nothing is launched
    return out_shape, layout, plan(layout.M, layout.R, layout.inner, target) if layout.M else None


def _launch_arg(op: str, indices: Array, values: Array | None, x: Array, partial_indices: Array | None,
                layout: _Layout, k_index_strides: tuple, k_value_strides: tuple, split_stride: int,
                block_m: int, block_r: int, n_split: int, iters: int, num_warps: int) -> None:
    # as in _launch_reduce, the layout object stands for x's sizes and strides in the plan key
    plan_key = (op, x.dtype, x.offset, indices.offset, values.offset if values is not None else None,
                partial_indices is None, layout, k_index_strides, k_value_strides, split_stride, block_m, block_r,
                n_split, iters, num_warps)
    head = (pointer(indices), pointer(values if values is not None else indices), pointer(x),
            pointer(partial_indices if partial_indices is not None else indices))
    if _launch_arg_reduce_kernel.launch_planned(plan_key, head):
        return
    tl_compute = _arg_compute(x.dtype)
    wide = _wide(layout, (x, indices, values), block_m, block_r, n_split, iters)
    # stage-2 indices come from int64 partials
    index_type = tl.int64 if wide or partial_indices is not None else tl.int32
    grid = (_cdiv(layout.M, block_m), n_split)
    _launch_arg_reduce_kernel.launch_and_plan(plan_key, grid, head, (
        layout.M, layout.R, iters, x.offset, indices.offset, values.offset if values is not None else 0, split_stride,
        layout.k_sizes, layout.k_x_strides, k_index_strides, k_value_strides, layout.r_sizes, layout.r_strides,
        op == "max", tl_compute, _extreme(tl_compute, op == "min"), index_type,
        _INT64_MAX if index_type is tl.int64 else _INT32_MAX, values is not None, partial_indices is not None,
        len(layout.k_sizes), len(layout.r_sizes), layout.inner, _row_alignment(x, layout), wide, block_m, block_r),
        num_warps=num_warps)


def arg_reduce(backend, op: str, values: Array | None, indices: Array, x: Array, dim: int | None) -> None:
    """Fill indices (int64) and values (x's dtype, optional) with the first position of the max/min
    of x along ``dim`` (keepdim layout), or over flattened x when dim is None."""
    if x.numel() == 0:
        return
    layout, schedule = _arg_schedule(x.shape, x.strides, dim, indices.strides,
                                     (values if values is not None else indices).strides, _target_programs())
    k_index_strides, k_value_strides = layout.k_out_strides
    block_m, block_r, n_split, iters, num_warps = schedule
    if n_split == 1:
        _launch_arg(op, indices, values, x, None, layout, k_index_strides, k_value_strides, 0,
                    block_m, block_r, 1, iters, num_warps)
        return
    # stage 1: each chunk's winner (value and index) per output; stage 2 picks among the winners
    partial_values = backend.empty((layout.M, n_split), x.dtype, x.device)
    partial_indices = backend.empty((layout.M, n_split), dtypes.int64, x.device)
    stage2 = layout.partials(n_split)
    _launch_arg(op, partial_indices, partial_values, x, None, layout, stage2.k_x_strides, stage2.k_x_strides, 1,
                block_m, block_r, n_split, iters, num_warps)
    block_m, block_r, _, iters, num_warps = plan(stage2.M, stage2.R, stage2.inner, target=1)
    _launch_arg(op, indices, values, partial_values, partial_indices, stage2, k_index_strides, k_value_strides,
                0, block_m, block_r, 1, iters, num_warps)


@lru_cache(maxsize=1024)
def _arg_schedule(shape: tuple, strides: tuple, dim: int | None, index_strides: tuple, value_strides: tuple,
                  target: int) -> tuple:
    """(layout, plan) of an arg-reduction, worked out once per layout like ``_schedule``'s."""
    if dim is None:
        kept, reduced = [], list(range(len(shape)))
        out_strides = [(), ()]
    else:
        kept, reduced = [d for d in range(len(shape)) if d != dim], [dim]
        out_strides = [tuple(index_strides[d] for d in kept), tuple(value_strides[d] for d in kept)]
    # the reduced dims stay in x's order: an index is the row-major position over them
    layout = _Layout.of(shape, strides, kept, reduced, out_strides)
    return layout, plan(layout.M, layout.R, layout.inner, target)
