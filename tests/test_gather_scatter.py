"""gather, scatter, scatter_add (and in place), index_select and masked_select against torch: values,
dtypes, views as inputs, gradients and node names, torch's refusals."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array


def _index(values, device):
    """The same int64 index as a torch tensor and a tkern tensor on device."""
    array = np.array(values, dtype=np.int64)
    return torch.from_numpy(array.copy()), tkern.tensor(array, device=device)


def _random_index(shape, high, seed):
    return np.random.default_rng(seed).integers(0, high, shape)


def _permutation_index(shape, dim, size, seed):
    """An index of ``shape`` whose entries along dim are distinct (a scatter without collisions)."""
    rng = np.random.default_rng(seed)
    moved = np.moveaxis(np.zeros(shape, np.int64), dim, -1)
    for position in np.ndindex(moved.shape[:-1]):
        moved[position] = rng.permutation(size)[:moved.shape[-1]]
    return np.moveaxis(moved, -1, dim)


@pytest.mark.parametrize("shape, dim, index_shape", [
    ((5, 7), 0, (3, 7)), ((5, 7), 1, (5, 4)), ((5, 7), -1, (2, 3)), ((3, 4, 5), 1, (2, 6, 3)),
    ((4,), 0, (9,)), ((), 0, ()), ((5, 7), 0, (0, 7)), ((1, 1), 1, (1, 1)),
])
def test_gather(shape, dim, index_shape, device):
    size = shape[dim] if shape else 1
    t_index, k_index = _index(_random_index(index_shape, size, 1), device)
    check_op([shape], lambda x: torch.gather(x, dim, t_index), lambda x: tkern.gather(x, dim, k_index), device=device)
    check_op([shape], lambda x: x.gather(dim, t_index), lambda x: x.gather(dim, k_index), device=device)


@pytest.mark.parametrize("dtype", [tkern.float64, tkern.int32, tkern.bool, tkern.float16])
def test_gather_dtypes_and_int32_index(dtype, device):
    values = random_array((4, 6), dtype, seed=2)
    t, k = make_pair(values, device, dtype)
    index = _random_index((4, 3), 6, 3)
    t_index, k_index = _index(index, device)
    assert_same(torch.gather(t, 1, t_index.int()), tkern.gather(k, 1, k_index.int()))


def test_gather_from_views(device):
    """Transposed, stepped, offset and expanded inputs and indices."""
    t_index, k_index = _index(_random_index((4, 3), 5, 4), device)
    check_op([(5, 4)], lambda x: x.t().gather(1, t_index), lambda x: x.t().gather(1, k_index), device=device)
    check_op([(6, 9)], lambda x: x[1::2, 2:].gather(0, t_index.t()[:, :3] % 3),
             lambda x: x[1::2, 2:].gather(0, k_index.t()[:, :3] % 3), device=device)
    check_op([(1, 5)], lambda x: x.expand(4, 5).gather(1, t_index), lambda x: x.expand(4, 5).gather(1, k_index),
             device=device)
    check_op([(4, 5)], lambda x: x.gather(1, t_index[:1].expand(4, 3)), lambda x: x.gather(1, k_index[:1].expand(4, 3)),
             device=device)


def test_gather_out(device):
    t_index, k_index = _index(_random_index((2, 3), 4, 5), device)
    values = random_array((4, 3), seed=6)
    t, k = make_pair(values, device)
    t_out, k_out = torch.empty(0), tkern.empty(0, device=device)
    torch.gather(t, 0, t_index, out=t_out)
    assert tkern.gather(k, 0, k_index, out=k_out) is k_out
    assert_same(t_out, k_out)


def test_gather_gradient(device):
    """GatherBackward0; repeated indices add up."""
    t_index, k_index = _index([[0, 0, 2], [1, 0, 0]], device)
    check_grad([(3, 3)], lambda x: torch.gather(x, 0, t_index), lambda x: tkern.gather(x, 0, k_index), device=device)
    x = tkern.ones(3, 3, device=device, requires_grad=True)
    assert x.gather(0, k_index).grad_fn.name() == "GatherBackward0"


def test_gather_refusals(device):
    t, k = make_pair(random_array((3, 4), seed=7), device)
    for index in ([[5]], [[-1]]):
        t_index, k_index = _index(index, device)
        error = check_error(lambda: t.gather(0, t_index), lambda: k.gather(0, k_index))
        assert str(error) == f"index {index[0][0]} is out of bounds for dimension 0 with size 3"
    t_index, k_index = _index([[0, 1]], device)
    error = check_error(lambda: t.gather(5, t_index), lambda: k.gather(5, k_index))
    assert str(error) == "Dimension out of range (expected to be in range of [-2, 1], but got 5)"
    error = check_error(lambda: t.gather(0, t_index.float()), lambda: k.gather(0, k_index.float()))
    assert str(error) == "gather(): Expected dtype int32/int64 for index"
    error = check_error(lambda: t.gather(0, t_index[0]), lambda: k.gather(0, k_index[0]))
    assert str(error) == "Index tensor must have the same number of dimensions as input tensor"
    t_big, k_big = _index(np.zeros((2, 5), np.int64), device)
    error = check_error(lambda: t.gather(0, t_big), lambda: k.gather(0, k_big))
    assert str(error) == ("Size does not match at dimension 1 expected index [2, 5] to be no larger than self [3, 4] "
                          "apart from dimension 0")
    check_error(lambda: torch.gather(t, 0, [[0]]), lambda: tkern.gather(k, 0, [[0]]))


@pytest.mark.parametrize("shape, dim, index_shape", [
    ((5, 7), 0, (3, 7)), ((5, 7), 1, (5, 4)), ((3, 4, 5), 2, (2, 3, 5)), ((6,), 0, (4,)), ((5, 7), 0, (0, 7)),
])
def test_scatter(shape, dim, index_shape, device):
    t_index, k_index = _index(_permutation_index(index_shape, dim, shape[dim], 8), device)
    src_shape = tuple(n + 1 for n in index_shape)  # (only the index-shaped corner of src is read)
    check_op([shape, src_shape], lambda x, s: torch.scatter(x, dim, t_index, s),
             lambda x, s: tkern.scatter(x, dim, k_index, s), device=device)
    check_op([shape], lambda x: x.scatter(dim, t_index, -2.5), lambda x: x.scatter(dim, k_index, -2.5), device=device)
    check_op([shape], lambda x: x.scatter(dim, t_index, value=4), lambda x: x.scatter(dim, k_index, value=4),
             device=device)


@pytest.mark.parametrize("shape, dim, index_shape", [
    ((5, 7), 0, (8, 7)), ((5, 7), 1, (5, 9)), ((3, 4, 5), 1, (2, 6, 5)), ((6,), 0, (11,)), ((), 0, ()),
])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.int64, tkern.float64])
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_add(shape, dim, index_shape, dtype, device):
    """Repeated indices add up."""
    t_index, k_index = _index(_random_index(index_shape, shape[dim] if shape else 1, 9), device)
    check_op([shape, index_shape], lambda x, s: torch.scatter_add(x, dim, t_index, s),
             lambda x, s: tkern.scatter_add(x, dim, k_index, s), device=device, dtype=dtype)
    check_op([shape, index_shape], lambda x, s: x.scatter(dim, t_index, s, reduce="add"),
             lambda x, s: x.scatter(dim, k_index, s, reduce="add"), device=device, dtype=dtype)


def test_scatter_in_place_through_views(device):
    t_index, k_index = _index(_permutation_index((2, 3), 0, 4, 10), device)
    t, k = make_pair(random_array((3, 8), seed=11), device)
    t_src, k_src = make_pair(random_array((3, 2), seed=12), device)
    t.t()[1::2].scatter_(0, t_index, t_src.t())
    assert k.t()[1::2].scatter_(0, k_index, k_src.t()) is not None
    assert_same(t, k)
    t.t()[::2].scatter_add_(0, t_index, t_src.t().expand(2, 3))
    k.t()[::2].scatter_add_(0, k_index, k_src.t().expand(2, 3))
    assert_same(t, k)
    t[1].scatter_(0, t_index[0], 9.0)
    k[1].scatter_(0, k_index[0], 9.0)
    assert_same(t, k)


def test_scatter_out(device):
    t_index, k_index = _index([[1, 0]], device)
    t, k = make_pair(random_array((2, 2), seed=13), device)
    t_out, k_out = torch.empty(0), tkern.empty(0, device=device)
    torch.scatter(t, 1, t_index, 5.0, out=t_out)
    assert tkern.scatter(k, 1, k_index, 5.0, out=k_out) is k_out
    assert_same(t_out, k_out)


def test_scatter_gradients_and_nodes(device):
    t_index, k_index = _index(_permutation_index((2, 4), 0, 3, 14), device)
    check_grad([(3, 4), (2, 4)], lambda x, s: torch.scatter(x, 0, t_index, s),
               lambda x, s: tkern.scatter(x, 0, k_index, s), device=device)
    check_grad([(3, 4)], lambda x: x.scatter(0, t_index, 1.5), lambda x: x.scatter(0, k_index, 1.5), device=device)
    check_grad([(3, 4), (2, 4)], lambda x, s: x.scatter_add(0, t_index, s), lambda x, s: x.scatter_add(0, k_index, s),
               device=device)
    check_grad([(3, 4), (2, 4)], lambda x, s: x.scatter_add(0, t_index, s), lambda x, s: x.scatter_add(0, k_index, s),
               device=device, grad_inputs=[1])
    check_grad([(3, 4), (2, 4)], lambda x, s: (x * 1).scatter_(0, t_index, s),
               lambda x, s: (x * 1).scatter_(0, k_index, s), device=device)
    x = tkern.ones(3, 4, device=device, requires_grad=True)
    src = tkern.ones(2, 4, device=device)
    names = [x.scatter(0, k_index, src).grad_fn.name(), x.scatter(0, k_index, 1.0).grad_fn.name(),
             x.scatter_add(0, k_index, src).grad_fn.name(), x.scatter(0, k_index, src, reduce="add").grad_fn.name()]
    assert names == ["ScatterBackward0", "ScatterBackward1", "ScatterAddBackward0", "NotImplemented"]
    t = torch.ones(3, 4, requires_grad=True)
    check_error(lambda: t.scatter(0, t_index, 1.0, reduce="add").sum().backward(),
                lambda: x.scatter(0, k_index, 1.0, reduce="add").sum().backward())


def test_scatter_refusals(device):
    t, k = make_pair(random_array((3, 4), seed=15), device)
    t_index, k_index = _index([[0, 1], [2, 0]], device)
    cases = [
        (lambda lib, x, i: x.scatter(0, i, lib.ones(2, 2, dtype=lib.float64, device=x.device)),
         "scatter(): Expected self.dtype to be equal to src.dtype"),
        (lambda lib, x, i: x.scatter(0, i, lib.ones(1, 2, device=x.device)),
         "Expected index [2, 2] to be no larger than self [3, 4] apart from dimension 0 and to be no larger size "
         "than src [1, 2]"),
        (lambda lib, x, i: x.scatter(0, i * 4, 1.0), "index 4 is out of bounds for dimension 0 with size 3"),
        (lambda lib, x, i: x.scatter(0, -i, 1.0), "index -1 is out of bounds for dimension 0 with size 3"),
        (lambda lib, x, i: x.scatter(0, i[0], 1.0),
         "Index tensor must have the same number of dimensions as self tensor"),
        (lambda lib, x, i: x.scatter(0, i.float(), 1.0), "scatter(): Expected dtype int32/int64 for index"),
        (lambda lib, x, i: x.scatter(0, i, 1.0, reduce="max"), "reduce argument must be either add or multiply."),
        (lambda lib, x, i: x.scatter_add(0, i, 2), None),
        (lambda lib, x, i: x.scatter_add(3, i, x),
         "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
    ]
    for case, message in cases:
        error = check_error(lambda: case(torch, t, t_index), lambda: case(tkern, k, k_index))
        if message is not None:
            assert str(error) == message
    before = k.clone()
    check_error(lambda: t.scatter_(0, t_index * 4, 1.0), lambda: k.scatter_(0, k_index * 4, 1.0))
    assert_same(before, k)  # nothing written
    with pytest.raises(NotImplementedError):
        k.scatter(0, k_index, 1.0, reduce="multiply")


@pytest.mark.parametrize("shape, dim, index", [
    ((5, 7), 0, [4, 0, 0, 2]), ((5, 7), 1, [6]), ((3, 4, 5), -1, [1, 3, 0]), ((6,), 0, []), ((4, 2), 0, 3),
    ((), 0, [0]),
])
def test_index_select(shape, dim, index, device):
    t_index, k_index = _index(index, device)
    check_op([shape], lambda x: torch.index_select(x, dim, t_index), lambda x: tkern.index_select(x, dim, k_index),
             device=device)
    if len(shape) == 2:  # the same dim of a transposed view
        check_op([shape[::-1]], lambda x: x.t().index_select(dim, t_index.int()),
                 lambda x: x.t().index_select(dim, k_index.int()), device=device)


def test_index_select_gradient_and_refusals(device):
    t_index, k_index = _index([2, 0, 2], device)
    check_grad([(3, 4)], lambda x: x.index_select(0, t_index), lambda x: x.index_select(0, k_index), device=device)
    check_grad([(3, 4)], lambda x: x.index_select(1, t_index), lambda x: x.index_select(1, k_index), device=device)
    x = tkern.ones(3, 4, device=device, requires_grad=True)
    assert x.index_select(0, k_index).grad_fn.name() == "IndexSelectBackward0"
    t, k = make_pair(random_array((3, 4), seed=16), device)
    cases = [(lambda x, i: x.index_select(0, i * 2), "index out of range in self"),
             (lambda x, i: x.index_select(0, -i), "index out of range in self"),
             (lambda x, i: x.index_select(0, i.reshape(1, 3)), "index_select(): Index is supposed to be a vector"),
             (lambda x, i: x.index_select(0, i.short()), "index_select(): Expected dtype int32 or int64 for index"),
             (lambda x, i: x.index_select(2, i),
              "Dimension out of range (expected to be in range of [-2, 1], but got 2)")]
    for case, message in cases:
        assert str(check_error(lambda: case(t, t_index), lambda: case(k, k_index))) == message
    t_out, k_out = torch.empty(0), tkern.empty(0, device=device)
    torch.index_select(t, 1, t_index, out=t_out)
    tkern.index_select(k, 1, k_index, out=k_out)
    assert_same(t_out, k_out)


@pytest.mark.parametrize("shape, mask_shape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 5)),
                                               ((0, 4), (4,)), ((), ()), ((5,), ())])
def test_masked_select(shape, mask_shape, device):
    mask = random_array(mask_shape, tkern.bool, seed=17)
    t_mask, k_mask = make_pair(mask, device)
    check_op([shape], lambda x: torch.masked_select(x, t_mask), lambda x: tkern.masked_select(x, k_mask), device=device)
    check_op([shape], lambda x: x.masked_select(t_mask), lambda x: x.masked_select(k_mask), device=device,
             dtype=tkern.int32)


def test_masked_select_gradient_and_refusals(device):
    mask = random_array((4,), tkern.bool, seed=18)
    t_mask, k_mask = make_pair(mask, device)
    check_grad([(3, 4)], lambda x: x.masked_select(t_mask), lambda x: x.masked_select(k_mask), device=device)
    check_grad([(1, 4)], lambda x: x.masked_select(t_mask.expand(3, 4)), lambda x: x.masked_select(k_mask.expand(3, 4)),
               device=device)
    x = tkern.ones(4, device=device, requires_grad=True)
    assert x.masked_select(k_mask).grad_fn.name() == "MaskedSelectBackward0"
    t, k = make_pair(random_array((3, 4), seed=19), device)
    error = check_error(lambda: t.masked_select(t_mask.int()), lambda: k.masked_select(k_mask.int()))
    assert str(error) == "masked_select: expected BoolTensor for mask"
    check_error(lambda: t.masked_select(t_mask[:2]), lambda: k.masked_select(k_mask[:2]))
    t_out, k_out = torch.empty(0), tkern.empty(0, device=device)
    torch.masked_select(t, t_mask, out=t_out)
    tkern.masked_select(k, k_mask, out=k_out)
    assert_same(t_out, k_out)
