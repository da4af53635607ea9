"""torch's CPU random streams: its distributions computed from a 'cpu' Generator's MT19937 words.

Each function draws the words torch's CPU kernel draws, in the same order, and transforms them with the
same arithmetic in the same precision, so after the same seed the values are torch's bit for bit:
uniform floats from the low bits of a word (24, 53 of a 64-bit word for float64),
integers as ``word % range + low``, normals by Box-Muller, either over a block of 16 uniforms (a
contiguous tensor of 16 or more elements; float32 through the polynomial log/sincos of torch's AVX2
kernel, reproduced here step by step) or one pair per two scalar draws with the second value cached in
the generator. float16 and bfloat16 draws are float32 computations rounded, as torch's.
"""
from __future__ import annotations

import math

import numpy as np

_F32 = np.float32
_U64 = np.uint64

# significand bits of each float type: random_() draws on [0, 2**digits]
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def _uniform_unit(generator, count: int, digits: int) -> np.ndarray:
    """[0, 1) as torch's uniform_real_distribution: float64 for 53 digits, else float32."""
    if digits == 53:
        words = generator.random64(count) & _U64(2 ** 53 - 1)
        return words.astype(np.float64) * 2.0 ** -53
    words = generator.random(count) & _U64(2 ** digits - 1)
    return words.astype(_F32) * _F32(2.0 ** -digits)


def _fma32(a, b, c) -> np.ndarray:
    # the float32 product is exact in float64; one rounding of the sum (a double rounding would need
    # a tie at float32's precision, which the bits drawn here never make)
    product = a.astype(np.float64)
    product *= b
    product += c
    return product.astype(_F32)


def uniform(generator, count: int, dtype_name: str, low: float, high: float) -> np.ndarray:
    """torch's uniform_(low, high): x * (high - low) + low rounded once (the compiler fuses it), in
    float64 for float64, else float32 from 24 bits."""
    if dtype_name == "float64":
        return _affine64(_uniform_unit(generator, count, 53), float(high) - float(low), float(low))
    lo, hi = _F32(low), _F32(high)
    values = _fma32(_uniform_unit(generator, count, 24), hi - lo, lo)
    if dtype_name == "float32":
        return values
    # float16 and bfloat16: computed in float32, and a value that rounds up to `high` becomes `low`
    values = _rounded(values, dtype_name)
    return np.where(values >= _rounded(hi, dtype_name), _rounded(lo, dtype_name), values)


def _rounded(values, dtype_name: str):
    """float32 values rounded to float16 or bfloat16 (and held as float32)."""
    import ml_dtypes
    return np.asarray(values, _F32).astype(np.float16 if dtype_name == "float16" else ml_dtypes.bfloat16).astype(_F32)


def integers(generator, count: int, wide_type: bool, low: int, high: int) -> np.ndarray:
    """torch's random_(low, high): word % (high - low) + low, a 64-bit word where the range needs it
    (only for int64, float32, float64 and bfloat16 tensors: ``wide_type``)."""
    span = int(high) - int(low)
    words = generator.random64(count) if wide_type and span >= 2 ** 32 else generator.random(count)
    offsets = words % _U64(span)
    return (offsets.astype(object) + int(low)) if span >= 2 ** 63 else offsets.astype(np.int64) + int(low)


def bits(generator, count: int, dtype_name: str) -> np.ndarray:
    """torch's random_() without bounds: [0, 2**digits] for floats, [0, max] for integers, a coin for bool."""
    if dtype_name == "bool":
        return (generator.random(count) & _U64(1)).astype(bool)
    wide = dtype_name in ("int64", "float64")
    words = generator.random64(count) if wide else generator.random(count)
    if dtype_name in _DIGITS:
        modulus = 2 ** _DIGITS[dtype_name] + 1
    else:
        modulus = int(np.iinfo(np.dtype(dtype_name)).max) + 1
    return (words % _U64(modulus)).astype(np.int64)


def bernoulli(generator, count: int, p: float) -> np.ndarray:
    """torch's bernoulli_(p) for a number p: a float64 uniform < p (torch's kernel on CPUs other than
    Intel's, where it calls MKL's own generator)."""
    return _uniform_unit(generator, count, 53) < p


def bernoulli_tensor(generator, p: np.ndarray) -> np.ndarray:
    """torch's bernoulli(p) for a tensor p, element by element in p's order: a float64 draw for a
    float64 p, else a float32 one."""
    flat = p.reshape(-1)
    if flat.dtype == np.float64:
        return (_uniform_unit(generator, flat.size, 53) < flat).reshape(p.shape)
    return (_uniform_unit(generator, flat.size, 24) < flat.astype(_F32)).reshape(p.shape)


