"""lerp (number and tensor weights, broadcasting, in place, out=), erf and gelu (F.gelu, nn.GELU)
against torch: values, dtypes, gradients and node names, torch's refusals. (erf's elementwise tests
come from the operation table, tests/test_operation_table.py.)"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array


@pytest.mark.parametrize("weight", [0.25, 0.75, -0.5, 1.5, 0])
@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(3, 4), (4,)], [(1, 4), (3, 1)], [(0, 2), (2,)], [(), ()]],
                         ids=str)
def test_lerp_number_weight(weight, shapes, device):
    check_op(shapes, lambda a, b: torch.lerp(a, b, weight), lambda a, b: tkern.lerp(a, b, weight), device=device)
    check_op(shapes, lambda a, b: a.lerp(b, weight), device=device, dtype=tkern.float64)


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)], [(4,), (4,), ()],
                                    [(1, 5), (2, 1), (5,)]], ids=str)
def test_lerp_tensor_weight(shapes, device):
    # weights on both sides of 0.5, where torch switches between its two forms
    check_op(shapes, torch.lerp, tkern.lerp, device=device, low=-0.5, high=1.5)
    check_op(shapes, lambda a, b, w: a.t().lerp(b.t(), w.t()) if len(shapes[0]) == 2 and len(shapes[1]) == 2 and
             len(shapes[2]) == 2 else a.lerp(b, w), device=device, low=-0.5, high=1.5)


def test_lerp_half_types(device):
    for dtype in (tkern.float16, tkern.bfloat16):
        check_op([(5,), (5,)], lambda a, b: a.lerp(b, 0.3), device=device, dtype=dtype, atol=1e-2, rtol=1e-2)


def test_lerp_in_place_and_out(device):
    t, k = make_pair(random_array((3, 4), seed=1), device)
    t_end, k_end = make_pair(random_array((4,), seed=2), device)
    t[:, 1:].lerp_(t_end[1:], 0.8)
    assert k[:, 1:].lerp_(k_end[1:], 0.8) is not None
    assert_same(t, k)
    t_w, k_w = make_pair(random_array((3, 1), seed=3), device)
    t.lerp_(t_end, t_w)
    k.lerp_(k_end, k_w)
    assert_same(t, k)
    t_out, k_out = torch.empty(0), tkern.empty(0, device=device)
    torch.lerp(t, t_end, 0.1, out=t_out)
    assert tkern.lerp(k, k_end, 0.1, out=k_out) is k_out
    assert_same(t_out, k_out)


def test_lerp_gradients_and_nodes(device):
    check_grad([(3, 4), (4,)], lambda a, b: a.lerp(b, 0.3), device=device)
    check_grad([(3, 4), (4,), (3, 1)], lambda a, b, w: a.lerp(b, w), device=device, low=-0.5, high=1.5)
    check_grad([(3, 4), (4,), (3, 1)], lambda a, b, w: a.lerp(b, w), device=device, grad_inputs=[2])
    x = tkern.ones(3, device=device, requires_grad=True)
    assert x.lerp(x.detach(), 0.5).grad_fn.name() == "LerpBackward0"
    assert x.lerp(x.detach(), x.detach()).grad_fn.name() == "LerpBackward1"


def test_lerp_refusals(device):
    t, k = make_pair(random_array((3, 4), seed=4), device)
    cases = [
        (lambda lib, x: x.lerp(x.double(), 0.5), "expected dtype float for `end` but got dtype double"),
        (lambda lib, x: x.lerp(x, x.to(lib.int64)), "expected dtype float for `weight` but got dtype long int"),
        (lambda lib, x: x.half().lerp(x, 0.5), "expected dtype c10::Half for `end` but got dtype float"),
        (lambda lib, x: x.long().lerp(x.long(), 0.5), "\"lerp_kernel_scalar\" not implemented for 'Long'"),
        (lambda lib, x: x.lerp(1.0, 0.5), None),
        (lambda lib, x: x[0].lerp_(x, 0.5), "output with shape [4] doesn't match the broadcast shape [3, 4]"),
        (lambda lib, x: x.lerp(lib.ones(5), 0.5), None),
    ]
    for case, message in cases:
        error = check_error(lambda: case(torch, t), lambda: case(tkern, k))
        if message is not None:
            assert str(error) == message


def test_erf_values_and_node(device):
    values = np.array([-np.inf, -3.5, -1.0, -1e-8, -0.0, 0.0, 0.3, 1.0, 2.5, 6.0, np.inf, np.nan])
    for dtype in (tkern.float32, tkern.float64):
        t, k = make_pair(values, device, dtype)
        assert_same(torch.erf(t), tkern.erf(k), atol=1e-6 if dtype is tkern.float32 else 1e-12)
    x = tkern.ones(2, device=device, requires_grad=True)
    assert x.erf().grad_fn.name() == "ErfBackward0"


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", [(3, 5), (0,), (), (7,)])
def test_gelu(approximate, shape, device):
    check_op([shape], lambda x: torch.nn.functional.gelu(x, approximate=approximate),
             lambda x: tkern.nn.functional.gelu(x, approximate=approximate), device=device, low=-6, high=6)
    check_grad([shape], lambda x: _lib(x).nn.functional.gelu(x, approximate=approximate), device=device, low=-4,
               high=4, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_dtypes_and_node(approximate, device):
    for dtype, tolerance in ((tkern.float64, 1e-10), (tkern.float16, 2e-3), (tkern.bfloat16, 1e-2)):
        check_op([(4, 6)], lambda x: _lib(x).nn.functional.gelu(x.t(), approximate=approximate), device=device,
                 dtype=dtype, atol=tolerance, rtol=tolerance)
    x = tkern.ones(2, device=device, requires_grad=True)
    assert tkern.nn.functional.gelu(x, approximate=approximate).grad_fn.name() == "GeluBackward0"
    t, k = make_pair(random_array((3,), seed=5), device)
    t.requires_grad_()
    k.requires_grad_()
    (grad,) = torch.autograd.grad(torch.nn.functional.gelu(t, approximate=approximate).sum(), t, create_graph=True)
    (k_grad,) = tkern.autograd.grad(tkern.nn.functional.gelu(k, approximate=approximate).sum(), k, create_graph=True)
    assert_same(grad, k_grad)
    assert_same(torch.autograd.grad(grad.sum(), t)[0], tkern.autograd.grad(k_grad.sum(), k)[0], atol=1e-5, rtol=1e-4)


def test_gelu_module_and_refusals(device):
    for approximate in ("none", "tanh"):
        module, reference = tkern.nn.GELU(approximate), torch.nn.GELU(approximate)
        assert repr(module) == repr(reference)
        check_op([(2, 3)], reference, module, device=device)
    assert repr(tkern.nn.GELU()) == "GELU(approximate='none')"
    t, k = make_pair(random_array((3,), seed=6), device)
    cases = [(lambda F, x: F.gelu(x, approximate="foo"), "approximate argument must be either none or tanh."),
             (lambda F, x: F.gelu(x.long()), "\"GeluKernelImpl\" not implemented for 'Long'"),
             (lambda F, x: F.gelu(x, "tanh"), None)]
    for case, message in cases:
        error = check_error(lambda: case(torch.nn.functional, t), lambda: case(tkern.nn.functional, k))
        if message is not None:
            assert str(error) == message


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern
