"""The fused polynomial kernels on 'cuda': the squared-error loss of a polynomial fit with its gradient in
one pass over the data, and a whole gradient-descent fit in two launches.

``power_sums_kernel`` is the one pass. Programs walk the points in tiles (program p takes tiles p, p + P,
...: full tiles unmasked, so contiguous operands load as 128-bit vectors, then the ragged last tile) and
keep one running sum per term in registers, lane by lane. The terms are either

- loss and gradient: r = p(x) - y by Horner's rule, then r * r and r * x**k for k <= D (and, when
  asked, each point's own gradient 2 s r p'(x) for x and -2 s r for y, written in the same pass), or
- moments: x**j for j <= 2D, y x**j for j <= D and y * y, in float64: the loss and gradient of every
  coefficient vector depend on the data only through these.

Each program folds its lanes once and writes one row of partial sums; a single program then adds the rows
in a fixed order (no atomics: the same bits on every run). With one program the pass finishes itself.
``fit_kernel`` is the second launch of poly_fit: it adds the moment rows into the Hankel matrix
M[j, k] = sum x**(j + k), the vector T[j] = sum y x**j and U = sum y * y, then runs the gradient-descent
steps on the D + 1 coefficients in float64, loss(c) = s (c.Mc - 2 c.T + U), grad(c) = 2 s (Mc - T),
never reading the data again and never waiting on the host.
"""
from __future__ import annotations

import triton
import triton.language as tl

from tkern import dtypes

from . import triton_arguments
from .array import Array
from .triton_launcher import Launcher
from .triton_arguments import compute_type, float64_bits, needs_int64, pointer, rounded_to, scalar_from_bits, \
    sm_count

# ----- tuning: read at every launch, so tests can shrink them to force the multi-program paths -----

# programs per SM of the one pass, all resident at once: _REGISTERS caps a thread's registers so that
# four programs of _WARPS warps fit an SM's 64K; the loads of later tiles stream into shared memory
# (tl.range's pipelining) while a tile is summed
PROGRAMS_PER_SM = 4
_WARPS = 4
_REGISTERS = 128
# a program takes at least this many points: the seed's 2000 are one program that finishes in one launch
MIN_POINTS_PER_PROGRAM = 4096
# under the interpreter every program runs in Python one after the other: few, large ones
INTERPRETER_PROGRAMS = 4
INTERPRETER_BLOCK = 4096
# partial-sum rows the fit kernel adds per iteration (times (D+1)**2 elements)
FIT_ROWS_ELEMENTS = 1024


@triton.jit
def _horner(x, coeffs, DEGREE: tl.constexpr, SLOPE: tl.constexpr):
    """p(x) = c0 + x (c1 + x (c2 + ...)) and, when SLOPE, p'(x) by the same recurrence."""
    value = tl.zeros_like(x) + coeffs[DEGREE]
    slope = tl.zeros_like(x)
    for i in tl.static_range(DEGREE):
        if SLOPE:
            slope = slope * x + value
        value = value * x + coeffs[DEGREE - 1 - i]
    return value, slope


@triton.jit
def _loss_grad_terms(sums, x, y, mask, offsets, coeffs, dx_ptr, dy_ptr, element_scale, DEGREE: tl.constexpr,
                     MASKED: tl.constexpr, WANT_DX: tl.constexpr, WANT_DY: tl.constexpr):
    """sums + (r * r, r, r x, ..., r x**D); writes the points' own gradients when wanted."""
    value, slope = _horner(x, coeffs, DEGREE, WANT_DX)
    r = value - y
    if MASKED:
        r = tl.where(mask, r, 0.0)
    if WANT_DX:
        tl.store(dx_ptr + offsets, rounded_to(element_scale * r * slope, dx_ptr.dtype.element_ty), mask=mask)
    if WANT_DY:
        tl.store(dy_ptr + offsets, rounded_to(-element_scale * r, dy_ptr.dtype.element_ty), mask=mask)
    new = (sums[0] + r * r,)
    term = r
    for k in tl.static_range(DEGREE + 1):
        new = new + (sums[k + 1] + term,)  # type: ignore[assignment]  # (grown in an unrolled loop)
        if k < DEGREE:
            term = term * x
    return new


