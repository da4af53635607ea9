import re
import warnings

import numpy as np
import pytest
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same, check_error, check_grad, make_pair, random_array, torch_index_error_pattern

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


def _random_basic_key(rng, ndim: int):
    """Ints (some out of range), slices (some empty or past the end), None and Ellipsis."""
    items = []
    for _ in range(int(rng.integers(0, ndim + 3))):
        r = rng.random()
        if r < 0.15:
            items.append(None)
        elif r < 0.2:
            items.append(Ellipsis)
        elif r < 0.5:
            items.append(int(rng.integers(-5, 6)))
        else:
            pick = lambda *choices: choices[int(rng.integers(len(choices)))]
            items.append(slice(pick(None, -6, -1, 0, 1, 2, 7), pick(None, -2, 0, 1, 3, 9), pick(None, 1, 2, 3)))
    return items[0] if len(items) == 1 and rng.random() < 0.3 else tuple(items)


def test_basic_keys_view_like_torch(device):
    """Random keys of ints, slices, None and Ellipsis on transposed and offset views: the same shape,
    strides and storage offset as torch (an empty slice still moves the offset), the same values, or
    the same error."""
    rng = np.random.default_rng(0)
    for trial in range(300 if device == "cpu" else 60):
        shape = tuple(int(n) for n in rng.integers(0, 5, size=int(rng.integers(0, 4))))
        count = int(np.prod(shape))
        t_base, k_base = make_pair(random_array((2 * count + 2,), seed=trial), device)
        t, k = t_base[1:1 + count].view(shape), k_base[1:1 + count].view(shape)
        if len(shape) >= 2 and rng.random() < 0.5:
            t, k = t.transpose(0, -1), k.transpose(0, -1)
        key = _random_basic_key(rng, len(shape))
        try:
            expected = t[key]
        except (IndexError, ValueError, TypeError) as error:
            with pytest.raises(type(error)):
                k[key]
            continue
        got = k[key]
        assert (got.stride(), got.storage_offset()) == (expected.stride(), expected.storage_offset()), key
        assert_same(expected, got)
    t, k = make_pair(random_array((5,)), device)
    for key in [slice(5, None), slice(3, 1), slice(None, None, 2)]:
        for tail in [slice(3, None), (Ellipsis, slice(3, None))]:  # the one-pass path and the general one
            assert k[key][tail].storage_offset() == t[key][tail].storage_offset()
            assert_same(t[key][tail] + 1, k[key][tail] + 1)


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


def test_zero_dim_masks_and_index_dtypes(device):
    """A 0-d bool mask adds a dim of size 1 (True) or 0 (False), in reads and writes; only int64,
    int32, uint8 and bool tensors index."""
    t, k = make_pair(random_array((3, 4)), device)
    for value in [False, True]:
        assert_same(t[torch.tensor(value)], k[tkern.tensor(value, device=device)])
        assert_same(t[torch.tensor(value), 1:], k[tkern.tensor(value, device=device), 1:])
        t2, k2 = t.clone(), k.clone()
        t2[torch.tensor(value)] = 5.0
        k2[tkern.tensor(value, device=device)] = 5.0
        assert_same(t2, k2)
    for dtype in [tkern.int16, tkern.int8]:
        check_error(lambda x: x[torch.tensor([1], dtype=TORCH_DTYPES[dtype])],
                    lambda x: x[tkern.tensor([1], dtype=dtype, device=device)], (t,), (k,))
        # a 0-d tensor of any integer type is a number
        assert_same(t[torch.tensor(1, dtype=TORCH_DTYPES[dtype])], k[tkern.tensor(1, dtype=dtype, device=device)])
    check_error(lambda x: x[torch.tensor(1.0)], lambda x: x[tkern.tensor(1.0, device=device)], (t,), (k,))
    # a bool is an index tensor [0] or [] on a new dim: it broadcasts with the key's other tensor indices
    for key in [(True, [0, 1]), (True, True), (0, True), (slice(None), True, 1), (True, slice(None), [1, 2]),
                (torch.tensor(True), [0, 2])]:
        k_key = tuple(tkern.tensor(i.item(), device=device) if isinstance(i, torch.Tensor) else i for i in key)
        assert_same(t[key], k[k_key])
    check_error(lambda x: x[False, [0, 1]], lambda x: x[False, [0, 1]], (t,), (k,))
    check_error(lambda x: x[[0, 1], [0, 1, 2]], lambda x: x[[0, 1], [0, 1, 2]], (t,), (k,))
    check_error(lambda x: x[1.0:, 1:, ::2], lambda x: x[1.0:, 1:, ::2], (t,), (k,))


@pytest.mark.parametrize("key", [[[0, 1], [1, 0]], [0, slice(None)], [None, 0], [[0, 2]], [0, 1], [2]],
                         ids=repr)
def test_list_keys_read_as_torch_reads_them(key, device):
    """A list holding sequences, slices or None is a tuple of indices (torch warns that this will
    change); a flat list of ints is an integer index."""
    t, k = make_pair(random_array((3, 4)), device)
    with warnings.catch_warnings(record=True) as torch_warned:
        warnings.simplefilter("always")
        expected = t[key]
    with warnings.catch_warnings(record=True) as tkern_warned:
        warnings.simplefilter("always")
        actual = k[key]
    assert_same(expected, actual)
    # (Triton's interpreter adds numpy DeprecationWarnings of its own)
    ours = [w for w in tkern_warned if w.category is UserWarning]
    assert len(ours) == len([w for w in torch_warned if w.category is UserWarning])
    assert all(w.filename == __file__ for w in ours)


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


ALL_DTYPES = list(TORCH_DTYPES)


def _index_pair(values, device):
    return torch.tensor(values), tkern.tensor(values, device=device)


