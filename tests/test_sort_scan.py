"""sort, argsort, topk, cumsum and cumprod against torch: values and indices (stable sorts, so ties
compare exactly), NaN's place, dtypes, views as inputs, rows longer than a kernel's block, gradients
and node names, torch's refusals."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array
from tkern.ops import triton_rows

SHAPES_AND_DIMS = [((7,), 0), ((4, 9), 1), ((4, 9), 0), ((3, 5, 6), 1), ((3, 5, 6), -1), ((), 0), ((0, 4), 1),
                   ((5, 0), 1), ((1, 1), 0)]


@pytest.fixture
def small_blocks(monkeypatch):
    """Kernel blocks smaller than the rows, to reach the multi-block paths at small sizes."""
    monkeypatch.setattr(triton_rows, "SCAN_BLOCK", 4)
    monkeypatch.setattr(triton_rows, "SORT_IN_BLOCK_MAX", 8)
    monkeypatch.setattr(triton_rows, "SORT_BLOCK_I", 4)
    monkeypatch.setattr(triton_rows, "SORT_BLOCK_J", 8)


@pytest.mark.parametrize("shape, dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, descending, device):
    check_op([shape], lambda x: torch.sort(x, dim=dim, descending=descending, stable=True),
             lambda x: tkern.sort(x, dim=dim, descending=descending, stable=True), device=device)
    check_op([shape], lambda x: x.sort(dim, descending), device=device)
    check_op([shape], lambda x: torch.argsort(x, dim=dim, descending=descending, stable=True),
             lambda x: tkern.argsort(x, dim=dim, descending=descending, stable=True), device=device)


@pytest.mark.parametrize("dtype", [tkern.int32, tkern.int64, tkern.uint8, tkern.bool, tkern.float16, tkern.float64])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("length", [7, 21])
def test_sort_with_ties_is_stable(dtype, descending, length, device, small_blocks):
    """Few distinct values in rows that fit a block (7) and rows sorted by rank (21): equal elements
    keep their order."""
    check_op([(3, length)], lambda x: torch.sort(x, descending=descending, stable=True),
             lambda x: tkern.sort(x, descending=descending, stable=True), device=device, dtype=dtype, low=0, high=4)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_and_infinities(descending, device, small_blocks):
    values = np.array([[1.0, np.nan, -np.inf, 0.0, np.inf, np.nan, -0.0, 2.5, -1.0, 0.0]])
    for dtype in (tkern.float32, tkern.float64):
        t, k = make_pair(values, device, dtype)
        for row in (slice(None), slice(0, 8)):  # (by rank; in one block)
            assert_same(torch.sort(t[:, row], descending=descending, stable=True),
                        tkern.sort(k[:, row], descending=descending, stable=True))


def test_sort_views_and_named_tuple(device, small_blocks):
    check_op([(6, 9)], lambda x: x.t()[1::2].sort(0), device=device)
    check_op([(1, 9)], lambda x: x.expand(3, 9).sort(1, True), device=device)
    check_op([(4, 7)], lambda x: x[1:, 2:].sort(), device=device)
    t, k = make_pair(random_array((2, 3), seed=1), device)
    expected, result = t.sort(), k.sort()
    assert type(result).__name__ == "sort" and isinstance(result, tuple)
    assert_same(expected.values, result.values)
    assert_same(expected.indices, result[1])
    values, indices = result
    assert_same(expected.indices, indices)
    assert repr(k.cpu().sort()) == repr(expected).replace("torch.", "tkern.")
    assert type(k.topk(1)).__name__ == "topk"


def test_sort_out(device):
    t, k = make_pair(random_array((3, 4), seed=2), device)
    t_out = (torch.empty(0), torch.empty(0, dtype=torch.int64))
    k_out = (tkern.empty(0, device=device), tkern.empty(0, dtype=tkern.int64, device=device))
    torch.sort(t, 0, out=t_out)
    result = tkern.sort(k, 0, out=k_out)
    assert result.values is k_out[0] and result.indices is k_out[1]
    assert_same(t_out, k_out)


@pytest.mark.parametrize("shape, dim, k", [((9,), 0, 3), ((4, 9), 1, 9), ((4, 9), 0, 1), ((3, 5, 6), 1, 2),
                                           ((4, 9), -1, 0), ((), 0, 1), ((), -1, 0)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(shape, dim, k, largest, device, small_blocks):
    check_op([shape], lambda x: torch.topk(x, k, dim, largest), lambda x: tkern.topk(x, k, dim, largest), device=device)
    check_op([shape], lambda x: x.topk(k, dim=dim, largest=largest, sorted=True), device=device, dtype=tkern.int32,
             low=-100, high=100)


def test_topk_unsorted_and_default_dim(device):
    t, k = make_pair(random_array((3, 8), seed=3), device)
    expected, result = torch.topk(t, 3, sorted=False), tkern.topk(k, 3, sorted=False)
    # (torch leaves the order of an unsorted topk unspecified: compare as sets)
    assert_same(expected.values.sort(1).values, result.values.sort(1).values)
    assert_same(torch.topk(t, 2), tkern.topk(k, 2))
    t_out = (torch.empty(0), torch.empty(0, dtype=torch.int64))
    k_out = (tkern.empty(0, device=device), tkern.empty(0, dtype=tkern.int64, device=device))
    torch.topk(t, 2, 0, out=t_out)
    tkern.topk(k, 2, 0, out=k_out)
    assert_same(t_out, k_out)


def test_sort_and_topk_gradients(device):
    check_grad([(4, 6)], lambda x: x.sort(1)[0], device=device)
    check_grad([(4, 6)], lambda x: x.sort(0, descending=True).values, device=device)
    check_grad([(4, 6)], lambda x: x.t().topk(2)[0], device=device)
    check_grad([(4, 6)], lambda x: x.topk(3, 0, largest=False).values, device=device)
    check_grad([()], lambda x: x.sort().values * 2, device=device)
    x = tkern.ones(3, device=device, requires_grad=True)
    values, indices = x.sort()
    assert values.grad_fn.name() == "SortBackward0" and not indices.requires_grad
    assert x.topk(2).values.grad_fn.name() == "TopkBackward0"


def test_sort_and_topk_refusals(device):
    t, k = make_pair(random_array((3, 4), seed=4), device)
    cases = [(lambda lib, x: x.sort(3), "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
             (lambda lib, x: x.topk(5), "selected index k out of range"),
             (lambda lib, x: x.topk(-1), "selected index k out of range"),
             (lambda lib, x: lib.topk(lib.ones(()), 2), "selected index k out of range"),
             (lambda lib, x: (x > 0).topk(1), "topk does not support bool dtypes on CPU"),
             (lambda lib, x: lib.argsort(x, 1, True, True, True), None)]
    for case, message in cases:
        error = check_error(lambda: case(torch, t), lambda: case(tkern, k))
        if message is not None:
            assert str(error) == message


@pytest.mark.parametrize("shape, dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans(shape, dim, name, device, small_blocks):
    check_op([shape], lambda x: getattr(torch, name)(x, dim), lambda x: getattr(tkern, name)(x, dim), device=device,
             low=0.5, high=1.5)
    check_op([shape], lambda x: getattr(x, name)(dim=dim), device=device, dtype=tkern.float64)


@pytest.mark.parametrize("dtype", [tkern.int32, tkern.uint8, tkern.bool, tkern.int64, tkern.float16, tkern.bfloat16])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scan_dtypes(dtype, name, device, small_blocks):
    """Integers and bool give int64; 16-bit floats accumulate in float32."""
    # multiples of 1/16: exact in every dtype, so both libraries start from the same values
    values = np.round(random_array((3, 13), tkern.float32, seed=10, low=0, high=2) * 16) / 16
    t, k = make_pair(values, device, dtype)
    tolerance = 1e-2 if dtype in (tkern.float16, tkern.bfloat16) else 1e-5
    assert_same(getattr(t, name)(1), getattr(k, name)(1), atol=tolerance, rtol=tolerance)
    assert_same(getattr(t, name)(0, dtype=torch.float64), getattr(k, name)(0, dtype=tkern.float64))


def test_scan_views_in_place_and_out(device, small_blocks):
    check_op([(6, 9)], lambda x: x.t()[1::2].cumsum(1), device=device)
    check_op([(1, 9)], lambda x: x.expand(3, 9).cumprod(0), device=device, low=0.5, high=1.5)
    for name in ("cumsum", "cumprod"):
        t, k = make_pair(random_array((3, 8), seed=5), device)
        getattr(t[:, 1:], name + "_")(1)
        getattr(k[:, 1:], name + "_")(1)
        assert_same(t, k)
        t, k = make_pair(random_array((3, 8), tkern.int32, seed=6), device, tkern.int32)
        getattr(t, name + "_")(0)
        assert getattr(k, name + "_")(0) is k
        assert_same(t, k)
        for out_dtype in ("int64", "float64", "int16"):  # (torch scans in out's dtype)
            t_out = torch.empty(0, dtype=getattr(torch, out_dtype))
            k_out = tkern.empty(0, dtype=getattr(tkern, out_dtype), device=device)
            getattr(torch, name)(t, 1, out=t_out)
            assert getattr(tkern, name)(k, 1, out=k_out) is k_out
            assert_same(t_out, k_out)


def test_scan_gradients(device):
    check_grad([(4, 6)], lambda x: x.cumsum(1), device=device)
    check_grad([(4, 6)], lambda x: x.t().cumsum(1, dtype=_lib(x).float64), device=device)
    check_grad([(4, 6)], lambda x: x.cumprod(0), device=device, low=0.5, high=1.5)
    check_grad([()], lambda x: x.cumprod(0) * x.cumsum(-1), device=device)
    x = tkern.ones(3, device=device, requires_grad=True)
    assert x.cumsum(0).grad_fn.name() == "CumsumBackward0"
    assert x.cumprod(0).grad_fn.name() == "CumprodBackward0"


@pytest.mark.parametrize("zeros", [[2], [0, 3], [5], [1, 2, 4]])
def test_cumprod_gradient_with_zeros(zeros, device):
    """torch's cumprod_backward where the input holds zeros (out / x would divide by them)."""
    values = random_array((2, 6), seed=7, low=0.5, high=2.0)
    values[:, zeros] = 0.0
    t, k = make_pair(values, device)
    t.requires_grad_()
    k.requires_grad_()
    upstream = random_array((2, 6), seed=8)
    t.cumprod(1).backward(torch.from_numpy(upstream))
    k.cumprod(1).backward(tkern.tensor(upstream, device=device))
    assert_same(t.grad, k.grad)


