import warnings

import numpy as np
import pytest
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same, check_error, check_grad, make_pair, random_array

VIEWS = [
    lambda x: x.view(3, 8), lambda x: x.view(-1), lambda x: x.view(2, -1, 4), lambda x: x.reshape(4, 6),
    lambda x: x.permute(2, 0, 1), lambda x: x.transpose(0, 2), lambda x: x[0].t(), lambda x: x[0].T, lambda x: x.mT,
    lambda x: x[:, :1].expand(2, 5, 4), lambda x: x[:1].expand_as(x), lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(-1),
    lambda x: x[:, :1].squeeze(), lambda x: x[:, :1].squeeze(1), lambda x: x.squeeze(0), lambda x: x.flatten(),
    lambda x: x.flatten(1), lambda x: x.unflatten(2, (2, 2)), lambda x: x.narrow(1, 1, 2), lambda x: x.narrow(2, -2, 2),
    lambda x: x.select(1, -1), lambda x: x.split(1, 1), lambda x: x.split([1, 2], 1), lambda x: x.chunk(3, 2),
    lambda x: x.unbind(2), lambda x: x.transpose(1, 2).reshape(2, 12), lambda x: x.diagonal(0, 1, 2),
    lambda x: x.movedim(0, 1) if hasattr(x, "movedim") else x,
]


@pytest.mark.parametrize("index", range(len(VIEWS) - 1))
def test_views_match_torch(index, device):
    values = random_array((2, 3, 4))
    t, k = make_pair(values, device)
    assert_same(VIEWS[index](t), VIEWS[index](k))


@pytest.mark.parametrize("make", [lambda x: x.view(6, 4), lambda x: x.permute(1, 0, 2), lambda x: x[1:, ::2],
                                  lambda x: x.expand(3, 2, 3, 4), lambda x: x.unsqueeze(0), lambda x: x.t_() if x.ndim == 2 else x.flatten(),
                                  lambda x: x.narrow(2, 1, 2), lambda x: x.split(2, 2)[1]])
def test_views_share_storage_and_strides(make):
    values = random_array((2, 3, 4))
    t, k = make_pair(values, "cpu")
    tv, kv = make(t), make(k)
    assert kv.stride() == tv.stride() and kv.storage_offset() == tv.storage_offset()
    assert kv.data_ptr() == k.data_ptr() + kv.storage_offset() * 4
    k.add_(1)
    t.add_(1)
    assert_same(tv, kv)


def test_reshape_copies_only_when_torch_would():
    k = tkern.arange(12).reshape(3, 4)
    assert k.reshape(4, 3).data_ptr() == k.data_ptr()
    tk = k.t()
    r = tk.reshape(12)
    assert r.data_ptr() != k.data_ptr()
    assert_same(torch.arange(12).reshape(3, 4).t().reshape(12), r)
    check_error(lambda: torch.arange(12).reshape(3, 4).t().view(12), lambda: tk.view(12))


@pytest.mark.parametrize("shape", [(0, 3), (1,), (), (5, 1, 1)])
def test_awkward_shapes(shape, device):
    t, k = make_pair(random_array(shape), device)
    assert_same(t.reshape(-1), k.reshape(-1))
    assert_same(t.unsqueeze(0), k.unsqueeze(0))
    assert_same(t.squeeze(), k.squeeze())
    assert_same(t.flatten(), k.flatten())


def test_view_errors(device):
    t, k = make_pair(random_array((2, 3)), device)
    for fn in [lambda x: x.view(4, 2), lambda x: x.view(-1, -1), lambda x: x.permute(0), lambda x: x.permute(0, 0),
               lambda x: x.transpose(0, 2), lambda x: x.expand(3, 3), lambda x: x.narrow(1, 2, 2),
               lambda x: x.unsqueeze(3), lambda x: x.select(0, 2), lambda x: x.split([1, 2], 0), lambda x: x.flatten(1, 0),
               lambda x: x.squeeze(5), lambda x: x.unflatten(1, (2, 2)), lambda x: x.reshape(7)]:
        check_error(fn, fn, (t,), (k,))
    check_error(lambda x: x.t(), lambda x: x.t(), (torch.ones(2, 2, 2),), (tkern.ones(2, 2, 2),))


