import numpy as np
import pytest
import torch

import tkern

CASES = [
    [[1.0, 2.0]], [1, 2, 3], [True, False], 9.0, 3, [], [[0.1234567, 2.5], [-3.0, 100.25]], [1e-5, 1.0],
    [1e9, 1.0], [float("nan"), 1.0, float("inf")], [0.0, -0.0], [[1, -200], [3, 4]], list(range(1200)),
    np.random.default_rng(0).standard_normal((30, 40)).tolist(), [[[1.5, 2], [3, 4]], [[5, 6], [7, 8]]],
    np.random.default_rng(1).standard_normal(30).tolist(),
]


def _expected(t: torch.Tensor) -> str:
    return repr(t).replace("torch.", "tkern.")


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_repr_matches_torch(data):
    assert repr(tkern.tensor(data)) == _expected(torch.tensor(data))


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32", "uint8", "int8", "bool", "bfloat16"])
def test_repr_dtype_suffix(dtype):
    data = [[1, 0], [3, 4]]
    assert repr(tkern.tensor(data, dtype=getattr(tkern, dtype))) == _expected(torch.tensor(data, dtype=getattr(torch, dtype)))
    assert repr(tkern.tensor([1.5, 2.25], dtype=getattr(tkern, dtype))) == \
        _expected(torch.tensor([1.5, 2.25], dtype=getattr(torch, dtype)))


def test_repr_empty_and_requires_grad():
    assert repr(tkern.zeros(0, 3)) == _expected(torch.zeros(0, 3))
    assert repr(tkern.zeros(0, dtype=tkern.int32)) == _expected(torch.zeros(0, dtype=torch.int32))
    assert repr(tkern.ones(2, requires_grad=True)) == _expected(torch.ones(2, requires_grad=True))
    assert str(tkern.ones(2, 2)) == str(torch.ones(2, 2))
    assert repr(tkern.arange(6).reshape(2, 3).t()) == _expected(torch.arange(6).reshape(2, 3).t())


def test_printoptions():
    try:
        tkern.set_printoptions(precision=2)
        torch.set_printoptions(precision=2)
        assert repr(tkern.tensor([1.23456])) == _expected(torch.tensor([1.23456]))
    finally:
        tkern.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