@triton.jit
def _moment_terms(sums, x, y, mask, DEGREE: tl.constexpr, MASKED: tl.constexpr):
    """sums + (1, x, ..., x**2D, y, y x, ..., y x**D, y * y); masked lanes load x = y = 0."""
    term = tl.full(x.shape, 1.0, x.dtype)
    if MASKED:
        term = tl.where(mask, term, 0.0)
    new = ()
    for j in tl.static_range(2 * DEGREE + 1):
        new = new + (sums[j] + term,)  # type: ignore[assignment]  # (grown in an unrolled loop)
        term = term * x
    term = y
    for j in tl.static_range(DEGREE + 1):
        new = new + (sums[2 * DEGREE + 1 + j] + term,)  # type: ignore[assignment]  # (grown in an unrolled loop)
        term = term * x
    return new + (sums[3 * DEGREE + 2] + y * y,)


@triton.jit
def _tile(sums, start, n, x_ptr, x_offset, x_stride, y_ptr, y_offset, y_stride, coeffs, dx_ptr, dy_ptr,
          element_scale, MOMENTS: tl.constexpr, DEGREE: tl.constexpr, ACC: tl.constexpr, WANT_DX: tl.constexpr,
          WANT_DY: tl.constexpr, MASKED: tl.constexpr, BLOCK: tl.constexpr):
    offsets = start + tl.arange(0, BLOCK)
    x_ptrs = x_ptr + x_offset + offsets * x_stride
    y_ptrs = y_ptr + y_offset + offsets * y_stride
    if MASKED:
        mask = offsets < n
        x = tl.load(x_ptrs, mask=mask, other=0.0).to(ACC)
        y = tl.load(y_ptrs, mask=mask, other=0.0).to(ACC)
    else:
        mask = None
        x = tl.load(x_ptrs).to(ACC)
        y = tl.load(y_ptrs).to(ACC)
    if MOMENTS:
        return _moment_terms(sums, x, y, mask, DEGREE, MASKED)
    else:
        return _loss_grad_terms(sums, x, y, mask, offsets, coeffs, dx_ptr, dy_ptr, element_scale, DEGREE,
                                MASKED, WANT_DX, WANT_DY)


@triton.jit
def _store_loss_grad(totals, loss_ptr, grad_ptr, scale, DEGREE: tl.constexpr):
    """loss = s * sum r*r and grad_k = 2 s * sum r x**k, rounded once into the outputs' dtypes."""
    tl.store(loss_ptr, rounded_to(scale * totals[0], loss_ptr.dtype.element_ty))
    for k in tl.static_range(DEGREE + 1):
        tl.store(grad_ptr + k, rounded_to(2.0 * scale * totals[k + 1], grad_ptr.dtype.element_ty))


@triton.jit
def power_sums_kernel(x_ptr, x_offset, x_stride, y_ptr, y_offset, y_stride, n, c_ptr, c_offset, c_stride,
                      dx_ptr, dy_ptr, scale_bits, partials_ptr, loss_ptr, grad_ptr,
                      MOMENTS: tl.constexpr, DEGREE: tl.constexpr, SUMS: tl.constexpr, ACC: tl.constexpr,
                      WANT_DX: tl.constexpr, WANT_DY: tl.constexpr, FINISH: tl.constexpr, WIDE: tl.constexpr,
                      BLOCK: tl.constexpr):
    """One pass over x and y; see the module's docstring. FINISH (a single program): write the loss and
    gradient (contiguous outputs) instead of a row of partial sums."""
    pid = tl.program_id(0)
    programs = tl.num_programs(0)
    scale = scalar_from_bits(scale_bits, ACC)
    coeffs = ()
    if not MOMENTS:
        for k in tl.static_range(DEGREE + 1):
            coefficient = tl.load(c_ptr + c_offset + k * c_stride).to(ACC)
            coeffs = coeffs + (coefficient,)  # type: ignore[assignment]  # (grown in an unrolled loop)
    sums = (tl.zeros([BLOCK], ACC),) * SUMS
    full_tiles = n // BLOCK
    # (tile * block in int64 where WIDE: the loop variable is a Python int under the interpreter)
    block = tl.full([], BLOCK, tl.int64) if WIDE else BLOCK
    for tile in tl.range(pid, full_tiles, programs, num_stages=3):
        start = tile * block
        sums = _tile(sums, start, n, x_ptr, x_offset, x_stride, y_ptr, y_offset, y_stride, coeffs, dx_ptr, dy_ptr,
                     2.0 * scale, MOMENTS, DEGREE, ACC, WANT_DX, WANT_DY, False, BLOCK)
    # the ragged last tile, if any, goes to program 0
    for tile in range(full_tiles + pid, tl.cdiv(n, BLOCK), programs):
        start = tile * block
        sums = _tile(sums, start, n, x_ptr, x_offset, x_stride, y_ptr, y_offset, y_stride, coeffs, dx_ptr, dy_ptr,
                     2.0 * scale, MOMENTS, DEGREE, ACC, WANT_DX, WANT_DY, True, BLOCK)
    totals = ()
    for k in tl.static_range(SUMS):
        totals = totals + (tl.sum(sums[k], 0),)  # type: ignore[assignment]  # (grown in an unrolled loop)
    if FINISH:
        _store_loss_grad(totals, loss_ptr, grad_ptr, scale, DEGREE)
    else:
        for k in tl.static_range(SUMS):
            tl.store(partials_ptr + pid * SUMS + k, totals[k])