def test_cumprod_double_backward_with_zeros(device):
    values = random_array((5,), seed=9, low=0.5, high=2.0)
    values[[1, 3]] = 0.0
    t, k = make_pair(values, device)
    t.requires_grad_()
    k.requires_grad_()
    (grad,) = torch.autograd.grad(t.cumprod(0).sum(), t, create_graph=True)
    (k_grad,) = tkern.autograd.grad(k.cumprod(0).sum(), k, create_graph=True)
    assert_same(grad, k_grad)
    assert_same(torch.autograd.grad(grad.sum(), t)[0], tkern.autograd.grad(k_grad.sum(), k)[0])


def test_scan_refusals(device):
    t, k = make_pair(random_array((3, 4), seed=9), device)
    t.requires_grad_()
    k.requires_grad_()
    cases = [(lambda lib, x: x.cumsum(5), "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
             (lambda lib, x: x.cumsum(0, dtype=lib.int64), "Autograd not support dtype: Long"),
             (lambda lib, x: lib.cumsum(x), None),
             (lambda lib, x: lib.cumprod(x.detach(), 1, dtype=lib.float64, out=lib.empty(0)),
              "Expected out tensor to have dtype double, but got float instead")]
    for case, message in cases:
        error = check_error(lambda: case(torch, t), lambda: case(tkern, k))
        if message is not None:
            assert str(error) == message


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


_COMPILE_ROW_KERNELS = r'''
import json
for dtype in (F32, F64, F16, BF16, I64, I32, U8, BOOL):
    x = make((1501,), dtype).view_as((5, 300), (300, 1), 1)  # (contiguous rows at an offset)
    for descending in (False, True):
        for rows in (x, make((2, 5000), dtype)):  # (one block; by rank)
            backend.sort(make(rows.shape, dtype), make(rows.shape, I64), rows, descending)
    if dtype in (F32, F64, F16, BF16, I64):
        for op in ("sum", "prod"):
            backend.scan(op, make(x.shape, dtype), x)
    if dtype.is_floating_point:
        backend.unary("erf", x, dtype, dtype)
print(json.dumps(collections.Counter(compiled)))
'''


def test_row_kernels_and_erf_compile_for_sm90():
    """The sort and scan kernels, and erf, compile for a real GPU (sm_90) in every dtype they take
    (test_gpu_compile's compile-only backend: nothing runs)."""
    from test_gpu_compile import _COMPILE_EVERY_FAMILY, ROOT
    preamble = _COMPILE_EVERY_FAMILY.split("def families():")[0]
    script = f"BENCH = {str(ROOT / 'bench')!r}\n" + preamble + _COMPILE_ROW_KERNELS
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    assert json.loads(out.stdout.splitlines()[-1]) == {"sort_in_block_kernel": 12, "sort_kernel": 20, "scan_kernel": 10,
                                                      "unary_kernel": 4}
