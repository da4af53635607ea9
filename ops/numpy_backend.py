"""The CPU backend: every primitive as numpy calls on strided views of host memory."""
from __future__ import annotations

import ctypes
import math
import operator
import warnings

import numpy as np

from tkern import dtypes
from tkern.device import CPU
from tkern.storage import Storage

from . import cpu_random, numpy_norm, numpy_polynomial
from .array import Array, numel_of
from .backend import FLOAT32_SCALAR_OPS, Backend
from .optimizer_step import AdamStep
from .polynomial import accumulation_dtype

# numpy warns on overflow, 0/0 and inf - inf; torch computes the same IEEE results silently. The
# filter only matches warnings raised from this module, so numpy elsewhere keeps its warnings (and
# costs nothing per call, where np.errstate would cost ~1 us)
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__.replace(".", r"\."))


def _raw_bytes(storage: Storage) -> np.ndarray:
    """A flat uint8 view of all of a storage's memory, built once per storage."""
    flat = storage._bytes
    if flat is None:
        data = storage.data
        if data.flags.c_contiguous:
            flat = data.reshape(-1).view(np.uint8)
        else:
            # a strided numpy array wrapped by from_numpy: address its whole span directly
            address = data.__array_interface__["data"][0]
            flat = np.ctypeslib.as_array((ctypes.c_uint8 * storage.nbytes).from_address(address))
        storage._bytes = flat
    return flat


def host(a: Array) -> np.ndarray:
    """The numpy view of an Array (cached on it)."""
    view = a.host
    if view is None:
        item = a.dtype.itemsize
        # an empty view may start past its storage's end (torch's x[5:] of 5 elements), which numpy
        # refuses: no element is read, so any offset serves
        offset = a.offset * item if 0 not in a.shape else 0
        view = np.ndarray(a.shape, a.dtype.numpy, _raw_bytes(a.storage), offset,
                          tuple(s * item for s in a.strides))
        a.host = view
    return view


def _host_or_none(a: Array | None) -> np.ndarray | None:
    return None if a is None else host(a)


def _compute_type(d: dtypes.dtype) -> np.dtype:
    # numpy has no bfloat16 arithmetic of its own: compute in float32 and round on store
    return np.dtype(np.float32) if d is dtypes.bfloat16 else d.numpy


class _TypeTable(dict):
    """dtype -> numpy dtype, filled on first use (bfloat16 loads ml_dtypes only when used)."""

    def __init__(self, convert):
        super().__init__()
        self._convert = convert

    def __missing__(self, d):
        self[d] = self._convert(d)
        return self[d]


_COMPUTE_TYPES = _TypeTable(_compute_type)
_STORAGE_TYPES = _TypeTable(lambda d: d.numpy)


def _operand(x, compute: np.dtype):
    if type(x) is Array:
        h = x.host
        if h is None:
            h = host(x)
        return h if h.dtype == compute else h.astype(compute)
    if type(x) is int and compute.kind in "iu":
        info = np.iinfo(compute)
        if not info.min <= x <= info.max:
            # torch wraps an out-of-range Python int like a C cast; numpy 2 would raise
            return np.array(x).astype(compute)
    return x


def _sigmoid(x, out):
    if out.dtype == np.float16:
        # torch computes in float32 and rounds once; in half, exp(-x) overflows below x = -11
        np.copyto(out, _sigmoid(np.asarray(x, np.float32), np.empty(out.shape, np.float32)), casting="unsafe")
        return out
    np.negative(x, out=out)
    np.exp(out, out=out)
    np.add(out, 1, out=out)
    return np.reciprocal(out, out=out)


def _trunc_divide(a, b, out):
    if out.dtype.kind == "f":
        np.true_divide(a, b, out=out)
        return np.trunc(out, out=out)
    np.floor_divide(a, b, out=out)
    # floor and truncation differ where the division is inexact and the signs differ
    inexact = np.not_equal(np.remainder(a, b), 0) & np.not_equal(np.less(a, 0), np.less(b, 0))
    return np.add(out, inexact, out=out, casting="unsafe")


def _remainder(a, b, out):
    if out.dtype.kind != "f":
        return np.remainder(a, b, out=out)
    # a zero remainder takes the dividend's sign, as torch's fmod-based remainder leaves it (numpy's
    # takes the divisor's: remainder(3., -1.5) is -0.0 there, 0.0 in torch); the sign is read before
    # the remainder is written, as out may be the dividend itself (x %= y)
    negative_dividend = np.signbit(a)
    np.remainder(a, b, out=out)
    np.copyto(out, np.where(negative_dividend, -0.0, 0.0), where=out == 0, casting="unsafe")
    return out


