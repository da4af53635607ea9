import math

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array

DIMS = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_multi_dim_reductions(name, dim, keepdim, device):
    if dim is None:
        if name in ("amax", "amin"):
            check_op([(3, 4, 5)], lambda x: getattr(x, name)(), device=device)
        else:
            check_op([(3, 4, 5)], lambda x: getattr(x, name)(), device=device, atol=1e-4)
        return
    check_op([(3, 4, 5)], lambda x: getattr(x, name)(dim, keepdim=keepdim), device=device, atol=1e-4)
    check_op([(3, 4, 5)], lambda x: getattr(torch, name)(x, dim, keepdim), lambda x: getattr(tkern, name)(x, dim, keepdim),
             device=device, atol=1e-4)


@pytest.mark.parametrize("dtype", [tkern.int64, tkern.int32, tkern.bool, tkern.uint8, tkern.float16, tkern.float64])
def test_sum_prod_dtypes(dtype, device):
    check_op([(4, 5)], lambda x: (x.sum(), x.sum(0), x.prod(1)), device=device, dtype=dtype, low=0, high=3, atol=1e-2)
    check_op([(4, 5)], lambda x: x.sum(dtype=torch.float64), lambda x: x.sum(dtype=tkern.float64), device=device,
             dtype=dtype, low=0, high=3, atol=1e-2)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim(name, dim, keepdim, device):
    expected, actual = check_op([(4, 5)], lambda x: getattr(x, name)(dim, keepdim), device=device)
    assert actual.values is actual[0] and actual.indices is actual[1]
    check_op([(4, 5)], lambda x: getattr(x, name)(), device=device)
    check_op([(4, 5)], lambda x: getattr(torch, name)(x, dim=dim), lambda x: getattr(tkern, name)(x, dim=dim), device=device)
    check_op([(4, 5), (5,)], lambda a, b: getattr(torch, name)(a, b), lambda a, b: getattr(tkern, name)(a, b), device=device)


def test_max_ties_take_the_first_index(device):
    t, k = make_pair(np.array([[1, 3, 3], [2, 2, 0]]), device)
    assert_same(t.max(1), k.max(1))
    assert_same(t.min(0), k.min(0))
    assert_same(t.argmax(), k.argmax())


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(name, dim, keepdim, device):
    check_op([(4, 5)], lambda x: getattr(x, name)(dim, keepdim), device=device)
    check_op([(6,)], lambda x: getattr(torch, name)(x), lambda x: getattr(tkern, name)(x), device=device, dtype=tkern.int32)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, (0, 1)])
@pytest.mark.parametrize("unbiased", [True, False])
def test_var_std(name, dim, unbiased, device):
    if dim is None:
        check_op([(4, 5)], lambda x: getattr(x, name)(unbiased=unbiased), device=device, atol=1e-5)
    else:
        check_op([(4, 5)], lambda x: getattr(x, name)(dim, unbiased=unbiased, keepdim=True), device=device, atol=1e-5)
    check_op([(4, 5)], lambda x: getattr(x, name)(1, correction=2), device=device, atol=1e-5)
    check_op([(1,)], lambda x: getattr(x, name)(), device=device)


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("dtype", [tkern.bool, tkern.float32, tkern.uint8, tkern.int64])
def test_all_any(name, dtype, device):
    check_op([(4, 5)], lambda x: (getattr(x, name)(), getattr(x, name)(1), getattr(x, name)(0, True)), device=device,
             dtype=dtype, low=0, high=1)


def test_nan_propagates(device):
    values = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    t, k = make_pair(values, device)
    assert_same((t.sum(1), t.max(), t.min(1), t.argmax(1), t.mean(), t.amax(0)),
                (k.sum(1), k.max(), k.min(1), k.argmax(1), k.mean(), k.amax(0)))


def test_empty_and_scalar_reductions(device):
    t, k = make_pair(np.zeros((0, 3), dtype=np.float32), device)
    assert_same((t.sum(0), t.sum(), t.prod(), t.mean(), t.amax(1), t.max(1), t.all(), t.any()),
                (k.sum(0), k.sum(), k.prod(), k.mean(), k.amax(1), k.max(1), k.all(), k.any()))
    s_t, s_k = make_pair(np.array(2.5, dtype=np.float32), device)
    assert_same((s_t.sum(), s_t.max(), s_t.argmax(), s_t.max(0), s_t.sum(0), s_t.mean(-1)),
                (s_k.sum(), s_k.max(), s_k.argmax(), s_k.max(0), s_k.sum(0), s_k.mean(-1)))
    for fn in [lambda x: x.max(), lambda x: x.max(0), lambda x: x.argmax(), lambda x: x.sum(2), lambda x: x.amax(),
               lambda x: x.amin(()), lambda x: x.amax(0), lambda x: x.min()]:
        error = check_error(fn, fn, (t,), (k,))
        with pytest.raises(type(error), match=str(error).split("(")[0]):  # amax's own name, as torch
            fn(t)


def test_reduction_errors(device):
    t, k = make_pair(np.array([1, 2, 3]), device)
    for fn in [lambda x: x.mean(), lambda x: x.sum(1), lambda x: x.sum((0, 0)), lambda x: x.var()]:
        check_error(fn, fn, (t,), (k,))
    b_t, b_k = make_pair(np.array([True, False]), device)
    for fn in [lambda x: x.argmax(), lambda x: x.argmin(0)]:
        check_error(fn, fn, (b_t,), (b_k,))


@pytest.mark.parametrize("view", [lambda x: x.t(), lambda x: x[::2], lambda x: x[:, 1:].expand(3, 4, 5)])
def test_reductions_on_views(view, device):
    check_op([(4, 6)], lambda x: (view(x).sum(-1), view(x).max(0), view(x).mean()), device=device, atol=1e-5)


# ----- every dtype, awkward layouts and sizes, NaN, and the multi-program paths of the Triton kernels -----

ALL_DTYPES = [tkern.bool, tkern.uint8, tkern.int8, tkern.int16, tkern.int32, tkern.int64, tkern.float16, tkern.bfloat16,
              tkern.float32, tkern.float64]
FLOAT_DTYPES = [tkern.float16, tkern.bfloat16, tkern.float32, tkern.float64]


def _pair(shape, dtype, device, seed=0, low=-3.0, high=3.0, values=None):
    """torch and tkern tensors holding the same values; bfloat16 values are rounded on the host first, so
    the comparison does not depend on how a device cast rounds."""
    if values is None:
        values = random_array(shape, dtype, seed, low, high)
    if dtype is tkern.bfloat16:
        values = torch.from_numpy(np.asarray(values, dtype=np.float32)).to(torch.bfloat16).float().numpy()
    return make_pair(values, device, dtype)


def _tolerance(dtype):
    return {"atol": 2e-2, "rtol": 2e-2} if dtype in (tkern.float16, tkern.bfloat16) else {"atol": 1e-4, "rtol": 1e-5}


def _reductions(x):
    results = [x.sum(), x.sum(0), x.sum(1, keepdim=True), x.sum((0, 1)), x.prod(), x.prod(0), x.prod(1, keepdim=True),
               x.amax(), x.amax(0), x.amin(1, keepdim=True), x.amin((1, 0)), x.all(), x.all(1), x.any(), x.any(0, True),
               x.max(), x.min(), tuple(x.max(1)), tuple(x.min(0, keepdim=True))]
    if x.dtype not in (torch.bool, tkern.bool):
        results += [x.argmax(), x.argmin(), x.argmax(0), x.argmin(1, keepdim=True)]
    if x.dtype.is_floating_point:
        results += [x.mean(), x.mean(1)]
    return results


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_reductions_every_dtype(dtype, device):
    t, k = _pair((5, 7), dtype, device, low=-2, high=2)
    assert_same(_reductions(t), _reductions(k), **_tolerance(dtype))


@pytest.mark.parametrize("dtype", [tkern.bool, tkern.int8, tkern.uint8, tkern.int32, tkern.float16, tkern.float64])
def test_sum_prod_with_dtype_argument(dtype, device):
    t, k = _pair((4, 6), dtype, device, low=0, high=3)
    assert_same((t.sum(dtype=torch.float32), t.sum(0, dtype=torch.int32), t.prod(1, dtype=torch.float64)),
                (k.sum(dtype=tkern.float32), k.sum(0, dtype=tkern.int32), k.prod(1, dtype=tkern.float64)), atol=1e-3)


