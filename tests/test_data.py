"""tkern.utils.data against torch.utils.data: the same datasets, samplers and seeds give the same batches."""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as TD

import tkern
import tkern.utils.data as KD
from helpers import assert_same, check_error, make_pair, random_array


def _datasets(device, n: int = 11):
    """The same (features, labels) TensorDataset in torch and in tkern."""
    (tx, kx), (ty, ky) = make_pair(random_array((n, 3)), device), make_pair(random_array((n,), tkern.int64, 1), device)
    return TD.TensorDataset(tx, ty), KD.TensorDataset(kx, ky)


def _assert_same_batches(expected, actual) -> None:
    """Batches of nested dicts, lists and tuples of tensors, numbers and strings."""
    if isinstance(expected, dict):
        assert type(actual) is type(expected) and list(actual) == list(expected)
        for key in expected:
            _assert_same_batches(expected[key], actual[key])
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for e, a in zip(expected, actual):
            _assert_same_batches(e, a)
    elif isinstance(expected, (str, bytes)):
        assert actual == expected
    else:
        assert_same(expected, actual)


def _assert_same_loading(torch_loader, tkern_loader, epochs: int = 1) -> None:
    assert len(tkern_loader) == len(torch_loader)
    for _ in range(epochs):
        expected, actual = list(torch_loader), list(tkern_loader)
        assert len(actual) == len(expected)
        for e, a in zip(expected, actual):
            _assert_same_batches(e, a)


def test_tensor_dataset(device):
    torch_data, tkern_data = _datasets(device)
    assert len(tkern_data) == len(torch_data) == 11
    for index in (0, 5, -1, slice(2, 7, 2)):
        _assert_same_batches(torch_data[index], tkern_data[index])
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        KD.TensorDataset(tkern.zeros(3), tkern.zeros(4))


@pytest.mark.parametrize("batch_size", [1, 3, 4, 11, 20])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches(batch_size, drop_last, device):
    torch_data, tkern_data = _datasets(device)
    _assert_same_loading(TD.DataLoader(torch_data, batch_size=batch_size, drop_last=drop_last),
                         KD.DataLoader(tkern_data, batch_size=batch_size, drop_last=drop_last))


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (4, True), (11, True)])
def test_shuffled_batches_follow_the_default_generator(batch_size, drop_last, device):
    torch_data, tkern_data = _datasets(device)
    torch.manual_seed(7)
    tkern.manual_seed(7)
    _assert_same_loading(TD.DataLoader(torch_data, batch_size=batch_size, shuffle=True, drop_last=drop_last),
                         KD.DataLoader(tkern_data, batch_size=batch_size, shuffle=True, drop_last=drop_last), epochs=3)
    # the loaders drew exactly what torch's drew: the default streams are still in step
    assert tkern.randperm(9).tolist() == torch.randperm(9).tolist()


def test_shuffled_batches_with_a_generator(device):
    torch_data, tkern_data = _datasets(device)
    torch_generator, tkern_generator = torch.Generator().manual_seed(11), tkern.Generator().manual_seed(11)
    torch.manual_seed(1)
    tkern.manual_seed(1)
    _assert_same_loading(TD.DataLoader(torch_data, batch_size=4, shuffle=True, generator=torch_generator),
                         KD.DataLoader(tkern_data, batch_size=4, shuffle=True, generator=tkern_generator), epochs=2)
    assert tkern.randperm(9).tolist() == torch.randperm(9).tolist()  # (the default stream is untouched)