def _data_pair(shape, dtype, device, seed=0):
    """make_pair of random data already representable in dtype (so no device-side rounding is involved)."""
    values = random_array(shape, dtype, seed)
    if dtype is tkern.bfloat16:
        values = torch.from_numpy(values).to(torch.bfloat16).float().numpy()
    return make_pair(values, device, dtype)


VIEWS = {
    "transposed": lambda x: x.transpose(0, 2),
    "stepped": lambda x: x[:, ::2, 1::2],
    "offset": lambda x: x[1:, 2:, 3:],
    "expanded": lambda x: x[:1].expand(3, 5, 6),
    "permuted": lambda x: x.permute(1, 2, 0),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_gather_from_views(view, device):
    t, k = make_pair(random_array((4, 5, 6)), device)
    tv, kv = VIEWS[view](t), VIEWS[view](k)
    assert_same(tv[[0, 2, 1]], kv[[0, 2, 1]])
    assert_same(tv[:, [1, 0, 1]], kv[:, [1, 0, 1]])
    assert_same(tv[[[0], [1]], :, [1, 2, 0]], kv[[[0], [1]], :, [1, 2, 0]])
    assert_same(tv[..., [-1, 0]], kv[..., [-1, 0]])


@pytest.mark.parametrize("view", list(VIEWS))
def test_scatter_into_views(view, device):
    t, k = make_pair(random_array((4, 5, 6)), device)
    if view == "expanded":
        # torch refuses to write through an expanded view: write through a stepped one instead
        tv, kv = t[::3], k[::3]
    else:
        tv, kv = VIEWS[view](t), VIEWS[view](k)
    key = ([1, 0], slice(None), [2, 1])
    shape = tuple(tv[key].shape)
    v_t, v_k = make_pair(random_array(shape, seed=2), device)
    tv[key] = v_t
    kv[key] = v_k
    assert_same(t, k)
    tv[:, [2, 0]] = -1.5
    kv[:, [2, 0]] = -1.5
    assert_same(t, k)


def test_index_arrays_as_views(device):
    t, k = make_pair(random_array((6, 7)), device)
    base_t, base_k = _index_pair([[0, 5, 2, 4], [1, 3, 5, 0]], device)
    for make in (lambda i: i[:, ::2], lambda i: i.t(), lambda i: i[1, 1:], lambda i: i[:1, :3].expand(4, 3)):
        i_t, i_k = make(base_t), make(base_k)
        assert_same(t[i_t], k[i_k])
        assert_same(t[:, i_t], k[:, i_k])
        assert_same(t[i_t, i_t], k[i_k, i_k])
        t2, k2 = t.clone(), k.clone()
        t2[:, i_t] = 0.5
        k2[:, i_k] = 0.5
        assert_same(t2, k2)


@pytest.mark.parametrize("key", [
    (slice(None), [0, 2], slice(None), [1, 0]),
    ([[1], [0]], slice(None), [0, 2, 1], slice(None)),
    (slice(None), [[1, 0, 1]], [[2], [0]], slice(None)),
    ([0, 1], [1, 2], [2, 0], [3, 1]),
    (1, slice(None), [2, 0], [0]),
], ids=repr)
def test_adjacent_and_separated_index_dims(key, device):
    t, k = make_pair(random_array((2, 3, 4, 5)), device)
    assert_same(t[key], k[key])
    shape = tuple(t[key].shape)
    v_t, v_k = make_pair(random_array(shape, seed=6), device)
    t[key] = v_t
    k[key] = v_k
    assert_same(t, k)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_gather_and_scatter_every_dtype(dtype, device):
    t, k = _data_pair((5, 4), dtype, device)
    idx_t, idx_k = _index_pair([4, 0, 0, 2], device)
    assert_same(t[idx_t], k[idx_k])
    assert_same(t[1:, [3, 1]], k[1:, [3, 1]])
    v_t, v_k = _data_pair((2, 4), dtype, device, seed=3)
    t[[3, 1]] = v_t
    k[[3, 1]] = v_k
    assert_same(t, k)
    t.t()[[0, 2]] = t[:, 1].clone()
    k.t()[[0, 2]] = k[:, 1].clone()
    assert_same(t, k)


def _small_values(shape, dtype, seed):
    # small integers: their sums are exact in every float type, so any order of adding agrees
    values = random_array(shape, dtype, seed, low=-3, high=3)
    return values.round() if dtype.is_floating_point else values


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_index_put_accumulate_duplicates_every_dtype(dtype, device):
    t, k = make_pair(_small_values((7, 3), dtype, 0), device, dtype)
    idx = [0, 6, 0, 3, 0, 6, 2, 0]
    idx_t, idx_k = _index_pair(idx, device)
    v_t, v_k = make_pair(_small_values((len(idx), 3), dtype, 8), device, dtype)
    t.index_put_((idx_t,), v_t, accumulate=True)
    k.index_put_((idx_k,), v_k, accumulate=True)
    assert_same(t, k)
    # two index tensors and a broadcast value, with duplicates
    i_t, i_k = _index_pair([1, 1, 5, 1], device)
    j_t, j_k = _index_pair([2, 2, 0, 2], device)
    one_t, one_k = make_pair(np.array(1), device, dtype)
    t.index_put_((i_t, j_t), one_t, accumulate=True)
    k.index_put_((i_k, j_k), one_k, accumulate=True)
    assert_same(t, k)


@pytest.mark.parametrize("dtype", [tkern.int8, tkern.uint8, tkern.int16, tkern.bfloat16, tkern.float16,
                                   tkern.int32, tkern.float64])
def test_index_put_accumulate_many_duplicates(dtype, device):
    # thousands of adds onto a few elements, across several blocks: narrow integers wrap like torch's
    rng = np.random.default_rng(5)
    idx = rng.integers(0, 5, 3000)
    values = rng.integers(0, 4, 3000).astype(np.float32 if dtype is tkern.bfloat16 else dtype.numpy)
    t, k = make_pair(np.zeros(5, np.float32 if dtype is tkern.bfloat16 else dtype.numpy), device, dtype)
    v_t, v_k = make_pair(values, device, dtype)
    if dtype in (tkern.float16, tkern.bfloat16):
        # keep every partial sum exact in the half types: small values, few of them
        idx, v_t, v_k = idx[:60], v_t[:60], v_k[:60]
    idx_t, idx_k = _index_pair(idx.tolist(), device)
    t.index_put_((idx_t,), v_t, accumulate=True)
    k.index_put_((idx_k,), v_k, accumulate=True)
    assert_same(t, k)


def test_index_put_accumulate_into_a_view(device):
    t, k = make_pair(random_array((6, 8)), device)
    tv, kv = t.t()[1::2], k.t()[1::2]
    idx_t, idx_k = _index_pair([3, 3, 0, 3], device)
    v_t, v_k = make_pair(random_array((4, 6), seed=4), device)
    tv.index_put_((idx_t,), v_t, accumulate=True)
    kv.index_put_((idx_k,), v_k, accumulate=True)
    assert_same(t, k)
    tv.index_put_((idx_t,), v_t[0], accumulate=True)
    kv.index_put_((idx_k,), v_k[0], accumulate=True)
    assert_same(t, k)


@pytest.mark.parametrize("shape", [(0,), (1,), (0, 3), (3, 0), (1, 1)])
def test_gather_and_scatter_with_zero_and_one_elements(shape, device):
    t, k = make_pair(random_array(shape), device)
    empty_t, empty_k = torch.tensor([], dtype=torch.long), tkern.tensor([], dtype=tkern.long, device=device)
    assert_same(t[empty_t], k[empty_k])
    if shape[0]:
        assert_same(t[[0]], k[[0]])
        assert_same(t[[0, 0]], k[[0, 0]])
        t[[0]] = 2.0
        k[[0]] = 2.0
        assert_same(t, k)
    t[empty_t] = 1.0
    k[empty_k] = 1.0
    assert_same(t, k)
    assert_same(t[t > 0], k[k > 0])


def test_gather_and_scatter_across_blocks(device):
    t, k = make_pair(random_array((50, 70)), device)
    rng = np.random.default_rng(2)
    # distinct rows, some of them negative: a plain scatter with duplicates has no defined result
    rows_t, rows_k = _index_pair((rng.permutation(50)[:30] - 20).reshape(15, 2).tolist(), device)
    cols_t, cols_k = _index_pair(rng.integers(0, 70, (2,)).tolist(), device)
    assert_same(t[rows_t], k[rows_k])
    assert_same(t[rows_t, cols_t], k[rows_k, cols_k])
    assert_same(t[:, cols_t], k[:, cols_k])
    v_t, v_k = make_pair(random_array((15, 2, 70), seed=1), device)
    t[rows_t] = v_t
    k[rows_k] = v_k
    assert_same(t, k)


def test_scatter_reads_everything_before_writing(device):
    # values and indices that view the written tensor are read in full first (numpy's rule)
    t, k = make_pair(random_array((6,)), device)
    t[[1, 2, 3]] = t[0:3].clone()
    k[[1, 2, 3]] = k[0:3]
    assert_same(t, k)
    ti, ki = _index_pair([1, 0, 3, 2, 5, 4], device)
    ti[ti.clone()] = torch.tensor([4, 5, 2, 3, 0, 1])
    ki[ki] = tkern.tensor([4, 5, 2, 3, 0, 1], device=device)
    assert_same(ti, ki)


@pytest.mark.parametrize("view", ["transposed", "stepped", "offset"])
def test_boolean_masks_on_views(view, device):
    t, k = make_pair(random_array((4, 5, 6)), device)
    tv, kv = VIEWS[view](t), VIEWS[view](k)
    assert_same(tv[tv > 0.5], kv[kv > 0.5])
    mask = random_array(tuple(tv.shape[:2]), tkern.bool, seed=7)
    assert_same(tv[torch.from_numpy(mask)], kv[tkern.tensor(mask, device=device)])
    tv[tv < 0] = 0.25
    kv[kv < 0] = 0.25
    assert_same(t, k)
    tv[torch.from_numpy(mask)] = -tv[torch.from_numpy(mask)]
    kv[tkern.tensor(mask, device=device)] = -kv[tkern.tensor(mask, device=device)]
    assert_same(t, k)


NONZERO_DATA = {
    "bool": lambda: random_array((5, 7), tkern.bool),
    "uint8": lambda: random_array((4, 6), tkern.uint8, low=0, high=2),
    "int16": lambda: random_array((3, 4, 5), tkern.int16, low=-1, high=1),
    "int64": lambda: random_array((50, 60), tkern.int64, low=-1, high=1),
    "float32": lambda: np.where(random_array((9, 8)) > 1, random_array((9, 8)), 0).astype(np.float32),
    "float64": lambda: np.array([[0.0, -0.0, np.nan], [np.inf, 1e-300, 0.0]]),
    "float16": lambda: np.array([0, 2, 0, -3, 0.5], np.float16),
}


@pytest.mark.parametrize("kind", list(NONZERO_DATA))
def test_nonzero_dtypes(kind, device):
    values = NONZERO_DATA[kind]()
    t, k = torch.from_numpy(values), tkern.tensor(values, device=device)
    assert_same(torch.nonzero(t), tkern.nonzero(k))
    assert_same(torch.nonzero(t, as_tuple=True), tkern.nonzero(k, as_tuple=True))


def test_nonzero_bfloat16_and_layouts(device):
    t, k = make_pair(random_array((6, 7), low=-1, high=1).round(), device, tkern.bfloat16)
    assert_same(torch.nonzero(t), tkern.nonzero(k))
    t, k = make_pair(random_array((6, 7, 8), tkern.int32, low=-1, high=1), device)
    for make in (lambda x: x.transpose(0, 2), lambda x: x[1::2, :, ::3], lambda x: x[2:, 3:, 1:],
                 lambda x: x[:, :1].expand(6, 4, 8), lambda x: x.permute(2, 0, 1)):
        assert_same(torch.nonzero(make(t)), tkern.nonzero(make(k)))


@pytest.mark.parametrize("values", [np.array(0.0), np.array(2.5), np.array(True), np.zeros((0, 3)), np.zeros((4, 5)),
                                    np.ones(5000, np.int8), np.array([0] * 4000 + [1] + [0] * 300)],
                         ids=["scalar0", "scalar1", "scalar_bool", "empty", "all_zero", "all_one", "one_far"])
def test_nonzero_edge_cases(values, device):
    t, k = torch.from_numpy(values), tkern.tensor(values, device=device)
    assert_same(torch.nonzero(t), tkern.nonzero(k))


def test_int64_offsets_path(device, monkeypatch):
    # spans of 2**31 elements are too big to test; run the wide-index kernels on small inputs instead
    if device == "cuda":
        from tkern.ops import triton_indexing
        monkeypatch.setattr(triton_indexing, "needs_int64", lambda *args: True)
    t, k = make_pair(random_array((9, 13)), device)
    rows_t, rows_k = _index_pair([4, -1, 0, 4], device)
    cols_t, cols_k = _index_pair([12, 3, 3, 0], device)
    assert_same((t[rows_t], t.t()[cols_t, 1:], t[rows_t, cols_t], t[t > 1], (t.t()[::2] > 0).nonzero()),
                (k[rows_k], k.t()[cols_k, 1:], k[rows_k, cols_k], k[k > 1], (k.t()[::2] > 0).nonzero()))
    v_t, v_k = make_pair(random_array((4,), seed=1), device)
    t[rows_t[:3], cols_t[:3]] = v_t[:3]
    k[rows_k[:3], cols_k[:3]] = v_k[:3]
    dup_t, dup_k = _index_pair([3, 0, 3, 1], device)  # duplicates accumulate
    t.t()[1::3].index_put_((dup_t,), v_t[:, None].expand(4, 9), accumulate=True)
    k.t()[1::3].index_put_((dup_k,), v_k[:, None].expand(4, 9), accumulate=True)
    t[t < -2] = 0.5
    k[k < -2] = 0.5
    assert_same(t, k)


# ----- indices out of range: raised at once on the host, by the next synchronisation on a GPU -----


def _synchronize(device) -> None:
    if device == "cuda":
        tkern.cuda.synchronize()


def _device_key(key, device) -> tuple:
    """key with each list as an index tensor: a torch one, and a tkern one on ``device`` (so that
    tkern checks it where it lives)."""
    return (tuple(torch.tensor(k) if isinstance(k, list) else k for k in key),
            tuple(tkern.tensor(k, device=device) if isinstance(k, list) else k for k in key))


OUT_OF_RANGE_KEYS = [
    ((3, 4), ([0, 5],)),
    ((3, 4), ([0, -4],)),
    ((3, 4), (slice(None), [1, -5])),
    ((3, 4, 5), ([0, 7], slice(None), [9, 1])),   # the first position's bad index wins: 9, dimension 1
    ((3, 4), ([[0], [5]], [1, 9, 3])),             # broadcast: (0, 9) comes before (5, 1)
    ((3, 4), (1, [2, 4])),
    ((3, 4), ([True, False, True], [9, 0])),       # a mask's dims count among the indices
    ((3, 4), ([[0, 1], [2, 3]],)),
    ((1,), ([1],)),
]


@pytest.mark.parametrize("shape,key", OUT_OF_RANGE_KEYS, ids=repr)
def test_gather_out_of_range_raises_torchs_error_by_the_next_synchronisation(shape, key, device):
    t, k = make_pair(random_array(shape), device)
    t_key, k_key = _device_key(key, device)
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[t_key])):
        k[k_key].cpu()
    # raised once: the flag is clear and the next gather works
    assert_same(t[[0, -1]], k[tkern.tensor([0, -1], device=device)])