VIEWS = {
    "transposed": lambda x: x.transpose(0, 2),
    "permuted": lambda x: x.permute(1, 2, 0),
    "stepped": lambda x: x[::2, :, ::3],
    "offset": lambda x: x[1:, 2:, 1:],
    "expanded": lambda x: x[:, :1].expand(4, 9, 6),
    "broadcast": lambda x: x[0].unsqueeze(0).expand(3, 5, 6),
    "narrow of transpose": lambda x: x.transpose(1, 2)[1:3],
}


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.int32])
def test_reductions_on_strided_views(view, dtype, device):
    t, k = _pair((4, 5, 6), dtype, device, low=-4, high=4)
    fn = VIEWS[view]

    def run(x):
        v = fn(x)
        return (v.sum(), v.sum(0), v.sum((0, 2)), v.sum((2, 0), keepdim=True), v.sum((1, 2)), v.prod(1),
                v.amax((1, 2), keepdim=True), v.amin(0), v.all(2), v.any((0, 1)), v.argmax(), v.argmax(1),
                v.argmin(0, keepdim=True), tuple(v.max(2)), tuple(v.min(1, keepdim=True)))

    assert_same(run(t), run(k))


@pytest.mark.parametrize("shape", [(0,), (1,), (1, 1), (0, 4), (4, 0), (1, 0, 3), (3, 1, 1)])
def test_reductions_of_zero_and_one_element(shape, device):
    t, k = _pair(shape, tkern.float32, device)

    def run(x):
        results = [x.sum(), x.prod(), x.all(), x.any()]
        for d in range(x.ndim):
            results += [x.sum(d), x.prod(d, keepdim=True), x.all(d), x.any(d, keepdim=True)]
            if x.shape[d]:
                results += [x.amax(d), tuple(x.max(d)), x.argmin(d, keepdim=True)]
        if x.numel():
            results += [x.amax(), x.argmax()]
        return results

    assert_same(run(t), run(k))
    ti, ki = _pair(shape, tkern.int16, device)
    assert_same(run(ti), run(ki))


@pytest.mark.parametrize("size", [1, 7, 31, 33, 1000, 1025])
def test_sizes_around_the_blocks(size, device):
    t, k = _pair((3, size), tkern.float32, device, seed=size)
    assert_same((t.sum(1), t.sum(0), t.t().sum(0), t.amax(1), t.argmax(1), t.argmin(0), t.sum(), t.argmax(), t.prod(0)),
                (k.sum(1), k.sum(0), k.t().sum(0), k.amax(1), k.argmax(1), k.argmin(0), k.sum(), k.argmax(), k.prod(0)),
                atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64])