def _power(base, exponent, out):
    if out.dtype == np.bool_:
        # only x ** True (x) and x ** False (all True) reach here, as in torch
        return np.copyto(out, base if exponent else True)
    if out.dtype.kind == "f":
        # numpy takes an exponent of 0.5 as sqrt, so (-inf) ** 0.5 comes out nan where C's pow, and
        # torch's pow by a tensor, give inf (a Python 0.5 is torch's sqrt: _float_power_by_scalar)
        sqrt_of_minus_inf = (base == -np.inf) & (exponent == 0.5)
        np.power(base, exponent, out=out)
        if sqrt_of_minus_inf.any():
            np.copyto(out, np.inf, where=sqrt_of_minus_inf)
        return out
    if out.dtype.kind not in "iu" or np.all(exponent >= 0):
        return np.power(base, exponent, out=out)
    # integer pow with negative exponents, as torch's kernel computes it: 1, +-1 for base -1, else 0;
    # worked out before the power is written, as out may be the base itself (x.pow_(y))
    negative = exponent < 0
    sign = np.where(np.remainder(exponent, 2) == 0, 1, -1)
    fix = np.where(base == 1, 1, np.where(base == -1, sign, 0))
    np.power(base, np.maximum(exponent, 0), out=out)
    return np.copyto(out, fix.astype(out.dtype), where=np.broadcast_to(negative, out.shape))


_F16, _F32_TYPE = np.dtype(np.float16), np.dtype(np.float32)


def _keeping_x(extremum, bound, x, out=None):
    """np.maximum or np.minimum of a bound and x that gives x on a tie (relu(-0.0) and
    clamp(-0.0, min=0.0) are -0.0 in torch): numpy gives its second operand on one, except in
    float16, where it gives its first."""
    if getattr(x, "dtype", None) == _F16:
        return extremum(x, bound, out=out)
    return extremum(bound, x, out=out)


def _relu(x, out):
    return _keeping_x(np.maximum, 0, x, out)



def _sign(x, out):
    np.sign(x, out=out)
    if out.dtype.kind == "f":
        # torch's sign is (0 < x) - (x < 0): 0 for NaN, which numpy keeps
        np.copyto(out, 0, where=np.isnan(out))
    return out


# numpy has no erf: the C library's, element by element, in float64 (rounded once to narrower types)
_erf_float64 = np.vectorize(math.erf, otypes=[np.float64])


def _erf(x, out):
    if x.size:  # (np.vectorize refuses an empty input without otypes' help for 0-size arrays)
        np.copyto(out, _erf_float64(x), casting="unsafe")
    return out


_UNARY = {
    "erf": _erf,
    "neg": np.negative, "abs": np.absolute, "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p,
    "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "atan": np.arctan, "tanh": np.tanh, "sigmoid": _sigmoid, "relu": _relu,
    "logical_not": np.logical_not, "square": np.square, "reciprocal": np.reciprocal,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": np.rint, "sign": _sign,
    "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite, "bitwise_not": np.invert,
}

_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "floor_divide": np.floor_divide, "remainder": _remainder, "pow": _power,
    "maximum": np.maximum, "minimum": np.minimum, "eq": np.equal, "ne": np.not_equal,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
    "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
    "atan2": np.arctan2, "fmod": np.fmod, "trunc_divide": _trunc_divide,
}

# binary ops that numpy computes exactly like torch with no warnings to silence
_DIRECT_BINARY = {op: _BINARY[op] for op in (
    "add", "sub", "mul", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
    "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor")}

_REDUCE = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum,
           "all": np.logical_and, "any": np.logical_or}


_INTEGER_DIVISIONS = frozenset(("floor_divide", "remainder", "fmod", "div", "trunc_divide"))

# ops whose inputs may leave their domain (1/0, log(-1)): torch computes these silently, so numpy's
# warnings are switched off around them; np.errstate costs ~1us, so not around add/mul and friends
_MAY_WARN = frozenset(("log", "log1p", "sqrt", "reciprocal", "div", "pow", "floor_divide", "remainder", "fmod",
                       "trunc_divide", "atan2"))


