import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim, device):
    check_op([(2, 3), (2, 3), (2, 3)], lambda *xs: torch.cat(xs, dim=dim), lambda *xs: tkern.cat(xs, dim=dim), device=device)


def test_cat_uneven_and_mixed(device):
    check_op([(2, 3), (4, 3)], lambda a, b: torch.cat([a, b]), lambda a, b: tkern.cat([a, b]), device=device)
    check_op([(2, 3), (0,)], lambda a, b: torch.cat([a, b]), lambda a, b: tkern.cat([a, b]), device=device)
    check_op([(2,), (2,)], lambda a, b: torch.cat([a, b]), lambda a, b: tkern.cat([a, b]), device=device,
             dtypes=[tkern.int32, tkern.float64])
    check_op([(3, 4), (3, 4)], lambda a, b: torch.cat([a.t(), b[:, ::2].t()]), lambda a, b: tkern.cat([a.t(), b[:, ::2].t()]),
             device=device)
    check_op([(2, 3)], lambda a: torch.concat([a, a], 1), lambda a: tkern.concat([a, a], 1), device=device)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim, device):
    check_op([(3, 3), (3, 3)], lambda a, b: torch.stack((a, b), dim=dim), lambda a, b: tkern.stack((a, b), dim=dim),
             device=device, dtype=tkern.int64)


def test_join_errors(device):
    a_t, a_k = make_pair(random_array((2, 3)), device)
    b_t, b_k = make_pair(random_array((2, 4)), device)
    c_t, c_k = make_pair(random_array((2,)), device)
    check_error(torch.cat, tkern.cat, ([a_t, b_t],), ([a_k, b_k],))
    check_error(torch.cat, tkern.cat, ([a_t, c_t],), ([a_k, c_k],))
    check_error(torch.cat, tkern.cat, ([],), ([],))
    check_error(lambda x: torch.cat(x, 2), lambda x: tkern.cat(x, 2), ([a_t],), ([a_k],))
    check_error(torch.stack, tkern.stack, ([a_t, b_t],), ([a_k, b_k],))
    check_error(torch.stack, tkern.stack, ([],), ([],))
    s_t, s_k = make_pair(np.array(1.5, dtype=np.float32), device)
    check_error(torch.cat, tkern.cat, ([s_t, s_t],), ([s_k, s_k],))
    check_error(torch.cat, tkern.cat, ([c_t, s_t],), ([c_k, s_k],))
    check_error(lambda x: torch.cat(x, out=torch.empty(4, dtype=torch.int64)),
                lambda x: tkern.cat(x, out=tkern.empty(4, dtype=tkern.int64, device=device)), ([c_t, c_t],), ([c_k, c_k],))
    t_out, k_out = torch.empty(4, dtype=torch.float64), tkern.empty(4, dtype=tkern.float64, device=device)
    assert_same(torch.cat([c_t, c_t], out=t_out), tkern.cat([c_k, c_k], out=k_out))


@pytest.mark.parametrize("dim", [1, 5, -3])
def test_cat_of_only_legacy_empty_tensors_takes_any_dim(dim, device):
    check_op([(0,)], lambda a: torch.cat([a], dim=dim), lambda a: tkern.cat([a], dim=dim), device=device)
    check_op([(0,), (0,)], lambda a, b: torch.cat([a, b], dim), lambda a, b: tkern.cat([a, b], dim), device=device,
             dtypes=[tkern.int32, tkern.float64])


def test_cat_checks_dim_against_the_tensors_that_are_not_legacy_empty(device):
    e_t, e_k = make_pair(random_array((0,)), device)
    a_t, a_k = make_pair(random_array((2, 3)), device)
    for dim in (2, -3):
        error = check_error(lambda *xs: torch.cat(xs, dim), lambda *xs: tkern.cat(xs, dim), (e_t, a_t), (e_k, a_k))
        assert str(error) == f"Dimension out of range (expected to be in range of [-2, 1], but got {dim})"


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_gives_a_legacy_empty_input_an_empty_gradient(dim, device):
    check_grad([(0,), (2, 3), (0,)], lambda *xs: torch.cat(xs, dim), lambda *xs: tkern.cat(xs, dim), device=device)
    check_grad([(0,)], lambda a: torch.cat([a, a], dim=dim + 2), lambda a: tkern.cat([a, a], dim=dim + 2),
               device=device)
