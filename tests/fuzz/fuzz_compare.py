"""The fuzzer's comparison layer: run one case in torch and in tkern, then hold tkern to torch's
outcome: the same exception class when torch raises (and an unchanged target for a refused in-place
op), otherwise the same structure, shapes, dtypes, requires_grad, values (dtype-aware tolerances, NaN
and inf positions, signed zeros where torch's are exact) and, after one backward with the same random
upstream gradient, the same gradients."""
from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import reject

import tkern
from helpers import TORCH_DTYPES, to_numpy
from fuzz_inputs import TensorPair

TKERN_DTYPES = {t: k for k, t in TORCH_DTYPES.items()}

# relative tolerance of one rounding in the dtype, for ops that compute each element once ("pointwise")
POINTWISE_RTOL = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2, torch.float32: 1e-6, torch.float64: 1e-13}
# ops that sum many terms: relative to the magnitude of the terms, not of the result
COMPOSITE_RTOL = {torch.float16: 1e-2, torch.bfloat16: 6e-2, torch.float32: 2e-5, torch.float64: 1e-11}


@dataclass(frozen=True)
class Tolerance:
    """``kind`` "pointwise" or "composite"; ``scale``: the magnitude of the terms a composite result sums."""
    kind: str = "pointwise"
    scale: float = 1.0
    signed_zeros: bool = False
    computed_in: torch.dtype | None = None  # a narrower dtype the values were computed in (out= of a wider one)

    def working(self, dtype: torch.dtype) -> torch.dtype:
        """The less precise of the result's dtype and the one it was computed in."""
        if self.computed_in in POINTWISE_RTOL and dtype in POINTWISE_RTOL and \
                POINTWISE_RTOL[self.computed_in] > POINTWISE_RTOL[dtype]:
            return self.computed_in
        return dtype

    def overflows(self, dtype: torch.dtype) -> bool:
        """Whether a composite result's terms can pass the dtype's largest finite value."""
        return self.kind == "composite" and self.scale >= torch.finfo(self.working(dtype)).max

    def bounds(self, dtype: torch.dtype) -> tuple[float, float]:
        dtype = self.working(dtype)
        if self.kind == "pointwise":
            return POINTWISE_RTOL[dtype], 1e-30 if dtype is not torch.float16 else 1.2e-7
        rtol = COMPOSITE_RTOL[dtype]
        return rtol, rtol * self.scale


def finite_magnitude(*pairs: TensorPair) -> float:
    """The largest finite magnitude among the pairs' values (at least 1): the scale of a product's terms."""
    return max((np.abs(np.nan_to_num(p.values.astype(np.float64), posinf=0, neginf=0)).max(initial=1.0)
                for p in pairs), default=1.0)


def builtin_class(error: BaseException) -> type:
    """torch's error classes without its own subclasses (a _LinAlgError is a RuntimeError)."""
    for cls in type(error).__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


def outcome(function: Callable, *args):
    try:
        return function(*args), None
    except Exception as error:  # the class is what gets compared
        return None, error


def tkern_outcome(function: Callable, device: str):
    """outcome, synchronising 'cuda' before the call counts as returned: an index a kernel found out
    of range raises at the next synchronisation (README, Guarantees), and belongs to this call."""
    def call():
        result = function()
        if device == "cuda":
            tkern.cuda.synchronize()
        return result
    return outcome(call)


def snapshot(tensor: tkern.Tensor) -> np.ndarray:
    return to_numpy(tensor).copy()


def assert_unchanged(before: np.ndarray, target: tkern.Tensor, context: str) -> None:
    after = to_numpy(target)
    assert before.tobytes() == after.tobytes() or np.array_equal(before, after, equal_nan=True), \
        f"{context}: a refused in-place op changed its target\nbefore {before}\nafter  {after}"