def _small_integer_power(base: np.ndarray, exponent) -> np.ndarray:
    """Exponents 2 and 3 as multiplies: exact like torch, and far faster than libm's pow on
    negative bases."""
    square = np.multiply(base, base)
    return square if exponent == 2 else np.multiply(square, base, out=square if square.ndim else None)


def _float_power_by_scalar(base: np.ndarray, exponent, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        # x ** 2 and x ** 3 are common enough to skip the general path
        if exponent == 2:
            return np.multiply(base, base)
        if exponent == 3 and base.ndim:
            square = np.multiply(base, base)
            return np.multiply(square, base, out=square)
    if exponent == 2 or exponent == 3:
        value = _small_integer_power(base, exponent)
    elif exponent == 0.5 or exponent == -0.5:
        # torch takes these as sqrt and 1 / sqrt: (-inf) ** 0.5 is nan, (-0.0) ** -0.5 is -inf
        with np.errstate(all="ignore"):
            value = np.sqrt(base)
            if exponent < 0:
                value = np.reciprocal(value)
    else:
        with np.errstate(all="ignore"):
            value = np.power(base, exponent)
    if out is None:
        return value
    # never computed in place: out may be the base itself (x.pow_(3))
    np.copyto(out, value, casting="unsafe")
    return out


_new_object = object.__new__

_READY, _SCALAR, _CONVERT = "ready", "scalar", "convert"

_PYTHON_FLOAT_MATH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}
_PYTHON_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
_F32 = np.float32
_SUM_BY_DOT_MAX = 8192



def _binary_compute_type(op: str, compute: dtypes.dtype, b_type) -> np.dtype:
    """The numpy type a binary op computes in: float16 times or over a number is worked in float32,
    as torch does (numpy would round the number to float16 first: x * 70000 would be inf)."""
    ct = _COMPUTE_TYPES[compute]
    if ct == _F16 and (b_type is float or b_type is int) and op in FLOAT32_SCALAR_OPS:
        return _F32_TYPE
    return ct


def _operand_mode(operand_type, compute: np.dtype) -> str:
    if operand_type.__class__ is not dtypes.dtype:
        return _SCALAR
    return _READY if _STORAGE_TYPES[operand_type] == compute else _CONVERT


def _fresh_array(value: np.ndarray, shape: tuple, result: dtypes.dtype) -> Array:
    """A fresh row-major result as an Array: Array.around_host without its attribute lookups and
    checks, as this is the hottest allocation in a CPU program (strides are worked out when read)."""
    r = _new_object(Array)
    r._storage = None
    r.device = CPU
    r.shape = shape
    r._strides = None
    r.offset = 0
    r.dtype = result
    r.host = value
    return r


def _result_array(value, result: dtypes.dtype) -> Array:
    """A fresh numpy result (or numpy scalar, from 0-d operands) as an Array of ``result`` dtype."""
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    elif not value.flags.c_contiguous:
        # numpy keeps a transposed input's layout; tkern's fresh outputs are always row-major
        value = np.ascontiguousarray(value)
    storage_type = _STORAGE_TYPES[result]
    if value.dtype != storage_type:
        value = value.astype(storage_type)
    return Array.around_host(value, result, CPU)


