import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same, check_error, check_grad, check_op, make_pair, random_array, to_numpy

SHAPES = [(5,), (3, 7), (1,), (0,), (), (2, 1, 4)]
UNARY = ["neg", "abs", "exp", "sin", "cos", "tanh", "sigmoid", "relu"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_float(name, shape, device):
    check_op([shape], getattr(torch, name), getattr(tkern, name), device=device)
    check_op([shape], lambda x: getattr(x, name)(), device=device)


@pytest.mark.parametrize("name", ["log", "sqrt"])
def test_unary_positive_domain_and_nan(name, device):
    check_op([(4, 5)], getattr(torch, name), getattr(tkern, name), device=device, low=0.1, high=5)
    check_op([(6,)], getattr(torch, name), getattr(tkern, name), device=device, low=-2, high=2)


@pytest.mark.parametrize("name", ["neg", "abs", "exp", "sqrt", "sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [tkern.int64, tkern.int32, tkern.uint8, tkern.float64, tkern.float16])
def test_unary_dtypes(name, dtype, device):
    if name == "neg" and dtype is tkern.uint8:
        return
    check_op([(3, 4)], getattr(torch, name), getattr(tkern, name), device=device, dtype=dtype, low=0, high=5,
             atol=1e-3, rtol=1e-3)


BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "pow"]
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 3), (4, 1)), ((5,), ()),
                   ((), ()), ((0, 3), (3,)), ((1,), (7,))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_binary_broadcasting(name, shapes, device):
    low = 0.5 if name == "pow" else -3
    check_op(list(shapes), getattr(torch, name), getattr(tkern, name), device=device, low=low, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__",
                                "__pow__", "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__",
                                "__lt__", "__eq__", "__ge__"])