@pytest.mark.parametrize("shape,key", OUT_OF_RANGE_KEYS, ids=repr)
@pytest.mark.parametrize("value_kind", ["scalar", "tensor"])
def test_refused_scatter_writes_nothing(shape, key, value_kind, device):
    values = random_array(shape)
    t, k = make_pair(values, device)
    t_key, k_key = _device_key(key, device)
    tv, kv = (2.5, 2.5) if value_kind == "scalar" else make_pair(random_array((1,), seed=1), device)

    def write_t():
        t[t_key] = tv
    with pytest.raises(IndexError, match=torch_index_error_pattern(write_t)):
        k[k_key] = kv
        _synchronize(device)
    assert k.tolist() == values.tolist()
    # and the next write works
    t = torch.from_numpy(values.copy())
    t[torch.tensor([0, -1])] = tv
    k[tkern.tensor([0, -1], device=device)] = kv
    assert_same(t, k)


@pytest.mark.parametrize("indices", [([0, 5],), ([0, -4],), ([[0], [5]], [1, 9, 3]), ([2, 1], [3, -6])], ids=repr)
@pytest.mark.parametrize("accumulate", [False, True])
def test_refused_index_put_writes_nothing(indices, accumulate, device):
    values = random_array((3, 4))
    t, k = make_pair(values, device)
    t_indices, k_indices = _device_key(indices, device)
    tv, kv = make_pair(random_array((1,), seed=2), device)
    message = torch_index_error_pattern(lambda: t.index_put_(t_indices, tv, accumulate=accumulate))
    with pytest.raises(IndexError, match=message):
        k.index_put_(k_indices, kv, accumulate=accumulate)
        k.cpu()
    assert k.tolist() == values.tolist()
    t = torch.from_numpy(values.copy())
    t.index_put_((torch.tensor([1, 1, -1]),), tv, accumulate=accumulate)
    k.index_put_((tkern.tensor([1, 1, -1], device=device),), kv, accumulate=accumulate)
    assert_same(t, k)