@triton.jit
def loss_grad_finish_kernel(partials_ptr, programs, loss_ptr, grad_ptr, scale_bits, DEGREE: tl.constexpr,
                            SUMS: tl.constexpr, ROWS: tl.constexpr):
    """Add the partial-sum rows of power_sums_kernel (at most ROWS of them) and write loss and gradient."""
    rows = tl.arange(0, ROWS)
    totals = ()
    for k in tl.static_range(SUMS):
        column = tl.load(partials_ptr + rows * SUMS + k, mask=rows < programs, other=0.0)
        totals = totals + (tl.sum(column, 0),)  # type: ignore[assignment]  # (grown in an unrolled loop)
    _store_loss_grad(totals, loss_ptr, grad_ptr, scalar_from_bits(scale_bits, partials_ptr.dtype.element_ty), DEGREE)


@triton.jit
def fit_kernel(partials_ptr, programs, c_ptr, c_offset, c_stride, lr_bits, scale_bits, steps, losses_ptr, out_ptr,
               DEGREE: tl.constexpr, SUMS: tl.constexpr, DPAD: tl.constexpr, ROWS: tl.constexpr):
    """poly_fit after the moments pass: M, T and U from the partial-sum rows, then ``steps`` steps of
    c -= lr * grad(c) in float64, each step's loss (before its update) into losses_ptr[t]."""
    j = tl.arange(0, DPAD)
    inside = j <= DEGREE
    square = inside[:, None] & inside[None, :]
    hankel = j[:, None] + j[None, :]
    rows = tl.arange(0, ROWS)
    matrix = tl.zeros([DPAD, DPAD], tl.float64)
    target = tl.zeros([DPAD], tl.float64)
    energy = tl.zeros([ROWS], tl.float64)
    for first in range(0, programs, ROWS):
        row = first + rows
        live = row < programs
        base = partials_ptr + row * SUMS
        matrix += tl.sum(tl.load(base[:, None, None] + hankel[None, :, :],
                                 mask=live[:, None, None] & square[None, :, :], other=0.0), 0)
        target += tl.sum(tl.load(base[:, None] + 2 * DEGREE + 1 + j[None, :],
                                 mask=live[:, None] & inside[None, :], other=0.0), 0)
        energy += tl.load(base + 3 * DEGREE + 2, mask=live, other=0.0)
    sum_y2 = tl.sum(energy, 0)
    lr = scalar_from_bits(lr_bits, tl.float64)
    scale = scalar_from_bits(scale_bits, tl.float64)
    c = tl.load(c_ptr + c_offset + j * c_stride, mask=inside, other=0.0).to(tl.float64)
    for t in range(steps):
        mc = tl.sum(matrix * c[None, :], 1)
        loss = scale * (tl.sum(c * (mc - 2.0 * target), 0) + sum_y2)
        # the expanded form can dip below zero by rounding where the fit is near exact
        tl.store(losses_ptr + t, rounded_to(tl.where(loss < 0.0, 0.0, loss), losses_ptr.dtype.element_ty))
        grad = 2.0 * scale * (mc - target)
        c = c - lr * grad
    tl.store(out_ptr + j, rounded_to(c, out_ptr.dtype.element_ty), mask=inside)


_INT32_MAX = 2 ** 31 - 1

_launch_sums = Launcher(power_sums_kernel)
_launch_finish = Launcher(loss_grad_finish_kernel)
_launch_fit = Launcher(fit_kernel)