@pytest.mark.parametrize("size", [1, 2, 2000, 8192, 8193])
def test_vector_sums_of_every_length(size, dtype, device):
    # the CPU backend sums short float vectors as a dot product with ones: lengths on both sides of
    # its limit, strided and offset views, and the values where a dot could differ from a sum
    values = random_array((size,), dtype, seed=size, low=-1e3, high=1e3)
    t, k = make_pair(values, device, dtype)
    assert_same((t.sum(), t[1::3].sum(), t[size // 2:].sum(), t[-1:].expand(size).sum(), t.sum(0), t.sum(-1, keepdim=True)),
                (k.sum(), k[1::3].sum(), k[size // 2:].sum(), k[-1:].expand(size).sum(), k.sum(0), k.sum(-1, keepdim=True)),
                atol=1e-3, rtol=1e-5)
    special = np.array([-0.0, -0.0, np.inf, np.inf, -np.inf, np.nan, 1.0], dtype=dtype.numpy)
    for chosen in ([0], [0, 1], [2, 3, 6], [2, 4], [5, 6]):
        t, k = make_pair(special[chosen], device, dtype)
        assert_same(t.sum(), k.sum())
        assert math.copysign(1.0, t.sum().item()) == math.copysign(1.0, k.sum().item())


_NAN_ROWS = np.array([
    [np.nan, 1.0, 2.0, 3.0, 4.0],
    [1.0, 2.0, 3.0, 4.0, np.nan],
    [np.nan, np.nan, np.nan, np.nan, np.nan],
    [np.inf, -np.inf, 1.0, np.inf, -np.inf],
    [-np.inf, -np.inf, -np.inf, -np.inf, -np.inf],
    [1.0, np.nan, np.inf, np.nan, -np.inf],
    [2.0, 2.0, -1.0, -1.0, 2.0],
], dtype=np.float32)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_and_infinities_in_max_min(dtype, device):
    t, k = _pair(None, dtype, device, values=_NAN_ROWS)

    def run(x):
        results = []
        for v in (x, x.t(), x[1:, ::2]):
            results += [v.amax(1), v.amin(0), v.amax(), v.amin(), v.max(), v.min(), tuple(v.max(1)), tuple(v.min(0)),
                        v.argmax(1), v.argmin(1), v.argmax(0, keepdim=True), v.argmax(), v.argmin(), v.sum(1), v.all(1),
                        v.any(0)]
        return results

    assert_same(run(t), run(k))


def test_a_nan_anywhere_wins(device):
    values = random_array((3, 300), tkern.float32, seed=4)
    values[0, 299] = np.nan
    values[1, 150] = np.nan
    values[1, 7] = np.nan
    values[2, 0] = np.nan
    t, k = make_pair(values, device)
    assert_same((t.amax(1), t.amin(1), t.max(1), t.argmax(1), t.argmin(1), t.max(), t.argmax(), t.t().amax(0),
                 t.t().argmin(0)),
                (k.amax(1), k.amin(1), k.max(1), k.argmax(1), k.argmin(1), k.max(), k.argmax(), k.t().amax(0),
                 k.t().argmin(0)))


@pytest.mark.parametrize("dtype", [d for d in ALL_DTYPES if d is not tkern.bool])
def test_arg_reductions_pick_the_first_of_ties(dtype, device):
    t, k = _pair((6, 40), dtype, device, low=0, high=2)

    def run(x):
        return (x.argmax(1), x.argmin(1), x.argmax(0), x.argmin(0, keepdim=True), x.argmax(), x.argmin(),
                x.t().argmax(1), tuple(x.max(1)), tuple(x.min(0)))

    assert_same(run(t), run(k))


def test_signed_zeros_keep_their_sign(device):
    t, k = make_pair(np.array([[-0.0, 0.0, -1.0], [0.0, -0.0, -2.0]], dtype=np.float32), device)
    expected, actual = (t.max(1), t.min(1), t.argmax(1)), (k.max(1), k.min(1), k.argmax(1))
    assert_same(expected, actual)
    assert np.array_equal(np.signbit(expected[0].values.numpy()), np.signbit(actual[0].values.cpu().numpy()))


def _small_split_settings(monkeypatch, device):
    """Tiles, programs and split sizes small enough that the multi-program and split paths run on tiny
    inputs (device 'cuda' only: the settings are the Triton kernels')."""
    if device != "cuda":
        return None
    from tkern.ops import triton_reduction
    for name, value in [("TILE_ELEMENTS", 64), ("TARGET_PROGRAMS", 8), ("SPLIT_MIN_WORK", 16), ("OUTER_MIN_M", 4),
                        ("OUTER_MAX_M", 16)]:
        monkeypatch.setattr(triton_reduction, name, value)
    return triton_reduction


@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float16, tkern.int64, tkern.uint8, tkern.bool])
def test_split_reductions(dtype, device, monkeypatch):
    module = _small_split_settings(monkeypatch, device)
    if module is not None:
        # a full reduction and a column reduction both split their reduced extent here
        assert module.plan(1, 3000, True)[2] > 1
        assert module.plan(3, 1000, False)[2] > 1
    values = random_array((3, 1000), dtype, seed=2, low=-2, high=2)
    if dtype.is_floating_point:
        values = values / 4 + 1  # a product of 1000 values that stays finite
    if dtype is tkern.bool:
        values[:, :] = True
        values[1, 998] = False
    t, k = _pair(None, dtype, device, values=values)

    def run(x):
        results = [x.sum(), x.sum(1), x.t().sum(0), x.sum(0), x.prod(1), x.all(), x.all(1), x.any(), x.any(1),
                   x.amax(), x.amin(1), x.t().amax(0, keepdim=True), tuple(x.max(1))]
        if x.dtype not in (torch.bool, tkern.bool):
            results += [x.argmax(), x.argmin(), x.argmax(1), x.t().argmin(0), tuple(x.min(1, keepdim=True))]
        return results

    assert_same(run(t), run(k), atol=0.5 if dtype is tkern.float16 else 1e-3, rtol=1e-3)


def test_split_reductions_nan_and_ties_across_chunks(device, monkeypatch):
    _small_split_settings(monkeypatch, device)
    values = np.ones((2, 1000), dtype=np.float32)
    values[0, 500] = values[0, 900] = 5.0
    values[0, 10] = values[0, 990] = -5.0
    values[1, 950] = np.nan
    values[1, 960] = np.nan
    values[1, 3] = 7.0
    t, k = make_pair(values, device)
    assert_same((t.argmax(1), t.argmin(1), t.max(1), t.amax(1), t.amin(1), t.argmax(), t.t().argmax(0), t.sum(1)),
                (k.argmax(1), k.argmin(1), k.max(1), k.amax(1), k.amin(1), k.argmax(), k.t().argmax(0), k.sum(1)))


def test_int64_offsets_path(device, monkeypatch):
    # spans of 2**31 elements are too big to test; run the wide-index kernels on small inputs instead
    module = _small_split_settings(monkeypatch, device)
    if module is not None:
        monkeypatch.setattr(module, "needs_int64", lambda *args: True)
    t, k = _pair((4, 5, 300), tkern.float32, device, seed=5)
    assert_same((t.sum(), t.sum(2), t.sum((0, 2)), t.prod(1), t.amax(0), t.argmax(), t.argmax(2), t.max(0),
                 t.transpose(0, 2).argmin(0), t[:, ::2].all(1)),
                (k.sum(), k.sum(2), k.sum((0, 2)), k.prod(1), k.amax(0), k.argmax(), k.argmax(2), k.max(0),
                 k.transpose(0, 2).argmin(0), k[:, ::2].all(1)), atol=1e-3)


def test_large_full_reduction(device):
    t, k = _pair((200_000,), tkern.float32, device, seed=6)
    assert_same((t.sum(), t.amax(), t.argmin()), (k.sum(), k.amax(), k.argmin()), atol=1e-1, rtol=1e-4)
    if device == "cuda":
        from tkern.ops import triton_reduction
        # on an H100 (132 SMs) a sum of millions of elements runs over many programs, then one more
        block_m, block_r, n_split, iters, _ = triton_reduction.plan(1, 10_000_000, True, target=528)
        assert n_split >= 100 and n_split * iters * block_r >= 10_000_000
        assert triton_reduction.plan(4096, 4096, True, target=528)[2] == 1


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var", "std", "any", "all"])
def test_empty_dim_list_like_torch(name, device):
    # an empty dim list means every dim (all/any: none), as in torch
    check_op([(3, 4)], lambda x: getattr(x, name)(()), device=device)
    check_op([(3, 4)], lambda x: getattr(x, name)(dim=[]), device=device)


_WITH_A_DIM = {
    "sum": lambda x, d: x.sum(d), "mean": lambda x, d: x.mean(d), "prod": lambda x, d: x.prod(d),
    "amax": lambda x, d: x.amax(d), "amin": lambda x, d: x.amin(d), "any": lambda x, d: x.any(d),
    "all": lambda x, d: x.all(d), "var": lambda x, d: x.var(d, correction=0),
    "std": lambda x, d: x.std(d, correction=0),
    "max": lambda x, d: tuple(x.max(d)), "min": lambda x, d: tuple(x.min(d)), "argmax": lambda x, d: x.argmax(d),
    "argmin": lambda x, d: x.argmin(d), "logsumexp": lambda x, d: x.logsumexp(d),
    "sum_keepdim": lambda x, d: x.sum(d, keepdim=True), "softmax": lambda x, d: x.softmax(d),
}


@pytest.mark.parametrize("name", list(_WITH_A_DIM))
def test_a_0d_input_takes_only_dim_0_and_minus_1(name, device):
    fn = _WITH_A_DIM[name]
    t, k = make_pair(random_array((), seed=3), device)
    for dim in (0, -1):
        assert_same(fn(t, dim), fn(k, dim))
    for dim in (2, 1, -2, [0, 2]):
        if isinstance(dim, list) and name in ("prod", "max", "min", "argmax", "argmin", "softmax"):
            continue  # (these take one int dim)
        error = check_error(lambda x: fn(x, dim), lambda x: fn(x, dim), (t,), (k,))
        offending = 2 if isinstance(dim, list) else dim
        assert str(error) == f"Dimension out of range (expected to be in range of [-1, 0], but got {offending})"
    check_error(lambda x: x.sum([0, -1]), lambda x: x.sum([0, -1]), (t,), (k,))


def test_a_0d_input_checks_dim_with_grad_on(device):
    for fn in (lambda x: x.sum(dim=2), lambda x: x.mean(dim=2), lambda x: x.amax(dim=-2), lambda x: x.max(1)):
        t, k = make_pair(random_array((), seed=4), device)
        check_error(fn, fn, (t.requires_grad_(),), (k.requires_grad_(),))


@pytest.mark.parametrize("dtype", [tkern.bool, tkern.uint8, tkern.int32, tkern.int64])
def test_logsumexp_of_bool_and_integer_input(dtype, device):
    check_op([(3, 4)], lambda x: torch.logsumexp(x, 1), lambda x: tkern.logsumexp(x, 1), device=device, dtype=dtype,
             low=0, high=5)
    check_op([(3, 4)], lambda x: x.logsumexp((0, 1), keepdim=True), device=device, dtype=dtype, low=0, high=5)


@pytest.mark.parametrize("shape, dim, keepdim", [((0, 3), 0, False), ((2, 0), 1, True), ((2, 0), (0, 1), False),
                                                  ((0, 3), 1, False), ((0,), -1, False)])
def test_logsumexp_over_an_empty_dim_is_minus_infinity(shape, dim, keepdim, device):
    check_op([shape], lambda x: torch.logsumexp(x, dim, keepdim), lambda x: tkern.logsumexp(x, dim, keepdim),
             device=device)
    check_op([shape], lambda x: torch.logsumexp(x, dim), lambda x: tkern.logsumexp(x, dim), device=device,
             dtype=tkern.int64)
    check_grad([shape], lambda x: torch.logsumexp(x, dim, keepdim), lambda x: tkern.logsumexp(x, dim, keepdim),
               device=device)


# ----- issue 14, new fuzzer finds -----


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 1, 2)])
def test_logsumexp_over_no_dims_without_keepdim_is_refused(shape, device):
    t, k = make_pair(random_array(shape, seed=11), device)
    error = check_error(lambda: torch.logsumexp(t, dim=()), lambda: tkern.logsumexp(k, dim=()))
    assert str(error) == f"output with shape [] doesn't match the broadcast shape [{', '.join(['1'] * len(shape))}]"
    check_op([shape], lambda x: torch.logsumexp(x, dim=(), keepdim=True),
             lambda x: tkern.logsumexp(x, dim=(), keepdim=True), device=device, seed=12)
    check_op([(0, 3)], lambda x: torch.logsumexp(x, dim=()), lambda x: tkern.logsumexp(x, dim=()), device=device)
    check_op([()], lambda x: torch.logsumexp(x, dim=()), lambda x: tkern.logsumexp(x, dim=()), device=device)