def test_function_forms(device):
    t, k = make_pair(random_array((2, 3, 4)), device)
    assert_same(torch.reshape(t, (6, 4)), tkern.reshape(k, (6, 4)))
    assert_same(torch.transpose(t, 0, 1), tkern.transpose(k, 0, 1))
    assert_same(torch.permute(t, (2, 1, 0)), tkern.permute(k, (2, 1, 0)))
    assert_same(torch.squeeze(t[:1]), tkern.squeeze(k[:1]))
    assert_same(torch.unsqueeze(t, 0), tkern.unsqueeze(k, 0))
    assert_same(torch.flatten(t), tkern.flatten(k))
    assert_same(torch.narrow(t, 0, 1, 1), tkern.narrow(k, 0, 1, 1))
    assert_same(torch.chunk(t, 2, 1), tkern.chunk(k, 2, 1))
    assert_same(torch.split(t, 2, 2), tkern.split(k, 2, 2))
    assert_same(torch.unbind(t), tkern.unbind(k))
    assert_same(torch.t(t[0]), tkern.t(k[0]))


def test_contiguous_and_clone(device):
    t, k = make_pair(random_array((3, 4)), device)
    kt = k.t()
    assert not kt.is_contiguous() and kt.contiguous().is_contiguous()
    assert k.contiguous() is k
    c = k.clone()
    c[0, 0] = 100.0
    assert k[0, 0].item() != 100.0
    assert_same(t.t().contiguous(), kt.contiguous())
    assert kt.contiguous().stride() == (3, 1)


VIEW_DTYPE_CASES = [
    ((2, 3), tkern.float32, tkern.int32, lambda x: x),
    ((2, 3), tkern.float32, tkern.float16, lambda x: x),
    ((2, 3), tkern.float32, tkern.uint8, lambda x: x[:, 1:]),
    ((2, 4), tkern.float32, tkern.float64, lambda x: x),
    ((2, 4), tkern.float32, tkern.int64, lambda x: x[:, 2:]),
    ((3, 4), tkern.float64, tkern.bfloat16, lambda x: x[::2]),
    ((4, 2), tkern.float32, tkern.int32, lambda x: x.t()),
    ((0, 4), tkern.int16, tkern.float64, lambda x: x.reshape(-1).view(0, 4)),
    ((), tkern.float32, tkern.int32, lambda x: x),
]


@pytest.mark.parametrize("shape, dtype, target, select", VIEW_DTYPE_CASES)
def test_view_dtype_reinterprets_bytes_like_torch(shape, dtype, target, select, device):
    t, k = make_pair(random_array(shape), device, dtype)
    tv, kv = select(t).view(TORCH_DTYPES[target]), select(k).view(target)
    assert kv.dtype is target and kv.stride() == tv.stride() and kv.storage_offset() == tv.storage_offset()
    assert_same(tv, kv)
    if kv.numel():
        k_first = select(k)
        k_first.view(target).zero_()
        select(t).view(TORCH_DTYPES[target]).zero_()
        assert_same(t, k)


@pytest.mark.parametrize("shape, dtype, target, select", [
    ((2, 3), tkern.float32, tkern.float64, lambda x: x),
    ((2, 3), tkern.float32, tkern.float16, lambda x: x.t()),
    ((4,), tkern.float32, tkern.float64, lambda x: x[1:3]),
    ((2, 4), tkern.float32, tkern.float64, lambda x: x[:, ::2]),
    ((3, 2), tkern.float32, tkern.float64, lambda x: x[:, :1].expand(3, 2)),
    ((), tkern.float32, tkern.float16, lambda x: x),
])
def test_view_dtype_errors(shape, dtype, target, select, device):
    t, k = make_pair(random_array(shape), device, dtype)
    error = check_error(lambda: select(t).view(TORCH_DTYPES[target]), lambda: select(k).view(target))
    assert "different element sizes" in str(error)