@pytest.mark.parametrize("scalar", [2, 2.5, True, -3])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.int64, tkern.int32, tkern.uint8, tkern.bool])
def test_operators_with_python_scalars(op, scalar, dtype, device):
    values = random_array((3, 4), dtype, seed=1, low=1, high=4)
    t, k = make_pair(values, device, dtype)
    try:
        expected = getattr(t, op)(scalar)
    except Exception:
        check_error(lambda: getattr(t, op)(scalar), lambda: getattr(k, op)(scalar))
        return
    assert_same(expected, getattr(k, op)(scalar), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("a,b", [(tkern.int32, tkern.float32), (tkern.uint8, tkern.int8), (tkern.bool, tkern.int64),
                                 (tkern.float16, tkern.float64), (tkern.int64, tkern.float16)])
@pytest.mark.parametrize("name", ["add", "mul", "div", "lt", "maximum"])
def test_mixed_dtypes_promote(a, b, name, device):
    check_op([(3, 4), (4,)], getattr(torch, name), getattr(tkern, name), device=device, dtypes=[a, b],
             low=1, high=5, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("dtype", [tkern.int64, tkern.int32, tkern.float32])
@pytest.mark.parametrize("name", ["floor_divide", "remainder"])
def test_integer_division_signs(dtype, name, device):
    a = torch.tensor([7, -7, 7, -7, 5, 0])
    b = torch.tensor([2, 2, -2, -2, 5, 3])
    t = getattr(torch, name)(a.to(dtype=_torch(dtype)), b.to(dtype=_torch(dtype)))
    ka, kb = tkern.tensor(a.tolist(), dtype=dtype, device=device), tkern.tensor(b.tolist(), dtype=dtype, device=device)
    assert_same(t, getattr(tkern, name)(ka, kb))


def _torch(d):
    from helpers import TORCH_DTYPES
    return TORCH_DTYPES[d]


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", [tkern.int64, tkern.float32])
def test_div_rounding_modes(mode, dtype, device):
    check_op([(4, 5), (5,)], lambda a, b: torch.div(a, b, rounding_mode=mode),
             lambda a, b: tkern.div(a, b, rounding_mode=mode), device=device, dtype=dtype, low=1, high=9)
    check_op([(8,), (8,)], lambda a, b: torch.div(a, b, rounding_mode=mode),
             lambda a, b: tkern.div(a, b, rounding_mode=mode), device=device, dtype=dtype, low=-9, high=-1, seed=4)


def test_integer_division_by_zero(device):
    a, b = tkern.tensor([1, 7], device=device), tkern.tensor([0, 2], device=device)
    if device == "cpu":
        check_error(lambda: torch.tensor([1, 7]) // torch.tensor([0, 2]), lambda: a // b)
    else:
        # like torch on CUDA: no error (a kernel cannot raise); the quotient by zero is unspecified
        assert (a // b)[1].item() == 3


def test_pow_forms(device):
    check_op([(5,), (5,)], torch.pow, tkern.pow, device=device, low=0.5)
    check_op([(6,)], lambda x: x ** 2, device=device)
    check_op([(6,)], lambda x: x ** 3, device=device)
    check_op([(6,)], lambda x: x ** 0.5, device=device, low=0.1)
    check_op([(6,)], lambda x: x.pow(2), device=device, dtype=tkern.int64)
    check_op([(6,)], lambda x: 2 ** x, device=device, dtype=tkern.int64, low=0, high=5)
    check_op([(6,)], lambda x: x ** 2.5, device=device, dtype=tkern.int64, low=0, high=5)
    t, k = make_pair(np.array([1, 2]), device)
    check_error(lambda: t ** -1, lambda: k ** -1)
    assert_same(torch.tensor([1, -1, 2, -1]) ** torch.tensor([-1, -3, -2, 2]),
                tkern.tensor([1, -1, 2, -1], device=device) ** tkern.tensor([-1, -3, -2, 2], device=device))


def test_bool_arithmetic_errors(device):
    t, k = make_pair(np.array([True, False]), device)
    check_error(lambda: t - t, lambda: k - k)
    check_error(lambda: -t, lambda: -k)
    assert_same(t + t, k + k)
    assert_same(t * t, k * k)


@pytest.mark.parametrize("name", ["neg", "relu", "sign", "abs", "square", "floor", "ceil", "trunc", "round",
                                  "reciprocal", "exp"])
def test_unary_on_bool_like_torch(name, device):
    """sign keeps bool, square promotes to int64, float functions to float32; the rest are refused
    with torch's exception class."""
    t, k = make_pair(np.array([True, False, True]), device)
    try:
        expected = getattr(torch, name)(t)
    except Exception:
        check_error(lambda: getattr(torch, name)(t), lambda: getattr(tkern, name)(k))
        return
    assert_same(expected, getattr(tkern, name)(k))


_SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -3.0, float("inf"), float("-inf"), float("nan"), 1e-30, -1e30]


def _same_bits(expected: torch.Tensor, actual: tkern.Tensor, rtol: float = 0.0) -> None:
    """Values within rtol, NaN where torch has NaN, and elsewhere the same sign bit (signed zeros
    included)."""
    e, a = expected.numpy(), actual.cpu().numpy()
    assert e.dtype == a.dtype and e.shape == a.shape
    assert np.array_equal(np.isnan(e), np.isnan(a))
    numbers = ~np.isnan(e)  # (a NaN's sign bit means nothing)
    assert np.array_equal(np.signbit(e[numbers]), np.signbit(a[numbers])), (e, a)
    np.testing.assert_allclose(a[numbers], e[numbers], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64])
def test_signed_zeros_nan_and_infinities(dtype, device):
    t, k = make_pair(np.array(_SPECIAL), device, dtype)
    for name in ["neg", "sign", "abs", "relu", "floor", "trunc", "round"]:
        _same_bits(getattr(torch, name)(t), getattr(tkern, name)(k))
    ys, xs = (np.array(v) for v in zip(*[(y, x) for y in _SPECIAL for x in _SPECIAL]))
    (ty, tx), (ky, kx) = zip(make_pair(ys, device, dtype), make_pair(xs, device, dtype))
    _same_bits(torch.atan2(ty, tx), tkern.atan2(ky, kx), rtol=1e-6)
    # NaN from either side; on a tie (-0.0 against 0.0) maximum and minimum give the second operand
    # (torch's vectorised kernels; its scalar loop gives the first) and clamp with number bounds the
    # input (with tensor bounds torch gives the bound: not followed)
    for name in ["maximum", "minimum"]:
        _same_bits(getattr(torch, name)(ty, tx), getattr(tkern, name)(ky, kx))
    # (bounds of +0.0 only: Triton's interpreter turns a -0.0 Python float argument into +0.0)
    for low, high in [(0.0, None), (None, 0.0), (-1.0, 0.0), (0.0, 2.5)]:
        _same_bits(torch.clamp(ty, min=low, max=high), tkern.clamp(ky, min=low, max=high))
    # C's pow at signed zeros, infinities, NaN and negative bases (odd, even and fractional exponents)
    exponents = np.array([2.5, -2.5, 3.0, -3.0, 2.0, 0.0, 0.5, float("inf"), float("-inf"), float("nan")])
    bases = np.repeat(np.array(_SPECIAL), len(exponents))
    (tb, te), (kb, ke) = zip(make_pair(bases, device, dtype), make_pair(np.tile(exponents, len(_SPECIAL)), device, dtype))
    _same_bits(torch.pow(tb, te), tkern.pow(kb, ke), rtol=1e-6)


def test_atan2_promotes_integers_to_float(device):
    check_op([(4,), (4,)], torch.atan2, tkern.atan2, device=device, dtypes=[tkern.int64, tkern.int32], low=-5, high=5)
    check_op([(4,), (4,)], torch.atan2, tkern.atan2, device=device, dtypes=[tkern.bool, tkern.int64], low=0, high=3)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical(name, device):
    check_op([(3, 4), (4,)], getattr(torch, name), getattr(tkern, name), device=device, dtypes=[tkern.bool, tkern.float32])
    check_op([(5,)], torch.logical_not, tkern.logical_not, device=device, dtype=tkern.int64, low=0, high=2)


def test_bitwise_operators(device):
    check_op([(4,), (4,)], lambda a, b: (a & b, a | b, a ^ b, ~a), device=device, dtype=tkern.int64, low=0, high=9)
    check_op([(4,), (4,)], lambda a, b: (a & b, a | b, a ^ b, ~a), device=device, dtype=tkern.bool)


@pytest.mark.parametrize("low,high", [(-0.5, 0.5), (None, 0.2), (0.1, None), (1, -1)])
def test_clamp_scalars(low, high, device):
    check_op([(4, 5)], lambda x: torch.clamp(x, low, high), lambda x: tkern.clamp(x, low, high), device=device)
    check_op([(4, 5)], lambda x: x.clamp(min=low, max=high), device=device)
    check_op([(4, 5)], lambda x: x.clamp(min=low, max=high), device=device, dtype=tkern.int64)


def test_clamp_tensor_bounds_and_errors(device):
    check_op([(3, 4), (4,), (3, 1)], torch.clamp, tkern.clamp, device=device)
    check_op([(4,)], lambda x: x.clamp(min=0.5), device=device, dtype=tkern.int64)
    t, k = make_pair(np.array([1.0]), device)
    check_error(lambda: t.clamp(), lambda: k.clamp())


def test_where(device):
    check_op([(3, 4), (3, 4), (4,)], lambda c, a, b: torch.where(c > 0, a, b),
             lambda c, a, b: tkern.where(c > 0, a, b), device=device)
    check_op([(3, 4), (3, 4)], lambda c, a: torch.where(c > 0, a, 0.0), lambda c, a: tkern.where(c > 0, a, 0.0),
             device=device)
    check_op([(5,), (5,)], lambda c, a: a.where(c > 0, 2), device=device, dtype=tkern.int64)
    check_op([(5,), (5,)], lambda c, a: torch.where(c > 0, a, 1.5), lambda c, a: tkern.where(c > 0, a, 1.5),
             device=device, dtypes=[tkern.float32, tkern.int64])
    c_t, c_k = make_pair(random_array((3,)), device)
    check_error(lambda: torch.where(c_t, c_t, c_t), lambda: tkern.where(c_k, c_k, c_k))
    check_op([(6,)], lambda c: torch.where(c > 0), lambda c: tkern.where(c > 0), device=device)


def test_out_argument(device):
    t_out, k_out = torch.empty(3, 3), tkern.empty(3, 3, device=device)
    check_op([(3, 3), (3, 3)], lambda a, b: torch.mul(a, b, out=t_out), lambda a, b: tkern.mul(a, b, out=k_out),
             device=device)
    t_out, k_out = torch.empty(0), tkern.empty(0, device=device)
    check_op([(2, 3), (3,)], lambda a, b: torch.add(a, b, out=t_out), lambda a, b: tkern.add(a, b, out=k_out),
             device=device)
    assert k_out.shape == (2, 3)
    t_out, k_out = torch.empty(2, dtype=torch.long), tkern.empty(2, dtype=tkern.long, device=device)
    check_error(lambda: torch.add(torch.ones(2), 1, out=t_out), lambda: tkern.add(tkern.ones(2, device=device), 1, out=k_out))


def test_add_sub_alpha(device):
    check_op([(3,), (3,)], lambda a, b: torch.add(a, b, alpha=2), lambda a, b: tkern.add(a, b, alpha=2), device=device)
    check_op([(3,), (3,)], lambda a, b: a.sub(b, alpha=0.5), device=device)
    check_op([(3,), (3,)], lambda a, b: a.add(b, alpha=0.5), device=device, dtypes=[tkern.float32, tkern.int64])
    check_op([(3,), (3,)], lambda a, b: a.add(b, alpha=3), device=device, dtypes=[tkern.int32, tkern.int32])
    check_op([(4,), (4,)], lambda a, b: a.add(b, alpha=2), device=device, dtype=tkern.bool, low=0, high=2)
    check_op([(4,), (4,)], lambda a, b: a.add(b, alpha=0), device=device, dtype=tkern.bool, low=0, high=2)
    # a float alpha needs a float result, a bool alpha a bool one
    ti, ki = make_pair(np.array([1, 2]), device)
    tf, kf = make_pair(np.array([1.0, 2.0]), device)
    for t_fn, k_fn in [(lambda: torch.add(ti, ti, alpha=1.5), lambda: tkern.add(ki, ki, alpha=1.5)),
                       (lambda: torch.add(ti, ti, alpha=1.0), lambda: tkern.add(ki, ki, alpha=1.0)),
                       (lambda: torch.sub(ti, 2, alpha=0.5), lambda: tkern.sub(ki, 2, alpha=0.5)),
                       (lambda: ti.clone().add_(ti, alpha=0.5), lambda: ki.clone().add_(ki, alpha=0.5)),
                       (lambda: torch.add(tf, tf, alpha=True), lambda: tkern.add(kf, kf, alpha=True))]:
        check_error(t_fn, k_fn)
    # alpha scales other in the result's dtype: bool stays bool, uint8 stays uint8 (and wraps)
    tb, kb = make_pair(np.array([True, False]), device)
    tu, ku = make_pair(np.array([3, 250], dtype=np.uint8), device)
    assert_same(torch.add(tb, True, alpha=2), tkern.add(kb, True, alpha=2))
    assert_same(torch.add(tu, tb, alpha=2), tkern.add(ku, kb, alpha=2))
    assert_same(torch.add(tu, 10, alpha=30), tkern.add(ku, 10, alpha=30))
    check_error(lambda: torch.sub(ti, tb, alpha=2), lambda: tkern.sub(ki, kb, alpha=2))
    check_error(lambda: torch.sub(tf, True, alpha=2), lambda: tkern.sub(kf, True, alpha=2))


def test_broadcast_errors(device):
    a_t, a_k = make_pair(random_array((2, 3)), device)
    b_t, b_k = make_pair(random_array((4,)), device)
    check_error(lambda: a_t + b_t, lambda: a_k + b_k)
    check_error(lambda: a_t + "x", lambda: a_k + "x")


VIEWS = {
    "transposed": lambda x: x.t(),
    "stepped": lambda x: x[::2, 1::3],
    "expanded": lambda x: x[:1].expand(5, 6),
    "offset": lambda x: x[2:, 3:],
}
ALL_DTYPES = [tkern.bool, tkern.uint8, tkern.int8, tkern.int16, tkern.int32, tkern.int64, tkern.float16,
              tkern.bfloat16, tkern.float32, tkern.float64]


@pytest.mark.parametrize("view", list(VIEWS))
def test_elementwise_on_views(view, device):
    fn = VIEWS[view]
    check_op([(5, 6), (5, 6)], lambda a, b: torch.sin(fn(a)) * fn(b) + 1, lambda a, b: tkern.sin(fn(a)) * fn(b) + 1,
             device=device)


def _quarters_pair(shape, dtype, device, seed):
    """torch and tkern tensors of the same values; floats are multiples of 1/4, exact in every float
    type, so the inputs do not depend on how a cast rounds."""
    values = random_array(shape, dtype, seed, low=-4, high=4)
    if dtype.is_floating_point:
        values = (np.round(values.astype(np.float32) * 4) / 4).astype(np.float32)
    return make_pair(values, device, dtype)


def _every_dtype_ops(lib, a, b, dtype):
    results = [a == b, a < b, a >= b, lib.maximum(a, b), lib.minimum(a, b), lib.where(a > b, a, b), a * b,
               a.to(lib.float32), a.to(lib.int16), a.to(lib.bool), a.to(lib.float16)]
    if dtype is not tkern.bool:
        results += [a + b, a - b, a + 1, 2 * a, a.clamp(0, 3), b.clamp(min=1), a.abs(), a ** 2]
    if dtype.is_floating_point:
        results += [a / b, -a, a.exp(), lib.sigmoid(b), a.floor(), (a * 1.5).round()]
    elif dtype is not tkern.bool:
        results += [a & b, a | b, ~a, a // (b.abs() + 1), a % (b.abs() + 1)]
        if dtype is not tkern.uint8:
            results += [-a]
    return results


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_every_dtype_on_views(dtype, view, device):
    fn = VIEWS[view]
    ta, ka = _quarters_pair((5, 6), dtype, device, 0)
    tb, kb = _quarters_pair((5, 6), dtype, device, 1)
    # half types: one rounding of each result (1 ulp where the interpreter truncates to bfloat16)
    tolerance = dict(atol=2e-2, rtol=1e-2) if dtype in (tkern.float16, tkern.bfloat16) else dict(atol=1e-6, rtol=1e-6)
    assert_same(_every_dtype_ops(torch, fn(ta), fn(tb), dtype), _every_dtype_ops(tkern, fn(ka), fn(kb), dtype),
                **tolerance)


@pytest.mark.parametrize("dtype", [tkern.int8, tkern.float32, tkern.float16], ids=lambda d: d.name)
def test_many_programs_per_launch(dtype, device, monkeypatch):
    """16 elements a program, so every launch has several programs and a partial last one (the
    interpreter would otherwise fit these sizes into one program)."""
    if device == "cuda":
        from tkern.ops import triton_elementwise
        monkeypatch.setattr(triton_elementwise, "block_for", lambda n: 16)
    ta, ka = _quarters_pair((9, 11), dtype, device, 0)
    tb, kb = _quarters_pair((11,), dtype, device, 1)

    def run(lib, a, b):
        return [a + b, a.t() * 2, a[::2, 1::3] - b[1::3], lib.where(a > 0, a, b), a.clamp(-1, 1), -a,
                a.to(lib.int64), a.t().contiguous(), lib.full((37,), 3, dtype=a.dtype, device=a.device)]

    assert_same(run(torch, ta, tb), run(tkern, ka, kb), atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("n", [1, 2, 15, 17, 203])
@pytest.mark.parametrize("dtype", [tkern.uint8, tkern.float16, tkern.float32, tkern.float64], ids=lambda d: d.name)
def test_contiguous_operands_at_any_offset(dtype, n, device, monkeypatch):
    """Contiguous operands take the flat path: a head of under 16 elements that aligns as many
    operands as it can, unmasked full blocks, then the tail. Offsets that disagree mod 16 bytes (so
    that some operand stays unaligned), every count of full blocks and heads longer than the tail."""
    if device == "cuda":
        from tkern.ops import triton_arguments
        monkeypatch.setattr(triton_arguments, "INTERPRETER_MAX_BLOCK", 32)
    ta, ka = _quarters_pair((n + 7,), dtype, device, 0)
    tb, kb = _quarters_pair((n + 5,), dtype, device, 1)

    def run(lib, a, b):
        x, y = a[3:3 + n], b[1:1 + n]
        results = [x + y, a[:n] * b[5:5 + n], lib.where(x > y, x, 2), x.clamp(0, 2), x.abs(), x.to(lib.float32)]
        z = a.clone()
        z[2:2 + n] += y
        z[1:1 + n].fill_(3)
        results.append(z)
        if dtype.is_floating_point:
            results += [x.tanh(), lib.maximum(x, y[:1])]
        return results

    tolerance = dict(atol=2e-3, rtol=2e-3) if dtype is tkern.float16 else dict(atol=1e-6, rtol=1e-6)
    assert_same(run(torch, ta, tb), run(tkern, ka, kb), **tolerance)


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64])
def test_zero_dim_arithmetic_is_exact(dtype, device):
    # 0-d operands take a short path on the CPU: its results must be torch's to the bit, rounding,
    # signed zeros, infinities and NaN included
    rng = np.random.default_rng(7)
    n = 300 if device == "cpu" else 20  # (the interpreter runs ~3 ms a launch)
    values = rng.standard_normal(n) * 10.0 ** rng.uniform(-30, 30, n)
    values = np.concatenate([values, [0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45]])
    scalars = [1e-6, 0.1, -2.5, 1 / 3, 3.4e38]
    np_type = np.float32 if dtype is tkern.float32 else np.float64
    for x, y in zip(values, np.roll(values, 1)):
        pair = [(torch.tensor(v, dtype=TORCH_DTYPES[dtype]), tkern.tensor(v, dtype=dtype, device=device))
                for v in (np_type(x), np_type(y))]
        (ta, ka), (tb, kb) = pair
        with np.errstate(over="ignore"):
            results = [(ta + tb, ka + kb), (ta - tb, ka - kb), (ta * tb, ka * kb)]
            for s in scalars:
                results += [(ta * s, ka * s), (s * ta, s * ka), (ta - s, ka - s)]
            ta_copy, ka_copy = ta.clone(), ka.clone()
            ta_copy -= tb
            ka_copy -= kb
            results.append((ta_copy, ka_copy))
        for expected, actual in results:
            assert actual.dtype is dtype and actual.shape == ()
            e, a = np.asarray(expected.item(), np_type), np.asarray(actual.item(), np_type)
            assert e.tobytes() == a.tobytes() or (np.isnan(e) and np.isnan(a)), (x, y, expected, actual)


def test_ieee_special_values_raise_no_numpy_warnings():
    # torch computes overflow, 0/0 and inf - inf silently; the numpy backend must not warn either,
    # while numpy itself still does for its own users
    code = (
        "import numpy as np, tkern\n"
        "inf = float('inf')\n"
        "x = tkern.tensor([inf, -inf, 0.0, 1e38])\n"
        "results = [x.sum(), x[:2].sum(), x.reshape(2, 2).sum(1), x * 10, x / 0, (x - x).log(), x.pow(1e5),\n"
        "           x.exp(), x.var(), x.double().sum(), x.half() * 1e4]\n"
        "try:\n"
        "    np.array([0.0]) / 0\n"
        "except RuntimeWarning:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('numpy stopped warning outside tkern')\n")
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_views_are_read_in_place(device, monkeypatch):
    """No operand view is made contiguous (or converted) first: the backend's copy never runs for
    elementwise, where, clamp, reductions (var/std of float16 included), arg-reductions, matmul or
    indexing on transposed, stepped, expanded and offset views."""
    from tkern.ops.backend import backend_for
    backend = backend_for(tkern.device(device))
    x = tkern.tensor(random_array((6, 8)), device=device)
    half = x.to(tkern.float16)
    index = tkern.tensor([2, 0, 2], device=device)
    operands = (x._a.storage, half._a.storage)
    copies = []
    copy = backend.copy
    # (a result computed in float32 and then cast to float16 is a copy too, but not of an operand)
    monkeypatch.setattr(backend, "copy", lambda out, src: (
        copies.append(src.shape) if any(src.storage is s for s in operands) else None, copy(out, src)))
    for view in (x.t(), x[::2, 1::3], x[:1].expand(6, 8), x[2:, 3:], half.t()[1:, ::2]):
        (view * 2 + view).exp()
        tkern.where(view > 0, view, 1.5).clamp(-1, 1)
        view.sum(0), view.var(1), view.std(), view.amax(), view.argmax(0), view.max(1), view.mean()
        view @ view.t()
        view[index], view[view > 0]
    assert copies == []


# ----- regressions from the differential fuzz (issue 14) -----


def test_integer_pow_in_place_with_negative_exponents(device):
    base = random_array((6,), tkern.int32, seed=1, low=-3, high=3)
    exponent = random_array((6,), tkern.int32, seed=2, low=-5, high=-1)
    (tb, kb), (te, ke) = make_pair(base, device), make_pair(exponent, device)
    assert_same(tb.clone().pow_(te), kb.clone().pow_(ke))
    assert_same(torch.tensor([2, -1], dtype=torch.int32).pow_(torch.tensor([-3, -5], dtype=torch.int32)),
                tkern.tensor([2, -1], dtype=tkern.int32, device=device).pow_(
                    tkern.tensor([-3, -5], dtype=tkern.int32, device=device)))


@pytest.mark.parametrize("name", ["round", "floor", "ceil", "trunc"])
@pytest.mark.parametrize("dtype", [tkern.int64, tkern.int32, tkern.uint8], ids=lambda d: d.name)
def test_rounding_integers_is_exact_identity(name, dtype, device):
    values = random_array((7,), dtype, seed=3, low=0, high=100)
    if dtype is tkern.int64:
        values = values + np.int64(2 ** 53 + 1)  # beyond float64's integers
    t, k = make_pair(values, device)
    assert_same(getattr(torch, name)(t), getattr(tkern, name)(k))
    assert_same(getattr(t.clone(), name + "_")(), getattr(k.clone(), name + "_")())


def _ulps(expected: torch.Tensor, actual: tkern.Tensor) -> float:
    e = expected.numpy()
    return float(np.max(np.abs(actual.cpu().numpy() - e) / np.spacing(np.abs(e))))


def test_float64_atan2_and_tanh_within_ulps_of_torch(device):
    y = random_array((2000,), tkern.float64, seed=4, low=-3, high=3)
    x = random_array((2000,), tkern.float64, seed=5, low=-3, high=3)
    (ty, ky), (tx, kx) = make_pair(np.append(y, 0.9), device), make_pair(np.append(x, 0.5), device)
    assert _ulps(torch.atan2(ty, tx), tkern.atan2(ky, kx)) <= 6
    small = random_array((2000,), tkern.float64, seed=6, low=-1.5, high=1.5)
    t, k = make_pair(np.concatenate([small, small * 1e-4, [1e-4, -1e-4, 0.55, 1e-300]]), device)
    assert _ulps(torch.tanh(t), tkern.tanh(k)) <= 2


@pytest.mark.parametrize("exponent", [0.5, -0.5])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64, tkern.bfloat16], ids=lambda d: d.name)
def test_pow_by_half_is_sqrt_like_torch(exponent, dtype, device):
    values = np.append(random_array((9,), tkern.float32, seed=7, low=-2, high=4),
                       [-np.inf, np.inf, -0.0, 0.0, np.nan])
    t, k = make_pair(values, device, dtype)
    tolerance = 1e-2 if dtype is tkern.bfloat16 else 1e-6
    assert_same(t ** exponent, k ** exponent, atol=tolerance, rtol=tolerance)
    expected, actual = (t ** exponent).float().numpy(), (k ** exponent).float().cpu().numpy()
    numbers = ~np.isnan(expected)  # (a NaN's sign is no part of the result)
    np.testing.assert_array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))