def normal(generator, count: int, dtype_name: str, mean: float, std: float, contiguous: bool) -> np.ndarray:
    """torch's normal_(mean, std) on ``count`` elements (in memory order when ``contiguous``)."""
    if count >= 16 and contiguous:
        if dtype_name == "float64":
            return _normal_blocks(generator, count, 53, _box_muller64, float(mean), float(std))
        if dtype_name == "float32":
            return _normal_blocks(generator, count, 24, _box_muller_avx2, _F32(mean), _F32(std))
        return _normal_block_by_block(generator, count, _F32(mean), _F32(std))
    return _scalar_normals(generator, count, float(mean), float(std))


def _normal_blocks(generator, count: int, digits: int, transform, mean, std) -> np.ndarray:
    """Box-Muller over blocks of 16 uniforms: u1 = 1 - first eight, u2 = last eight; values fill the
    block's halves with the cosines and sines. A tail shorter than a block redoes the last 16
    elements with 16 fresh uniforms."""
    data = _uniform_unit(generator, count, digits)
    whole = count // 16 * 16
    data[:whole] = transform(data[:whole].reshape(-1, 2, 8), mean, std).reshape(-1)
    if whole != count:
        tail = _uniform_unit(generator, 16, digits)
        data[count - 16:] = transform(tail.reshape(1, 2, 8), mean, std).reshape(-1)
    return data


