"""Layer normalisation kernels: each row's mean, rstd, normalisation and affine in one pass forward, and
the input's gradient with per-program partial sums of the weight's and bias's backward.

x and the incoming gradient are read in place as (rows, cols) views through a row and a column stride.
A row of up to MAX_BLOCK columns is held in registers whole (one read of it forward, one of x and one
of g backward); a longer row is walked in MAX_BLOCK chunks, three times forward (mean, variance,
normalise) and four backward (mean, variance, the two row sums, the gradient), its weight and bias
gradients then added chunk by chunk to the program's own row of partial sums. Statistics are computed
in float32 for 16-bit types (float64 in itself) and not kept: the backward recomputes them from the
row it reads anyway.
"""
from __future__ import annotations

import triton
import triton.language as tl

from tkern import dtypes

from . import triton_arguments
from .array import Array
from .triton_arguments import compute_type, pointer
from .triton_launcher import Launcher

# the most columns a program holds at once (read at every launch: tests shrink it to reach the
# chunked kernels of longer rows)
MAX_BLOCK = 8192
# programs the backward spreads the rows over (each sums its rows' weight and bias gradients); None:
# four per SM on a GPU, two under the interpreter (enough to reach the partial sums' reduction)
BACKWARD_PROGRAMS: int | None = None


@triton.jit
def _affine(y, w_ptr, b_ptr, w_offset, b_offset, lanes, mask, HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr):
    if HAS_WEIGHT:
        y = y * tl.load(w_ptr + w_offset + lanes, mask=mask, other=0).to(y.dtype)
    if HAS_BIAS:
        y = y + tl.load(b_ptr + b_offset + lanes, mask=mask, other=0).to(y.dtype)
    return y