INDEX_VIEWS = {
    "offset": lambda i: i[2:],
    "stepped": lambda i: i[1::2],
    "expanded": lambda i: i[4:5].expand(3),
    "transposed": lambda i: i[:6].reshape(2, 3).t(),
    "int32": lambda i: i[2:].to(TORCH_DTYPES[tkern.int32] if isinstance(i, torch.Tensor) else tkern.int32),
}


@pytest.mark.parametrize("view", list(INDEX_VIEWS))
def test_out_of_range_entries_of_index_views(view, device):
    """Offset, stepped, expanded and transposed index tensors (and an int32 one) into a transposed,
    offset view of x."""
    base = [0, 9, 1, 2, -7, 3, 0, 8]
    t_base, k_base = make_pair(random_array((4, 5)), device)
    t, k = t_base[1:, 1:].t(), k_base[1:, 1:].t()
    t_index, k_index = INDEX_VIEWS[view](torch.tensor(base)), INDEX_VIEWS[view](tkern.tensor(base, device=device))
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[t_index])):
        k[k_index].cpu()
    before = k_base.tolist()
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t.index_put_((t_index,), torch.tensor(1.0)))):
        k.index_put_((k_index,), tkern.tensor(1.0, device=device))
        _synchronize(device)
    assert k_base.tolist() == before