@pytest.mark.parametrize("ndim", [0, 1, 3])
def test_T_warns_like_torch_for_other_than_two_dims(ndim):
    k = tkern.ones((2,) * ndim)
    with pytest.warns(UserWarning, match="x.T"):
        k.T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tkern.ones(2, 3).T


@pytest.mark.parametrize("key", [slice(2, 3), (None, slice(1, 4)), (slice(None), 1)], ids=["one", "lead1", "column"])
def test_augmented_assignment_through_a_view(key, device):
    """z[key] += y writes the view back onto itself, through a value whose size-1 dims differ from the
    view's (x[2:3] += y assigns a 0-d value): the same elements in the same order, which is not an
    overlap."""
    def run(lib, z, y):
        z = z.clone()
        z[key] += y[key]
        z[key] *= 2
        return z

    values, other = random_array((5, 4), seed=3), random_array((5, 4), seed=4)
    (tz, kz), (ty, ky) = make_pair(values, device), make_pair(other, device)
    if key == (None, slice(1, 4)):
        tz, kz, ty, ky = tz[0], kz[0], ty[0], ky[0]
    assert_same(run(torch, tz, ty), run(tkern, kz, ky))


def _same_error(torch_fn, tkern_fn) -> None:
    """The same exception class and message from both libraries."""
    error = check_error(torch_fn, tkern_fn)
    with pytest.raises(Exception) as expected:
        torch_fn()
    assert str(error) == str(expected.value)


@pytest.mark.parametrize("shape, dims", [((2, 3, 4), (0, -3)), ((2, 3, 4), (1, 1)), ((2, 3), (0, 0)), ((2, 3, 4), (-1, 2))])
def test_diagonal_refuses_the_same_dim_twice(shape, dims, device):
    t, k = make_pair(random_array(shape, seed=10), device)
    _same_error(lambda: t.diagonal(0, *dims), lambda: k.diagonal(0, *dims))
    _same_error(lambda: torch.diagonal(t, 1, *dims), lambda: tkern.diagonal(k, 1, *dims))


@pytest.mark.parametrize("split", [lambda x: x.chunk(2), lambda x: x.chunk(1, -1), lambda x: x.chunk(0),
                                   lambda x: x.split(1), lambda x: x.split([1]), lambda x: x.split(0, 5),
                                   lambda x: x.unbind(), lambda x: x.unbind(-1), lambda x: x.unbind(3)])
def test_splitting_a_zero_dim_tensor_raises(split, device):
    t, k = make_pair(random_array((), seed=11), device)
    _same_error(lambda: split(t), lambda: split(k))


@pytest.mark.parametrize("dims", [(0, 1), (1, 1), (-2, 0), (1, 0), (0, -2)])
def test_flatten_of_a_zero_dim_tensor_checks_its_dims(dims, device):
    t, k = make_pair(random_array((), seed=12), device)
    _same_error(lambda: t.flatten(*dims), lambda: k.flatten(*dims))
    _same_error(lambda: torch.flatten(t, *dims), lambda: tkern.flatten(k, *dims))


@pytest.mark.parametrize("dims", [(0, 0), (-1, -1), (0, -1)])
def test_flatten_of_a_zero_dim_tensor(dims, device):
    t, k = make_pair(random_array((), seed=13), device)
    assert_same(t.flatten(*dims), k.flatten(*dims))


@pytest.mark.parametrize("shape,split,dim", [((0,), 1, 0), ((0,), 2, 0), ((0, 13), 1, 0), ((0,), 0, 0),
                                             ((3, 0), 1, 1), ((3, 0), 0, 1), ((0,), [0], 0), ((0,), [], 0),
                                             ((5,), 2, 0), ((3,), 0, 0)])