@pytest.mark.parametrize("dtype, exponent", [(tkern.bfloat16, 257), (tkern.float16, 2049), (tkern.bfloat16, 3.01)])
def test_half_pow_rounds_a_python_exponent_to_the_type(dtype, exponent, device):
    t, k = make_pair(np.array([-2.0, -1.0, 1.5], dtype=np.float32), device, dtype)
    assert_same(t.pow(exponent), k.pow(exponent), atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("name", ["logical_and_", "logical_or_", "logical_xor_"])
def test_bfloat16_logical_in_place(name, device):
    (ta, ka), (tb, kb) = (make_pair(random_array((5,), tkern.float32, seed=s, low=-1, high=1).round(), device,
                                    tkern.bfloat16) for s in (8, 9))
    assert_same(getattr(ta.clone(), name)(tb), getattr(ka.clone(), name)(kb))
    assert_same(ta.clone().logical_not_(), ka.clone().logical_not_())


def test_bool_fmod_and_integer_round_in_place(device):
    t, k = make_pair(np.array([True, False]), device)
    for fn in (lambda x: torch.fmod(x, True) if isinstance(x, torch.Tensor) else tkern.fmod(x, True),
               lambda x: x.fmod(x), lambda x: x.remainder(True), lambda x: x.div(x, rounding_mode="trunc")):
        check_error(fn, torch_args=(t,), tkern_args=(k,))
    assert_same(torch.fmod(t, 2), tkern.fmod(k, 2))
    ti, ki = make_pair(np.array([1, 2]), device)
    assert_same(ti.round_(), ki.round_())


def test_bitwise_on_floats_and_clamp_on_bool_error_classes(device):
    t, k = make_pair(random_array((4,), tkern.float32, seed=10), device)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        check_error(lambda a: getattr(a, name)(a), torch_args=(t,), tkern_args=(k,))
    tb, kb = make_pair(np.array([True, False, True]), device)
    for bounds in ({"min": True}, {"max": False}, {"min": False, "max": True}):
        check_error(lambda x: x.clamp(**bounds), torch_args=(tb,), tkern_args=(kb,))
    check_error(lambda x, lo: x.clamp(lo, lo), torch_args=(tb, tb), tkern_args=(kb, kb))


def test_clamp_bool_promotes_like_torch(device):
    t, k = make_pair(np.array([True, False, True]), device)
    for bounds in ({"max": 1}, {"min": 0.5}, {"min": 0, "max": 1}):
        assert_same(torch.clamp(t, **bounds), tkern.clamp(k, **bounds))
    assert_same(torch.clamp(t, min=t), tkern.clamp(k, min=k))
    check_error(lambda x: x.clamp_(max=1), torch_args=(t.clone(),), tkern_args=(k.clone(),))


def test_where_accepts_a_uint8_condition_with_a_warning(device):
    condition = random_array((6,), tkern.uint8, seed=11, low=0, high=1)
    (tc, kc), (ta, ka), (tb, kb) = (make_pair(condition, device),
                                    make_pair(random_array((6,), seed=12), device),
                                    make_pair(random_array((6,), seed=13), device))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch warns once a process)
        expected = torch.where(tc, ta, tb)
    with pytest.warns(UserWarning, match="uint8 condition"):
        actual = tkern.where(kc, ka, kb)
    assert_same(expected, actual)
    ti, ki = make_pair(condition.astype(np.int8), device)
    check_error(torch.where, tkern.where, (ti, ta, tb), (ki, ka, kb))