# ----- issue 14, the long profile's finds (session 9) -----


@pytest.mark.parametrize("op", ["sum", "prod"])
@pytest.mark.parametrize("dtype", ["bool", "int64", "int8", "uint8"])
@pytest.mark.parametrize("dim", [None, 0])
def test_sum_and_prod_cast_to_the_dtype_argument_first(op, dtype, dim, device):
    """prod([0.3, 0.2], dtype=bool) is True in torch (each value cast to bool, then multiplied), not
    the product 0.06 cast to bool... nor 0 from casting to the int64 accumulator first."""
    values = np.array([[0.3, 0.2, 1e-30], [2.7, -1.5, 0.5]], np.float32)
    t, k = make_pair(values, device)
    kwargs = {} if dim is None else {"dim": dim}
    assert_same(getattr(t, op)(dtype=getattr(torch, dtype), **kwargs),
                getattr(k, op)(dtype=getattr(tkern, dtype), **kwargs))


@pytest.mark.parametrize("op", ["sum", "prod"])
@pytest.mark.parametrize("dtype", ["bool", "int64", "int8"])
def test_reduction_to_an_integer_dtype_of_a_tensor_requiring_grad(op, dtype, device):
    """torch records sum/prod whatever dtype= asks for, and its autograd then refuses an integer
    dtype: RuntimeError 'Autograd not support dtype: Long'."""
    t, k = make_pair(random_array((2, 3), seed=3), device)
    t.requires_grad_()
    k.requires_grad_()
    for kwargs in ({}, {"dim": 0}, {"dim": 0, "keepdim": True}):
        error = check_error(lambda: getattr(t, op)(dtype=getattr(torch, dtype), **kwargs),
                            lambda: getattr(k, op)(dtype=getattr(tkern, dtype), **kwargs))
        assert str(error).startswith("Autograd not support dtype")
    assert_same(t.sum(dtype=torch.float64), k.sum(dtype=tkern.float64))  # a float dtype is recorded