def test_samplers_like_torch():
    data = list(range(13))
    assert list(KD.SequentialSampler(data)) == list(TD.SequentialSampler(data))
    for options in ({}, {"num_samples": 30}, {"num_samples": 5}, {"replacement": True}, {"replacement": True,
                                                                                         "num_samples": 70}):
        torch_sampler = TD.RandomSampler(data, generator=torch.Generator().manual_seed(3), **options)
        tkern_sampler = KD.RandomSampler(data, generator=tkern.Generator().manual_seed(3), **options)
        assert len(tkern_sampler) == len(torch_sampler)
        assert list(tkern_sampler) == list(torch_sampler)
        assert list(tkern_sampler) == list(torch_sampler)  # (a second pass continues the generator)
    torch.manual_seed(4)
    tkern.manual_seed(4)
    assert list(KD.RandomSampler(data)) == list(TD.RandomSampler(data))
    for batch_size, drop_last in ((4, False), (4, True), (13, True), (20, False), (20, True)):
        expected = TD.BatchSampler(TD.SequentialSampler(data), batch_size, drop_last)
        actual = KD.BatchSampler(KD.SequentialSampler(data), batch_size, drop_last)
        assert list(actual) == list(expected) and len(actual) == len(expected)


@pytest.mark.parametrize("call", [
    lambda lib: lib.RandomSampler(range(3), replacement=1),
    lambda lib: lib.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.RandomSampler([]),
    lambda lib: lib.BatchSampler(range(3), 0, False),
    lambda lib: lib.BatchSampler(range(3), True, False),
    lambda lib: lib.BatchSampler(range(3), 2, 1),
    lambda lib: lib.Dataset()[0],
    lambda lib: lib.DataLoader(range(3), num_workers=-1),
    lambda lib: lib.DataLoader(range(3), timeout=-1),
    lambda lib: lib.DataLoader(range(3), prefetch_factor=2),
    lambda lib: lib.DataLoader(range(3), persistent_workers=True),
    lambda lib: lib.DataLoader(range(3), sampler=[0, 1], shuffle=True),
    lambda lib: lib.DataLoader(range(3), batch_sampler=[[0, 1]], batch_size=2),
    lambda lib: lib.DataLoader(range(3), batch_sampler=[[0, 1]], drop_last=True),
    lambda lib: lib.DataLoader(range(3), batch_size=None, drop_last=True),
    lambda lib: setattr(lib.DataLoader(range(3)), "batch_size", 2),
    lambda lib: lib.random_split(range(5), [2, 2]),
    lambda lib: lib.random_split(range(5), [1.5, -0.5]),
    lambda lib: lib.default_collate([object()]),
    lambda lib: lib.default_collate([[1, 2], [3]]),
    lambda lib: lib.default_collate([np.array(["a"]), np.array(["b"])]),
])
def test_errors_like_torch(call):
    error = check_error(lambda: call(TD), lambda: call(KD))
    with pytest.raises(Exception) as caught:
        call(TD)
    assert str(error) == str(caught.value)


def test_workers_are_refused():
    with pytest.raises(NotImplementedError, match="num_workers must be 0, got num_workers=2"):
        KD.DataLoader(range(3), num_workers=2)


Point = collections.namedtuple("Point", "x y")


class Samples(KD.Dataset):
    """Samples of every kind default_collate takes, each a function of its index."""

    def __init__(self, lib, device):
        self.lib, self.device = lib, device

    def __getitem__(self, i):
        values = self.lib.tensor(random_array((2, 3), seed=i), device=self.device if self.lib is tkern else "cpu")
        return {"tensor": values, "int": i, "float": i / 3, "bool": i % 2 == 0, "text": f"s{i}",
                "numbers": (np.float32(i) / 7, np.int32(i)), "array": np.arange(i, i + 3, dtype=np.float32),
                "point": Point(i, values[0]), "pair": [i, 2.5 * i]}

    def __len__(self):
        return 7


@pytest.mark.parametrize("batch_size", [3, None])
def test_collation_of_nested_samples(batch_size, device):
    _assert_same_loading(TD.DataLoader(Samples(torch, device), batch_size=batch_size),
                         KD.DataLoader(Samples(tkern, device), batch_size=batch_size))


