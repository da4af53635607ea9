"""addmm, baddbmm (their scaling and added input applied as the product is written, one kernel on
'cuda'), Linear's use of them, and einsum, against torch."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array
from tkern.ops import triton_matmul
from tkern.ops.backend import backend_for

ADDMM_SHAPES = [((5,), (3, 4), (4, 5)), ((3, 1), (3, 4), (4, 5)), ((), (3, 4), (4, 5)), ((3, 5), (3, 4), (4, 5)),
                ((1, 33), (17, 20), (20, 33)), ((17, 33), (17, 20), (20, 33)), ((1, 5), (1, 0), (0, 5)),
                ((0, 5), (0, 4), (4, 5)), ((1, 1), (1, 1), (1, 1)), ((7,), (2, 9), (9, 7))]
SCALES = [(1, 1), (0.5, 2), (2, -1.5), (0, 1)]


@pytest.mark.parametrize("shapes", ADDMM_SHAPES, ids=[str(s) for s in ADDMM_SHAPES])
@pytest.mark.parametrize("beta,alpha", SCALES)
def test_addmm(shapes, beta, alpha, device):
    check_grad(list(shapes), lambda c, a, b: torch.addmm(c, a, b, beta=beta, alpha=alpha),
               lambda c, a, b: tkern.addmm(c, a, b, beta=beta, alpha=alpha), device=device, atol=1e-4)


BADDBMM_SHAPES = [((5,), (2, 3, 4), (2, 4, 5)), ((2, 3, 5), (2, 3, 4), (2, 4, 5)), ((3, 1), (2, 3, 4), (2, 4, 5)),
                  ((1, 1, 9), (3, 17, 5), (3, 5, 9)), ((2, 1, 1), (2, 3, 0), (2, 0, 1)),
                  ((0, 3, 2), (0, 3, 4), (0, 4, 2))]


@pytest.mark.parametrize("shapes", BADDBMM_SHAPES, ids=[str(s) for s in BADDBMM_SHAPES])
@pytest.mark.parametrize("beta,alpha", SCALES[:3])
def test_baddbmm(shapes, beta, alpha, device):
    check_grad(list(shapes), lambda c, a, b: torch.baddbmm(c, a, b, beta=beta, alpha=alpha),
               lambda c, a, b: tkern.baddbmm(c, a, b, beta=beta, alpha=alpha), device=device, atol=1e-4)


def test_beta_zero_ignores_the_input_nan_and_all(device):
    nan = np.full((3, 5), np.nan, np.float32)
    tc, kc = make_pair(nan, device)
    ta, ka = make_pair(random_array((3, 4)), device)
    tb, kb = make_pair(random_array((4, 5), seed=1), device)
    assert_same(torch.addmm(tc, ta, tb, beta=0), tkern.addmm(kc, ka, kb, beta=0))
    assert_same(torch.baddbmm(tc, ta[None], tb[None], beta=0, alpha=2),
                tkern.baddbmm(kc, ka[None], kb[None], beta=0, alpha=2))


def test_views_as_operands(device):
    # a transposed and stepped input, transposed operands, an expanded input and one at an offset
    check_op([(4, 6), (4, 3), (5, 4)], lambda c, a, b: c[:, ::2].t().addmm(a.t(), b[1:].t()), device=device,
             atol=1e-4)
    check_op([(1, 5), (3, 4), (4, 5)], lambda c, a, b: c.expand(3, 5).addmm(a, b), device=device, atol=1e-4)
    check_op([(20,), (3, 4), (4, 5)], lambda c, a, b: c[3:8].addmm(a, b, alpha=0.5), device=device, atol=1e-4)
    check_op([(2, 5, 3), (2, 4, 3), (2, 5, 4)],
             lambda c, a, b: c.transpose(1, 2).baddbmm(a.transpose(1, 2), b.transpose(1, 2), beta=2), device=device,
             atol=1e-4)
    check_op([(1, 3, 1), (1, 3, 4), (4, 5)], lambda c, a, b: c.baddbmm(a.expand(2, 3, 4), b.expand(2, 4, 5)),
             device=device, atol=1e-4)


@pytest.mark.parametrize("dtype", [tkern.float64, tkern.float16, tkern.bfloat16, tkern.int64, tkern.int32])
def test_dtypes(dtype, device):
    tol = 1e-5 if dtype is tkern.float64 else 3e-2
    check_op([(5,), (3, 4), (4, 5)], lambda c, a, b: c.addmm(a, b, beta=2, alpha=3), device=device, dtype=dtype,
             atol=tol, rtol=tol, low=-2, high=2)
    check_op([(3, 1), (2, 3, 4), (2, 4, 5)], lambda c, a, b: c.baddbmm(a, b, beta=3, alpha=2), device=device,
             dtype=dtype, atol=tol, rtol=tol, low=-2, high=2)


def test_method_in_place_and_out_forms(device):
    check_op([(3, 5), (3, 4), (4, 5)], lambda c, a, b: c.addmm(a, b, alpha=2), device=device, atol=1e-4)
    check_op([(3, 5), (3, 4), (4, 5)], lambda c, a, b: c.clone().addmm_(a, b, beta=0.5), device=device, atol=1e-4)
    check_op([(2, 3, 5), (2, 3, 4), (2, 4, 5)], lambda c, a, b: c.baddbmm(a, b), device=device, atol=1e-4)
    check_op([(2, 3, 5), (2, 3, 4), (2, 4, 5)], lambda c, a, b: c.clone().baddbmm_(a, b, alpha=-1), device=device,
             atol=1e-4)
    t_out, k_out = torch.empty(3, 5), tkern.empty(3, 5, device=device)
    check_op([(5,), (3, 4), (4, 5)], lambda c, a, b: torch.addmm(c, a, b, out=t_out),
             lambda c, a, b: tkern.addmm(c, a, b, out=k_out), device=device, atol=1e-4)
    t_out, k_out = torch.empty(2, 3, 5), tkern.empty(2, 3, 5, device=device)
    check_op([(5,), (2, 3, 4), (2, 4, 5)], lambda c, a, b: torch.baddbmm(c, a, b, out=t_out),
             lambda c, a, b: tkern.baddbmm(c, a, b, out=k_out), device=device, atol=1e-4)


def test_in_place_gradient(device):
    check_grad([(3, 5), (3, 4), (4, 5)], lambda c, a, b: (c * 1).addmm_(a, b, beta=2), device=device, atol=1e-4)


def test_nodes_are_torchs(device):
    for shapes, fn in (([(5,), (3, 4), (4, 5)], "addmm"), ([(5,), (2, 3, 4), (2, 4, 5)], "baddbmm")):
        expected, actual = check_grad(shapes, getattr(torch, fn), getattr(tkern, fn), device=device, atol=1e-4)
        assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__


def _modules_with_torchs_weights(device, bias: bool):
    torch_linear = torch.nn.Linear(4, 3, bias=bias)
    linear = tkern.nn.Linear(4, 3, bias=bias, device=device)
    with torch.no_grad(), tkern.no_grad():
        torch_linear.weight.copy_(torch.from_numpy(random_array((3, 4), seed=7)))
        linear.weight.copy_(tkern.tensor(random_array((3, 4), seed=7), device=device))
        if bias:
            torch_linear.bias.copy_(torch.from_numpy(random_array((3,), seed=8)))
            linear.bias.copy_(tkern.tensor(random_array((3,), seed=8), device=device))
    return torch_linear, linear


@pytest.mark.parametrize("shape", [(5, 4), (2, 5, 4), (4,), (0, 4), (2, 1, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_records_torchs_nodes(shape, bias, device):
    torch_linear, linear = _modules_with_torchs_weights(device, bias)
    expected, actual = check_grad([shape], torch_linear, linear, device=device, atol=1e-5)
    if bias or len(shape) != 1:  # (a vector times a matrix is matmul's own node, SqueezeBackward4 in torch)
        assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__
    inner = [type(n).__name__ for n, _ in expected.grad_fn.next_functions if n is not None]
    if bias and len(shape) != 2:
        assert inner[0] == "AddmmBackward0"
        assert [type(n).__name__ for n, _ in actual.grad_fn.next_functions if n is not None][0] == "AddmmBackward0"
    assert_same(torch_linear.weight.grad, linear.weight.grad, atol=1e-5)
    if bias:
        assert_same(torch_linear.bias.grad, linear.bias.grad, atol=1e-5)


def test_addmm_is_one_matmul_launch_with_nothing_after(device, monkeypatch):
    """The bias and both scales go into the product's one write: the backend's matmul gets them, and no
    elementwise, copy or fill primitive runs (on 'cuda' the Triton kernel is launched once)."""
    backend = backend_for(tkern.device(device))
    calls = []
    matmul = type(backend).matmul
    monkeypatch.setattr(type(backend), "matmul", lambda self, *a: (calls.append("matmul"), matmul(self, *a))[1])
    for primitive in ("binary", "unary", "copy", "fill"):
        def spy(self, *a, _name=primitive, _original=getattr(type(backend), primitive), **k):
            calls.append(_name)
            return _original(self, *a, **k)
        monkeypatch.setattr(type(backend), primitive, spy)
    launches = []
    launch = triton_matmul._launch
    monkeypatch.setattr(triton_matmul, "_launch", lambda *a: (launches.append(a[0]), launch(*a))[1])
    (tc, kc), (ta, ka), (tb, kb) = (make_pair(random_array(s, seed=i), device)
                                    for i, s in enumerate([(1, 5), (3, 4), (4, 5)]))
    actual = tkern.addmm(kc, ka, kb, beta=0.5, alpha=2)
    assert calls == ["matmul"]
    assert len(launches) == (1 if device == "cuda" else 0)
    assert_same(torch.addmm(tc, ta, tb, beta=0.5, alpha=2), actual, atol=1e-4)


_SM90_EPILOGUE_CODE = r'''
import json
import sys

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()
compile_only_driver.keep_kernels()
from tkern import dtypes
from tkern.device import device
from tkern.ops import triton_arguments, triton_matmul_tma
from tkern.ops.triton_backend import TritonBackend

triton_arguments.INTERPRETING = False  # autotuned tiles (the first the pruning keeps), as on the machine
triton_matmul_tma.TMA_MIN_WORK = 1  # (the persistent TMA kernel for the aligned 16-bit problem)
backend, cuda = TritonBackend(), device("cuda", 0)
facts = []
cases = [(dtype, (300, 200, 100), (0, 1)) for dtype in (dtypes.float32, dtypes.bfloat16, dtypes.float64, dtypes.int64)]
cases += [(dtypes.float32, (4, 30, 20, 10), (0, 1, 0)), (dtypes.bfloat16, (512, 512, 512), (0, 1))]
for dtype, shape, bias_strides in cases:
    *batch, m, k, n = shape
    a, b, c = (backend.empty(tuple(batch) + s, dtype, cuda) for s in ((m, k), (k, n), (m, n)))
    bias = backend.empty((max(m, n),), dtype, cuda).view_as(c.shape, bias_strides, 0)
    for epilogue in ((bias, 2, 3), (None, 2, 1)):
        compile_only_driver.kernels.clear()
        backend.matmul(c, a, b, dtype, *epilogue)
        facts += [dict(compile_only_driver.code_facts(kernel), kernel=name, case=f"{dtype.name}{shape}")
                  for name, kernel in compile_only_driver.kernels]
print(json.dumps(facts))
'''


def test_epilogue_compiles_for_sm90_in_every_matmul_kernel():
    """The interpreter accepts what Triton's compiler may refuse: addmm's epilogue is compiled for an H100
    (bench/compile_only_driver.py, nothing runs) in the portable, integer and TMA kernels, each scaled
    product one kernel that ptxas builds without register spills."""
    bench = pathlib.Path(__file__).resolve().parent.parent / "bench"
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", f"BENCH = {str(bench)!r}\n" + _SM90_EPILOGUE_CODE],
                         capture_output=True, text=True, env=env, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    facts = json.loads(out.stdout.splitlines()[-1])
    kernels = ["_dot_kernel"] * 6 + ["_int_kernel"] * 2 + ["_dot_kernel"] * 2 + ["_tma_kernel"] * 2
    assert [f["kernel"] for f in facts] == kernels, [(f["case"], f["kernel"]) for f in facts]
    assert all(f["spills"] == [0] for f in facts), [(f["case"], f["kernel"], f["spills"]) for f in facts]


ERRORS = [
    ("addmm", [(5,), (3,), (4, 5)]), ("addmm", [(5,), (3, 4), (4,)]), ("addmm", [(5,), (3, 4), (3, 5)]),
    ("addmm", [(2, 5), (3, 4), (4, 5)]), ("addmm", [(1, 1, 5), (3, 4), (4, 5)]),
    ("baddbmm", [(5,), (3, 4), (2, 4, 5)]), ("baddbmm", [(5,), (2, 3, 4), (4, 5)]),
    ("baddbmm", [(5,), (2, 3, 4), (3, 4, 5)]), ("baddbmm", [(5,), (2, 3, 4), (2, 3, 5)]),
    ("baddbmm", [(3, 3, 5), (2, 3, 4), (2, 4, 5)]),
]


@pytest.mark.parametrize("name,shapes", ERRORS, ids=[f"{n}{s}" for n, s in ERRORS])
def test_shape_errors(name, shapes, device):
    pairs = [make_pair(random_array(s, seed=i), device) for i, s in enumerate(shapes)]
    check_error(getattr(torch, name), getattr(tkern, name), [t for t, _ in pairs], [k for _, k in pairs])


@pytest.mark.parametrize("dtypes", [(tkern.float64, tkern.float32, tkern.float32),
                                    (tkern.float32, tkern.float64, tkern.float32),
                                    (tkern.float32, tkern.float32, tkern.float64), (tkern.bool,) * 3])
@pytest.mark.parametrize("name", ["addmm", "baddbmm"])
def test_dtype_errors(dtypes, name, device):
    shapes = [(5,), (3, 4), (4, 5)] if name == "addmm" else [(5,), (2, 3, 4), (2, 4, 5)]
    pairs = [make_pair(random_array(s, d, seed=i), device, d) for i, (s, d) in enumerate(zip(shapes, dtypes))]
    error = check_error(getattr(torch, name), getattr(tkern, name), [t for t, _ in pairs], [k for _, k in pairs])
    with pytest.raises(type(error)) as expected:
        getattr(torch, name)(*[t for t, _ in pairs])
    assert str(error) == str(expected.value)


def test_in_place_shape_error(device):
    pairs = [make_pair(random_array(s, seed=i), device) for i, s in enumerate([(5,), (3, 4), (4, 5)])]
    check_error(lambda c, a, b: c.addmm_(a, b), None, [t for t, _ in pairs], [k for _, k in pairs])


# ----- einsum -----

def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij,kj->ik", [(2, 3), (5, 3)]),
    ("i,i->", [(7,), (7,)]), ("i,j->ij", [(3,), (4,)]), ("bi,bi->b", [(2, 3), (2, 3)]), ("ij->ji", [(2, 3)]),
    ("ii->i", [(4, 4)]), ("ij->", [(2, 3)]), ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]), ("ba", [(2, 3)]),
    ("...i,...i->...", [(5, 1, 3), (4, 3)]), ("ij,ij->ij", [(2, 3), (1, 3)]), ("i,i", [(3,), (1,)]), ("", [()]),
    ("ij->...", [(2, 3)]), ("ijk,jl,lk->i", [(2, 3, 4), (3, 5), (5, 4)]), ("iij->ji", [(3, 3, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), ("i,j,k->ijk", [(2,), (3,), (0,)]), ("ij,jk->ik", [(2, 0), (0, 4)]),
    (" i j , j k -> k i ", [(2, 3), (3, 4)]), ("Ab,bA->", [(2, 3), (3, 2)]), ("ij,ij->", [(0, 3), (0, 3)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[f"{e!r}{s}" for e, s in EINSUM_CASES])
def test_einsum(equation, shapes, device):
    check_grad(shapes, lambda *xs: torch.einsum(equation, *xs), lambda *xs: tkern.einsum(equation, *xs), device=device,
               atol=1e-4)


def test_einsum_takes_a_list_views_and_integers(device):
    check_op([(2, 3), (3, 4)], lambda a, b: _lib(a).einsum("ij,jk->ik", [a, b]), device=device, atol=1e-5)
    check_op([(3, 2), (4, 6)], lambda a, b: _lib(a).einsum("ij,jk", a.t(), b[:, ::2].t()), device=device, atol=1e-5)
    check_op([(2, 3), (1,)], lambda a, b: _lib(a).einsum("ij,j->i", a[:, 1:], b.expand(2)), device=device,
             dtype=tkern.int64)


EINSUM_ERRORS = [("ij,jk->ik", [(2, 3)]), ("ij", [(2, 3), (3, 4)]), ("ijk->i", [(2, 3)]), ("i->i", [(2, 3)]),
                 ("...ijk->i", [(2, 3)]), ("i1->i", [(2, 3)]), ("ij->jj", [(2, 3)]), ("ij->k", [(2, 3)]),
                 ("ii->i", [(2, 3)]), ("ij,jk->ik", [(2, 3), (4, 4)]), ("i.j->ij", [(2, 3)]), ("ij->ij->", [(2, 3)]),
                 ("ij..,jk->ik", [(2, 3), (3, 4)]), ("i...j...,jk->ik", [(2, 3), (3, 4)]), ("ij,jk->ik", [])]


@pytest.mark.parametrize("equation,shapes", EINSUM_ERRORS, ids=[f"{e!r}{s}" for e, s in EINSUM_ERRORS])
def test_einsum_errors(equation, shapes, device):
    pairs = [make_pair(random_array(s, seed=i), device) for i, s in enumerate(shapes)]
    error = check_error(lambda *xs: torch.einsum(equation, *xs), lambda *xs: tkern.einsum(equation, *xs),
                        [t for t, _ in pairs], [k for _, k in pairs])
    with pytest.raises(type(error)) as expected:
        torch.einsum(equation, *[t for t, _ in pairs])
    assert str(error) == str(expected.value)