@pytest.mark.parametrize("kind", ["gather", "scatter"])
def test_the_first_out_of_range_index_is_reported_across_blocks(kind, device):
    """Of several bad indices in different programs, the one a loop in order meets first, every run."""
    values = np.arange(5000) % 10
    values[[3001, 4500, 1200]] = [17, -30, 4]
    values[4999] = 11
    t, k = make_pair(random_array((10,)), device)
    t_index, k_index = torch.from_numpy(values), tkern.tensor(values, device=device)
    t_op = (lambda: t[t_index]) if kind == "gather" else (lambda: t.index_put_((t_index,), torch.tensor(1.0)))
    message = torch_index_error_pattern(t_op)
    assert "17" in message
    for _ in range(2):
        with pytest.raises(IndexError, match=message):
            if kind == "gather":
                k[k_index].sum().item()
            else:
                k.index_put_((k_index,), tkern.tensor(1.0, device=device))
                _synchronize(device)


def test_the_first_failing_operation_is_the_one_raised(device):
    t, k = make_pair(random_array((3, 4)), device)
    first, second = tkern.tensor([0, 5], device=device), tkern.tensor([-9], device=device)
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[torch.tensor([0, 5])])):
        k[first]
        k[:, second] = 1.0
        k[second]
        _synchronize(device)
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[:, torch.tensor([-9])])):
        k[:, second].tolist()
    _synchronize(device)  # nothing left pending
    assert_same(t[1:], k[1:])


SYNCHRONISATIONS = {
    "cpu": lambda y: y.cpu(),
    "item": lambda y: y.sum().item(),
    "tolist": lambda y: y.tolist(),
    "repr": repr,
    "bool": lambda y: bool(y[0, 0] > 0),
    "mask": lambda y: y[y > 0],
    "synchronize": lambda y: tkern.cuda.synchronize() if y.device.type == "cuda" else None,
}


@pytest.mark.parametrize("sync", list(SYNCHRONISATIONS))
def test_every_synchronisation_raises_a_pending_index_error(sync, device):
    t, k = make_pair(random_array((3, 4)), device)
    with pytest.raises(IndexError, match=re.escape("index 3 is out of bounds for dimension 0 with size 3")):
        y = k[tkern.tensor([1, 3], device=device)]
        SYNCHRONISATIONS[sync](y)


def test_indices_held_on_the_host_are_checked_at_once(device):
    """Lists, numpy arrays and CPU tensors as indices of a tensor on any device raise before any
    synchronisation, and the tensor is unchanged."""
    t, k = make_pair(random_array((3, 4)), device)
    before = k.tolist()
    for index in ([0, 3], np.array([[-4]]), tkern.tensor([1, 2, 7])):
        t_index = torch.tensor(np.asarray(index))
        with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[t_index])):
            k[index]
        with pytest.raises(IndexError):
            k[index] = 1.0
        if isinstance(index, tkern.Tensor):
            with pytest.raises(IndexError):
                k.index_put_((index,), tkern.tensor(1.0, device=device), accumulate=True)
    assert k.tolist() == before


@pytest.mark.parametrize("shape,key", [((3, 0), ([5],)), ((0, 3), (slice(None), [7])), ((3, 4), ([5], slice(0, 0)))],
                         ids=repr)
def test_indices_that_select_nothing_are_not_checked(shape, key, device):
    """As in torch: an index into a selection with no elements reads and writes nothing, so it is
    not checked."""
    t, k = make_pair(random_array(shape), device)
    t_key, k_key = _device_key(key, device)
    assert_same(t[t_key], k[k_key])
    t[t_key] = 1.0
    k[k_key] = 1.0
    assert_same(t, k)