@triton.jit
def _chunked_statistics(x_row, stride_col, cols, eps, lanes, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    """A long row's mean and 1 / std, read in BLOCK chunks: the mean first, then the centred squares."""
    total = tl.zeros((BLOCK,), COMPUTE)
    for start in range(0, cols, BLOCK):
        total += tl.load(x_row + (start + lanes) * stride_col, mask=start + lanes < cols, other=0).to(COMPUTE)
    mean = tl.sum(total, 0) / cols
    squares = tl.zeros((BLOCK,), COMPUTE)
    for start in range(0, cols, BLOCK):
        mask = start + lanes < cols
        x = tl.load(x_row + (start + lanes) * stride_col, mask=mask, other=0).to(COMPUTE)
        centred = tl.where(mask, x - mean, 0)
        squares += centred * centred
    return mean, 1 / tl.sqrt(tl.sum(squares, 0) / cols + eps)


@triton.jit
def _forward_kernel(x_ptr, w_ptr, b_ptr, out_ptr, x_offset, w_offset, b_offset, cols, stride_row, stride_col, eps,
                    HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
                    WHOLE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + x_offset + row * stride_row
    out_row = out_ptr + row * cols  # (out is a fresh contiguous array)
    lanes = tl.arange(0, BLOCK)
    if WHOLE:
        mask = lanes < cols
        x = tl.load(x_row + lanes * stride_col, mask=mask, other=0).to(COMPUTE)
        mean = tl.sum(x, 0) / cols
        centred = tl.where(mask, x - mean, 0)
        rstd = 1 / tl.sqrt(tl.sum(centred * centred, 0) / cols + eps)
        y = _affine(centred * rstd, w_ptr, b_ptr, w_offset, b_offset, lanes, mask, HAS_WEIGHT, HAS_BIAS)
        tl.store(out_row + lanes, y.to(out_ptr.dtype.element_ty), mask=mask)
    else:
        mean, rstd = _chunked_statistics(x_row, stride_col, cols, eps, lanes, COMPUTE, BLOCK)
        for start in range(0, cols, BLOCK):
            mask = start + lanes < cols
            x = tl.load(x_row + (start + lanes) * stride_col, mask=mask, other=0).to(COMPUTE)
            y = _affine((x - mean) * rstd, w_ptr, b_ptr, w_offset, b_offset, start + lanes, mask, HAS_WEIGHT,
                        HAS_BIAS)
            tl.store(out_row + start + lanes, y.to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _backward_kernel(x_ptr, g_ptr, w_ptr, dx_ptr, dw_ptr, db_ptr, x_offset, g_offset, w_offset, rows, cols,
                     stride_x_row, stride_x_col, stride_g_row, stride_g_col, eps, HAS_WEIGHT: tl.constexpr,
                     WANT_DW: tl.constexpr, WANT_DB: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
                     WHOLE: tl.constexpr):
    # program p takes rows p, p + programs, ...; its weight and bias gradients go to row p of the
    # (programs, cols) partials, which the host sums in a fixed order (deterministic, no atomics)
    pid = tl.program_id(0).to(tl.int64)  # (the row loop counts from it: int64 offsets)
    programs = tl.num_programs(0)
    lanes = tl.arange(0, BLOCK)
    if WHOLE:
        _whole_backward(x_ptr, g_ptr, w_ptr, dx_ptr, dw_ptr, db_ptr, x_offset, g_offset, w_offset, rows, cols,
                        stride_x_row, stride_x_col, stride_g_row, stride_g_col, eps, pid, programs, lanes,
                        HAS_WEIGHT, WANT_DW, WANT_DB, COMPUTE, BLOCK)
    else:
        _chunked_backward(x_ptr, g_ptr, w_ptr, dx_ptr, dw_ptr, db_ptr, x_offset, g_offset, w_offset, rows, cols,
                          stride_x_row, stride_x_col, stride_g_row, stride_g_col, eps, pid, programs, lanes,
                          HAS_WEIGHT, WANT_DW, WANT_DB, COMPUTE, BLOCK)


@triton.jit
def _whole_backward(x_ptr, g_ptr, w_ptr, dx_ptr, dw_ptr, db_ptr, x_offset, g_offset, w_offset, rows, cols,
                    stride_x_row, stride_x_col, stride_g_row, stride_g_col, eps, pid, programs, lanes,
                    HAS_WEIGHT: tl.constexpr, WANT_DW: tl.constexpr, WANT_DB: tl.constexpr, COMPUTE: tl.constexpr,
                    BLOCK: tl.constexpr):
    mask = lanes < cols
    if HAS_WEIGHT:
        w = tl.load(w_ptr + w_offset + lanes, mask=mask, other=0).to(COMPUTE)
    dw = tl.zeros((BLOCK,), COMPUTE)
    db = tl.zeros((BLOCK,), COMPUTE)
    for row in range(pid, rows, programs):
        x = tl.load(x_ptr + x_offset + row * stride_x_row + lanes * stride_x_col, mask=mask, other=0).to(COMPUTE)
        g = tl.load(g_ptr + g_offset + row * stride_g_row + lanes * stride_g_col, mask=mask, other=0).to(COMPUTE)
        mean = tl.sum(x, 0) / cols
        centred = tl.where(mask, x - mean, 0)
        rstd = 1 / tl.sqrt(tl.sum(centred * centred, 0) / cols + eps)
        normalized = centred * rstd
        if HAS_WEIGHT:
            gw = g * w
        else:
            gw = g
        # d/dx of (x - mean) * rstd, applied to gw: rstd * (gw - mean(gw) - xhat * mean(gw * xhat))
        dx = (gw - tl.sum(gw, 0) / cols - normalized * (tl.sum(gw * normalized, 0) / cols)) * rstd
        tl.store(dx_ptr + row * cols + lanes, dx.to(dx_ptr.dtype.element_ty), mask=mask)
        if WANT_DW:
            dw += g * normalized
        if WANT_DB:
            db += g
    if WANT_DW:
        tl.store(dw_ptr + pid * cols + lanes, dw, mask=mask)
    if WANT_DB:
        tl.store(db_ptr + pid * cols + lanes, db, mask=mask)


@triton.jit
def _chunked_backward(x_ptr, g_ptr, w_ptr, dx_ptr, dw_ptr, db_ptr, x_offset, g_offset, w_offset, rows, cols,
                      stride_x_row, stride_x_col, stride_g_row, stride_g_col, eps, pid, programs, lanes,
                      HAS_WEIGHT: tl.constexpr, WANT_DW: tl.constexpr, WANT_DB: tl.constexpr, COMPUTE: tl.constexpr,
                      BLOCK: tl.constexpr):
    # (the partial sums start zeroed by the host)
    for row in range(pid, rows, programs):
        x_row = x_ptr + x_offset + row * stride_x_row
        g_row = g_ptr + g_offset + row * stride_g_row
        mean, rstd = _chunked_statistics(x_row, stride_x_col, cols, eps, lanes, COMPUTE, BLOCK)
        sum_gw = tl.zeros((BLOCK,), COMPUTE)
        sum_gw_normalized = tl.zeros((BLOCK,), COMPUTE)
        for start in range(0, cols, BLOCK):
            mask = start + lanes < cols
            x = tl.load(x_row + (start + lanes) * stride_x_col, mask=mask, other=0).to(COMPUTE)
            gw = _weighted(g_row, w_ptr, w_offset, start + lanes, stride_g_col, mask, HAS_WEIGHT, COMPUTE)
            sum_gw += gw
            sum_gw_normalized += gw * tl.where(mask, (x - mean) * rstd, 0)
        mean_gw = tl.sum(sum_gw, 0) / cols
        mean_gw_normalized = tl.sum(sum_gw_normalized, 0) / cols
        for start in range(0, cols, BLOCK):
            mask = start + lanes < cols
            x = tl.load(x_row + (start + lanes) * stride_x_col, mask=mask, other=0).to(COMPUTE)
            normalized = tl.where(mask, (x - mean) * rstd, 0)
            gw = _weighted(g_row, w_ptr, w_offset, start + lanes, stride_g_col, mask, HAS_WEIGHT, COMPUTE)
            dx = (gw - mean_gw - normalized * mean_gw_normalized) * rstd
            tl.store(dx_ptr + row * cols + start + lanes, dx.to(dx_ptr.dtype.element_ty), mask=mask)
            g = tl.load(g_row + (start + lanes) * stride_g_col, mask=mask, other=0).to(COMPUTE)
            partial = pid * cols + start + lanes
            if WANT_DW:
                tl.store(dw_ptr + partial, tl.load(dw_ptr + partial, mask=mask) + g * normalized, mask=mask)
            if WANT_DB:
                tl.store(db_ptr + partial, tl.load(db_ptr + partial, mask=mask) + g, mask=mask)


@triton.jit
def _weighted(g_row, w_ptr, w_offset, columns, stride_g_col, mask, HAS_WEIGHT: tl.constexpr, COMPUTE: tl.constexpr):
    g = tl.load(g_row + columns * stride_g_col, mask=mask, other=0).to(COMPUTE)
    if HAS_WEIGHT:
        g = g * tl.load(w_ptr + w_offset + columns, mask=mask, other=0).to(COMPUTE)
    return g


_FORWARD = Launcher(_forward_kernel)
_BACKWARD = Launcher(_backward_kernel)


def _block(cols: int, dtype: dtypes.dtype) -> tuple[int, int]:
    """(BLOCK, num_warps) for rows of ``cols`` columns of ``dtype``."""
    # (float64 rows take twice the registers, and the backward holds several: whole rows of 4096 spill on sm_90)
    limit = MAX_BLOCK if dtype is not dtypes.float64 else max(MAX_BLOCK // 4, 1)
    block = min(triton.next_power_of_2(max(cols, 1)), limit)
    return block, min(max(block // 256, 1), 8)


def _pointer_or(x: Array | None, fallback: Array):
    # (a missing weight or bias is never read: any pointer of the right kind keeps the launch key steady)
    return pointer(fallback if x is None else x)


def layer_norm(out: Array, x: Array, weight: Array | None, bias: Array | None, eps: float) -> None:
    """out (rows, cols, contiguous) = each row of x normalised, times weight, plus bias (1-D, cols)."""
    rows, cols = x.shape
    block, warps = _block(cols, x.dtype)
    _FORWARD((rows,), pointer(x), _pointer_or(weight, x), _pointer_or(bias, x), pointer(out), x.offset,
             0 if weight is None else weight.offset, 0 if bias is None else bias.offset, cols, x.strides[0],
             x.strides[1], float(eps), weight is not None, bias is not None, compute_type(x.dtype), block,
             cols <= block, num_warps=warps)


def layer_norm_backward(backend, grad_x: Array, grad_weight: Array | None, grad_bias: Array | None, x: Array,
                        g: Array, weight: Array | None, eps: float) -> None:
    """grad_x (rows, cols, contiguous) and, where given, grad_weight and grad_bias (cols) of layer_norm
    for the incoming gradient g (rows, cols)."""
    rows, cols = x.shape
    block, warps = _block(cols, x.dtype)
    programs = BACKWARD_PROGRAMS or (2 if triton_arguments.INTERPRETING else 4 * triton_arguments.sm_count())
    programs = max(min(programs, rows), 1)
    partial_type = dtypes.float64 if x.dtype is dtypes.float64 else dtypes.float32
    partials = [backend.empty((programs, cols), partial_type, x.device) if want is not None else None
                for want in (grad_weight, grad_bias)]
    whole = cols <= block
    if not whole:
        for partial in partials:
            if partial is not None:
                backend.fill(partial, 0)
    _BACKWARD((programs,), pointer(x), pointer(g), _pointer_or(weight, x), pointer(grad_x),
              _pointer_or(partials[0], grad_x), _pointer_or(partials[1], grad_x), x.offset, g.offset,
              0 if weight is None else weight.offset, rows, cols, x.strides[0], x.strides[1], g.strides[0],
              g.strides[1], float(eps), weight is not None, grad_weight is not None, grad_bias is not None,
              compute_type(x.dtype), block, whole, num_warps=warps)
    for target, partial in zip((grad_weight, grad_bias), partials):
        if target is not None:
            backend.copy(target, backend.reduce("sum", partial, (0,), False, partial_type, partial_type))
