"""Array: a strided view of a storage, the only thing a backend primitive sees."""
from __future__ import annotations

from functools import lru_cache

from tkern.dtypes import dtype
from tkern.storage import Storage


@lru_cache(maxsize=4096)
def contiguous_strides(shape: tuple) -> tuple:
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


@lru_cache(maxsize=4096)
def numel_of(shape: tuple) -> int:
    n = 1
    for size in shape:
        n *= size
    return n


class Array:
    """(storage, shape, strides, offset, dtype) with strides and offset counted in elements.

    ``host`` caches the numpy view the CPU backend builds for this exact layout. An Array made
    around a fresh contiguous host buffer (``Array.around_host``) creates its Storage and strides
    only when first asked for them: most results of small ops never are.
    """

    # no __getattr__ here: on CPython 3.11 a class with one stops every attribute read on its
    # instances from being specialised, which costs ~16 ns a read on the hot path
    __slots__ = ("_storage", "device", "shape", "_strides", "offset", "dtype", "host")
    _storage: Storage | None  # None: made around a host buffer, its Storage not yet asked for
    _strides: tuple | None  # None: contiguous, not yet worked out

    def __init__(self, storage: Storage, shape: tuple, strides: tuple, offset: int, dtype: dtype, host=None):
        self._storage = storage
        self.device = storage.device
        self.shape = shape
        self._strides = strides
        self.offset = offset
        self.dtype = dtype
        self.host = host

    @classmethod
    def around_host(cls, data, dtype: dtype, device) -> "Array":
        """A contiguous Array owning the C-contiguous host buffer ``data``."""
        a = cls.__new__(cls)
        a._storage = None
        a.device = device
        a.shape = data.shape
        a._strides = None
        a.offset = 0
        a.dtype = dtype
        a.host = data
        return a

    @property
    def storage(self) -> Storage:
        storage = self._storage
        if storage is None:
            storage = self._storage = Storage(self.host, self.host.nbytes, self.device)
        return storage

    def shares_memory_with(self, other: "Array") -> bool:
        """Whether both view one storage (an Array whose storage was never made has no other views)."""
        return self._storage is not None and self._storage is other._storage

    @property
    def strides(self) -> tuple:
        strides = self._strides
        if strides is None:
            # an Array made by around_host works out its strides only when first asked
            strides = self._strides = contiguous_strides(self.shape)
        return strides

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numel(self) -> int:
        return numel_of(self.shape)

    def is_contiguous(self) -> bool:
        expected = 1
        for size, stride in zip(reversed(self.shape), reversed(self.strides)):
            if size == 0:
                return True
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def view_as(self, shape: tuple, strides: tuple, offset: int) -> "Array":
        """Another view of the same storage."""
        return Array(self.storage, shape, strides, offset, self.dtype)

    def last_offset(self) -> int:
        """The largest element offset (from the storage's start) this view reaches; strides are never
        negative. Meaningless for an empty view."""
        return self.offset + sum((n - 1) * st for n, st in zip(self.shape, self.strides))

    def has_internal_overlap(self) -> bool:
        """True when two elements share memory (a stride-0 dimension of size > 1); never for an empty
        tensor, which torch counts as contiguous."""
        return 0 not in self.shape and any(st == 0 and sz > 1 for sz, st in zip(self.shape, self.strides))