def test_an_index_into_a_dim_of_size_0_is_refused_at_once(device):
    t, k = make_pair(random_array((3, 0)), device)
    t_key, k_key = _device_key((slice(None), [0]), device)
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[t_key])):
        k[k_key]
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t.t().index_put_((torch.tensor([0]),),
                                                                                torch.tensor(1.0)))):
        k.t().index_put_((tkern.tensor([0], device=device),), tkern.tensor(1.0, device=device))


def test_out_of_range_on_the_int64_offsets_path(device, monkeypatch):
    if device == "cuda":
        from tkern.ops import triton_indexing
        monkeypatch.setattr(triton_indexing, "needs_int64", lambda *args: True)
    t, k = make_pair(random_array((9, 13)), device)
    rows_t, rows_k = _index_pair([4, -1, -10, 4], device)
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t[rows_t])):
        k[rows_k].cpu()
    before = k.tolist()
    cols_t, cols_k = _index_pair([4, -1, -14, 4], device)
    with pytest.raises(IndexError, match=torch_index_error_pattern(lambda: t.t().index_put_((cols_t,), torch.tensor(1.0)))):
        k.t().index_put_((cols_k,), tkern.tensor(1.0, device=device), accumulate=True)
        _synchronize(device)
    assert k.tolist() == before


@pytest.mark.skipif(not tkern.cuda.is_available(), reason="device 'cuda' is not available")
def test_device_indices_are_never_read_back_to_the_host(monkeypatch):
    """Advanced indexing with indices on the GPU costs no host read: the bounds are checked on the
    device, and an error waits for the next synchronisation."""
    from tkern.ops import cuda_memory, triton_backend
    t, k = make_pair(random_array((5, 6)), "cuda")
    idx_t, idx_k = _index_pair([4, -1, 0, 4], "cuda")
    v_t, v_k = make_pair(random_array((4, 6), seed=3), "cuda")
    k.cpu()  # (nothing pending before the patch)

    def host_read(*args):
        raise AssertionError("a host read")
    monkeypatch.setattr(triton_backend.TritonBackend, "to_numpy", host_read)
    monkeypatch.setattr(cuda_memory, "to_host", host_read)
    picked = k[idx_k]
    columns = k[:, idx_k[:2]]
    k[idx_k[1:]] = v_k[1:]
    k.index_put_((idx_k,), v_k, accumulate=True)
    refused = k[idx_k + 3]
    monkeypatch.undo()
    with pytest.raises(IndexError, match=re.escape("index 7 is out of bounds for dimension 0 with size 5")):
        refused.cpu()
    expected_picked, expected_columns = t[idx_t], t[:, idx_t[:2]]
    t[idx_t[1:]] = v_t[1:]
    t.index_put_((idx_t,), v_t, accumulate=True)
    assert_same((expected_picked, expected_columns, t), (picked, columns, k))


@pytest.mark.skipif(not tkern.cuda.is_available(), reason="device 'cuda' is not available")
def test_a_synchronisation_reads_the_error_flag_only_after_a_check(monkeypatch):
    """The common path costs nothing: a host read reads the flag too only when an index check ran
    on the device since the last one."""
    from tkern.ops import cuda_memory
    k = tkern.tensor(random_array((4, 5)), device="cuda")
    k.cpu()
    reads = []
    to_host = cuda_memory.to_host
    monkeypatch.setattr(cuda_memory, "to_host", lambda *args: reads.append(args[2]) or to_host(*args))
    (k + 1).cpu()
    assert len(reads) == 1
    picked = k[tkern.tensor([3, 0], device="cuda")]
    picked.cpu()
    picked.cpu()
    assert len(reads) == 4  # the flag once, then the values twice


MASK_PUTS = [((6,), (6,)), ((3, 4), (3, 4)), ((3, 4), (3,))]


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("value_kind", ["one", "each"])
@pytest.mark.parametrize("x_shape,mask_shape", MASK_PUTS, ids=repr)
def test_index_put_reads_bool_indices_as_masks(x_shape, mask_shape, value_kind, accumulate, device):
    t, k = make_pair(random_array(x_shape, seed=1), device)
    mask_t, mask_k = make_pair(random_array(mask_shape, tkern.bool, seed=2), device)
    selected = (int(mask_t.sum()),) + x_shape[len(mask_shape):]
    v_t, v_k = make_pair(random_array(() if value_kind == "one" else selected, seed=3), device)
    t.index_put_((mask_t,), v_t, accumulate=accumulate)
    k.index_put_((mask_k,), v_k, accumulate=accumulate)
    assert_same(t, k)