@pytest.mark.parametrize("dims", [(0, -2), (1, 1), (0, 5), (5, 0), (1, 0), (1, 1, 0), (-1, 1)])
@pytest.mark.parametrize("op", ["amin", "amax"])
def test_amin_checks_each_dim_before_repeats(dims, op, device):
    """torch checks each dim's range and size in turn, and only then looks for repeated dims."""
    t, k = make_pair(np.zeros((0, 3), np.float32), device)
    check_error(lambda: getattr(t, op)(dim=dims), lambda: getattr(k, op)(dim=dims))
    t, k = make_pair(random_array((2, 3), seed=4), device)
    try:
        expected = getattr(t, op)(dim=dims)
    except Exception:
        check_error(lambda: getattr(t, op)(dim=dims), lambda: getattr(k, op)(dim=dims))
    else:
        assert_same(expected, getattr(k, op)(dim=dims))


@pytest.mark.parametrize("values", [[[2.0, math.inf], [0.0, 3.0]], [[2.0, -math.inf], [1.0, 3.0]],
                                    [[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]], [[0.0, 0.0, 2.0, 3.0]], [[5.0]],
                                    [[2.0, -0.0, math.inf], [0.0, -math.inf, 1.0]]])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float16])
def test_prod_gradient_with_zeros_and_infinities(values, dim, dtype, device):
    """torch's rule: g * out / x when the input holds no zero at all, else the product of the other
    elements (an infinite element beside a finite one gets the finite one, not inf / inf); a product
    of everything with two zeros or more has zero gradients."""
    t, k = make_pair(np.array(values, np.float32), device, dtype)
    t.requires_grad_()
    k.requires_grad_()
    for keepdim in (False, True):
        t.grad = k.grad = None
        expected = t.prod() if dim is None else t.prod(dim, keepdim=keepdim)
        actual = k.prod() if dim is None else k.prod(dim, keepdim=keepdim)
        expected.backward(torch.full_like(expected, 1.5))
        actual.backward(tkern.full_like(actual, 1.5))
        assert_same(t.grad, k.grad, rtol=1e-3)


