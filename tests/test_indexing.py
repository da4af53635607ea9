import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, make_pair, random_array

KEYS = [
    0, -1, (1, 2), (slice(None), 0), (Ellipsis, -1), (slice(1, None, 2),), (slice(None, None, 3), slice(1, 3)),
    (None, 0), (Ellipsis, None), (slice(1, 100),), (slice(-100, 2),), (slice(4, 2),), ([0, 2],), ([[0, 1], [2, 3]],),
    ([0, 2], [1, 3]), (slice(None), [3, 0, 1]), ([0, 1], slice(None), [1, 2]), (0, slice(None), [1, 2]),
    ([-1, 0],), (True,), (False,), (Ellipsis, Ellipsis),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem(key, device):
    t, k = make_pair(random_array((4, 5, 6)), device)
    assert_same(t[key], k[key])


@pytest.mark.parametrize("mask_shape", [(4,), (4, 5), (4, 5, 6)])
def test_boolean_mask(mask_shape, device):
    values = random_array((4, 5, 6))
    t, k = make_pair(values, device)
    mask = random_array(mask_shape, tkern.bool, seed=3)
    assert_same(t[torch.from_numpy(mask)], k[tkern.tensor(mask, device=device)])
    assert_same(t[t > 0], k[k > 0])
    inner = random_array((5,), tkern.bool, seed=4)
    assert_same(t[:, torch.from_numpy(inner)], k[:, tkern.tensor(inner, device=device)])


def test_index_with_integer_tensors(device):
    t, k = make_pair(random_array((4, 5)), device)
    for idx in ([3, 0, 0], [[1], [2]]):
        assert_same(t[torch.tensor(idx)], k[tkern.tensor(idx, device=device)])
        assert_same(t[torch.tensor(idx, dtype=torch.int32)], k[tkern.tensor(idx, dtype=tkern.int32, device=device)])
    assert_same(t[torch.tensor(2)], k[tkern.tensor(2, device=device)])
    assert_same(t[torch.tensor([], dtype=torch.long)], k[tkern.tensor([], dtype=tkern.long, device=device)])


def test_getitem_errors(device):
    t, k = make_pair(random_array((4, 5)), device)
    for key in [4, (0, 0, 0), [4], [-5], (slice(None, None, -1),), 1.5, (slice(None), [5])]:
        check_error(lambda x: x[key], lambda x: x[key], (t,), (k,))
    check_error(lambda x: x[torch.tensor([1.0])], lambda x: x[tkern.tensor([1.0], device=device)], (t,), (k,))
    check_error(lambda x: x[torch.tensor([True, False])], lambda x: x[tkern.tensor([True, False], device=device)], (t,), (k,))


SET_KEYS = [0, (1, 2), (slice(None), 0), (Ellipsis, -1), (slice(1, None, 2),), ([0, 2],), ([0, 2], [1, 3]),
            (slice(None), [3, 0])]


@pytest.mark.parametrize("key", SET_KEYS, ids=[repr(k) for k in SET_KEYS])
@pytest.mark.parametrize("value_kind", ["scalar", "tensor", "broadcast"])
def test_setitem(key, value_kind, device):
    t, k = make_pair(random_array((4, 5)), device)
    shape = tuple(t[key].shape)
    if value_kind == "scalar":
        tv, kv = 7.5, 7.5
    elif value_kind == "tensor":
        tv, kv = make_pair(random_array(shape, seed=9), device)
    else:
        tv, kv = make_pair(random_array(shape[-1:] if shape else (), seed=9), device)
    t[key] = tv
    k[key] = kv
    assert_same(t, k)


def test_setitem_masks_and_casts(device):
    t, k = make_pair(random_array((4, 5)), device)
    t[t > 0] = 0
    k[k > 0] = 0
    assert_same(t, k)
    ti, ki = make_pair(random_array((6,), tkern.int64), device)
    ti[ti < 0] = torch.tensor(2.7)
    ki[ki < 0] = tkern.tensor(2.7, device=device)
    assert_same(ti, ki)
    t[0] = torch.ones(1, 5)
    k[0] = tkern.ones(1, 5, device=device)
    assert_same(t, k)


def test_refused_assignment_leaves_tensor_unchanged(device):
    t, k = make_pair(random_array((3,)), device)
    before = k.tolist()
    for key, value_t, value_k in [([0, 5], 1.0, 1.0), (slice(None), torch.ones(2), tkern.ones(2, device=device)),
                                  (0, torch.ones(2), tkern.ones(2, device=device)), ([0, 1], torch.ones(3), tkern.ones(3, device=device))]:
        def set_t():
            t[key] = value_t

        def set_k():
            k[key] = value_k
        check_error(set_t, set_k)
        assert k.tolist() == before


def test_setitem_on_views_writes_through(device):
    k = tkern.zeros(3, 4, device=device)
    row = k[1]
    row[2:] = 5
    k.t()[0] = 1
    t = torch.zeros(3, 4)
    t[1][2:] = 5
    t.t()[0] = 1
    assert_same(t, k)


def test_index_put_accumulate(device):
    t, k = make_pair(random_array((5,)), device)
    idx_t, idx_k = torch.tensor([0, 0, 3]), tkern.tensor([0, 0, 3], device=device)
    v_t, v_k = make_pair(random_array((3,), seed=5), device)
    t.index_put_((idx_t,), v_t, accumulate=True)
    k.index_put_((idx_k,), v_k, accumulate=True)
    assert_same(t, k)