def test_index_put_reads_uint8_indices_as_masks_and_refuses_them_for_one_value(device):
    t, k = make_pair(random_array((6,), seed=1), device)
    mask = random_array((6,), tkern.bool, seed=2).astype(np.uint8)
    mask_t, mask_k = make_pair(mask, device)
    v_t, v_k = make_pair(random_array((int(mask.sum()),), seed=3), device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's deprecation of uint8 indices
        t.index_put_((mask_t,), v_t)
        k.index_put_((mask_k,), v_k)
        assert_same(t, k)
        one_t, one_k = make_pair(np.float32(7.0), device)
        before = k.clone()
        check_error(lambda x, m, v: x.index_put_((m,), v), torch_args=(t, mask_t, one_t),
                    tkern_args=(k, mask_k, one_k))
        check_error(lambda x, m: x.__setitem__(m, 7.0), torch_args=(t, mask_t), tkern_args=(k, mask_k))
    assert_same(before, k)


def test_index_put_mixes_a_mask_with_integer_indices(device):
    t, k = make_pair(random_array((3, 4), seed=1), device)
    mask_t, mask_k = _index_pair([True, False, True], device)
    idx_t, idx_k = _index_pair([3, 0], device)
    v_t, v_k = make_pair(random_array((2,), seed=3), device)
    t.index_put_((mask_t, idx_t), v_t)
    k.index_put_((mask_k, idx_k), v_k)
    assert_same(t, k)


DTYPE_MISMATCHED_PUTS = {
    "index_put_": lambda lib, dev, x, v: x.index_put_((lib.tensor([1, 3], **dev),), v),
    "index_put_accumulate": lambda lib, dev, x, v: x.index_put_((lib.tensor([1, 3], **dev),), v, accumulate=True),
    "index_put_two_masks": lambda lib, dev, x, v: x.index_put_(
        (lib.tensor([True, False, True, False], **dev), lib.tensor([True, False, False, False, True], **dev)), v),
    "setitem_list": lambda lib, dev, x, v: x.__setitem__([1, 3], v),
    "setitem_slice_and_tensor": lambda lib, dev, x, v: x.__setitem__((slice(1, 3), lib.tensor([0, 4], **dev)), v),
    "setitem_0d_bool_tensor": lambda lib, dev, x, v: x.__setitem__((lib.tensor(True, **dev), 1), v),
}


@pytest.mark.parametrize("value_dtype", [tkern.float64, tkern.int64, tkern.float16])
@pytest.mark.parametrize("put", list(DTYPE_MISMATCHED_PUTS))
def test_index_put_refuses_a_value_of_another_dtype(put, value_dtype, device):
    fn = DTYPE_MISMATCHED_PUTS[put]
    t, k = make_pair(random_array((4, 5), seed=1), device)
    # (a value that broadcasts to every indexing result: torch checks the value's shape before its dtype)
    v_t, v_k = make_pair(random_array((1,), value_dtype, seed=2), device, value_dtype)
    before = k.clone()
    error = check_error(lambda: fn(torch, {}, t, v_t), lambda: fn(tkern, {"device": device}, k, v_k))
    torch_message = f"got Float for the destination and {ops_name(value_dtype)} for the source."
    assert str(error) == "Index put requires the source and destination dtypes match, " + torch_message
    assert_same(before, k)


def ops_name(dtype) -> str:
    return tkern.ops.TORCH_TYPE_NAMES[dtype]


CASTING_PUTS = {
    "basic_slice": lambda lib, dev, x, v: x.__setitem__((slice(1, None),), v),
    "lone_mask_one_value": lambda lib, dev, x, v: x.__setitem__(lib.tensor([True, False, True, True], **dev), v[:1]),
    "lone_mask_after_slice": lambda lib, dev, x, v: x.__setitem__(
        (slice(None), lib.tensor([True, False, True, False, True], **dev)), v[0]),
    "index_put_lone_mask": lambda lib, dev, x, v: x.index_put_((lib.tensor([False, True, True, False], **dev),),
                                                                v[:1].reshape(1, 1)),
    "lone_true": lambda lib, dev, x, v: x.__setitem__(True, v),
}


@pytest.mark.parametrize("put", list(CASTING_PUTS))
def test_basic_keys_and_one_value_through_a_lone_mask_cast_like_torch(put, device):
    fn = CASTING_PUTS[put]
    t, k = make_pair(random_array((4, 5), seed=1), device)
    v_t, v_k = make_pair(random_array((5,), tkern.float64, seed=2), device, tkern.float64)
    fn(torch, {}, t, v_t)
    fn(tkern, {"device": device}, k, v_k)
    assert_same(t, k)


def test_setitem_value_broadcast_from_extra_leading_ones(device):
    t, k = make_pair(random_array((4,), seed=1), device)
    idx_t, idx_k = _index_pair([0, 1], device)
    v_t, v_k = make_pair(random_array((1, 1), seed=2), device)
    t[idx_t] = v_t
    k[idx_k] = v_k
    assert_same(t, k)
    check_error(lambda x, i, v: x.index_put_((i,), v), torch_args=(t, idx_t, v_t), tkern_args=(k, idx_k, v_k))


SCALAR_WRITES = {
    "fill_": lambda lib, dev, d, v: lib.zeros(3, dtype=d, **dev).fill_(v),
    "full": lambda lib, dev, d, v: lib.full((3,), v, dtype=d, **dev),
    "setitem_int": lambda lib, dev, d, v: _written(lib.zeros(3, dtype=d, **dev), 1, v),
    "setitem_ellipsis": lambda lib, dev, d, v: _written(lib.zeros(3, dtype=d, **dev), Ellipsis, v),
    "setitem_mask": lambda lib, dev, d, v: _written(lib.zeros(3, dtype=d, **dev), lib.tensor([True, False, True], **dev), v),
    "setitem_index": lambda lib, dev, d, v: _written(lib.zeros(3, dtype=d, **dev), lib.tensor([2, 0], **dev), v),
}
SCALARS = [300, 256, 255, -1, -2, -128, -129, -255, -256, 32768, -32769, 70000, 2**31, -2**31 - 1, 2**40, 2**63 - 1,
           2**63, 2**64, -2**63, -2**63 - 1, 2.5, -2.5, 255.5, 300.5, 1e6, 1e39, -1e39, float("inf"), float("nan"), True]


def _written(x, key, value):
    x[key] = value
    return x


@pytest.mark.parametrize("write", list(SCALAR_WRITES))
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_python_numbers_that_do_not_fit_the_dtype(dtype, write, device):
    """torch's checked conversion of a Python number: the same values written, or the same error
    class and message, for every dtype and every way of writing a number."""
    fn = SCALAR_WRITES[write]
    for value in SCALARS:
        try:
            expected = fn(torch, {}, TORCH_DTYPES[dtype], value)
        except Exception as torch_error:
            with pytest.raises(type(torch_error)) as raised:
                fn(tkern, {"device": device}, dtype, value)
            if isinstance(torch_error, RuntimeError):
                assert str(raised.value) == str(torch_error), value
            continue
        actual = fn(tkern, {"device": device}, dtype, value)
        # (bfloat16 within one rounding step: Triton's interpreter rounds 70000 down to 69632)
        assert_same(expected, actual, rtol=1e-2 if dtype is tkern.bfloat16 else 1e-5)


def _same_error(torch_fn, tkern_fn) -> None:
    """The same exception class and message from both libraries."""
    error = check_error(torch_fn, tkern_fn)
    with pytest.raises(Exception) as expected:
        torch_fn()
    assert str(error) == str(expected.value)


@pytest.mark.parametrize("write", [lambda x: x.T.fill_(2.5), lambda x: x.zero_(), lambda x: x[1:].fill_(-1.0)])
def test_fill_and_zero_write_to_expanded_views(write, device):
    t, k = make_pair(random_array((3,), seed=1), device)
    t_view, k_view = t.expand(4, 3), k.expand(4, 3)
    assert_same(write(t_view), write(k_view))
    assert_same(t, k)


@pytest.mark.parametrize("write", [lambda lib, x, dev: x.add_(1), lambda lib, x, dev: x.copy_(lib.ones(4, 3, **dev)),
                                   lambda lib, x, dev: x.fill_(lib.tensor(2.0, **dev)),
                                   lambda lib, x, dev: x.__setitem__(slice(None), 1.0)])
def test_other_writes_to_expanded_views_are_refused(write, device):
    values = random_array((3,), seed=2)
    t, k = make_pair(values, device)
    _same_error(lambda: write(torch, t.expand(4, 3), {}), lambda: write(tkern, k.expand(4, 3), {"device": device}))
    assert_same(torch.from_numpy(values), k)


@pytest.mark.parametrize("key", [[], [[]], [[], []], ([], slice(None)), (0, []), np.array([])])
def test_empty_list_key_selects_nothing(key, device):
    t, k = make_pair(random_array((3, 4), seed=3), device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(t[key], k[key])


def test_empty_list_key_writes_nothing(device):
    t, k = make_pair(random_array((3, 4), seed=4), device)
    t[[]] = torch.ones(4)
    k[[]] = tkern.ones(4, device=device)
    assert_same(t, k)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("index", [lambda lib, dev: lib.tensor(True, **dev), lambda lib, dev: lib.tensor(False, **dev),
                                   lambda lib, dev: lib.tensor(0, **dev)])
def test_index_put_on_a_zero_dim_tensor_refuses_an_index(index, accumulate, device):
    values = random_array((), seed=5)
    t, k = make_pair(values, device)
    _same_error(lambda: t.index_put_((index(torch, {}),), torch.tensor(7.0), accumulate),
                lambda: k.index_put_((index(tkern, {"device": device}),), tkern.tensor(7.0, device=device), accumulate))
    assert_same(torch.from_numpy(values), k)


@pytest.mark.parametrize("indices", [lambda lib, dev: (slice(None), lib.tensor([0], **dev)),
                                     lambda lib, dev: (lib.tensor([0], **dev), slice(1, None)),
                                     lambda lib, dev: (None, lib.tensor([0], **dev)),
                                     lambda lib, dev: (lib.tensor([0], **dev), 1), lambda lib, dev: ([0],),
                                     lambda lib, dev: (Ellipsis,), lambda lib, dev: lib.tensor([0], **dev)])
def test_index_put_takes_only_tensors(indices, device):
    values = random_array((3, 4), seed=6)
    t, k = make_pair(values, device)
    _same_error(lambda: t.index_put_(indices(torch, {}), torch.tensor(7.0)),
                lambda: k.index_put_(indices(tkern, {"device": device}), tkern.tensor(7.0, device=device)))
    assert_same(torch.from_numpy(values), k)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("case", [
    lambda lib, dev: ((lib.tensor([[0, 1]], **dev), lib.tensor([0, 1, 2], **dev)), lib.tensor(5.0, **dev)),
    lambda lib, dev: ((lib.tensor([True, False, True, True], **dev), lib.tensor([0, 1], **dev)), lib.tensor(5.0, **dev)),
    # the indices are checked before the value's dtype
    lambda lib, dev: ((lib.tensor([0, 1], **dev), lib.tensor([0, 1, 2], **dev)),
                      lib.tensor(1.0, dtype=lib.float64, **dev)),
    # and the value's shape before its dtype
    lambda lib, dev: ((lib.tensor([0, 1], **dev),), lib.ones(3, dtype=lib.float64, **dev)),
])
def test_index_put_indices_that_do_not_broadcast(case, accumulate, device):
    values = random_array((4, 4), seed=7)
    t, k = make_pair(values, device)
    t_indices, t_value = case(torch, {})
    k_indices, k_value = case(tkern, {"device": device})
    _same_error(lambda: t.index_put_(t_indices, t_value, accumulate), lambda: k.index_put_(k_indices, k_value, accumulate))
    assert_same(torch.from_numpy(values), k)


BASIC_KEYS = [(slice(None), 1), (1, slice(None)), (slice(1, 3), 1), (1, slice(1, 3)), (None,), (slice(None), None),
              (Ellipsis, 0), 1, slice(1, 3), slice(None), (slice(None, None, 2), slice(None)), (0, 1, 2), (None, 1),
              (1, None), (slice(None), slice(None), slice(1, 2))]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=str)
def test_basic_indexing_node_names(key, device):
    """torch names the node of x[key] after the last view the key makes (x[:, 1] is SelectBackward0)."""
    expected, actual = check_grad([(4, 5, 6)], lambda x: x[key], device=device)
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__