def _normal_block_by_block(generator, count: int, mean, std) -> np.ndarray:
    """float16 and bfloat16: torch computes in float32, drawing the 16 uniforms of each block as it
    goes, the last block's for the tail (placed over the last 16 elements)."""
    blocks = -(-count // 16)
    values = _box_muller_avx2(_uniform_unit(generator, 16 * blocks, 24).reshape(-1, 2, 8), mean, std).reshape(-1)
    return np.concatenate([values[:count - 16], values[-16:]]) if count % 16 else values


def _box_muller64(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    radius = np.sqrt(-2.0 * np.log(1.0 - blocks[:, 0]))
    theta = 2.0 * math.pi * blocks[:, 1]
    return np.stack([_affine64(radius * np.cos(theta), std, mean), _affine64(radius * np.sin(theta), std, mean)],
                    axis=1)


def _affine64(x: np.ndarray, std: float, mean: float) -> np.ndarray:
    """x * std + mean rounded once, as torch's compiled kernels fuse it."""
    if std == 1.0 and mean == 0.0:
        return x + 0.0
    product = x * std
    # the product's rounding error, exactly (Dekker's two-product through Veltkamp's split)
    x_hi, x_lo = _split(x)
    s_hi, s_lo = _split(np.float64(std))
    product_error = ((x_hi * s_hi - product) + x_hi * s_lo + x_lo * s_hi) + x_lo * s_lo
    total = product + mean
    virtual = total - product
    sum_error = (product - (total - virtual)) + (mean - virtual)
    return total + (sum_error + product_error)


def _split(x):
    scaled = x * 134217729.0  # 2**27 + 1
    high = scaled - (scaled - x)
    return high, x - high


def _box_muller_avx2(blocks: np.ndarray, mean, std) -> np.ndarray:
    """torch's float32 kernel: its polynomial log and sincos (Cephes, as avx_mathfun writes them), every
    step rounded to float32 as the vector instructions round it, with the multiply-adds the compiler
    fuses fused here too."""
    u1 = _F32(1.0) - blocks[:, 0]
    radius = np.sqrt(_F32(-2.0) * _log_avx2(u1))
    sine, cosine = _sincos_avx2(_F32(2.0 * math.pi) * blocks[:, 1])
    return np.stack([_fma32(radius * cosine, std, mean), _fma32(radius * sine, std, mean)], axis=1)


_LOG_POLY = tuple(_F32(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                                    1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                                    3.3333331174e-1))
_LOG_Q1, _LOG_Q2, _SQRTHF = _F32(-2.12194440e-4), _F32(0.693359375), _F32(0.707106781186547524)


def _log_avx2(x: np.ndarray) -> np.ndarray:
    """Natural log of positive normal float32 values (u1 is at least 2**-24), Cephes' logf."""
    bits_ = x.view(np.int32)
    exponent = ((bits_ >> 23) - 127).astype(_F32) + _F32(1.0)
    mantissa = ((bits_ & ~0x7F800000) | np.float32(0.5).view(np.int32)).view(_F32)  # in [0.5, 1)
    small = mantissa < _SQRTHF
    x = mantissa - _F32(1.0)
    exponent = exponent - small.astype(_F32)
    x = x + np.where(small, mantissa, _F32(0.0))
    z = x * x
    y = np.full_like(x, _LOG_POLY[0])
    for c in _LOG_POLY[1:]:
        y = _fma32(y, x, c)
    y = _fma32(y * x, z, exponent * _LOG_Q1)
    y = y - z * _F32(0.5)
    return _fma32(exponent, _LOG_Q2, x + y)


_DP = (_F32(-0.78515625), _F32(-2.4187564849853515625e-4), _F32(-3.77489497744594108e-8))
_SIN_POLY = (_F32(-1.9515295891e-4), _F32(8.3321608736e-3), _F32(-1.6666654611e-1))
_COS_POLY = (_F32(2.443315711809948e-005), _F32(-1.388731625493765e-003), _F32(4.166664568298827e-002))
_FOPI = _F32(1.27323954473516)  # 4 / pi


def _sincos_avx2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of non-negative float32 angles below 2 pi, Cephes' sinf/cosf."""
    octant = (x * _FOPI).astype(np.int32)  # truncation, as cvttps
    octant = (octant + 1) & ~1
    y = octant.astype(_F32)
    sin_negative = (octant & 4) != 0
    cos_negative = ((octant - 2) & 4) == 0
    use_sine_poly = (octant & 2) == 0
    for part in _DP:  # x - y * pi / 4 in three parts
        x = _fma32(y, part, x)
    z = x * x
    cos_poly = np.full_like(x, _COS_POLY[0])
    sin_poly = np.full_like(x, _SIN_POLY[0])
    for k in (1, 2):
        cos_poly = _fma32(cos_poly, z, _COS_POLY[k])
        sin_poly = _fma32(sin_poly, z, _SIN_POLY[k])
    cos_poly = _fma32(cos_poly * z, z, -(z * _F32(0.5))) + _F32(1.0)
    sin_poly = _fma32(sin_poly * z, x, x)
    sine = np.where(use_sine_poly, sin_poly, cos_poly)
    cosine = np.where(use_sine_poly, cos_poly, sin_poly)
    return np.where(sin_negative, -sine, sine), np.where(cos_negative, -cosine, cosine)


def _scalar_normals(generator, count: int, mean: float, std: float) -> np.ndarray:
    """torch's normal_distribution<double>, one value per call: a cached value if the generator holds
    one, else a new pair from two float64 uniforms (radius from the second), the sine kept."""
    out = np.empty(count, dtype=np.float64)
    start = 0
    if count and generator.next_double_normal is not None:
        out[0] = generator.next_double_normal
        generator.next_double_normal = None
        start = 1
    pairs, odd = divmod(count - start, 2)
    units = _uniform_unit(generator, 2 * (pairs + odd), 53).reshape(-1, 2)
    radius = np.array([math.sqrt(-2.0 * math.log1p(-u)) for u in units[:, 1]])
    theta = 2.0 * math.pi * units[:, 0]
    cosines = radius * np.array([math.cos(t) for t in theta])
    sines = radius * np.array([math.sin(t) for t in theta])
    out[start:start + 2 * pairs:2] = cosines[:pairs]
    out[start + 1:start + 2 * pairs:2] = sines[:pairs]
    if odd:
        out[-1] = cosines[-1]
        generator.next_double_normal = float(sines[-1])
    return _affine64(out, std, mean)


def exponential(generator, count: int, lambd: float) -> np.ndarray:
    """torch's exponential_(lambd): -1 / lambd * log1p(-u) from float64 uniforms."""
    return -1.0 / lambd * np.log1p(-_uniform_unit(generator, count, 53))


def randperm(generator, n: int) -> np.ndarray:
    """torch's randperm on the CPU: Fisher-Yates from the front, swapping i with i + word % (n - i)."""
    if n < 2:
        return np.arange(n, dtype=np.int64)
    values = list(range(n))
    targets = generator.random(n - 1) % np.arange(n, 1, -1, dtype=np.uint64) + np.arange(n - 1, dtype=np.uint64)
    for i, j in enumerate(targets.tolist()):
        values[i], values[j] = values[j], values[i]
    return np.array(values, dtype=np.int64)


def multinomial(generator, probs: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """torch's multinomial over the rows of the 2-D ``probs`` (int64 indices, one row per row).

    One sample, or none repeated: the largest probs / q with q ~ Exp(1) (Gumbel's trick, as torch);
    repeated samples: a float64 uniform per sample, found by binary search in the row's normalised
    running sum (in probs' type; float32 for the 16-bit types)."""
    rows, categories = probs.shape
    if not replacement or num_samples == 1:
        keys = (probs / exponential(generator, probs.size, 1.0).astype(probs.dtype).reshape(probs.shape))
        return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)
    compute = probs.dtype if probs.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    out = np.empty((rows, num_samples), dtype=np.int64)
    for row in range(rows):
        running = np.cumsum(probs[row].astype(compute), dtype=compute)
        running /= running[-1]
        running[-1] = 1
        out[row] = np.searchsorted(running.astype(np.float64), _uniform_unit(generator, num_samples, 53),
                                   side="left")
    return out
