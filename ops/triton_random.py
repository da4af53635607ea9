"""Random kernels: uniform, normal and integers from Triton's Philox (tl.randint4x).

Each Philox counter gives four 32-bit words. A program takes BLOCK consecutive counters and fills
LANES * BLOCK consecutive outputs, lane k of counter j going to position k * BLOCK + j, so every
store is contiguous. LANES is 4 where an output needs 32 bits and 2 where it needs 64. A call takes
its counters from the device generator, which then moves past them: successive calls draw fresh
numbers and manual_seed replays the same ones.
"""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from tkern import dtypes

from .array import Array
from .triton_launcher import Launcher
from .triton_arguments import TL_TYPES, grid_for, needs_int64, pointer

_UNIFORM, _NORMAL, _INTEGERS, _WIDE_INTEGERS, _ALL_INTEGERS, _BERNOULLI = 0, 1, 2, 3, 4, 5

BLOCK = 1024

# significant bits of each float type: uniform values are multiples of 2**-digits, so they are exact
# in the output type and never round up to 1
_DIGITS = {dtypes.float16: 11, dtypes.bfloat16: 8, dtypes.float32: 24, dtypes.float64: 53}


@triton.jit
def _uniform32(r, DIGITS: tl.constexpr):
    """[0, 1) from the top DIGITS bits of the uint32 r, exactly, in float32."""
    return (r >> (32 - DIGITS)).to(tl.float32) * (1.0 / (1 << DIGITS))


@triton.jit
def _bits64(hi, lo):
    return (hi.to(tl.uint64) << 32) | lo.to(tl.uint64)


@triton.jit
def _uniform64(hi, lo):
    """[0, 1) from 53 random bits, exactly, in float64."""
    return (_bits64(hi, lo) >> 11).to(tl.float64) * (1.0 / 9007199254740992.0)


@triton.jit
def _box_muller(u1, u2):
    # u1 is in (0, 1], so the log is finite
    radius = tl.sqrt(-2.0 * tl.log(u1))
    angle = 6.283185307179586 * u2
    return radius * tl.cos(angle), radius * tl.sin(angle)


@triton.jit
def _store(out_ptr, position, n, value, OUT: tl.constexpr):
    if OUT == tl.float16 or OUT == tl.bfloat16:
        # integers reach the half types through float32, like torch's casts (and the interpreter
        # has no direct int -> bfloat16)
        value = value.to(tl.float32)
    tl.store(out_ptr + position, value.to(OUT), mask=position < n)


@triton.jit
def _affine(value, scale_bits, shift_bits, OUT: tl.constexpr):
    """value * scale + shift, the two float64 numbers passed as their bits (a float argument would
    reach the kernel as float32), computed in float32 unless the output is float64."""
    # (an argument that fits in 32 bits arrives as int32)
    scale = scale_bits.to(tl.int64).to(tl.float64, bitcast=True)
    shift = shift_bits.to(tl.int64).to(tl.float64, bitcast=True)
    if OUT == tl.float64:
        return value * scale + shift
    else:
        return value * scale.to(tl.float32) + shift.to(tl.float32)


