"""DataLoader: batches of a dataset, in a sampler's order, collated; loaded in the calling process."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ... import accelerator
from ...random import Generator
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, random_seed

_FIXED = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def _endless_nones() -> Iterator[None]:
    while True:
        yield None


class DataLoader:
    """Iterate over dataset in batches, like torch.utils.data.DataLoader: batch_size samples at a time
    (None: one sample at a time, converted but not collated), in order or shuffled (with generator,
    or a given sampler or batch_sampler), the last short batch kept or dropped, each batch made by
    collate_fn (default_collate). Every iterator draws a base seed as torch's does, so that the
    random streams stay in step with torch's.

    Loading runs in the calling process: num_workers must be 0 (torch's worker processes are not
    implemented; a positive num_workers raises NotImplementedError).

    >>> dataset = TensorDataset(tkern.arange(5))
    >>> [batch[0].tolist() for batch in DataLoader(dataset, batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context=None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if num_workers > 0:
            raise NotImplementedError(f"tkern's DataLoader loads in the calling process only: num_workers must be 0, "
                                      f"got num_workers={num_workers}")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             f"but got num_workers={num_workers}")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _endless_nones()
            else:
                # (a map-style dataset defines __len__, as in torch)
                sampler = (RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
                           if shuffle else SequentialSampler(dataset))  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory  # (accepted; tkern's host memory needs no pinning)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None else default_convert)
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr: str, value: Any) -> None:
        if getattr(self, "_initialized", False) and attr in _FIXED:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self) -> _LoaderIterator:
        return _LoaderIterator(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)  # type: ignore[arg-type]  # (an IterableDataset may define __len__)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _LoaderIterator:
    """One pass over a DataLoader. Made as torch's iterator is made: the index sampler's iterator
    first (a generator: a sampler draws at the first batch), then a base seed from the loader's
    generator, which torch draws for its workers even where there are none."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        if loader.pin_memory and not accelerator.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=3)
        indices = iter(loader._index_sampler)
        random_seed(loader.generator)
        self._batches = self._streamed(loader) if loader._iterable else self._fetched(loader, indices)

    def __iter__(self) -> _LoaderIterator:
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)

    @staticmethod
    def _fetched(loader: DataLoader, indices: Iterator) -> Iterator:
        dataset, collate = loader.dataset, loader.collate_fn
        batched = loader.batch_sampler is not None
        many = getattr(dataset, "__getitems__", None)
        for index in indices:
            if batched:
                data = many(index) if callable(many) else [dataset[i] for i in index]
            else:
                data = dataset[index]
            yield collate(data)

    @staticmethod
    def _streamed(loader: DataLoader) -> Iterator:
        samples, collate, size = iter(loader.dataset), loader.collate_fn, loader.batch_size
        if size is None:
            for sample in samples:
                yield collate(sample)
            return
        while batch := [sample for _, sample in zip(range(size), samples)]:
            if loader.drop_last and len(batch) < size:
                return
            yield collate(batch)
