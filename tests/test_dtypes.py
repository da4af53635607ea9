import itertools
import os

import numpy as np
import pytest
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same

ALL = list(TORCH_DTYPES)


@pytest.mark.parametrize("a,b", list(itertools.product(ALL, ALL)))
def test_promote_types_matches_torch(a, b):
    assert TORCH_DTYPES[tkern.promote_types(a, b)] is torch.promote_types(TORCH_DTYPES[a], TORCH_DTYPES[b])


SCALARS = [True, 3, 2.5]


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_result_type_with_python_scalars(dtype, scalar, zero_dim):
    shape = () if zero_dim else (2,)
    t = torch.ones(shape, dtype=TORCH_DTYPES[dtype])
    k = tkern.ones(shape, dtype=dtype)
    assert TORCH_DTYPES[tkern.result_type(k, scalar)] is torch.result_type(t, scalar)


@pytest.mark.parametrize("a,b", list(itertools.product(ALL, ALL)))
def test_zero_dim_tensors_join_only_from_a_higher_category(a, b):
    t = torch.result_type(torch.ones(2, dtype=TORCH_DTYPES[a]), torch.ones((), dtype=TORCH_DTYPES[b]))
    k = tkern.result_type(tkern.ones(2, dtype=a), tkern.ones((), dtype=b))
    assert TORCH_DTYPES[k] is t


def test_aliases_and_repr():
    assert tkern.float is tkern.float32 and tkern.double is tkern.float64 and tkern.half is tkern.float16
    assert tkern.long is tkern.int64 and tkern.int is tkern.int32
    assert repr(tkern.float64) == "tkern.float64"
    assert tkern.float32.is_floating_point and not tkern.int64.is_floating_point
    assert tkern.float16.itemsize == 2


def test_default_dtype():
    assert tkern.get_default_dtype() is tkern.float32
    try:
        tkern.set_default_dtype(tkern.float64)
        assert tkern.tensor([1.5]).dtype is tkern.float64
        assert (tkern.ones(2, dtype=tkern.int64) / 2).dtype is tkern.float64
    finally:
        tkern.set_default_dtype(tkern.float32)
    assert (tkern.ones(2, dtype=tkern.int64) / 2).dtype is tkern.float32
    with pytest.raises(TypeError):
        tkern.set_default_dtype(tkern.int64)


def test_int_true_division_gives_default_float(device):
    k = tkern.tensor([3, 4], device=device) / tkern.tensor([2, 8], device=device)
    assert_same(torch.tensor([3, 4]) / torch.tensor([2, 8]), k)


def test_bfloat16_on_cpu_roundtrip():
    values = np.array([1.5, -2.25, 3.0], dtype=np.float32)
    k = tkern.tensor(values).to(tkern.bfloat16)
    assert k.dtype is tkern.bfloat16 and k.element_size() == 2
    assert k.float().tolist() == [1.5, -2.25, 3.0]


@pytest.mark.parametrize("target", ["uint8", "int8", "int16", "int32", "int64"])
def test_bfloat16_into_integers_converts_like_float32(target, device):
    """Issue 14 (long profile): ml_dtypes saturates bfloat16 into integers (-96 into uint8 was 0);
    torch converts through float, as float32 converts (160)."""
    if device == "cuda" and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("the interpreter truncates float32 to bfloat16 instead of rounding")
    values = [-96.0, -1.5, -0.5, 255.7, 256.5, 300.0, -300.0, 1e10, -1e10, -129.9, 2.5]
    if device != "cpu":  # (out of range, C leaves the conversion undefined: a GPU saturates)
        info = torch.iinfo(getattr(torch, target))
        values = [v for v in values if info.min <= v < info.max]
    expected = torch.tensor(values).to(torch.bfloat16).to(getattr(torch, target))
    actual = tkern.tensor(values, device=device).to(tkern.bfloat16).to(getattr(tkern, target))
    assert_same(expected, actual)