def test_max_and_min_of_everything_give_a_nan_result_gradient_to_the_nans(device):
    """torch's evenly_distribute_backward: max()/min() share g among the NaN elements when the result is
    NaN; amax/amin (scale_grad_by_count) and max(dim) do not look for NaN."""
    values = np.array([[1.0, np.nan, 3.0], [3.0, 0.5, np.nan]], np.float32)
    for fn in (lambda x: x.min(), lambda x: x.max(), lambda x: x.amax(), lambda x: x.amin(0),
               lambda x: x.max(0)[0], lambda x: x.amax((0, 1))):
        results = []
        for lib, dev in ((torch, {}), (tkern, {"device": device})):
            x = lib.tensor(values, requires_grad=True, **dev)
            fn(x).sum().backward()
            results.append(x.grad)
        assert_same(results[0], results[1])


@pytest.mark.parametrize("dim,keepdim", [(1, False), (0, True), ((0, 1), False)])
def test_logsumexp_is_one_node_with_torchs_gradient(dim, keepdim, device):
    """LogsumexpBackward0, g * exp(x - out): 0 beside an infinite element, where the composition's
    gradient (exp of a shifted input, then a division) was inf / inf."""
    values = np.array([[2.0, 65536.0, np.inf], [1.0, 2.0, 3.0]], np.float32)
    results = []
    for lib, dev in ((torch, {}), (tkern, {"device": device})):
        x = lib.tensor(values, dtype=lib.bfloat16, requires_grad=True, **dev)
        out = lib.logsumexp(x, dim, keepdim)
        out.sum().backward()
        assert type(out.grad_fn).__name__ == "LogsumexpBackward0"
        results.append((out, x.grad))
    assert_same(results[0], results[1], rtol=2e-2)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("n,correction,dim", [(2, 2, None), (2, 3, None), (1, 1, None), (2, 2, 0), (2, 3, 0), (3, 3, None),
                                              (3, 2, None), (3, 5, 0)])
def test_var_and_std_gradients_without_degrees_of_freedom(op, n, correction, dim, device):
    """torch's var_backward: over every element with no positive degrees of freedom, an infinite
    slope of g's sign off the mean (NaN on it); with dims, 2 / (n - correction) even when negative;
    std's g / (2 std) first."""
    for upstream in (0.7, -0.7):
        t, k = make_pair(np.array([1.0, 2.0, 3.5][:n], np.float32), device)
        t.requires_grad_()
        k.requires_grad_()
        kwargs = {"correction": correction} if dim is None else {"dim": dim, "correction": correction}
        getattr(t, op)(**kwargs).backward(torch.tensor(upstream))
        getattr(k, op)(**kwargs).backward(tkern.tensor(upstream, device=device))
        assert_same(t.grad, k.grad)


NORMS = [
    lambda lib, x: x.norm(), lambda lib, x: x.norm(1), lambda lib, x: x.norm(float("inf")),
    lambda lib, x: x.norm(-float("inf"), dim=0), lambda lib, x: lib.norm(x, dim=1, keepdim=True),
    lambda lib, x: x.norm("fro", dim=(0, 2)), lambda lib, x: x.norm(0.5, dim=-1), lambda lib, x: x.norm(1.5),
    lambda lib, x: x.norm(3, dim=[2, 0], keepdim=True), lambda lib, x: lib.linalg.vector_norm(x),
    lambda lib, x: lib.linalg.vector_norm(x, 4, dim=1, dtype=lib.float64), lambda lib, x: lib.linalg.matrix_norm(x),
    lambda lib, x: lib.linalg.matrix_norm(x, 1), lambda lib, x: lib.linalg.matrix_norm(x, -1, dim=(0, 2)),
    lambda lib, x: lib.linalg.matrix_norm(x, float("inf"), keepdim=True),
    lambda lib, x: lib.linalg.matrix_norm(x, -float("inf"), dim=(2, 0)),
]


def _linalg_lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


@pytest.mark.parametrize("case", range(len(NORMS)))
@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 3, 1)], ids=str)
def test_norms(case, shape, device):
    """Values, dtypes, gradients and node names of torch.norm, linalg.vector_norm and matrix_norm."""
    expected, actual = check_grad([shape], lambda x: NORMS[case](_linalg_lib(x), x), device=device)
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__


def test_norms_of_zeros_and_their_refusals(device):
    t, k = torch.zeros(2, 3, requires_grad=True), tkern.zeros(2, 3, device=device, requires_grad=True)
    for p in (2, 3, float("inf"), 0):
        t.grad = k.grad = None
        t.norm(p).backward()
        k.norm(p).backward()
        assert (t.grad is None) == (k.grad is None)
        if t.grad is not None:
            assert_same(t.grad, k.grad)
    for call in (lambda lib: lib.norm(lib.tensor([1, 2])), lambda lib: lib.linalg.matrix_norm(lib.ones(3)),
                 lambda lib: lib.linalg.vector_norm(lib.ones(2, dtype=lib.float64), dtype=lib.float32)):
        check_error(lambda: call(torch), lambda: call(tkern))
