"""Samplers: the order in which a DataLoader visits a dataset's indices, and their grouping into batches."""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sized

from ... import dtypes
from ...creation import empty, randint, randperm
from ...random import Generator


def random_seed(generator: Generator | None = None) -> int:
    """A 64-bit seed drawn as torch draws one (``torch.empty((), dtype=torch.int64).random_()``), from
    ``generator`` or the default 'cpu' generator."""
    return int(empty((), dtype=dtypes.int64).random_(generator=generator).item())


class Sampler:
    """Base of the samplers: an iterable of indices (or of lists of indices)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1: ``list(SequentialSampler(range(3)))`` is ``[0, 1, 2]``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """The indices of data_source in a random order: a permutation per len(data_source) samples
    (num_samples in all), or num_samples draws with replacement. Without a generator each iteration
    seeds a fresh one from the default generator, as torch does.

    >>> g = tkern.Generator().manual_seed(0)
    >>> sorted(RandomSampler(range(4), generator=g))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = Generator()
            generator.manual_seed(random_seed())
        if self.replacement:
            # (in blocks of 32 draws, as torch draws them)
            for size in [32] * (self.num_samples // 32) + [self.num_samples % 32]:
                yield from randint(0, n, (size,), dtype=dtypes.int64, generator=generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of batch_size indices from sampler; the last one shorter, or dropped with drop_last.

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    # (the indices are None for an IterableDataset's DataLoader)
    def __init__(self, sampler: Sampler | Iterable[int | None], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int | None]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size  # type: ignore[arg-type]  # (a sized sampler, as in torch)
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore[arg-type]
