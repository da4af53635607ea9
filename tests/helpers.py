"""One comparison helper for the whole suite, in the spirit of tinygrad's helper_test_op:
the same seeded random inputs go to torch and to tkern, and values, shapes and dtypes must agree."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import tkern

TORCH_DTYPES = {getattr(tkern, name): getattr(torch, name) for name in (
    "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")}


# every dtype, and those numpy has (no bfloat16)
DTYPES = list(TORCH_DTYPES)
NUMPY_DTYPES = [d for d in DTYPES if d is not tkern.bfloat16]

# (name, base shape, view): the awkward layouts, applied alike to torch and tkern tensors (and numpy arrays)
LAYOUTS = [
    ("contiguous", (3, 4), lambda x: x),
    ("transposed", (3, 4), lambda x: x.T),
    ("stepped", (5, 6), lambda x: x[::2, 1::3]),
    ("offset", (4, 5), lambda x: x[1:, 2:]),
    ("zero-d", (3, 4), lambda x: x[1, 2, ...]),
    ("one element", (3, 4), lambda x: x[2:3, 1:2]),
    ("empty", (3, 4), lambda x: x[:, 4:]),
]
LAYOUT_IDS = [layout[0] for layout in LAYOUTS]


def random_array(shape, dtype=tkern.float32, seed: int = 0, low: float = -3.0, high: float = 3.0) -> np.ndarray:
    """Seeded random data of a dtype, never all zeros."""
    rng = np.random.default_rng(seed)
    if dtype is tkern.bool:
        return rng.random(shape) > 0.5
    if dtype.is_floating_point:
        return rng.uniform(low, high, shape).astype(np.float32 if dtype is tkern.bfloat16 else dtype.numpy)
    lo = max(int(low), 0) if dtype is tkern.uint8 else int(low)
    return rng.integers(lo, max(int(high), lo + 1) + 1, shape).astype(dtype.numpy)


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype is torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    if x.dtype is tkern.bfloat16:
        x = x.float()
    return np.asarray(x.detach().cpu().numpy())


def assert_same(expected, actual, atol: float = 1e-5, rtol: float = 1e-5) -> None:
    """Compare a torch result (tensor, number, or nested tuple/list of them) with tkern's."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), f"expected a sequence, got {type(actual).__name__}"
        assert len(expected) == len(actual)
        for e, a in zip(expected, actual):
            assert_same(e, a, atol, rtol)
        return
    if not isinstance(expected, torch.Tensor):
        assert type(expected) is type(actual), f"{type(expected)} != {type(actual)}"
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
        return
    assert isinstance(actual, tkern.Tensor), f"expected a tkern.Tensor, got {type(actual).__name__}"
    assert tuple(actual.shape) == tuple(expected.shape), f"shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert TORCH_DTYPES[actual.dtype] is expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    e, a = to_numpy(expected), to_numpy(actual)
    if e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, equal_nan=True)


def make_pair(values: np.ndarray, device: str, dtype=None):
    """The same values as a torch CPU tensor and a tkern tensor on ``device``."""
    t = torch.from_numpy(np.array(values))
    k = tkern.tensor(np.array(values), device=device)
    if dtype is not None:
        t = t.to(TORCH_DTYPES[dtype])
        k = k.to(dtype)
    return t, k


def check_op(shapes, torch_fn, tkern_fn=None, device: str = "cpu", dtype=tkern.float32, low=-3.0, high=3.0,
             atol=1e-5, rtol=1e-5, seed: int = 0, dtypes=None):
    """Run torch_fn on torch tensors and tkern_fn (default: the same function) on tkern tensors made
    from the same random data, then compare results; ``dtypes`` gives one dtype per input."""
    tkern_fn = tkern_fn or torch_fn
    dtypes = dtypes or [dtype] * len(shapes)
    torch_args, tkern_args = [], []
    for i, (shape, d) in enumerate(zip(shapes, dtypes)):
        values = random_array(shape, d, seed + i, low, high)
        t, k = make_pair(values, device, d)
        torch_args.append(t)
        tkern_args.append(k)
    expected = torch_fn(*torch_args)
    actual = tkern_fn(*tkern_args)
    assert_same(expected, actual, atol, rtol)
    return expected, actual


def check_grad(shapes, torch_fn, tkern_fn=None, device: str = "cpu", dtype=tkern.float32, low=-3.0, high=3.0,
               atol=1e-5, rtol=1e-4, seed: int = 0, grad_inputs=None):
    """check_op for gradients: the forward values must agree, then, for the same random upstream
    gradient, the gradient of every input. ``grad_inputs`` lists which inputs require grad (default:
    all floating ones)."""
    tkern_fn = tkern_fn or torch_fn
    torch_args, tkern_args = [], []
    for i, shape in enumerate(shapes):
        values = random_array(shape, dtype, seed + i, low, high)
        t, k = make_pair(values, device, dtype)
        if grad_inputs is None or i in grad_inputs:
            t.requires_grad_()
            k.requires_grad_()
        torch_args.append(t)
        tkern_args.append(k)
    expected = torch_fn(*torch_args)
    actual = tkern_fn(*tkern_args)
    assert_same(expected, actual, atol, rtol)
    assert actual.requires_grad and (actual.grad_fn is None) == (expected.grad_fn is None)
    upstream = random_array(tuple(expected.shape), dtype, seed + 100, 0.5, 1.5)
    expected.backward(torch.from_numpy(np.array(upstream)).to(expected.dtype))
    actual.backward(tkern.tensor(np.array(upstream), device=device).to(actual.dtype))
    for i, (t, k) in enumerate(zip(torch_args, tkern_args)):
        if t.requires_grad:
            assert k.grad is not None, f"no gradient for input {i}"
            assert_same(t.grad, k.grad, atol, rtol)
    return expected, actual


def check_error(torch_fn, tkern_fn=None, torch_args=(), tkern_args=()):
    """Both libraries raise the same exception class."""
    tkern_fn = tkern_fn or torch_fn
    try:
        torch_fn(*torch_args)
    except Exception as torch_error:
        expected = type(torch_error)
    else:
        raise AssertionError("torch raised nothing")
    try:
        tkern_fn(*tkern_args)
    except Exception as tkern_error:
        assert type(tkern_error) is expected or isinstance(tkern_error, expected), \
            f"tkern raised {type(tkern_error).__name__}: {tkern_error}; torch raised {expected.__name__}"
        return tkern_error
    raise AssertionError(f"tkern raised nothing; torch raised {expected.__name__}")


def torch_index_error_pattern(fn) -> str:
    """torch's IndexError message for fn(), as a pattern for pytest.raises(match=...)."""
    with pytest.raises(IndexError) as caught:
        fn()
    return re.escape(str(caught.value))
