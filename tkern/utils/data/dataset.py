"""Datasets: indexable collections of samples (Dataset, TensorDataset, Subset), iterable ones
(IterableDataset), and random_split."""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator, Sequence

from ...creation import randperm
from ...random import Generator
from ...tensor import Tensor


class Dataset:
    """A map from indices to samples: a subclass implements ``__getitem__`` (and ``__len__`` for the
    default samplers)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class IterableDataset(Dataset):
    """A stream of samples: a subclass implements ``__iter__``."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples that are the rows of tensors of equal first dimension.

    >>> dataset = TensorDataset(tkern.arange(6).reshape(3, 2), tkern.arange(3))
    >>> dataset[1]
    (tensor([2, 3]), tensor(1))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index) -> tuple:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class Subset(Dataset):
    """The samples of dataset at indices: ``Subset(dataset, [4, 0])[1]`` is ``dataset[0]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        picked = [self.indices[i] for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)  # (a dataset may fetch a batch at once)
        if callable(getitems):
            return getitems(picked)
        return [self.dataset[i] for i in picked]

    def __len__(self) -> int:
        return len(self.indices)


def _lengths_of_fractions(fractions: Sequence[float], total: int) -> list[int]:
    """Fractions of total rounded down, the items left over given one each to the first splits."""
    lengths = []
    for i, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(math.floor(total * fraction))
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=3)
    return lengths


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
                 ) -> list[Subset]:
    """Disjoint random subsets of the given lengths (or fractions of len(dataset) summing to 1),
    from one randperm drawn from generator (default: the default 'cpu' generator).

    >>> [len(part) for part in random_split(range(10), [0.3, 0.7])]
    [3, 7]
    """
    n = len(dataset)  # type: ignore[arg-type]  # (a map-style dataset defines __len__, as in torch)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_of_fractions(lengths, n)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(n, generator=generator).tolist()
    return [Subset(dataset, indices[end - length:end]) for end, length in zip(itertools.accumulate(lengths), lengths)]