@pytest.mark.parametrize("name", ["maximum", "minimum", "atan2", "logical_and", "logical_or", "logical_xor"])
def test_tensor_only_binary_refuse_python_numbers(name, device):
    t, k = make_pair(random_array((3,), seed=14), device)
    check_error(getattr(torch, name), getattr(tkern, name), (t, 1.5), (k, 1.5))
    check_error(getattr(torch, name), getattr(tkern, name), (2, t), (2, k))
    check_error(lambda x: getattr(x, name)(1), torch_args=(t,), tkern_args=(k,))
    if name.startswith("logical"):
        check_error(lambda x: getattr(x, name + "_")(1), torch_args=(t.clone(),), tkern_args=(k.clone(),))


@pytest.mark.parametrize("name", ["neg", "abs", "floor", "ceil", "trunc", "round", "sign"])
@pytest.mark.parametrize("dtype, out_dtype", [(tkern.float32, tkern.float64), (tkern.int64, tkern.int32),
                                              (tkern.int32, tkern.float32)], ids=str)
def test_non_promoting_unary_refuse_out_of_another_dtype(name, dtype, out_dtype, device):
    t, k = make_pair(random_array((4,), dtype, seed=15), device)
    out_t = torch.zeros(4, dtype=TORCH_DTYPES[out_dtype])
    out_k = tkern.zeros(4, dtype=out_dtype, device=device)
    check_error(lambda x, o: getattr(torch, name)(x, out=o), lambda x, o: getattr(tkern, name)(x, out=o),
                (t, out_t), (k, out_k))
    assert_same(out_t, out_k)  # nothing written