def _geometry(n: int, sums: int, acc) -> tuple:
    """(BLOCK, programs) of the one pass over n points keeping ``sums`` running sums per lane."""
    if triton_arguments.INTERPRETING:
        block = min(max(triton.next_power_of_2(n), 16), INTERPRETER_BLOCK)
        return block, min(-(-n // block), INTERPRETER_PROGRAMS)
    # lanes per thread: 8 (two 128-bit loads of float32) while the running sums take <= 64 registers
    words = sums * (2 if acc is tl.float64 else 1)
    per_thread = 8
    while per_thread > 1 and per_thread * words > 64:
        per_thread //= 2
    block = per_thread * 32 * _WARPS
    return block, max(1, min(n // MIN_POINTS_PER_PROGRAM, PROGRAMS_PER_SM * sm_count()))


def _coefficients(backend, coeffs: Array) -> Array:
    """coeffs, or a contiguous copy of them where degree * stride would overflow the kernels' int32
    offset arithmetic (their offset alone may be any size: Triton passes a large one as int64)."""
    if (coeffs.shape[0] - 1) * coeffs.strides[0] <= _INT32_MAX:
        return coeffs
    copy = backend.empty(coeffs.shape, coeffs.dtype, coeffs.device)
    backend.copy(copy, coeffs)
    return copy


def _power_sums(backend, x: Array, y: Array, coeffs: Array, scale: float, moments: bool, acc,
                dx: Array | None = None, dy: Array | None = None, loss: Array | None = None,
                grad: Array | None = None) -> tuple:
    """Launch the one pass; returns (partial sums Array, programs), the Array None when the pass wrote
    loss and grad itself (a single program)."""
    degree = coeffs.shape[0] - 1
    sums = 3 * degree + 3 if moments else degree + 2
    n = x.shape[0]
    block, programs = _geometry(n, sums, acc)
    finish = programs == 1 and not moments
    partials = None
    if not finish:
        partials = backend.empty((programs, sums), dtypes.float64 if acc is tl.float64 else dtypes.float32,
                                 x.device)
    # arguments the launch leaves unread get x's pointer
    x_ptr = pointer(x)
    loss_ptr = grad_ptr = x_ptr
    if finish:
        assert loss is not None and grad is not None  # (the caller passes them when one program finishes)
        loss_ptr, grad_ptr = pointer(loss), pointer(grad)
    _launch_sums((programs,), x_ptr, x.offset, x.strides[0], pointer(y), y.offset, y.strides[0], n,
                 pointer(coeffs), coeffs.offset, coeffs.strides[0],
                 x_ptr if dx is None else pointer(dx), x_ptr if dy is None else pointer(dy), float64_bits(scale),
                 x_ptr if partials is None else pointer(partials), loss_ptr, grad_ptr, moments, degree, sums, acc,
                 dx is not None, dy is not None, finish, needs_int64(n, (x, y)), block, num_warps=_WARPS,
                 maxnreg=_REGISTERS)
    return partials, programs


def loss_grad(backend, x: Array, y: Array, coeffs: Array, scale: float, loss: Array, grad: Array,
              dx: Array | None, dy: Array | None) -> None:
    """See Backend.poly_loss_grad: one pass, and a one-program finish when the pass took several."""
    acc = compute_type(loss.dtype)
    coeffs = _coefficients(backend, coeffs)
    partials, programs = _power_sums(backend, x, y, coeffs, scale, False, acc, dx, dy, loss, grad)
    if partials is not None:
        _launch_finish((1,), pointer(partials), programs, pointer(loss), pointer(grad), float64_bits(scale),
                       coeffs.shape[0] - 1, partials.shape[1], triton.next_power_of_2(programs))


def fit(backend, x: Array, y: Array, coeffs: Array, lr: float, steps: int, scale: float, out: Array,
        losses: Array) -> None:
    """See Backend.poly_fit: the moments pass, then one program for every step."""
    partials, programs = _power_sums(backend, x, y, coeffs, scale, True, tl.float64)
    coeffs = _coefficients(backend, coeffs)
    degree = coeffs.shape[0] - 1
    dpad = triton.next_power_of_2(degree + 1)
    rows = max(1, min(triton.next_power_of_2(programs), FIT_ROWS_ELEMENTS // (dpad * dpad)))
    _launch_fit((1,), pointer(partials), programs, pointer(coeffs), coeffs.offset, coeffs.strides[0],
                float64_bits(lr), float64_bits(scale), steps, pointer(losses) if steps else pointer(out), pointer(out),
                degree, partials.shape[1], dpad, rows, num_warps=1)