def assert_raised_alike(torch_error: BaseException, tkern_result, tkern_error, context: str) -> None:
    if "INTERNAL ASSERT FAILED" in str(torch_error):
        # a bug in torch (pow(True, x).backward() in 2.13) specifies nothing: the case is dropped
        reject()
    expected = builtin_class(torch_error)
    assert tkern_error is not None, \
        f"{context}: torch raised {expected.__name__} ({str(torch_error)[:200]}); tkern returned {tkern_result!r}"
    assert isinstance(tkern_error, expected), \
        f"{context}: torch raised {expected.__name__} ({str(torch_error)[:160]}); " \
        f"tkern raised {type(tkern_error).__name__}: {str(tkern_error)[:200]}"


def assert_values(expected: torch.Tensor, actual: tkern.Tensor, tolerance: Tolerance, context: str) -> None:
    e, a = to_numpy(expected), to_numpy(actual)
    if expected.dtype in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64):
        np.testing.assert_array_equal(a, e, err_msg=context)
        return
    e64, a64 = e.astype(np.float64), a.astype(np.float64)
    if tolerance.overflows(expected.dtype):
        # the terms can overflow the dtype part-way: whether an element ends inf, nan or finite then
        # depends on the order (and width) of accumulation, which the README says differs from torch's
        # (torch's float16 prod overflows where a float32 accumulator does not; inf - inf in a matmul
        # row depends on which partial sums overflow first): compare the elements finite on both sides
        both = np.isfinite(e64) & np.isfinite(a64)
        rtol, atol = tolerance.bounds(expected.dtype)
        np.testing.assert_allclose(a64[both], e64[both], rtol=rtol, atol=atol, err_msg=context)
        return
    nan_e, nan_a = np.isnan(e64), np.isnan(a64)
    assert np.array_equal(nan_e, nan_a), f"{context}: NaN positions differ\ntorch {e}\ntkern {a}"
    inf_e = np.isinf(e64)
    assert np.array_equal(e64[inf_e], a64[inf_e]) and not np.isinf(a64[~inf_e]).any(), \
        f"{context}: infinities differ\ntorch {e}\ntkern {a}"
    finite = ~(nan_e | inf_e)
    rtol, atol = tolerance.bounds(expected.dtype)
    np.testing.assert_allclose(a64[finite], e64[finite], rtol=rtol, atol=atol, err_msg=context)
    if tolerance.signed_zeros:
        zeros = finite & (e64 == 0)
        assert np.array_equal(np.signbit(e64[zeros]), np.signbit(a64[zeros])), \
            f"{context}: signs of zeros differ\ntorch {e}\ntkern {a}"