def test_split_of_an_empty_dim_gives_one_empty_piece(shape, split, dim, device):
    """Issue 14 (long profile): torch's split of a dim of size 0 by a positive size gives one empty piece."""
    t, k = make_pair(np.zeros(shape, np.float32), device)
    try:
        expected = t.split(split, dim)
    except Exception:
        check_error(lambda: t.split(split, dim), lambda: k.split(split, dim))
        return
    actual = k.split(split, dim)
    assert len(actual) == len(expected)
    assert_same(list(expected), list(actual))


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [0, 2, -1, -5])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (0, 3), (1, 1)], ids=str)
def test_tril_and_triu(name, diagonal, shape, device):
    check_grad([shape], lambda x: getattr(x, name)(diagonal), device=device)
    check_grad([shape], lambda x: getattr(x * 1, name + "_")(diagonal), device=device)
    values = random_array(shape, tkern.int64, seed=5)
    t, k = make_pair(values, device, tkern.int64)
    assert_same(getattr(torch, name)(t, diagonal), getattr(tkern, name)(k, diagonal))
    t_out, k_out = torch.empty(shape, dtype=torch.long), tkern.empty(shape, dtype=tkern.int64, device=device)
    assert getattr(tkern, name)(k, diagonal, out=k_out) is k_out
    assert_same(getattr(torch, name)(t, diagonal, out=t_out), k_out)
    check_error(lambda: getattr(torch, name)(torch.ones(3)), lambda: getattr(tkern, name)(tkern.ones(3, device=device)))


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 2), (-1,), (), [2, 0, 1]], ids=str)
def test_flip(dims, device):
    check_grad([(2, 3, 4)], lambda x: (torch if isinstance(x, torch.Tensor) else tkern).flip(x, dims), device=device)
    check_grad([(3, 5)], lambda x: x.t().flip(0), device=device)
    values = random_array((4, 0, 2), tkern.bool, seed=6)
    t, k = make_pair(values, device, tkern.bool)
    assert_same(t.flip(0, 2), k.flip(0, 2))
    check_error(lambda: torch.ones(2, 3).flip(0, 0), lambda: tkern.ones(2, 3, device=device).flip(0, 0))
    check_error(lambda: torch.ones(2, 3).flip(2), lambda: tkern.ones(2, 3, device=device).flip(2))


@pytest.mark.parametrize("repeats", [(2, 1), (1, 3, 2), (0, 2), ((2, 2),), (3, 1, 1, 1)], ids=str)
def test_repeat_and_tile(repeats, device):
    check_grad([(2, 3)], lambda x: x.repeat(*repeats), device=device)
    check_grad([(3, 2)], lambda x: x.t().repeat(*repeats), device=device)
    dims = repeats[0] if isinstance(repeats[0], tuple) else repeats
    check_grad([(2, 3)], lambda x: (torch if isinstance(x, torch.Tensor) else tkern).tile(x, dims[-1:]), device=device)
    check_grad([(2, 3)], lambda x: x.tile(dims), device=device)
    check_error(lambda: torch.ones(2, 3).repeat(2), lambda: tkern.ones(2, 3, device=device).repeat(2))
    check_error(lambda: torch.ones(2, 3).repeat(-1, 2), lambda: tkern.ones(2, 3, device=device).repeat(-1, 2))


@pytest.mark.parametrize("shifts,dims", [(1, None), (-7, None), (2, 0), ((1, -1), (0, 1)), ((5, 3), (1, 1)), (4, -1)],
                         ids=str)
def test_roll(shifts, dims, device):
    check_grad([(3, 4)], lambda x: (torch if isinstance(x, torch.Tensor) else tkern).roll(x, shifts, dims), device=device)
    check_grad([(4, 3)], lambda x: x.t().roll(shifts, dims), device=device)
    values = random_array((0, 4), tkern.int64, seed=9)
    t, k = make_pair(values, device, tkern.int64)
    assert_same(t.roll(1, 0), k.roll(1, 0))
    check_error(lambda: torch.ones(2, 3).roll((1, 2), (0,)), lambda: tkern.ones(2, 3, device=device).roll((1, 2), (0,)))
    check_error(lambda: torch.ones(2, 3).roll(1, 2), lambda: tkern.ones(2, 3, device=device).roll(1, 2))