def test_bad_rounding_mode_is_a_runtime_error(device):
    t, k = make_pair(random_array((3,), seed=16, low=1, high=3), device)
    check_error(lambda a: torch.div(a, a, rounding_mode="bad"), lambda a: tkern.div(a, a, rounding_mode="bad"),
                (t,), (k,))
    check_error(lambda a: a.div_(a, rounding_mode="round"), torch_args=(t.clone(),), tkern_args=(k.clone(),))


# ----- issue 14, new fuzzer finds -----


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "fmod"])
def test_number_first_argument_is_refused(name, device):
    t, k = make_pair(random_array((4,), seed=1), device)
    error = check_error(lambda: getattr(torch, name)(2, t), lambda: getattr(tkern, name)(2, k))
    assert str(error).startswith(f"{name}() received an invalid combination of arguments - got (int, Tensor)")
    assert_same(torch.remainder(2, t), tkern.remainder(2, k))  # remainder has a number-first form


@pytest.mark.parametrize("name", ["relu", "isnan", "isinf", "isfinite"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_unary_without_out_argument(name, requires_grad, device):
    t, k = make_pair(random_array((4,), seed=2), device)
    t.requires_grad_(requires_grad)
    k.requires_grad_(requires_grad)
    error = check_error(lambda: getattr(torch, name)(t, out=torch.empty(4)),
                        lambda: getattr(tkern, name)(k, out=tkern.empty(4, device=device)))
    assert str(error) == f"{name}() got an unexpected keyword argument 'out'"


@pytest.mark.parametrize("bounds", [("tensor", 2.0), (0, "tensor")])
def test_clamp_refuses_tensor_and_number_bounds(bounds, device):
    t, k = make_pair(random_array((5,), seed=3), device)
    low_t, low_k = make_pair(random_array((5,), seed=4), device)

    def given(bound, tensor):
        return tensor if bound == "tensor" else bound
    low, high = bounds
    for torch_fn, tkern_fn in [
            (lambda: torch.clamp(t, min=given(low, low_t), max=given(high, low_t)),
             lambda: tkern.clamp(k, min=given(low, low_k), max=given(high, low_k))),
            (lambda: t.clip(given(low, low_t), given(high, low_t)),
             lambda: k.clip(given(low, low_k), given(high, low_k)))]:
        check_error(torch_fn, tkern_fn)
    target = k.clone()
    check_error(lambda: t.clone().clamp_(min=given(low, low_t), max=given(high, low_t)),
                lambda: target.clamp_(min=given(low, low_k), max=given(high, low_k)))
    assert_same(t, target)  # nothing written


@pytest.mark.parametrize("dtype", [tkern.uint8, tkern.int8, tkern.float16])
@pytest.mark.parametrize("low, high", [(0, 300), (-256, None), (None, 256), (300, None), (-129, 5), (None, 70000),
                                       (2 ** 63, None), (2 ** 70, None)])
def test_clamp_number_bound_overflowing_the_result_type(dtype, low, high, device):
    t, k = make_pair(random_array((6,), dtype, seed=5, low=0, high=100), device)
    try:
        expected = torch.clamp(t, min=low, max=high)
    except Exception:
        check_error(lambda: torch.clamp(t, min=low, max=high), lambda: tkern.clamp(k, min=low, max=high))
        target = k.clone()
        check_error(lambda: t.clone().clamp_(min=low, max=high), lambda: target.clamp_(min=low, max=high))
        assert_same(t, target)
    else:
        assert_same(expected, tkern.clamp(k, min=low, max=high))
        assert_same(t.clone().clamp_(min=low, max=high), k.clone().clamp_(min=low, max=high))


@pytest.mark.parametrize("exponent", [10.0, 1.0, 2.5])
def test_inplace_pow_of_int8_by_float_number_is_refused(exponent, device):
    t, k = make_pair(random_array((2, 3), tkern.int8, seed=6, low=-5, high=5), device)
    error = check_error(lambda: t.pow_(exponent), lambda: k.pow_(exponent))
    assert str(error) == "result type Float can't be cast to the desired output type Char"
    assert_same(t, k)


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_integer_modulo_by_a_zero_tensor(name, device):
    a_t, a_k = make_pair(random_array((6,), tkern.uint8, seed=7, low=1, high=200), device)
    values = random_array((6,), tkern.int16, seed=8, low=1, high=9)
    values[2] = 0
    b_t, b_k = make_pair(values, device)
    if device == "cpu":
        error = check_error(lambda: getattr(torch, name)(a_t, b_t), lambda: getattr(tkern, name)(a_k, b_k))
        assert str(error) == "ZeroDivisionError"
    else:
        # documented (README): integer division by zero on 'cuda' does not raise, as in torch on CUDA;
        # the other positions are torch's values
        result = getattr(tkern, name)(a_k, b_k)
        nonzero = values != 0
        expected = getattr(torch, name)(a_t[nonzero], b_t[nonzero])
        assert_same(expected, result.cpu()[tkern.tensor(nonzero)])


@pytest.mark.parametrize("dtype", [tkern.int8, tkern.uint8, tkern.int16, tkern.int64], ids=lambda d: d.name)
def test_integer_pow_by_a_python_int_the_type_cannot_hold(dtype, device):
    """x ** 256 on int8 is torch's overflow RuntimeError (the exponent must fit the type), not a power;
    uint8 holds 200, int64 holds 2**40, and 2**70 fits no type (OverflowError)."""
    for exponent in (256, 200, 127, 2 ** 40, 2 ** 70):
        for form in (lambda x: x ** exponent, lambda x: x.pow_(exponent), lambda x: x[0] ** exponent):
            values = random_array((5,), dtype, seed=exponent % 97, low=0, high=2)
            t, k = make_pair(values, device, dtype)
            try:
                expected = form(t.clone())
            except Exception:
                before = k.clone()
                check_error(lambda: form(t.clone()), lambda: form(k))
                assert_same(t, before)  # nothing written
                continue
            assert_same(expected, form(k.clone()))


def test_clamp_reads_a_0d_bound_without_grad_beside_a_number_as_a_number(device):
    """torch's argument parser turns a 0-d tensor that does not require grad into a Scalar where the
    other bound is a number; a 0-d bound requiring grad, or a 1-element 1-d one, is still refused."""
    t, k = make_pair(random_array((7,), seed=21), device)
    assert_same(torch.clamp(t, min=-1, max=torch.tensor(2.)), tkern.clamp(k, min=-1, max=tkern.tensor(2., device=device)))
    assert_same(t.clone().clamp_(min=torch.tensor(-0.5), max=1), k.clone().clamp_(min=tkern.tensor(-0.5, device=device),
                                                                                  max=1))
    check_error(lambda: torch.clamp(t, min=-1, max=torch.tensor(2., requires_grad=True)),
                lambda: tkern.clamp(k, min=-1, max=tkern.tensor(2., device=device, requires_grad=True)))
    check_error(lambda: torch.clamp(t, min=-1, max=torch.tensor([2.])),
                lambda: tkern.clamp(k, min=-1, max=tkern.tensor([2.], device=device)))


def test_a_zero_remainder_keeps_the_dividends_sign(device):
    """torch's remainder is fmod moved into the divisor's sign when nonzero: a zero keeps fmod's sign
    (the dividend's); numpy's remainder gives it the divisor's."""
    a = [3.0, -3.0, 3.0, -3.0, 2.5, 0.0, -0.0, 4.5]
    b = [-1.5, 1.5, 1.5, -1.5, -1.0, 2.0, -2.0, -1.5]
    (ta, ka), (tb, kb) = make_pair(np.array(a, np.float32), device), make_pair(np.array(b, np.float32), device)
    for expected, actual in ((torch.remainder(ta, tb), tkern.remainder(ka, kb)), (ta % -1.5, ka % -1.5),
                             (0 % tb, 0 % kb)):
        assert_same(expected, actual)
        assert (np.signbit(expected.numpy()) == np.signbit(actual.cpu().numpy())).all()


# ----- issue 14, the long profile's finds (session 9) -----


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float16, tkern.float64, tkern.bfloat16])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_pow_of_a_number_base_values_and_gradient(dtype, shape, device):
    """pow(number, tensor): C's pow ((-inf) ** 0.5 is inf; numpy took the 0.5 as sqrt for 0-d or
    broadcast exponents), and torch's gradient out * log(base), 0 at base 0 where the exponent is
    non-negative (-inf where it is negative, not nan)."""
    exponents = [0.0, -1.0, 0.5, -0.5, -2.5, 3.0, float("inf"), float("nan")]
    # (Triton's interpreter turns a -0.0 Python float argument into +0.0; a GPU keeps the sign)
    signed_zero = [] if device == "cuda" and os.environ.get("TRITON_INTERPRET") == "1" else [-0.0]
    for base in [0.0, 2.0, -2.0, 0.5, float("inf"), float("-inf"), float("nan"), 3] + signed_zero:
        values = np.array([exponents[i % len(exponents)] for i in range(int(np.prod(shape)))] or [0.5],
                          np.float32).reshape(shape)
        t, k = make_pair(values, device, dtype)
        t.requires_grad_()
        k.requires_grad_()
        expected, actual = base ** t, base ** k
        assert_same(expected, actual, rtol=2e-2 if dtype in (tkern.float16, tkern.bfloat16) else 1e-5)
        upstream = random_array(tuple(expected.shape), tkern.float32, seed=1, low=0.5, high=1.5)
        expected.backward(torch.from_numpy(upstream).to(expected.dtype))
        actual.backward(tkern.tensor(upstream, device=device).to(actual.dtype))
        # (bfloat16: two roundings, each a truncation under the interpreter)
        assert_same(t.grad, k.grad, rtol=4e-2 if dtype in (tkern.float16, tkern.bfloat16) else 1e-5)


