"""Elementwise kernels: one generic kernel per arity, the operation passed as a constexpr function.

Operands are base pointers plus element offset and strides (stride 0 where broadcast), so views are
read in place; adjacent dims are coalesced before launch, which turns contiguous operands into the
flat one-dim path. Python scalars are kernel arguments, not tensors.
"""
from __future__ import annotations

from functools import lru_cache

import triton
import triton.language as tl
from triton.language.extra import libdevice

from tkern import dtypes

from . import triton_arguments
from .array import Array
from .shapes import expand_strides
from .triton_launcher import Launcher, scalar_key
from .triton_arguments import (block_for, coalesce, compute_type, grid_for, needs_int64, pointer,
                            rounded_to, scalar_argument)

# ----- indexing helpers -----


@triton.jit
def block_indices(WIDE: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if WIDE:
        pid = pid.to(tl.int64)
    return pid * BLOCK + tl.arange(0, BLOCK)


@triton.jit
def strided_offsets(idx, sizes, strides, NDIM: tl.constexpr):
    """Element offsets of the row-major positions ``idx`` in a layout of ``sizes`` and ``strides``."""
    if NDIM == 1:
        off = idx * strides[0]
    else:
        off = idx * 0
        rem = idx
        for d in tl.static_range(NDIM - 1, -1, -1):
            off += (rem % sizes[d]) * strides[d]
            rem = rem // sizes[d]
    return off


@triton.jit
def _operand(ptr, scalar, offset, idx, mask, sizes, strides, KIND: tl.constexpr, NDIM: tl.constexpr,
             COMPUTE: tl.constexpr):
    # KIND 0: a tensor operand; 1: a scalar passed by value; 2: a float64 scalar passed as its bits
    if KIND == 0:
        value = tl.load(ptr + offset + strided_offsets(idx, sizes, strides, NDIM), mask=mask).to(COMPUTE)
    elif KIND == 2:
        value = tl.cast(tl.cast(scalar, tl.int64), tl.float64, bitcast=True)
    else:
        value = tl.cast(scalar, COMPUTE)
    return value


# ----- the generic kernels -----
#
# Results are stored through rounded_to: a bool or int64 result into a bfloat16 output (x.logical_not_())
# goes through float32, as torch converts, and as the interpreter needs.
#
# Every kernel has two paths. The strided one walks any layout through sizes and strides. The flat
# one serves operands that are all contiguous after coalescing: the host picks a ``head`` (fewer than
# 16 elements) after which as many operands as possible start on a 16-byte boundary, every program
# but the last then covers a full block with no mask, its loads and stores hinted aligned (ALIGN: the
# element multiple each operand's offset is known to have there, 0 on the strided path), and the last
# program does the tail and the head under masks. Without that split a mask whose bound is not a
# multiple of 16, or an offset that is not, makes the whole kernel use 4-byte accesses.

HEAD_BLOCK = tl.constexpr(16)


@triton.jit
def _flat_operand(ptr, scalar, start, lanes, mask, KIND: tl.constexpr, COMPUTE: tl.constexpr):
    if KIND == 0:
        value = tl.load(ptr + start + lanes, mask=mask).to(COMPUTE)
    elif KIND == 2:
        value = tl.cast(tl.cast(scalar, tl.int64), tl.float64, bitcast=True)
    else:
        value = tl.cast(scalar, COMPUTE)
    return value


@triton.jit
def _flat_unary(out_ptr, x_ptr, out_start, x_start, lanes, mask, OP: tl.constexpr, COMPUTE: tl.constexpr):
    x = _flat_operand(x_ptr, 0, x_start, lanes, mask, 0, COMPUTE)
    tl.store(out_ptr + out_start + lanes, rounded_to(OP(x), out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _flat_binary(out_ptr, a_ptr, b_ptr, a_scalar, b_scalar, out_start, a_start, b_start, lanes, mask,
                 OP: tl.constexpr, COMPUTE: tl.constexpr, A_KIND: tl.constexpr, B_KIND: tl.constexpr):
    a = _flat_operand(a_ptr, a_scalar, a_start, lanes, mask, A_KIND, COMPUTE)
    b = _flat_operand(b_ptr, b_scalar, b_start, lanes, mask, B_KIND, COMPUTE)
    a, b = tl.broadcast(a, b)
    tl.store(out_ptr + out_start + lanes, rounded_to(OP(a, b), out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _flat_ternary(out_ptr, a_ptr, b_ptr, c_ptr, b_scalar, c_scalar, out_start, a_start, b_start, c_start, lanes,
                  mask, OP: tl.constexpr, A_TYPE: tl.constexpr, COMPUTE: tl.constexpr, B_KIND: tl.constexpr,
                  C_KIND: tl.constexpr):
    a = _flat_operand(a_ptr, 0, a_start, lanes, mask, 0, A_TYPE)
    b = _flat_operand(b_ptr, b_scalar, b_start, lanes, mask, B_KIND, COMPUTE)
    c = _flat_operand(c_ptr, c_scalar, c_start, lanes, mask, C_KIND, COMPUTE)
    a, b = tl.broadcast(a, b)
    a, c = tl.broadcast(a, c)
    b, c = tl.broadcast(b, c)
    tl.store(out_ptr + out_start + lanes, rounded_to(OP(a, b, c), out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _flat_program(n, head, WIDE: tl.constexpr, BLOCK: tl.constexpr):
    """(this program's full block and the tail, as element positions counted from the head; whether
    this program has a full block; the mask of the tail's lanes)."""
    pid = tl.program_id(0)
    if WIDE:
        pid = pid.to(tl.int64)
    full = (n - head) // BLOCK
    tail = full * BLOCK
    lanes = tl.arange(0, BLOCK)
    return pid * BLOCK, tail, pid < full, head + tail + lanes < n


@triton.jit
def unary_kernel(out_ptr, x_ptr, n, head, sizes, out_strides, x_strides, out_offset, x_offset,
                 OP: tl.constexpr, COMPUTE: tl.constexpr, NDIM: tl.constexpr, OUT_ALIGN: tl.constexpr,
                 X_ALIGN: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
    if OUT_ALIGN:
        start, tail, full, tail_mask = _flat_program(n, head, WIDE, BLOCK)
        out_base, x_base = out_offset * OUT_ALIGN, x_offset * X_ALIGN
        lanes = tl.arange(0, BLOCK)
        if full:
            _flat_unary(out_ptr, x_ptr, out_base + start, x_base + start, lanes, None, OP, COMPUTE)
        else:
            _flat_unary(out_ptr, x_ptr, out_base + tail, x_base + tail, lanes, tail_mask, OP, COMPUTE)
            first = tl.arange(0, HEAD_BLOCK)
            _flat_unary(out_ptr, x_ptr, out_base - head, x_base - head, first, first < head, OP, COMPUTE)
    else:
        idx = block_indices(WIDE, BLOCK)
        mask = idx < n
        x = tl.load(x_ptr + x_offset + strided_offsets(idx, sizes, x_strides, NDIM), mask=mask).to(COMPUTE)
        tl.store(out_ptr + out_offset + strided_offsets(idx, sizes, out_strides, NDIM),
                 rounded_to(OP(x), out_ptr.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["a_scalar", "b_scalar"])
def binary_kernel(out_ptr, a_ptr, b_ptr, a_scalar, b_scalar, n, head, sizes, out_strides, a_strides, b_strides,
                  out_offset, a_offset, b_offset,
                  OP: tl.constexpr, COMPUTE: tl.constexpr, A_KIND: tl.constexpr, B_KIND: tl.constexpr,
                  NDIM: tl.constexpr, OUT_ALIGN: tl.constexpr, A_ALIGN: tl.constexpr, B_ALIGN: tl.constexpr,
                  WIDE: tl.constexpr, BLOCK: tl.constexpr):
    if OUT_ALIGN:
        start, tail, full, tail_mask = _flat_program(n, head, WIDE, BLOCK)
        out_base, a_base, b_base = out_offset * OUT_ALIGN, a_offset * A_ALIGN, b_offset * B_ALIGN
        lanes = tl.arange(0, BLOCK)
        if full:
            _flat_binary(out_ptr, a_ptr, b_ptr, a_scalar, b_scalar, out_base + start, a_base + start,
                         b_base + start, lanes, None, OP, COMPUTE, A_KIND, B_KIND)
        else:
            _flat_binary(out_ptr, a_ptr, b_ptr, a_scalar, b_scalar, out_base + tail, a_base + tail, b_base + tail,
                         lanes, tail_mask, OP, COMPUTE, A_KIND, B_KIND)
            first = tl.arange(0, HEAD_BLOCK)
            _flat_binary(out_ptr, a_ptr, b_ptr, a_scalar, b_scalar, out_base - head, a_base - head, b_base - head,
                         first, first < head, OP, COMPUTE, A_KIND, B_KIND)
    else:
        idx = block_indices(WIDE, BLOCK)
        mask = idx < n
        a = _operand(a_ptr, a_scalar, a_offset, idx, mask, sizes, a_strides, A_KIND, NDIM, COMPUTE)
        b = _operand(b_ptr, b_scalar, b_offset, idx, mask, sizes, b_strides, B_KIND, NDIM, COMPUTE)
        # a scalar operand becomes a block too: the ops may then mix predicates freely (and the
        # interpreter mis-types predicates on scalars)
        a, b = tl.broadcast(a, b)
        tl.store(out_ptr + out_offset + strided_offsets(idx, sizes, out_strides, NDIM),
                 rounded_to(OP(a, b), out_ptr.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["b_scalar", "c_scalar"])
def ternary_kernel(out_ptr, a_ptr, b_ptr, c_ptr, b_scalar, c_scalar, n, head, sizes, out_strides, a_strides,
                   b_strides, c_strides, out_offset, a_offset, b_offset, c_offset,
                   OP: tl.constexpr, A_TYPE: tl.constexpr, COMPUTE: tl.constexpr, B_KIND: tl.constexpr,
                   C_KIND: tl.constexpr, NDIM: tl.constexpr, OUT_ALIGN: tl.constexpr, A_ALIGN: tl.constexpr,
                   B_ALIGN: tl.constexpr, C_ALIGN: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
    if OUT_ALIGN:
        start, tail, full, tail_mask = _flat_program(n, head, WIDE, BLOCK)
        out_base, a_base = out_offset * OUT_ALIGN, a_offset * A_ALIGN
        b_base, c_base = b_offset * B_ALIGN, c_offset * C_ALIGN
        lanes = tl.arange(0, BLOCK)
        if full:
            _flat_ternary(out_ptr, a_ptr, b_ptr, c_ptr, b_scalar, c_scalar, out_base + start, a_base + start,
                          b_base + start, c_base + start, lanes, None, OP, A_TYPE, COMPUTE, B_KIND, C_KIND)
        else:
            _flat_ternary(out_ptr, a_ptr, b_ptr, c_ptr, b_scalar, c_scalar, out_base + tail, a_base + tail,
                          b_base + tail, c_base + tail, lanes, tail_mask, OP, A_TYPE, COMPUTE, B_KIND, C_KIND)
            first = tl.arange(0, HEAD_BLOCK)
            _flat_ternary(out_ptr, a_ptr, b_ptr, c_ptr, b_scalar, c_scalar, out_base - head, a_base - head,
                          b_base - head, c_base - head, first, first < head, OP, A_TYPE, COMPUTE, B_KIND, C_KIND)
    else:
        idx = block_indices(WIDE, BLOCK)
        mask = idx < n
        a = tl.load(a_ptr + a_offset + strided_offsets(idx, sizes, a_strides, NDIM), mask=mask).to(A_TYPE)
        b = _operand(b_ptr, b_scalar, b_offset, idx, mask, sizes, b_strides, B_KIND, NDIM, COMPUTE)
        c = _operand(c_ptr, c_scalar, c_offset, idx, mask, sizes, c_strides, C_KIND, NDIM, COMPUTE)
        a, b = tl.broadcast(a, b)
        a, c = tl.broadcast(a, c)
        b, c = tl.broadcast(b, c)
        tl.store(out_ptr + out_offset + strided_offsets(idx, sizes, out_strides, NDIM),
                 rounded_to(OP(a, b, c), out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _flat_fill(out_ptr, value, start, lanes, mask, KIND: tl.constexpr, COMPUTE: tl.constexpr):
    v = _flat_operand(out_ptr, value, 0, lanes, mask, KIND, COMPUTE)
    tl.store(out_ptr + start + lanes, tl.zeros_like(lanes).to(COMPUTE) + v, mask=mask)


@triton.jit(do_not_specialize=["value"])
def fill_kernel(out_ptr, value, n, head, sizes, out_strides, out_offset, KIND: tl.constexpr, COMPUTE: tl.constexpr,
                NDIM: tl.constexpr, OUT_ALIGN: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
    if OUT_ALIGN:
        start, tail, full, tail_mask = _flat_program(n, head, WIDE, BLOCK)
        out_base = out_offset * OUT_ALIGN
        lanes = tl.arange(0, BLOCK)
        if full:
            _flat_fill(out_ptr, value, out_base + start, lanes, None, KIND, COMPUTE)
        else:
            _flat_fill(out_ptr, value, out_base + tail, lanes, tail_mask, KIND, COMPUTE)
            first = tl.arange(0, HEAD_BLOCK)
            _flat_fill(out_ptr, value, out_base - head, first, first < head, KIND, COMPUTE)
    else:
        idx = block_indices(WIDE, BLOCK)
        mask = idx < n
        v = _operand(out_ptr, value, 0, idx, mask, sizes, out_strides, KIND, NDIM, COMPUTE)
        tl.store(out_ptr + out_offset + strided_offsets(idx, sizes, out_strides, NDIM),
                 tl.zeros_like(idx).to(COMPUTE) + v, mask=mask)


@triton.jit(do_not_specialize=["start", "step", "end", "split"])
def sequence_kernel(out_ptr, start, step, end, split, n, out_offset, KIND: tl.constexpr, COMPUTE: tl.constexpr,
                    WIDE: tl.constexpr, BLOCK: tl.constexpr):
    # arange and linspace: values counted from start before split and back from end after it
    idx = block_indices(WIDE, BLOCK)
    mask = idx < n
    first = _operand(out_ptr, start, 0, idx, mask, n, 1, KIND, 1, COMPUTE)
    stride = _operand(out_ptr, step, 0, idx, mask, n, 1, KIND, 1, COMPUTE)
    last = _operand(out_ptr, end, 0, idx, mask, n, 1, KIND, 1, COMPUTE)
    forward = first + stride * idx.to(COMPUTE)
    backward = last - stride * (n - 1 - idx).to(COMPUTE)
    value = tl.where(idx < split, forward, backward)
    tl.store(out_ptr + out_offset + idx, rounded_to(value, out_ptr.dtype.element_ty), mask=mask)


# ----- unary operations -----


@triton.jit
def _identity(x):
    return x


@triton.jit
def _neg(x):
    if x.dtype.is_floating():
        result = x * -1.0  # Triton's -x is 0 - x, which gives +0.0 for +0.0
    else:
        result = -x
    return result


@triton.jit
def _abs(x):
    if x.dtype.is_floating():
        result = tl.abs(x)
    else:
        result = tl.where(x < 0, -x, x)
    return result


@triton.jit
def _exp(x):
    return tl.exp(x)


@triton.jit
def _log(x):
    return tl.log(x)


@triton.jit
def _log1p(x):
    # Kahan's log(u) * x / (u - 1) with u = 1 + x, in float64: exact where 1 + x rounds to 1, and
    # the rounding of u cancels out of the ratio elsewhere
    y = x.to(tl.float64)
    u = 1.0 + y
    ratio = tl.log(u) * (y / tl.where(u == 1.0, 1.0, u - 1.0))
    return tl.where((u == 1.0) | (y == float("inf")), y, ratio).to(x.dtype)


@triton.jit
def _expm1(x):
    # Kahan's (u - 1) * x / log(u) with u = exp(x), in float64: x where exp(x) rounds to 1, -1 where
    # it rounds to 0, inf where it overflows
    y = x.to(tl.float64)
    u = tl.exp(y)
    ratio = (u - 1.0) * (y / tl.log(tl.where(u == 1.0, 2.0, u)))
    ratio = tl.where(u - 1.0 == -1.0, -1.0, tl.where(u == float("inf"), u, ratio))
    return tl.where(u == 1.0, y, ratio).to(x.dtype)


@triton.jit
def _sqrt(x):
    # correctly rounded like torch (tl.sqrt is approximate in float32; float64's is exact)
    if x.dtype == tl.float32:
        return tl.sqrt_rn(x)
    return tl.sqrt(x)


@triton.jit
def _sin(x):
    return tl.sin(x)


@triton.jit
def _cos(x):
    return tl.cos(x)


@triton.jit
def _tanh(x):
    if x.dtype == tl.float64:
        result = _tanh_float64(x)
    else:
        result = _tanh_float32(x)
    return result


@triton.jit
def _tanh_float64(x):
    # below 0.55 the Taylor series to x**35 (its terms shrink ~8x each there) is within an ulp of
    # tanh; above, 1 - 2 / (exp(2|x|) + 1) loses little to cancellation. The coefficients stay
    # literals inside float64 expressions: a literal assigned to a name becomes a float32 tensor
    a = tl.abs(x)
    big = 1.0 - 2.0 / (tl.exp(2.0 * a) + 1.0)
    s = x * x
    p = -1.7406618963571648e-07 * s + 4.294911078273806e-07
    p = -1.0597268320104654e-06 + s * p
    p = 2.6147711512907546e-06 + s * p
    p = -6.451689215655431e-06 + s * p
    p = 1.5918905069328964e-05 + s * p
    p = -3.927832388331683e-05 + s * p
    p = 9.691537956929451e-05 + s * p
    p = -0.00023912911424355248 + s * p
    p = 0.000590027440945586 + s * p
    p = -0.0014558343870513183 + s * p
    p = 0.003592128036572481 + s * p
    p = -0.008863235529902197 + s * p
    p = 0.021869488536155203 + s * p
    p = -0.05396825396825397 + s * p
    p = 0.13333333333333333 + s * p
    p = -0.3333333333333333 + s * p
    small = x + x * (s * p)
    return tl.where(a < 0.55, small, tl.where(x < 0, -big, big))


@triton.jit
def _tanh_float32(x):
    # float32 throughout (float64 runs at a fraction of the rate on most GPUs). From 0.625 up the
    # exponential form loses little to cancellation; below, the Taylor series to x**19, whose terms
    # shrink ~6x each there, is within float32 rounding: at most 1.7 ulp from tanh over float32
    # inputs with exact exp and float32 arithmetic (CUDA's tanhf, torch's, allows 2). x * p(x*x)
    # keeps -0.0.
    a = tl.abs(x)
    big = 1.0 - 2.0 / (tl.exp(2.0 * a) + 1.0)
    s = x * x
    p = -443861162.0 / 1856156927625.0
    p = 6404582.0 / 10854718875.0 + s * p
    p = -929569.0 / 638512875.0 + s * p
    p = 21844.0 / 6081075.0 + s * p
    p = -1382.0 / 155925.0 + s * p
    p = 62.0 / 2835.0 + s * p
    p = -17.0 / 315.0 + s * p
    p = 2.0 / 15.0 + s * p
    p = -1.0 / 3.0 + s * p
    small = x + x * (s * p)
    return tl.where(a < 0.625, small, tl.where(x < 0, -big, big))


@triton.jit
def _sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _relu(x):
    # NaN stays NaN, like torch
    return tl.where(x < 0, tl.zeros_like(x), x)


@triton.jit
def _square(x):
    return x * x


@triton.jit
def _reciprocal(x):
    return 1.0 / x


@triton.jit
def _floor(x):
    if x.dtype.is_floating():
        result = tl.floor(x)
    else:
        result = x
    return result


@triton.jit
def _ceil(x):
    if x.dtype.is_floating():
        result = tl.ceil(x)
    else:
        result = x
    return result


@triton.jit
def _trunc(x):
    if x.dtype.is_floating():
        result = tl.where(x < 0, tl.ceil(x), tl.floor(x))
    else:
        result = x
    return result


@triton.jit
def _round(x):
    # half to even, like torch.round
    if x.dtype.is_floating():
        w = x.to(tl.float64)
        r = tl.floor(w + 0.5)
        tie = (r - w) == 0.5
        odd = (r - 2.0 * tl.floor(r * 0.5)) != 0.0
        r = tl.where(tie & odd, r - 1.0, r)
        r = tl.where(r == 0, w * 0.0, r)
        # beyond 2**52 every float64 is already an integer
        result = tl.where(tl.abs(w) >= 4503599627370496.0, w, r).to(x.dtype)
    else:
        result = x
    return result


@triton.jit
def _sign(x):
    if x.dtype.is_floating():
        # (0 < x) - (x < 0) like torch: 0 for NaN
        result = tl.where(x > 0, 1.0, tl.where(x < 0, -1.0, 0.0)).to(x.dtype)
    else:
        result = tl.where(x > 0, 1, tl.where(x < 0, -1, 0)).to(x.dtype)
    return result


@triton.jit
def _logical_not(x):
    return x == 0


@triton.jit
def _isnan(x):
    return x != x


@triton.jit
def _isinf(x):
    if x.dtype.is_floating():
        result = tl.abs(x) == float("inf")
    else:
        result = x != x
    return result


@triton.jit
def _isfinite(x):
    if x.dtype.is_floating():
        result = (x == x) & (tl.abs(x) != float("inf"))
    else:
        result = x == x
    return result


@triton.jit
def _bitwise_not(x):
    # ~x makes a -1 of x's type, which the interpreter refuses for uint8; all ones as 0 - 1 wraps
    # instead (the compiler folds it to the same constant)
    return x ^ ((x ^ x) - 1)


@triton.jit
def _arctan(x):
    # atan2(x, 1): _atan's float64 series on |x| or its reciprocal (inf gives pi/2), the sign bit put
    # back (atan(-0.0) is -0.0), NaN passed through
    y = x.to(tl.float64)
    ay = tl.abs(y)
    big = ay > 1.0
    angle = _atan(tl.where(big, 1.0 / tl.where(big, ay, 1.0), ay))
    angle = tl.where(big, 1.5707963267948966 - angle, angle)
    angle = tl.where(y.to(tl.int64, bitcast=True) < 0, _neg(angle), angle)
    return tl.where(y != y, y, angle).to(x.dtype)


@triton.jit
def _erf(x):
    return tl.math.erf(x)


UNARY_OPS = {
    "erf": _erf,
    "neg": _neg, "abs": _abs, "exp": _exp, "expm1": _expm1, "log": _log, "log1p": _log1p, "sqrt": _sqrt, "sin": _sin, "cos": _cos, "atan": _arctan,
    "tanh": _tanh,
    "sigmoid": _sigmoid, "relu": _relu, "square": _square, "reciprocal": _reciprocal, "floor": _floor,
    "ceil": _ceil, "trunc": _trunc, "round": _round, "sign": _sign, "logical_not": _logical_not,
    "isnan": _isnan, "isinf": _isinf, "isfinite": _isfinite, "bitwise_not": _bitwise_not,
}

# ----- binary operations -----


@triton.jit
def _add(a, b):
    return a + b


@triton.jit
def _sub(a, b):
    return a - b


@triton.jit
def _mul(a, b):
    return a * b


@triton.jit
def _div(a, b):
    if a.dtype == tl.float32:
        return tl.div_rn(a, b)
    return a / b


@triton.jit
def _trunc_divide(a, b):
    if a.dtype.is_floating():
        result = _trunc(_div(a, b))
    else:
        # Triton's integer division truncates like C
        result = a // b
    return result


@triton.jit
def _floor_divide(a, b):
    if a.dtype.is_floating():
        # torch's div_floor: through fmod, so that (a // b) * b + a % b == a
        mod = a % b
        div = _div(a - mod, b)
        div = tl.where((mod != 0) & ((b < 0) != (mod < 0)), div - 1.0, div)
        floored = tl.floor(div)
        floored = tl.where(div - floored > 0.5, floored + 1.0, floored)
        quotient = _div(a, b)
        result = tl.where(div == 0, quotient * 0.0, floored)
        result = tl.where(b == 0, quotient, result)
    else:
        q = a // b
        result = tl.where((a % b != 0) & ((a < 0) != (b < 0)), q - 1, q)
    return result


@triton.jit
def _remainder(a, b):
    # Python's sign convention: the result takes b's sign; Triton's % is C's fmod
    r = a % b
    return tl.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)


@triton.jit
def _fmod(a, b):
    return a % b


@triton.jit
def _integer_pow(a, b):
    # square-and-multiply over the exponent's bits; negative exponents follow torch's integer pow
    base = a + b * 0
    e = b + a * 0
    result = base * 0 + 1
    for _ in tl.static_range(64):
        result = tl.where((e & 1) != 0, result * base, result)
        e = e >> 1
        base = base * base
    one = result * 0 + 1
    negative = tl.where(a == 1, one, tl.where(a == -1, tl.where((b & 1) == 0, one, -one), one * 0))
    return tl.where(b < 0, negative, result)


@triton.jit
def _float_pow(a, b):
    # C's pow, in float64: |a| ** b through exp2/log2, then the sign and the special cases
    w = a.to(tl.float64)
    e = b.to(tl.float64)
    magnitude = tl.exp2(e * tl.log2(tl.abs(w)))
    integral = tl.floor(e) == e
    odd = integral & (tl.abs(e) < 9007199254740992.0) & ((e - 2.0 * tl.floor(e * 0.5)) != 0.0)
    negative_zero = w.to(tl.int64, bitcast=True) < 0
    r = tl.where(w < 0, tl.where(integral, tl.where(odd, _neg(magnitude), magnitude), float("nan")), magnitude)
    at_zero = tl.where(e > 0, 0.0, float("inf"))
    at_zero = tl.where(odd & negative_zero, _neg(at_zero), at_zero)
    r = tl.where(w == 0, at_zero, r)
    # (-inf) ** e: +-0 for e < 0, +-inf above, negative for odd integers, as C's pow
    at_minus_inf = tl.where(e < 0, 0.0, float("inf"))
    r = tl.where(w == float("-inf"), tl.where(odd, _neg(at_minus_inf), at_minus_inf), r)
    r = tl.where((tl.abs(w) == 1) & (tl.abs(e) == float("inf")), 1.0, r)
    r = tl.where(e != e, float("nan"), r)
    r = tl.where((e == 0) | (w == 1), 1.0, r)
    return r.to(a.dtype)


@triton.jit
def _pow(a, b):
    if a.dtype.is_floating():
        result = _float_pow(a, b)
    else:
        result = _integer_pow(a, b)
    return result


@triton.jit
def _pow_on_gpu(a, b):
    # libdevice's pow (C's, within an ulp or so) as torch's CUDA kernel computes it; _float_pow's
    # exp2(b * log2|a|) loses log2(|result|) ulps, and the interpreter, which has no libdevice, is
    # left with it
    if a.dtype.is_floating():
        result = libdevice.pow(a, b)
    else:
        result = _integer_pow(a, b)
    return result


@triton.jit
def _sqrt_by_pow(a, b):
    # torch computes x ** 0.5 as sqrt(x) and x ** -0.5 as 1 / sqrt(x): (-inf) ** 0.5 is nan and
    # (-0.0) ** -0.5 is -inf, where C's pow gives inf and inf
    return _sqrt(a)


@triton.jit
def _rsqrt_by_pow(a, b):
    root = _sqrt(a)
    return _div(tl.zeros_like(root) + 1.0, root)


@triton.jit
def _square_by_pow(a, b):
    return a * a


@triton.jit
def _cube_by_pow(a, b):
    return a * a * a


@triton.jit
def _maximum(a, b):
    # NaN from either side; b on a tie (max(-0.0, 0.0) is 0.0), as torch's vectorised kernels give
    if a.dtype.is_floating():
        result = tl.where((a > b) | (a != a), a, b)
    else:
        result = tl.where(a > b, a, b)
    return result


@triton.jit
def _minimum(a, b):
    if a.dtype.is_floating():
        result = tl.where((a < b) | (a != a), a, b)
    else:
        result = tl.where(a < b, a, b)
    return result


@triton.jit
def _clamp_min(x, low):
    # NaN from either side; x on a tie (clamp(-0.0, min=0.0) is -0.0), like torch: maximum with the
    # operands swapped
    return _maximum(low, x)


@triton.jit
def _clamp_max(x, high):
    return _minimum(high, x)


@triton.jit
def _eq(a, b):
    return a == b


@triton.jit
def _ne(a, b):
    return a != b


@triton.jit
def _lt(a, b):
    return a < b


@triton.jit
def _le(a, b):
    return a <= b


@triton.jit
def _gt(a, b):
    return a > b


@triton.jit
def _ge(a, b):
    return a >= b


@triton.jit
def _logical_and(a, b):
    return (a != 0) & (b != 0)


@triton.jit
def _logical_or(a, b):
    return (a != 0) | (b != 0)


@triton.jit
def _logical_xor(a, b):
    return (a != 0) != (b != 0)


@triton.jit
def _bitwise_and(a, b):
    return a & b


@triton.jit
def _bitwise_or(a, b):
    return a | b


@triton.jit
def _bitwise_xor(a, b):
    return a ^ b


@triton.jit
def _atan(x):
    # x in [0, 1], float64: two half-angle steps bring it under tan(pi/16), where the series to x**23
    # is within float64 rounding. (Constants stay inside float64 expressions: a literal assigned to a
    # name becomes a float32 tensor.)
    r = x / (1.0 + tl.sqrt(1.0 + x * x))
    r = r / (1.0 + tl.sqrt(1.0 + r * r))
    r2 = r * r
    s = 1.0 / 21.0 - r2 * (1.0 / 23.0)
    s = 1.0 / 19.0 - r2 * s
    s = 1.0 / 17.0 - r2 * s
    s = 1.0 / 15.0 - r2 * s
    s = 1.0 / 13.0 - r2 * s
    s = 1.0 / 11.0 - r2 * s
    s = 1.0 / 9.0 - r2 * s
    s = 1.0 / 7.0 - r2 * s
    s = 1.0 / 5.0 - r2 * s
    s = 1.0 / 3.0 - r2 * s
    return 4.0 * (r - r * r2 * s)


@triton.jit
def _atan2(a, b):
    # the angle of (|x|, |y|) from the smaller over the larger (inf/inf counts as 1, 0/0 as 0), then
    # reflected by the signs: x's sign bit picks the left half-plane and y's the lower one, so
    # signed zeros and infinities land where C's atan2 (and torch) put them
    y = a.to(tl.float64)
    x = b.to(tl.float64)
    ax = tl.abs(x)
    ay = tl.abs(y)
    larger = tl.maximum(ax, ay)
    ratio = tl.minimum(ax, ay) / larger
    ratio = tl.where(larger == 0, 0.0, tl.where((ax == ay) & (larger == float("inf")), 1.0, ratio))
    angle = _atan(ratio)
    angle = tl.where(ay > ax, 1.5707963267948966 - angle, angle)
    angle = tl.where(x.to(tl.int64, bitcast=True) < 0, 3.141592653589793 - angle, angle)
    angle = tl.where(y.to(tl.int64, bitcast=True) < 0, _neg(angle), angle)
    return tl.where((x != x) | (y != y), x + y, angle).to(a.dtype)


BINARY_OPS = {
    "add": _add, "sub": _sub, "mul": _mul, "div": _div, "floor_divide": _floor_divide, "remainder": _remainder,
    "fmod": _fmod, "trunc_divide": _trunc_divide, "pow": _pow, "maximum": _maximum, "minimum": _minimum,
    "eq": _eq, "ne": _ne, "lt": _lt, "le": _le, "gt": _gt, "ge": _ge, "logical_and": _logical_and,
    "logical_or": _logical_or, "logical_xor": _logical_xor, "bitwise_and": _bitwise_and,
    "bitwise_or": _bitwise_or, "bitwise_xor": _bitwise_xor, "atan2": _atan2,
}

# bool arithmetic is logic in torch (True + True is True)
_BOOL_BINARY_OPS = {"add": _logical_or, "mul": _logical_and, "maximum": _logical_or, "minimum": _logical_and}

# ----- ternary operations -----


@triton.jit
def _where(condition, a, b):
    return tl.where(condition, a, b)


@triton.jit
def _clamp(x, low, high):
    # NaN from the input or either bound propagates, like torch
    return _clamp_max(_clamp_min(x, low), high)


TERNARY_OPS = {"where": _where, "clamp": _clamp}


# ----- launching -----


def _layout(out: Array, operands: list) -> tuple:
    """(n, sizes, [out strides, operand strides...]) with dims coalesced over every tensor operand."""
    return _coalesced_layout(out.shape, out.strides, tuple((x.shape, x.strides) for x in operands if type(x) is Array))


@lru_cache(maxsize=4096)
def _coalesced_layout(shape: tuple, out_strides: tuple, operands: tuple) -> tuple:
    # the same few layouts recur op after op: worked out once each (~2 us a launch saved)
    strides = [out_strides] + [expand_strides(x_shape, x_strides, shape) for x_shape, x_strides in operands]
    sizes, merged = coalesce(shape, strides)
    n = 1
    for s in shape:
        n *= s
    return n, sizes, merged


def _flat_arguments(n: int, sizes: tuple, merged: list, arrays: list) -> tuple:
    """(head, offset argument per operand, ALIGN per operand) for ``arrays`` (the output first, a
    scalar operand as itself): the flat path's when every tensor is contiguous after coalescing, else
    the strided path's (head 0, the offsets themselves, ALIGN 0)."""
    if len(sizes) != 1 or any(strides[0] != 1 for strides in merged):
        return 0, [x.offset if type(x) is Array else 0 for x in arrays], [0] * len(arrays)
    head, aligns = _best_head(n, tuple((x.offset, 16 // x.dtype.itemsize) if type(x) is Array else None
                                       for x in arrays))
    offsets = [(x.offset + head) // align if type(x) is Array else 0 for x, align in zip(arrays, aligns)]
    return head, offsets, aligns


@lru_cache(maxsize=4096)
def _best_head(n: int, operands: tuple) -> tuple:
    """(head, ALIGN per operand): the head that puts the most tensor operands (offset, elements per 16
    bytes) on a 16-byte boundary, the first on a tie; operands at different offsets cannot all be."""
    tensors = [operand for operand in operands if operand is not None]
    widest = max(vector for _, vector in tensors)
    best, best_count = 0, -1
    for head in range(min(widest, n + 1)):
        count = sum((offset + head) % vector == 0 for offset, vector in tensors)
        if count > best_count:
            best, best_count = head, count
    return best, [1 if operand is None or (operand[0] + best) % operand[1] else operand[1] for operand in operands]


def _flat_grid(n: int, head: int, aligns: list, block: int) -> tuple:
    # full blocks after the head, and one more program for the tail and the head
    if aligns[0]:
        return ((n - head) // block + 1,)
    return grid_for(n, block)


def _arguments(operands: list, merged_strides: list, compute, out: Array) -> list:
    """(pointer, scalar, offset, strides, kind) per operand."""
    result = []
    tensor_strides = iter(merged_strides[1:])
    for x in operands:
        if type(x) is Array:
            result.append((pointer(x), 0, x.offset, next(tensor_strides), 0))
        else:
            value, kind = scalar_argument(x, compute)
            result.append((pointer(out), value, 0, merged_strides[0], kind))
    return result


def _describe(x) -> tuple:
    """What a plan key needs of an operand: an Array's layout, or a scalar's Python type (the
    Triton type of its converted value is keyed apart)."""
    if type(x) is Array:
        return x.dtype, x.shape, x.strides, x.offset
    return (type(x),)


def _head(x, compute, out_pointer) -> tuple:
    """(pointer, scalar value) an operand passes: a placeholder pointer for a scalar, 0 for a tensor."""
    if type(x) is Array:
        return pointer(x), 0
    return out_pointer, scalar_argument(x, compute)[0]


_launch_unary = Launcher(unary_kernel)
_launch_binary = Launcher(binary_kernel)
_launch_ternary = Launcher(ternary_kernel)
_launch_fill = Launcher(fill_kernel)

# Each launch below first tries its plan: keyed by everything but base pointers and scalar values,
# a repeat of a layout skips the layout, grid and argument work (~2 us of a ~6 us small op). Plan
# keys hold the operation by id (every one is a module-level jit function, alive for good; hashing a
# JITFunction takes a lock) and the compute type by name.


def run_unary(op, out: Array, x: Array, compute) -> None:
    """out = op(x) elementwise, x read as ``compute`` (a tl dtype); op is a jit function."""
    plan_key = (id(op), compute.name, out.dtype, out.shape, out.strides, out.offset, x.dtype, x.shape, x.strides,
                x.offset)
    head = (pointer(out), pointer(x))
    if _launch_unary.launch_planned(plan_key, head):
        return
    n, sizes, merged = _layout(out, [x])
    if n == 0:
        return
    block = block_for(n)
    start, offsets, aligns = _flat_arguments(n, sizes, merged, [out, x])
    _launch_unary.launch_and_plan(plan_key, _flat_grid(n, start, aligns, block), head, (
        n, start, sizes, merged[0], merged[1], *offsets, op, compute, len(sizes), *aligns, needs_int64(n, (out, x)),
        block))


def run_binary(op, out: Array, a, b, compute) -> None:
    out_pointer = pointer(out)
    pa, sa = _head(a, compute, out_pointer)
    pb, sb = _head(b, compute, out_pointer)
    plan_key = (id(op), compute.name, out.dtype, out.shape, out.strides, out.offset, _describe(a), _describe(b),
                scalar_key(sa), scalar_key(sb))
    head = (out_pointer, pa, pb, sa, sb)
    if _launch_binary.launch_planned(plan_key, head):
        return
    n, sizes, merged = _layout(out, [a, b])
    if n == 0:
        return
    (_, _, _, ta, ka), (_, _, _, tb, kb) = _arguments([a, b], merged, compute, out)
    block = block_for(n)
    start, offsets, aligns = _flat_arguments(n, sizes, merged, [out, a, b])
    _launch_binary.launch_and_plan(plan_key, _flat_grid(n, start, aligns, block), head, (
        n, start, sizes, merged[0], ta, tb, *offsets, op, compute, ka, kb, len(sizes), *aligns,
        needs_int64(n, (out, a, b)), block))


def run_ternary(op, out: Array, a: Array, b, c, compute) -> None:
    out_pointer = pointer(out)
    pb, sb = _head(b, compute, out_pointer)
    pc, sc = _head(c, compute, out_pointer)
    plan_key = (id(op), compute.name, out.dtype, out.shape, out.strides, out.offset, _describe(a), _describe(b),
                _describe(c), scalar_key(sb), scalar_key(sc))
    head = (out_pointer, pointer(a), pb, pc, sb, sc)
    if _launch_ternary.launch_planned(plan_key, head):
        return
    n, sizes, merged = _layout(out, [a, b, c])
    if n == 0:
        return
    (_, _, _, ta, _), (_, _, _, tb, kb), (_, _, _, tc, kc) = _arguments([a, b, c], merged, compute, out)
    block = block_for(n)
    start, offsets, aligns = _flat_arguments(n, sizes, merged, [out, a, b, c])
    _launch_ternary.launch_and_plan(plan_key, _flat_grid(n, start, aligns, block), head, (
        n, start, sizes, merged[0], ta, tb, tc, *offsets, op, compute_type(a.dtype), compute, kb, kc, len(sizes),
        *aligns, needs_int64(n, (out, a, b, c)), block))


def run_fill(out: Array, value) -> None:
    compute = compute_type(out.dtype)
    scalar, kind = scalar_argument(value, compute)
    plan_key = (out.dtype, out.shape, out.strides, out.offset, type(value), scalar_key(scalar))
    head = (pointer(out), scalar)
    if _launch_fill.launch_planned(plan_key, head):
        return
    n, sizes, (out_strides,) = _layout(out, [])
    if n == 0:
        return
    block = block_for(n)
    start, (offset,), (align,) = _flat_arguments(n, sizes, [out_strides], [out])
    _launch_fill.launch_and_plan(plan_key, _flat_grid(n, start, [align], block), head, (
        n, start, sizes, out_strides, offset, kind, compute, len(sizes), align, needs_int64(n, (out,)), block))


_launch_sequence = Launcher(sequence_kernel)


def run_sequence(out: Array, start, step, end, split: int, compute) -> None:
    n = out.shape[0]
    if n == 0:
        return
    # (bounds are Python numbers; float64 ones travel as their bits)
    arguments = [scalar_argument(v, compute) for v in (start, step, end)]
    block = block_for(n)
    _launch_sequence(grid_for(n, block), pointer(out), *(value for value, _ in arguments), split, n, out.offset,
                     arguments[0][1], compute, needs_int64(n, (out,)), block)


def binary_op(op: str, compute: dtypes.dtype, b=None):
    """The jit function for a binary op at this compute dtype (and scalar exponent, for pow)."""
    if compute is dtypes.bool and op in _BOOL_BINARY_OPS:
        return _BOOL_BINARY_OPS[op]
    if op == "pow" and type(b) is not Array and not isinstance(b, bool):
        if b == 2 or b == 3:
            return _square_by_pow if b == 2 else _cube_by_pow
        if (b == 0.5 or b == -0.5) and compute.is_floating_point:
            return _sqrt_by_pow if b == 0.5 else _rsqrt_by_pow
    if op == "pow" and not triton_arguments.INTERPRETING:
        return _pow_on_gpu
    return BINARY_OPS[op]


copy_op = _identity
maximum_op = _maximum
clamp_min_op = _clamp_min
clamp_max_op = _clamp_max
