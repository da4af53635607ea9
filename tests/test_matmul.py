import pytest
import torch

import tkern
from helpers import check_error, check_op, make_pair, random_array

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3, 4)),
                 ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 3, 4), (5, 4, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
                 ((1, 1), (1, 1)), ((7, 9), (9, 5))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=[str(s) for s in MATMUL_SHAPES])
def test_matmul(shapes, device):
    check_op(list(shapes), torch.matmul, tkern.matmul, device=device, atol=1e-4)
    check_op(list(shapes), lambda a, b: a @ b, device=device, atol=1e-4)


@pytest.mark.parametrize("dtype", [tkern.float64, tkern.float16, tkern.int64, tkern.int32])
def test_matmul_dtypes(dtype, device):
    check_op([(4, 5), (5, 3)], torch.mm, tkern.mm, device=device, dtype=dtype, atol=1e-2, rtol=1e-2, low=-2, high=2)


def test_mm_bmm_dot_and_transposed_operands(device):
    check_op([(3, 4), (5, 4)], lambda a, b: torch.mm(a, b.t()), lambda a, b: tkern.mm(a, b.t()), device=device, atol=1e-5)
    check_op([(4, 3), (4, 5)], lambda a, b: a.t().mm(b), device=device, atol=1e-5)
    check_op([(2, 3, 4), (2, 4, 5)], torch.bmm, tkern.bmm, device=device, atol=1e-5)
    check_op([(2, 4, 3), (2, 5, 4)], lambda a, b: a.transpose(1, 2).bmm(b.transpose(1, 2)), device=device, atol=1e-5)
    check_op([(6,), (6,)], torch.dot, tkern.dot, device=device, atol=1e-5)
    check_op([(8, 6), (6,)], lambda a, b: a[::2] @ b, device=device, atol=1e-5)
    check_op([(1, 6), (6, 3)], lambda a, b: a.expand(4, 6) @ b, device=device, atol=1e-5)


def test_matmul_out(device):
    t_out, k_out = torch.empty(3, 3), tkern.empty(3, 3, device=device)
    check_op([(3, 3)], lambda a: torch.matmul(a, a.t(), out=t_out), lambda a: tkern.matmul(a, a.t(), out=k_out),
             device=device, atol=1e-5)


def test_matmul_errors(device):
    cases = [((2, 3), (4, 5), "mm"), ((2, 3), (4,), "matmul"), ((2,), (3,), "dot"), ((2,), (2, 2), "mm"),
             ((2, 2), (2, 2), "bmm"), ((), (2,), "matmul"), ((2, 3, 4), (3, 4, 5), "matmul"), ((2, 2), (2,), "dot"),
             ((2, 3, 4), (2, 5, 5), "bmm")]
    for sa, sb, name in cases:
        ta, ka = make_pair(random_array(sa), device)
        tb, kb = make_pair(random_array(sb), device)
        check_error(getattr(torch, name), getattr(tkern, name), (ta, tb), (ka, kb))
    ta, ka = make_pair(random_array((2, 2)), device)
    tb, kb = make_pair(random_array((2, 2)), device, tkern.float64)
    check_error(torch.mm, tkern.mm, (ta, tb), (ka, kb))
