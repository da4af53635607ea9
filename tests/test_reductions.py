import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_op, make_pair, random_array

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
    for fn in [lambda x: x.max(), lambda x: x.max(0), lambda x: x.argmax(), lambda x: x.sum(2)]:
        check_error(fn, fn, (t,), (k,))


def test_reduction_errors(device):
    t, k = make_pair(np.array([1, 2, 3]), device)
    for fn in [lambda x: x.mean(), lambda x: x.sum(1), lambda x: x.sum((0, 0)), lambda x: x.var()]:
        check_error(fn, fn, (t,), (k,))


@pytest.mark.parametrize("view", [lambda x: x.t(), lambda x: x[::2], lambda x: x[:, 1:].expand(3, 4, 5)])
def test_reductions_on_views(view, device):
    check_op([(4, 6)], lambda x: (view(x).sum(-1), view(x).max(0), view(x).mean()), device=device, atol=1e-5)