def assert_same_result(expected, actual, tolerance: Tolerance, context: str, device: str) -> None:
    """Structure, types, shapes, dtypes, requires_grad and values of a result."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), \
            f"{context}: torch returned {len(expected)} results, tkern {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same_result(e, a, tolerance, f"{context} [result {i}]", device)
        return
    if not isinstance(expected, torch.Tensor):
        assert type(actual) is type(expected), f"{context}: {type(expected)} != {type(actual)}"
        if isinstance(expected, builtins.float):
            np.testing.assert_allclose(actual, expected, rtol=1e-6, equal_nan=True, err_msg=context)
        else:
            assert actual == expected, f"{context}: {expected!r} != {actual!r}"
        return
    assert isinstance(actual, tkern.Tensor), f"{context}: torch returned a tensor, tkern {type(actual).__name__}"
    assert tuple(actual.shape) == tuple(expected.shape), \
        f"{context}: shape torch {tuple(expected.shape)} tkern {tuple(actual.shape)}"
    assert TORCH_DTYPES[actual.dtype] is expected.dtype, f"{context}: dtype torch {expected.dtype} tkern {actual.dtype}"
    assert actual.device.type == device, f"{context}: result on {actual.device}, not {device}"
    assert actual.requires_grad == expected.requires_grad, \
        f"{context}: requires_grad torch {expected.requires_grad} tkern {actual.requires_grad}"
    assert_values(expected, actual, tolerance, context)


def first_differentiable(result):
    """The output backward starts from: the result, or the first of several (max's values)."""
    if isinstance(result, (tuple, list)):
        return result[0] if result else None
    return result


def upstream_for(expected: torch.Tensor, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, tuple(expected.shape))


def compare_backward(expected, actual, leaves: Sequence[tuple[torch.Tensor, tkern.Tensor]], device: str,
                     context: str, seed: int = 0, scale: float = 1.0) -> None:
    """One backward with the same random upstream gradient; then every leaf's gradient."""
    e_out, a_out = first_differentiable(expected), first_differentiable(actual)
    if not isinstance(e_out, torch.Tensor) or not e_out.requires_grad:
        return
    upstream = upstream_for(e_out, seed)
    e_up = torch.from_numpy(upstream).to(e_out.dtype)
    a_up = tkern.tensor(upstream, device=device).to(TKERN_DTYPES[e_out.dtype])
    _, torch_error = outcome(lambda: e_out.backward(e_up))
    _, tkern_error = tkern_outcome(lambda: a_out.backward(a_up), device)
    if torch_error is not None:
        assert_raised_alike(torch_error, None, tkern_error, f"{context} backward")
        return
    assert tkern_error is None, f"{context}: backward raised {type(tkern_error).__name__}: {tkern_error}"
    for i, (t, k) in enumerate(leaves):
        if not t.requires_grad:
            continue
        where = f"{context}: gradient of input {i}"
        assert (k.grad is None) == (t.grad is None), \
            f"{where}: torch has {'none' if t.grad is None else 'one'}, tkern {'none' if k.grad is None else 'one'}"
        if t.grad is not None:
            magnitude = float(np.nanmax(np.abs(np.where(np.isinf(g := to_numpy(t.grad).astype(np.float64)), 0, g)),
                                        initial=1.0))
            # (a gradient is worked in the output's dtype before it is cast to the input's: x_bf16.clamp_(min=b_f32)
            # gives b a bfloat16-rounded sum)
            assert_same_result(t.grad, k.grad, Tolerance("composite", scale * max(magnitude, 1.0),
                                                         computed_in=e_out.dtype), where, device)


def run_case(device: str, *args, **kwargs) -> None:
    """_run_case, or with TKERN_FUZZ_REPORT=path, a survey: each mismatch is appended to the file
    and the run goes on (no shrinking), to list the distinct defects at once."""
    report = os.environ.get("TKERN_FUZZ_REPORT")
    if not report:
        return _run_case(device, *args, **kwargs)
    try:
        _run_case(device, *args, **kwargs)
    except AssertionError as mismatch:
        with open(report, "a") as log:
            log.write(f"[{device}] " + " ".join(str(mismatch).split())[:2000] + "\n")


def _run_case(device: str, torch_fn: Callable, tkern_fn: Callable, pairs: Sequence[TensorPair] = (),
             tolerance: Tolerance = Tolerance(), context: str = "", inplace_target: TensorPair | None = None,
             backward: bool = True, seed: int = 0, extra_leaves: Sequence[tuple] = ()) -> None:
    """The whole differential check of one case. ``torch_fn`` and ``tkern_fn`` take no arguments:
    they close over the pairs' tensors (often one lambda taking the library module serves both)."""
    context = context + " | inputs: " + "; ".join(p.describe() for p in pairs)
    before = snapshot(inplace_target.tkern) if inplace_target is not None else None
    expected, torch_error = outcome(torch_fn)
    actual, tkern_error = tkern_outcome(tkern_fn, device)
    if torch_error is not None:
        assert_raised_alike(torch_error, actual, tkern_error, context)
        if inplace_target is not None:
            assert_unchanged(before, inplace_target.tkern, context)
        return
    assert tkern_error is None, \
        f"{context}: torch returned; tkern raised {type(tkern_error).__name__}: {str(tkern_error)[:300]}"
    assert_same_result(expected, actual, tolerance, context, device)
    if inplace_target is not None:
        assert_same_result(inplace_target.torch, inplace_target.tkern, tolerance, context + " (the target)", device)
    if backward:
        leaves = [(p.torch_leaf, p.tkern_leaf) for p in pairs] + list(extra_leaves)
        compare_backward(expected, actual, leaves, device, context, seed, tolerance.scale)