def _in_memory_order(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (shaped like ``reference``) with its axes in the order of ``reference``'s memory, largest
    stride first, so that C order walks the memory of ``reference`` forwards."""
    order = sorted(range(reference.ndim), key=lambda axis: -abs(reference.strides[axis]))
    return values.transpose(order)


class NumpyBackend(Backend):
    def empty(self, shape, dtype, device=CPU):
        try:
            data = np.empty(shape, _STORAGE_TYPES[dtype])
        except MemoryError:
            nbytes = dtype.itemsize * numel_of(shape)
            # torch's CPU allocator raises RuntimeError (from None: nothing of the failure is kept alive)
            raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} "
                               "bytes.") from None
        return Array.around_host(data, dtype, CPU)

    def from_numpy(self, array, device=CPU):
        data = np.array(array, order="C", copy=True)
        return Array.around_host(data, dtypes.from_numpy_dtype(data.dtype), CPU)

    def to_numpy(self, src):
        return host(src)

    def fill(self, out, value):
        host(out)[...] = value

    def sequence(self, out, start, step, end, split, compute):
        ct = compute.numpy
        index = np.arange(out.shape[0], dtype=ct)
        values = np.where(index < split, ct.type(start) + ct.type(step) * index,
                          ct.type(end) - ct.type(step) * (out.shape[0] - 1 - index))
        np.copyto(host(out), values, casting="unsafe")

    def copy(self, out, src):
        target, source = host(out), host(src)
        if target.dtype.kind in "iu" and source.dtype.name == "bfloat16":
            # ml_dtypes saturates bfloat16 into integers; torch converts through float, as numpy does
            # float32 (-96 into uint8 is 160, not 0)
            source = source.astype(np.float32)
        np.copyto(target, source, casting="unsafe")

    def unary(self, op, x, compute, result, out=None):
        ct = _COMPUTE_TYPES[compute]
        hx = _operand(x, ct)
        if out is None and type(_UNARY[op]) is np.ufunc and op not in _MAY_WARN:
            return _result_array(_UNARY[op](hx), result)
        o = host(out) if out is not None else np.empty(x.shape, _STORAGE_TYPES[result])
        if o.dtype == ct or op in ("logical_not", "isnan", "isinf", "isfinite"):
            target = o
        else:
            target = np.empty(o.shape, ct)
        if op in _MAY_WARN:
            with np.errstate(all="ignore"):
                _UNARY[op](hx, out=target)
        else:
            _UNARY[op](hx, out=target)
        if target is not o:
            np.copyto(o, target, casting="unsafe")
        return out if out is not None else Array.around_host(o, result, CPU)

    def binary(self, op, a, b, shape, compute, result, out=None):
        ct = _binary_compute_type(op, compute, type(b))
        ha = _operand(a, ct)
        hb = _operand(b, ct)
        if out is None:
            # the common case: numpy allocates the result inside the ufunc call
            direct = _DIRECT_BINARY.get(op)
            if direct is not None:
                return _result_array(direct(ha, hb), result)
            if op == "pow" and type(b) is not Array and (hb == 2 or hb == 3):
                return _result_array(_small_integer_power(ha, hb), result)
            o = np.empty(shape, _STORAGE_TYPES[result])
        else:
            o = out.host
            if o is None:
                o = host(out)
        target = o if o.dtype == ct or o.dtype == np.bool_ else np.empty(o.shape, ct)
        if op == "pow" and type(b) is not Array and (hb == 2 or hb == 3):
            np.copyto(target, _small_integer_power(ha, hb), casting="unsafe")
        elif op in _MAY_WARN:
            if op in _INTEGER_DIVISIONS and ct.kind in "iub" and target.size and not np.all(hb):
                raise RuntimeError("ZeroDivisionError")
            with np.errstate(all="ignore"):
                _BINARY[op](ha, hb, out=target)
        else:
            _BINARY[op](ha, hb, out=target)
        if target is not o:
            np.copyto(o, target, casting="unsafe")
        return out if out is not None else Array.around_host(o, result, CPU)

    def binary_launcher(self, op, compute, result, a_type, b_type):
        ct = _binary_compute_type(op, compute, b_type)
        direct = _DIRECT_BINARY.get(op)
        if op == "pow" and ct.kind == "f" and b_type in (int, float):
            direct = _float_power_by_scalar
        python_ints = any(t is int or t is bool for t in (a_type, b_type))
        if direct is None or python_ints and ct.kind in "iu":
            # divisions, tensor exponents and Python ints that may need wrapping take the general path
            return super().binary_launcher(op, compute, result, a_type, b_type)
        # an operand is READY (its host view has the compute type), a SCALAR that numpy takes as it is
        # (ints needing a C-style wrap took the general path above), or needs converting
        a_mode, b_mode = (_operand_mode(t, ct) for t in (a_type, b_type))
        storage_type = _STORAGE_TYPES[result]
        natural_type = np.dtype(np.bool_) if result is dtypes.bool else ct
        cast = storage_type != natural_type
        # 0-d float arithmetic in Python floats: numpy's ufunc machinery costs 4x the math on 0-d
        # arrays, and binary64 arithmetic rounded once to binary32 is the correctly rounded binary32
        # result for + - * (53 >= 2 * 24 + 2), so the values are numpy's to the bit
        python_math = _PYTHON_FLOAT_MATH.get(op) if (
            result is compute and ct in _PYTHON_FLOAT_TYPES
            and all(mode is _READY or t is float for mode, t in ((a_mode, a_type), (b_mode, b_type)))) else None
        rounds_scalars = ct == np.float32

        def launch(a, b, shape, out):
            if python_math is not None and not shape and (out is None or host(out).dtype == ct):
                # (host views of 0-d operands are almost always made already: host() only if not)
                x = (a.host if a.host is not None else host(a)).item() if a_mode is _READY else (
                    float(_F32(a)) if rounds_scalars else a)
                y = (b.host if b.host is not None else host(b)).item() if b_mode is _READY else (
                    float(_F32(b)) if rounds_scalars else b)
                if out is not None:
                    out.host[()] = python_math(x, y)
                    return out
                return _fresh_array(np.array(python_math(x, y), ct), (), result)
            if a_mode is _READY:
                ha = a.host
                if ha is None:
                    ha = host(a)
            else:
                ha = a if a_mode is _SCALAR else _operand(a, ct)
            if b_mode is _READY:
                hb = b.host
                if hb is None:
                    hb = host(b)
            else:
                hb = b if b_mode is _SCALAR else _operand(b, ct)
            if out is None:
                value = direct(ha, hb)
                if cast:
                    return _result_array(value, result)
                if type(value) is not np.ndarray:
                    value = np.asarray(value)  # numpy gives scalars for 0-d operands
                elif not value.flags.c_contiguous:
                    value = np.ascontiguousarray(value)
                return _fresh_array(value, shape, result)
            o = out.host
            if o is None:
                o = host(out)
            if o.dtype == natural_type:
                if shape:
                    direct(ha, hb, out=o)
                else:
                    o[()] = direct(ha, hb)  # numpy's out= costs ~0.15us more on 0-d arrays
            else:
                np.copyto(o, direct(ha, hb), casting="unsafe")
            return out
        return launch

    def ternary(self, op, a, b, c, shape, compute, out=None):
        ct = _COMPUTE_TYPES[compute]
        if op == "where":
            value = np.where(host(a), _operand(b, ct), _operand(c, ct))
        elif op == "clamp":
            hx, lo, hi = _operand(a, ct), _operand(b, ct), _operand(c, ct)
            # torch propagates NaN from the input and from either bound, and keeps the input on a tie
            if lo is None:
                value = _keeping_x(np.minimum, hi, hx)
            elif hi is None:
                value = _keeping_x(np.maximum, lo, hx)
            else:
                value = _keeping_x(np.minimum, hi, _keeping_x(np.maximum, lo, hx))
        else:
            raise NotImplementedError(op)
        if out is None:
            return _result_array(value, compute)
        np.copyto(host(out), value, casting="unsafe")
        return out

    def reduce(self, op, x, dims, keepdim, compute, result):
        hx = x.host
        if hx is None:
            hx = host(x)
        ufunc = _REDUCE[op]
        if op == "sum" or op == "prod":
            ct = _COMPUTE_TYPES[compute]
            if hx.dtype != ct:
                hx = hx.astype(ct)
            value = ufunc.reduce(hx, dims, ct, None, keepdim)
        elif op == "all" or op == "any":
            value = ufunc.reduce(hx.astype(bool, copy=False), dims, None, None, keepdim)
        else:
            value = ufunc.reduce(hx, dims, None, None, keepdim)
        return _result_array(value, result)

    def reduce_launcher(self, op, compute, result):
        if op != "sum" and op != "prod":
            return super().reduce_launcher(op, compute, result)
        ufunc = _REDUCE[op]
        ct = _COMPUTE_TYPES[compute]
        cast = _STORAGE_TYPES[result] != ct
        # a short float vector sums fastest as a dot product with ones: BLAS's dot costs 0.36 us on
        # 2000 floats where numpy's reduce machinery costs 0.9 us, and its many accumulators are as
        # accurate as numpy's pairwise sum at these sizes
        ones_by_length = {} if op == "sum" and ct in _PYTHON_FLOAT_TYPES else None

        def launch(x, dims, keepdim):
            hx = x.host
            if hx is None:
                hx = host(x)
            if ones_by_length is not None and len(hx.shape) == 1 and not keepdim:
                n = hx.shape[0]
                if 1 < n <= _SUM_BY_DOT_MAX and hx.dtype == ct:  # dot([-0.]) is -0., a sum +0.
                    ones = ones_by_length.get(n)
                    if ones is None:
                        if len(ones_by_length) >= 64:
                            ones_by_length.clear()
                        ones = ones_by_length[n] = np.ones(n, ct)
                    return _fresh_array(np.asarray(hx.dot(ones)), (), result)
            if hx.dtype != ct:
                hx = hx.astype(ct)
            value = ufunc.reduce(hx, dims, None, None, True) if keepdim else ufunc.reduce(hx, dims)
            if type(value) is np.ndarray or cast:
                return _result_array(value, result)
            # a numpy scalar: the usual result of a full reduction
            return _fresh_array(np.asarray(value), (), result)
        return launch

    def arg_reduce(self, op, values, indices, x, dim):
        hx = host(x)
        if hx.dtype == np.bool_:
            hx = hx.view(np.uint8)
        pick = np.argmax if op == "max" else np.argmin
        if dim is None:
            host(indices)[...] = pick(hx)
            return
        # a NaN wins like in torch: argmax/argmin of numpy already return the first NaN
        idx = pick(hx, axis=dim, keepdims=True)
        host(indices)[...] = idx
        if values is not None:
            np.copyto(host(values), np.take_along_axis(host(x), idx, axis=dim), casting="unsafe")

    def matmul(self, out, a, b, compute, bias=None, alpha=1, beta=1):
        ct = np.dtype(np.float32) if compute in (dtypes.float16, dtypes.bfloat16) else compute.numpy
        o = host(out)
        ha, hb = _operand(a, ct), _operand(b, ct)
        if bias is None and alpha == 1 and o.dtype == ct:
            np.matmul(ha, hb, out=o)
            return
        product = np.matmul(ha, hb)
        if alpha != 1:
            product *= np.asarray(alpha).astype(ct)
        if bias is not None:
            product += _operand(bias, ct) * np.asarray(beta).astype(ct)
        np.copyto(o, product, casting="unsafe")

    def layer_norm(self, out, x, weight, bias, eps):
        numpy_norm.layer_norm(host(out), host(x), _host_or_none(weight), _host_or_none(bias), eps)

    def layer_norm_backward(self, grad_x, grad_weight, grad_bias, x, g, weight, eps):
        numpy_norm.layer_norm_backward(host(grad_x), _host_or_none(grad_weight), _host_or_none(grad_bias), host(x),
                                       host(g), _host_or_none(weight), eps)

    def gather(self, out, x, indices):
        key = tuple(slice(None) if i is None else host(i) for i in indices)
        np.copyto(host(out), host(x)[key], casting="unsafe")

    def scatter(self, x, indices, values, accumulate):
        key = tuple(slice(None) if i is None else host(i) for i in indices)
        hx = host(x)
        hv = host(values)
        if accumulate:
            np.add.at(hx, key, hv.astype(hx.dtype, copy=False))
        else:
            hx[key] = hv

    def scan(self, op, out, x):
        hx = host(x)
        ct = _COMPUTE_TYPES[dtypes.float32 if x.dtype is dtypes.float16 else x.dtype]
        scanned = (np.cumsum if op == "sum" else np.cumprod)(hx, axis=1, dtype=ct)
        np.copyto(host(out), scanned, casting="unsafe")

    def sort(self, values, indices, x, descending):
        hx = host(x)
        if x.dtype is dtypes.bfloat16:
            hx = hx.astype(np.float32)
        if descending:
            # a stable ascending sort of the reversed rows, read backwards: equal elements keep
            # their order, and NaN (numpy's largest) comes first
            order = hx.shape[1] - 1 - np.argsort(hx[:, ::-1], axis=1, kind="stable")[:, ::-1]
        else:
            order = np.argsort(hx, axis=1, kind="stable")
        host(indices)[...] = order
        np.copyto(host(values), np.take_along_axis(host(x), order, axis=1), casting="unsafe")

    def nonzero(self, x):
        coords = np.argwhere(host(x)).astype(np.int64)
        return self.from_numpy(coords)

    def random(self, kind, out, generator, a=None, b=None):
        # torch's CPU streams, value for value (ops/cpu_random.py), written in memory order as torch's
        # TensorIterator writes them
        o = host(out)
        n, name = o.size, out.dtype.name
        if kind == "uniform":
            values = cpu_random.uniform(generator, n, name, a, b)
        elif kind == "normal":
            values = cpu_random.normal(generator, n, name, a, b, out.is_contiguous())
        elif kind == "integers":
            wide = out.dtype in (dtypes.int64, dtypes.float32, dtypes.float64, dtypes.bfloat16)
            values = cpu_random.integers(generator, n, wide, a, b)
        elif kind == "bits":
            values = cpu_random.bits(generator, n, name)
        elif kind == "bernoulli":
            if isinstance(a, Array):
                p = np.broadcast_to(host(a), o.shape)
                values = cpu_random.bernoulli_tensor(generator, _in_memory_order(o, p))
            else:
                values = cpu_random.bernoulli(generator, n, a)
        elif kind == "exponential":
            values = cpu_random.exponential(generator, n, a)
        elif kind == "permutation":
            values = cpu_random.randperm(generator, n)
        else:
            raise ValueError(f"unknown random kind {kind!r}")
        in_order = _in_memory_order(o, o)
        np.copyto(in_order, np.asarray(values).reshape(in_order.shape), casting="unsafe")

    def multinomial(self, probs, out, generator, replacement):
        rows = host(probs).reshape(-1, probs.shape[-1])
        np.copyto(host(out), cpu_random.multinomial(generator, rows, out.shape[-1], replacement).reshape(out.shape))

    def optimizer_step(self, rule, params, grads, states, cache):
        # float16/bfloat16 parameters are updated in float32 and rounded once, like the 'cuda' kernel
        compute = np.dtype(np.float32) if params[0].dtype.itemsize < 4 else np.dtype(params[0].dtype.numpy)
        update = self._adam_update if isinstance(rule, AdamStep) else self._sgd_update
        with np.errstate(all="ignore"):  # torch steps into inf and NaN silently
            for i, (p, g) in enumerate(zip(params, grads)):
                stored = [host(p)] + [host(s[i]) for s in states]
                values = [h if h.dtype == compute else h.astype(compute) for h in stored]
                update(rule, values[0], host(g).astype(compute), *values[1:])
                for h, v in zip(stored, values):
                    if v is not h:
                        np.copyto(h, v, casting="unsafe")

    def poly_loss_grad(self, x, y, coeffs, scale, loss, grad, dx, dy):
        acc = accumulation_dtype(loss.dtype).numpy
        numpy_polynomial.loss_grad(host(x), host(y), host(coeffs), scale, acc, host(loss), host(grad),
                                   None if dx is None else host(dx), None if dy is None else host(dy))

    def poly_fit(self, x, y, coeffs, lr, steps, scale, out, losses):
        sums, target, energy = numpy_polynomial.moments(host(x), host(y), coeffs.shape[0] - 1)
        final, values = numpy_polynomial.descend(sums, target, energy, host(coeffs), lr, steps, scale)
        np.copyto(host(out), final, casting="unsafe")
        np.copyto(host(losses), values, casting="unsafe")

    @staticmethod
    def _sgd_update(rule, p, g, *buffers):
        """torch's single-tensor SGD on compute-typed arrays; g is a copy the update may overwrite."""
        if rule.maximize:
            np.negative(g, out=g)
        if rule.weight_decay != 0:
            g += p * rule.weight_decay
        if rule.momentum != 0:
            (buf,) = buffers
            if rule.first:
                buf[...] = g
            else:
                buf *= rule.momentum
                buf += g * (1 - rule.dampening)
            g = g + buf * rule.momentum if rule.nesterov else buf
        p -= g * rule.lr

    @staticmethod
    def _adam_update(rule, p, g, exp_avg, exp_avg_sq, *max_exp_avg_sq):
        """torch's single-tensor Adam/AdamW on compute-typed arrays; g is a copy the update may overwrite."""
        if rule.maximize:
            np.negative(g, out=g)
        if rule.weight_decay != 0:
            if rule.decoupled:
                p *= 1 - rule.lr * rule.weight_decay
            else:
                g += p * rule.weight_decay
        if rule.first:
            # fresh moments are allocated uninitialised: torch's zeros
            for moment in (exp_avg, exp_avg_sq, *max_exp_avg_sq):
                moment[...] = 0
        # torch's lerp, with the weight in the compute type
        weight = p.dtype.type(1 - rule.beta1)
        if abs(weight) < 0.5:
            exp_avg += (g - exp_avg) * weight
        else:
            exp_avg[...] = g - (g - exp_avg) * (p.dtype.type(1) - weight)
        exp_avg_sq *= rule.beta2
        exp_avg_sq += g * (1 - rule.beta2) * g
        second = exp_avg_sq
        if rule.amsgrad:
            (second,) = max_exp_avg_sq
            np.maximum(second, exp_avg_sq, out=second)
        denom = np.sqrt(second) / rule.bias_correction2_sqrt + rule.eps
        p += exp_avg * -rule.step_size / denom