def test_pow_by_a_tensor_of_minus_infinity_to_one_half(device):
    for shape in [(), (1,), (4,)]:
        t, k = make_pair(np.full(shape, -np.inf, np.float32), device)
        te, ke = make_pair(np.full(shape, 0.5, np.float32), device)
        assert_same(t ** te, k ** ke)
        assert_same(t ** te[..., None] if shape else t ** te, k ** ke[..., None] if shape else k ** ke)
    # a Python 0.5 is torch's sqrt: nan
    t, k = make_pair(np.full((2,), -np.inf, np.float32), device)
    assert_same(t ** 0.5, k ** 0.5)


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.float32, tkern.bfloat16, tkern.float64])
@pytest.mark.parametrize("bound_kind", ["tensor", "number"])
def test_clamp_keeps_the_input_on_a_tie_of_zeros(dtype, bound_kind, device):
    """clamp keeps x where x equals a bound (0.0 against -0.0) in every dtype, as torch's scalar loop
    does (its vectorised body gives the bound: README, known differences); numpy's float16 maximum
    returns the other operand from the one its float32 maximum returns."""
    t, k = make_pair(np.array([0.0, -0.0, 1.0, -1.0], np.float32), device, dtype)
    interpreted = device == "cuda" and os.environ.get("TRITON_INTERPRET") == "1"
    for bound in (0.0,) if bound_kind == "number" and interpreted else (0.0, -0.0):
        tb = torch.tensor(bound, dtype=t.dtype) if bound_kind == "tensor" else bound
        kb = tkern.tensor(bound, dtype=dtype, device=device) if bound_kind == "tensor" else bound
        for kwargs in ({"min": "b"}, {"max": "b"}, {"min": "b", "max": "b"}):
            expected = torch.clamp(t, **{key: tb for key in kwargs})
            actual = tkern.clamp(k, **{key: kb for key in kwargs})
            assert_same(expected, actual)
            assert (np.signbit(to_numpy(expected)) == np.signbit(to_numpy(actual))).all(), (bound, kwargs)


def test_clamp_inplace_by_a_bound_that_requires_grad(device):
    """x.clamp_(min=b) with b requiring grad puts x in the graph (as x.add_(b) does)."""
    for kwargs in ({"min": "b"}, {"max": "b"}, {"min": "b", "max": "c"}):
        results = []
        for lib, dev in ((torch, {}), (tkern, {"device": device})):
            b = lib.tensor([1.0], requires_grad=True, **dev)
            c = lib.tensor(2.0, **dev)
            x = lib.tensor([0.5, 3.0], **dev)
            x.clamp_(**{key: b if name == "b" else c for key, name in kwargs.items()})
            assert x.requires_grad and type(x.grad_fn).__name__ == "ClampBackward0"
            x.sum().backward()
            results.append((x.detach(), b.grad))
        assert_same(results[0], results[1])


@pytest.mark.parametrize("name", ["where", "add", "radd", "mul", "clamp"])
@pytest.mark.parametrize("value", [2 ** 64, 2 ** 70, -2 ** 63 - 1, 2 ** 64 - 1, 40000])
def test_python_ints_torch_cannot_read(name, value, device):
    """Python ints beyond uint64 (or below int64) raise OverflowError everywhere in torch; an int that
    does not fit an integer result type is refused by where as by clamp."""
    for dtype in (tkern.float16, tkern.int16):
        t, k = make_pair(random_array((3,), dtype, seed=7), device)

        def run(lib, x):
            if name == "where":
                return lib.where(x > 0, x, value)
            if name == "add":
                return x + value
            if name == "radd":
                return value + x
            if name == "mul":
                return x * value
            return lib.clamp(x, max=value)
        try:
            expected = run(torch, t)
        except Exception:
            check_error(lambda: run(torch, t), lambda: run(tkern, k))
        else:
            assert_same(expected, run(tkern, k))