def test_custom_collate_fn_sampler_and_batch_sampler(device):
    torch_data, tkern_data = _datasets(device)
    sampler = [5, 0, 0, 9, 2]
    _assert_same_loading(TD.DataLoader(torch_data, batch_size=2, sampler=sampler),
                         KD.DataLoader(tkern_data, batch_size=2, sampler=sampler))
    batches = [[1, 2, 3], [10], [4, 4]]
    _assert_same_loading(TD.DataLoader(torch_data, batch_sampler=batches),
                         KD.DataLoader(tkern_data, batch_sampler=batches))
    collate = lambda samples: [label for _, label in samples]
    _assert_same_loading(TD.DataLoader(torch_data, batch_size=4, collate_fn=collate),
                         KD.DataLoader(tkern_data, batch_size=4, collate_fn=collate))


class Stream(KD.IterableDataset):
    def __init__(self, lib, n):
        self.lib, self.n = lib, n

    def __iter__(self):
        return iter(self.lib.tensor([float(i), 2.0 * i]) for i in range(self.n))

    def __len__(self):
        return self.n


class TorchStream(Stream, TD.IterableDataset):
    pass


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_datasets(batch_size, drop_last):
    _assert_same_loading(TD.DataLoader(TorchStream(torch, 8), batch_size=batch_size, drop_last=drop_last),
                         KD.DataLoader(Stream(tkern, 8), batch_size=batch_size, drop_last=drop_last))
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        KD.DataLoader(Stream(tkern, 8), shuffle=True)


@pytest.mark.parametrize("lengths", [[3, 8], [0.25, 0.75], [0.3, 0.3, 0.4], [11], [4, 0, 7]])
def test_random_split_like_torch(lengths, device):
    torch_data, tkern_data = _datasets(device)
    torch_parts = TD.random_split(torch_data, lengths, generator=torch.Generator().manual_seed(5))
    tkern_parts = KD.random_split(tkern_data, lengths, generator=tkern.Generator().manual_seed(5))
    assert [part.indices for part in tkern_parts] == [part.indices for part in torch_parts]
    for t, k in zip(torch_parts, tkern_parts):
        assert isinstance(k, KD.Subset) and len(k) == len(t)
        if len(t):
            _assert_same_batches(t[len(t) - 1], k[len(k) - 1])
            _assert_same_loading(TD.DataLoader(t, batch_size=2), KD.DataLoader(k, batch_size=2))
    torch.manual_seed(2)
    tkern.manual_seed(2)
    assert [p.indices for p in KD.random_split(range(9), [4, 5])] == \
           [p.indices for p in TD.random_split(range(9), [4, 5])]


def test_random_split_warns_of_an_empty_split():
    for lib in (TD, KD):
        with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
            lib.random_split(range(3), [1.0, 0.0])


def test_subset_reads_through_to_its_dataset(device):
    torch_data, tkern_data = _datasets(device)
    indices = [7, 2, 2, 10]
    torch_subset, tkern_subset = TD.Subset(torch_data, indices), KD.Subset(tkern_data, indices)
    assert len(tkern_subset) == 4
    for i in range(4):
        _assert_same_batches(torch_subset[i], tkern_subset[i])
    _assert_same_batches(torch_subset.__getitems__([3, 0]), tkern_subset.__getitems__([3, 0]))


def test_reachable_as_torch_names_it():
    import tkern.utils.data
    assert tkern.utils.data.DataLoader is KD.DataLoader
    assert tkern.utils.data.default_collate([1, 2]).tolist() == [1, 2]


def test_an_iterator_has_the_loaders_length_and_pin_memory_changes_nothing(device):
    torch_data, tkern_data = _datasets(device)
    loader = KD.DataLoader(tkern_data, batch_size=4, pin_memory=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        iterator = iter(loader)
    # (torch's warning where there is no accelerator to pin memory for)
    assert [str(w.message) for w in caught] == ([] if tkern.accelerator.is_available() else [
        "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory won't be used."])
    assert len(iterator) == len(iter(TD.DataLoader(torch_data, batch_size=4))) == 3
    assert iter(iterator) is iterator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _assert_same_loading(TD.DataLoader(torch_data, batch_size=4, pin_memory=True), loader)