@triton.jit(do_not_specialize=["seed", "base", "low", "span", "scale_bits", "shift_bits"])
def random_kernel(out_ptr, n, seed, base, low, span, scale_bits, shift_bits, out_offset, KIND: tl.constexpr,
                  OUT: tl.constexpr, LANES: tl.constexpr, DIGITS: tl.constexpr, WIDE: tl.constexpr,
                  AFFINE: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    lane = tl.arange(0, BLOCK)
    # the counter is 64 bits wide whatever the size: randint4x splits it over two Philox words
    counter = base.to(tl.int64) + pid.to(tl.int64) * BLOCK + lane.to(tl.int64)
    r0, r1, r2, r3 = tl.randint4x(seed, counter)
    if WIDE:
        position = pid.to(tl.int64) * (LANES * BLOCK) + lane.to(tl.int64)
    else:
        position = pid * (LANES * BLOCK) + lane
    out_ptr += out_offset
    if KIND == 0:
        if LANES == 2:
            a = _uniform64(r0, r1)
            b = _uniform64(r2, r3)
        else:
            a = _uniform32(r0, DIGITS)
            b = _uniform32(r1, DIGITS)
            c = _uniform32(r2, DIGITS)
            d = _uniform32(r3, DIGITS)
    elif KIND == 1:
        if LANES == 2:
            u1 = 1.0 - _uniform64(r0, r1)
            a, b = _box_muller(u1, _uniform64(r2, r3))
        else:
            a, b = _box_muller(1.0 - _uniform32(r0, 24), _uniform32(r1, 24))
            c, d = _box_muller(1.0 - _uniform32(r2, 24), _uniform32(r3, 24))
    elif KIND == 5:
        # a coin with probability p (passed as the scale): a float64 comparison, exact for any p
        p = scale_bits.to(tl.int64).to(tl.float64, bitcast=True)
        a = _uniform32(r0, 24).to(tl.float64) < p
        b = _uniform32(r1, 24).to(tl.float64) < p
        c = _uniform32(r2, 24).to(tl.float64) < p
        d = _uniform32(r3, 24).to(tl.float64) < p
    elif KIND == 2:
        # torch's rule: low + random % range, from 32 bits when the range fits in them
        width = span.to(tl.uint32)
        start = low.to(tl.int64)
        a = start + (r0 % width).to(tl.int64)
        b = start + (r1 % width).to(tl.int64)
        c = start + (r2 % width).to(tl.int64)
        d = start + (r3 % width).to(tl.int64)
    else:
        start = low.to(tl.int64)
        x = _bits64(r0, r1)
        y = _bits64(r2, r3)
        if KIND == 3:
            width = span.to(tl.uint64)
            x = x % width
            y = y % width
        # int64 addition wraps, which is the unsigned sum reinterpreted
        a = start + x.to(tl.int64, bitcast=True)
        b = start + y.to(tl.int64, bitcast=True)
    if AFFINE:
        a = _affine(a, scale_bits, shift_bits, OUT)
        b = _affine(b, scale_bits, shift_bits, OUT)
        if LANES == 4:
            c = _affine(c, scale_bits, shift_bits, OUT)
            d = _affine(d, scale_bits, shift_bits, OUT)
    _store(out_ptr, position, n, a, OUT)
    _store(out_ptr, position + BLOCK, n, b, OUT)
    if LANES == 4:
        _store(out_ptr, position + 2 * BLOCK, n, c, OUT)
        _store(out_ptr, position + 3 * BLOCK, n, d, OUT)


def _signed64(value: int) -> int:
    """The int64 with value's low 64 bits (how a uint64 reaches the kernel)."""
    value &= 2 ** 64 - 1
    return value - 2 ** 64 if value >= 2 ** 63 else value


_launch_random_kernel = Launcher(random_kernel)

def _float_bits(value: float) -> int:
    """The int64 holding a float64's bits (how the kernel receives an exact float64)."""
    return int(np.array(float(value), dtype=np.float64).view(np.int64))


# the values random_() draws by default: [0, 2**digits] for floats, [0, max] for integers
def _bits_range(dtype) -> int:
    if dtype is dtypes.bool:
        return 2
    if dtype.is_floating_point:
        return 2 ** _DIGITS[dtype] + 1
    return int(np.iinfo(dtype.numpy).max) + 1


def random(backend, kind: str, out: Array, generator, a=None, b=None) -> None:
    """Fill the contiguous ``out``: see Backend.random for the kinds. Bernoulli draws with a tensor of
    probabilities, exponentials and permutations are made of a uniform or integer draw and the
    backend's own elementwise and sort kernels."""
    assert out.is_contiguous()
    n = out.numel()
    if n == 0:
        return
    if kind == "bits":
        kind, a, b = "integers", 0, _bits_range(out.dtype)
    if kind in ("exponential", "permutation") or (kind == "bernoulli" and isinstance(a, Array)):
        _composed(backend, kind, out, generator, a)
        return
    span, affine, scale, shift = 0, False, 1.0, 0.0
    if kind == "uniform":
        code, lanes = _UNIFORM, 2 if out.dtype is dtypes.float64 else 4
        affine, scale, shift = (a, b) != (0, 1), float(b) - float(a), float(a)
    elif kind == "normal":
        code, lanes = _NORMAL, 2 if out.dtype is dtypes.float64 else 4
        affine, scale, shift = (a, b) != (0, 1), float(b), float(a)
    elif kind == "bernoulli":
        code, lanes, scale = _BERNOULLI, 4, float(a)
    else:
        span = int(b) - int(a)
        if span < 2 ** 32:
            code, lanes = _INTEGERS, 4
        elif span < 2 ** 64:
            code, lanes = _WIDE_INTEGERS, 2
        else:
            code, lanes = _ALL_INTEGERS, 2
    per_program = lanes * BLOCK
    # counters used: BLOCK per full program, and in a partial last one as many as its first lane fills
    full, rest = divmod(n, per_program)
    seed, base = generator.philox_offset(full * BLOCK + min(rest, BLOCK))
    _launch_random_kernel(
        grid_for(n, per_program),
        pointer(out), n, _signed64(seed), base, _signed64(int(a or 0) if code >= _INTEGERS else 0), _signed64(span),
        _float_bits(scale), _float_bits(shift), out.offset,
        KIND=code, OUT=TL_TYPES[out.dtype], LANES=lanes, DIGITS=_DIGITS.get(out.dtype, 24),
        WIDE=needs_int64(n + per_program, [out]), AFFINE=affine, BLOCK=BLOCK)


def _composed(backend, kind: str, out: Array, generator, a) -> None:
    from . import allocation, copying, elementwise, views
    if kind == "permutation":  # the positions of random 64-bit keys in sorted order
        keys = allocation.empty((1, out.numel()), dtypes.int64, out.device)
        random(backend, "integers", keys, generator, -(2 ** 63), 2 ** 63)
        sorted_keys = allocation.empty(keys.shape, dtypes.int64, out.device)
        order = allocation.empty(keys.shape, dtypes.int64, out.device)
        backend.sort(sorted_keys, order, keys, False)
        copying.copy_into(out, views.reshape(order, out.shape))
        return
    unit = allocation.empty(out.shape, dtypes.float32 if out.dtype.itemsize < 8 else dtypes.float64, out.device)
    random(backend, "uniform", unit, generator, 0, 1)
    if kind == "bernoulli":
        result = elementwise.binary("lt", unit, elementwise.expand_to(a, out.shape))
    else:  # exponential: -log1p(-u) / rate
        result = elementwise.binary("div", elementwise.unary("log1p", elementwise.unary("neg", unit)), -float(a))
    copying.copy_into(out, result)


def multinomial(backend, probs: Array, out: Array, generator, replacement: bool) -> None:
    """Backend.multinomial from the backend's own kernels: without repeats (or for one sample) the
    rows' largest probs / q, q ~ Exp(1) (torch's method); with repeats, for each uniform draw the
    count of normalised running sums below it."""
    from . import allocation, copying, elementwise, reduction, views
    rows, categories = probs.shape
    samples = out.shape[1]
    if not replacement or samples == 1:
        q = allocation.empty(probs.shape, probs.dtype, probs.device)
        random(backend, "exponential", q, generator, 1.0)
        keys = copying.contiguous(elementwise.binary("div", probs, q))
        ordered = allocation.empty(keys.shape, keys.dtype, keys.device)
        order = allocation.empty(keys.shape, dtypes.int64, keys.device)
        backend.sort(ordered, order, keys, True)
        copying.copy_into(out, views.narrow(order, 1, 0, samples))
        return
    running = allocation.empty(probs.shape, probs.dtype, probs.device)
    backend.scan("sum", running, copying.contiguous(probs))
    normalised = elementwise.binary("div", running, views.narrow(running, 1, categories - 1, 1))
    unit = allocation.empty((rows, samples, 1), dtypes.float64, probs.device)
    random(backend, "uniform", unit, generator, 0.0, 1.0)
    below = elementwise.binary("lt", views.unsqueeze(normalised, 1), unit)  # (rows, samples, categories)
    copying.copy_into(out, reduction.reduce("sum", below, (2,)))