@pytest.mark.parametrize("shape", [(0,), (2, 0, 3), (0, 1, 5)])
@pytest.mark.parametrize("op", ["sqrt_", "logical_not_", "add_", "bitwise_xor_"])
def test_inplace_on_an_empty_expanded_tensor(shape, op, device):
    """An empty tensor has no overlapping elements, whatever its strides (torch counts it contiguous)."""
    dtype = tkern.bool if op == "logical_not_" else tkern.int64 if op == "bitwise_xor_" else tkern.float32
    results = []
    for lib, dev in ((torch, {}), (tkern, {"device": device})):
        d = getattr(lib, str(dtype).rsplit(".", 1)[-1])
        x = lib.ones((1,) * len(shape), dtype=d, **dev).expand(*shape)
        method = getattr(x, op)
        results.append(method() if op in ("sqrt_", "logical_not_") else method(lib.ones(shape[-1:], dtype=d, **dev)))
    assert_same(results[0], results[1])


def test_integer_division_of_an_empty_tensor_by_zero(device):
    t, k = make_pair(np.zeros((6, 0), np.uint8), device)
    for fn in (lambda x: x // 0, lambda x: x.floor_divide(0), lambda x: x % 0):
        assert_same(fn(t), fn(k))


@pytest.mark.parametrize("name", ["fmod", "remainder", "div_floor", "div_trunc"])
@pytest.mark.parametrize("other_kind", ["tensor", "number"])
def test_modulo_and_rounded_division_nodes_inplace_and_not(name, other_kind, device):
    """torch's node names (FmodBackward1 for a tensor divisor, DivBackward2 for a rounding mode) and
    gradients, in place too: fmod_ was not recorded, div_ with a rounding mode had no derivative."""
    results = []
    for lib, dev in ((torch, {}), (tkern, {"device": device})):
        a = lib.tensor([2.5, -3.5, 4.0], dtype=lib.bfloat16, requires_grad=True, **dev)
        b = lib.tensor([1.5, 2.0, -1.5], dtype=lib.bfloat16, requires_grad=True, **dev) if other_kind == "tensor" else 1.5
        names, grads = [], []
        for inplace in (False, True):
            x = a.clone() if inplace else a
            if name.startswith("div"):
                mode = name.split("_")[1]
                r = x.div_(b, rounding_mode=mode) if inplace else lib.div(x, b, rounding_mode=mode)
            else:
                r = getattr(x, name + "_")(b) if inplace else getattr(lib, name)(x, b)
            names.append(type(r.grad_fn).__name__)
            r.sum().backward()
        results.append((names, a.grad, b.grad if other_kind == "tensor" else None))
    assert results[0][0] == results[1][0]
    assert_same(results[0][1], results[1][1])
    if other_kind == "tensor":
        assert_same(results[0][2], results[1][2])


def test_remainder_of_a_number_by_a_tensor_has_no_derivative(device):
    for lib, dev in ((torch, {}), (tkern, {"device": device})):
        x = lib.tensor([1.5, 2.5], requires_grad=True, **dev)
        y = lib.remainder(2.0, x)
        assert type(y.grad_fn).__name__ == "NotImplemented"
    check_error(lambda: torch.remainder(2.0, torch.tensor([1.5], requires_grad=True)).sum().backward(),
                lambda: tkern.remainder(2.0, tkern.tensor([1.5], requires_grad=True, device=device)).sum().backward())


@pytest.mark.parametrize("name", ["minimum", "maximum"])
def test_extremum_pair_gradient_in_the_gradients_dtype(name, device):
    """The gradient of a float64 0-d operand beside a float16 tensor is summed in float16, as torch's."""
    values = random_array((13,), tkern.float16, seed=9, low=-2, high=2)
    values[3] = 0.0
    results = []
    for lib, dev in ((torch, {}), (tkern, {"device": device})):
        x = lib.tensor(values, requires_grad=True, **dev)
        y = lib.tensor(0.0, dtype=lib.float64, requires_grad=True, **dev)
        r = getattr(lib, name)(x, y)
        r.backward(lib.tensor(random_array((13,), tkern.float32, seed=10, low=0.5, high=1.5), **dev).to(lib.float16))
        results.append((x.grad, y.grad))
    assert_same(results[0][0], results[1][0], atol=0, rtol=0)
    assert_same(results[0][1], results[1][1], atol=0, rtol=0)


def test_sigmoid_in_half_is_computed_in_float32(device):
    t, k = make_pair(np.linspace(-20, 20, 4001).astype(np.float16), device)
    assert_same(torch.sigmoid(t), tkern.sigmoid(k), atol=0, rtol=0)


@pytest.mark.parametrize("key", ["empty", "int16", "uint8"])
def test_where_number_overflowing_an_integer_result(key, device):
    dtype = {"empty": tkern.int32, "int16": tkern.int16, "uint8": tkern.uint8}[key]
    t, k = make_pair(random_array((2, 2), dtype, seed=11), device)
    for value in (-2, 256, 40000, 2 ** 31, -1):
        try:
            expected = torch.where(t > 1, t, value)
        except Exception:
            check_error(lambda: torch.where(t > 1, t, value), lambda: tkern.where(k > 1, k, value))
        else:
            assert_same(expected, tkern.where(k > 1, k, value))


_NUMBER_OPS = {
    "add": lambda x, s: x + s, "sub": lambda x, s: x - s, "mul": lambda x, s: x * s, "div": lambda x, s: x / s,
    "floor_divide": lambda x, s: x // s, "remainder": lambda x, s: x % s, "pow": lambda x, s: x ** s,
    "radd": lambda x, s: s + x, "rsub": lambda x, s: s - x, "rmul": lambda x, s: s * x, "rdiv": lambda x, s: s / x,
    "rpow": lambda x, s: s ** x, "rmod": lambda x, s: s % x, "rfloordiv": lambda x, s: s // x,
    "eq": lambda x, s: x == s, "lt": lambda x, s: x < s, "fmod": lambda x, s: x.fmod(s),
    "trunc": lambda x, s: x.div(s, rounding_mode="trunc"), "clamp": lambda x, s: x.clamp(min=s),
}


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.bfloat16], ids=lambda d: d.name)
@pytest.mark.parametrize("name", list(_NUMBER_OPS))
@pytest.mark.parametrize("as_tensor", [None, "cpu", "same"], ids=["number", "0-d cpu tensor", "0-d tensor"])
def test_a_number_beside_a_16_bit_tensor_is_read_as_torch_reads_it(dtype, name, as_tensor, device):
    """Issue 14: torch's CPU kernels read a number (or 0-d CPU tensor) second operand of mul and the
    divisions in float32, and every other number (and a number first operand) cast to the tensor's
    16-bit type first: x + 2049 adds 2048 in float16, x * 70000 is finite where it fits, x - 70000 is
    -inf. s / x is x.reciprocal() * s."""
    if dtype is tkern.bfloat16 and device == "cuda" and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("the interpreter truncates float32 to bfloat16 instead of rounding")
    if as_tensor and name.startswith("r") and name != "remainder":
        pytest.skip("a reflected operator takes a number")
    values = np.concatenate([random_array((40,), tkern.float32, seed=12, low=-4, high=4),
                             [0.1, 1.0, -1.0, 3.0, 2049.0, 65504.0 if dtype is tkern.float16 else 3e38]]).astype(np.float32)
    t, k = make_pair(values, device, dtype)
    for number in (0.1, 1 / 3, 70000, 1e-5, 2049.0, 3.3, -0.37, 65536.0):
        ts = torch.tensor(number) if as_tensor else number
        ks = tkern.tensor(number, device="cpu" if as_tensor == "cpu" else device) if as_tensor else number
        if as_tensor == "same" and device != "cpu":
            ts = ts.to(t.dtype)  # torch's CUDA rule: a 0-d CUDA tensor is cast to the 16-bit type for every op
        try:
            expected = _NUMBER_OPS[name](t, ts)
        except Exception:
            check_error(lambda: _NUMBER_OPS[name](t, ts), lambda: _NUMBER_OPS[name](k, ks))
            continue
        actual = _NUMBER_OPS[name](k, ks)
        # (torch's 16-bit floor division rounds each step of its fmod-based formula: a quotient in the
        # thousands may differ by an ulp or two; every other op is exact)
        rounded_steps = name in ("floor_divide", "rfloordiv")
        assert_same(expected, actual, atol=0, rtol=(4e-3 if dtype is tkern.float16 else 3e-2) if rounded_steps else 0)


@pytest.mark.parametrize("int_dtype", [tkern.int64, tkern.int16, tkern.bool], ids=lambda d: d.name)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "eq", "maximum"])
@pytest.mark.parametrize("order", ["float first", "int first"])
def test_an_integer_tensor_beside_bfloat16_is_cast_to_bfloat16_first(int_dtype, name, order, device):
    """Issue 14: torch casts both operands to the bfloat16 the op computes in (257 + x adds 256)."""
    if device == "cuda" and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("the interpreter truncates float32 to bfloat16 instead of rounding")
    x_t, x_k = make_pair(random_array((33,), seed=13, low=-4, high=4), device, tkern.bfloat16)
    ints = np.array([257, 2049, 70000, 3, -1, 1, 0, 100000, 513, 1025, 4097] * 3)
    i_t, i_k = make_pair(ints % 2 if int_dtype is tkern.bool else ints, device, int_dtype)
    def run(lib, x, i):
        return getattr(lib, name)(x, i) if order == "float first" else getattr(lib, name)(i, x)
    if name == "sub" and int_dtype is tkern.bool:
        check_error(lambda: run(torch, x_t, i_t), lambda: run(tkern, x_k, i_k))  # (refused before any cast)
        return
    assert_same(run(torch, x_t, i_t), run(tkern, x_k, i_k), atol=0, rtol=0)


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.bfloat16], ids=lambda d: d.name)
def test_alpha_scales_the_number_after_torch_casts_it(dtype, device):
    """add(x, 1e5, alpha=0.5) in float16: torch casts 1e5 to float16 (inf) before alpha scales it."""
    if dtype is tkern.bfloat16 and device == "cuda" and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("the interpreter truncates float32 to bfloat16 instead of rounding")
    t, k = make_pair(np.array([-np.inf, 1.0, 2.0, 0.37], np.float32), device, dtype)
    for number, alpha in ((1e5, 0.5), (70000, 2), (0.1, 3), (2049, -1), (1e-8, 1e4)):
        assert_same(torch.add(t, number, alpha=alpha), tkern.add(k, number, alpha=alpha), atol=0, rtol=0)
        assert_same(torch.sub(t, number, alpha=alpha), tkern.sub(k, number, alpha=alpha), atol=0, rtol=0)


@pytest.mark.parametrize("exponent", [False, True, 0, 0.0])
def test_pow_by_false_is_not_pow_by_zero_in_backward(exponent, device):
    """torch's Scalar False does not equal 0.0 in pow_backward: x ** False differentiates to
    False * x ** -1 (nan at 0), where x ** 0 differentiates to zeros."""
    t, k = make_pair(np.array([1.5, 0.5, 0.0, -1.0], np.float32), device, tkern.float16)
    t.requires_grad_()
    k.requires_grad_()
    torch.pow(t, exponent).sum().backward()
    tkern.pow(k, exponent).sum().backward()
    assert_same(t.grad, k.grad)


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.float32, tkern.bfloat16, tkern.float64], ids=lambda d: d.name)
def test_relu_keeps_a_negative_zero(dtype, device):
    """relu(-0.0) is -0.0 in torch, in every float type (numpy's float16 maximum picks the other operand)."""
    t, k = make_pair(np.array([-0.0, 0.0, -1.0, 2.0, -0.0], np.float32), device, dtype)
    for fn in (torch.relu, lambda x: x.clone().relu_()):
        expected, actual = fn(t), (tkern.relu if fn is torch.relu else fn)(k)
        assert_same(expected, actual)
        assert (np.signbit(to_numpy(expected)) == np.signbit(to_numpy(actual))).all()


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
@pytest.mark.parametrize("bound", [0.5, -1, "tensor"])
def test_clamp_min_and_max(name, bound, device):
    values = random_array((3, 4), seed=31)
    values[0, 0] = np.nan
    t, k = make_pair(values, device)
    t_bound, k_bound = (make_pair(random_array((4,), seed=32), device) if bound == "tensor" else (bound, bound))
    assert_same(getattr(torch, name)(t, t_bound), getattr(tkern, name)(k, k_bound))
    assert_same(getattr(t, name)(t_bound), getattr(k, name)(k_bound))
    t_out, k_out = torch.empty(3, 4), tkern.empty(3, 4, device=device)
    assert getattr(tkern, name)(k, k_bound, out=k_out) is k_out
    assert_same(getattr(torch, name)(t, t_bound, out=t_out), k_out)
    getattr(t, name + "_")(t_bound)
    assert getattr(k, name + "_")(k_bound) is k
    assert_same(t, k)
    ints_t, ints_k = make_pair(random_array((5,), tkern.int64, seed=33), device, tkern.int64)
    assert_same(getattr(torch, name)(ints_t, 1.5), getattr(tkern, name)(ints_k, 1.5))
    check_error(lambda: getattr(torch, name)(t, None), lambda: getattr(tkern, name)(k, None))
    check_error(lambda: getattr(ints_t, name + "_")(1.5), lambda: getattr(ints_k, name + "_")(1.5))


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.int64, tkern.float16], ids=lambda d: d.name)
@pytest.mark.parametrize("value", [2.7, -1, "tensor"])
def test_masked_fill(dtype, value, device):
    t, k = make_pair(random_array((3, 4), dtype, seed=41), device, dtype)
    mask_t, mask_k = make_pair(random_array((4,), tkern.bool, seed=42), device)
    value_t, value_k = (torch.tensor(1.5), tkern.tensor(1.5)) if value == "tensor" else (value, value)
    assert_same(torch.masked_fill(t, mask_t, value_t), tkern.masked_fill(k, mask_k, value_k))
    assert_same(t.masked_fill(mask_t.reshape(1, 4), value_t), k.masked_fill(mask_k.reshape(1, 4), value_k))
    t.masked_fill_(mask_t, value_t)
    assert k.masked_fill_(mask_k, value_k) is k
    assert_same(t, k)
    check_error(lambda: t.masked_fill(mask_t.long(), 1), lambda: k.masked_fill(mask_k.long(), 1))
    check_error(lambda: t.masked_fill(mask_t, torch.ones(2)), lambda: k.masked_fill(mask_k, tkern.ones(2)))
    check_error(lambda: t[0].masked_fill_(mask_t.reshape(1, 4).expand(2, 4), 1),
                lambda: k[0].masked_fill_(mask_k.reshape(1, 4).expand(2, 4), 1))


def test_masked_fill_gradients_to_a_tensor_value(device):
    check_grad([(3, 4), ()], lambda x, v: x.masked_fill(x.detach() < 0, v), device=device)
    check_grad([(3, 4)], lambda x: (x * 1).masked_fill_(x.detach() > 1, 0.25), device=device)
