"""Where loaded values go: host bytes become tkern storages on the device torch's ``map_location`` names
(None: where they were saved; a device or its name; a dict of saved location to location; a callable)."""
from __future__ import annotations

import numpy as np

from tkern import cuda
from tkern.device import as_device, device
from tkern.dtypes import dtype
from tkern.ops.array import Array, numel_of
from tkern.tensor import Tensor, wrap


def host_values(raw: bytes | bytearray, kind: dtype, little_endian: bool = True) -> np.ndarray:
    """A new native-order, writable 1-D host array of ``kind`` over ``raw`` (its length a multiple of
    the item size)."""
    native = kind.numpy
    stored = native.newbyteorder("<" if little_endian else ">") if native.itemsize > 1 else native
    values = np.frombuffer(raw, dtype=stored)
    if stored != native or not values.flags.writeable:
        values = values.astype(native)
    return values


def check_map_location(map_location) -> None:
    """torch accepts a device, its name, a dict of names or a callable; refused before reading the file."""
    if map_location is None or isinstance(map_location, (str, device, dict)) or callable(map_location):
        return
    raise TypeError("map_location should be either None, a string, a tkern.device, a dict or a callable, "
                    f"not {type(map_location).__name__}")


def place(values: np.ndarray, location: str, map_location) -> Tensor:
    """The 1-D storage tensor holding ``values`` (saved at ``location``, e.g. 'cpu' or 'cuda:0') where
    ``map_location`` sends it. A callable gets the storage on 'cpu' and its location, as torch's does,
    and returns it (moved or not) or None (then it is restored to where it was saved)."""
    from tkern.creation import from_numpy, tensor
    if callable(map_location) and not isinstance(map_location, (str, device, dict)):
        moved = map_location(from_numpy(values), location)
        if moved is not None:
            if not isinstance(moved, Tensor) or moved.dtype is not _dtype_of(values) or \
                    moved.shape != values.shape or not moved.is_contiguous():
                raise RuntimeError(f"map_location must return the storage it was given (a 1-D tensor of "
                                   f"{values.size} elements), moved or not, or None; got {moved!r:.80}")
            return moved
        map_location = None
    target = _target(location, map_location)
    if target.type == "cpu":
        return from_numpy(values)
    return tensor(values, device=target)


def _dtype_of(values: np.ndarray) -> dtype:
    from tkern.dtypes import from_numpy_dtype
    return from_numpy_dtype(values.dtype)


def _target(location: str, map_location) -> device:
    if isinstance(map_location, dict):
        map_location = map_location.get(location, location)
    target = as_device(location if map_location is None else map_location)
    if target.type == "cuda":
        if not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but tkern.cuda.is_available() is False. If you "
                "are running on a CPU-only machine, please use tkern.load with map_location=tkern.device('cpu') "
                "to map your storages to the CPU.")
        index = target.index or 0
        if index >= cuda.device_count():
            raise RuntimeError(
                f"Attempting to deserialize object on CUDA device {index} but tkern.cuda.device_count() is "
                f"{cuda.device_count()}. Please use tkern.load with map_location to map your storages to an "
                "existing device.")
    return target


def strided(storage: Tensor, shape, strides, offset) -> Tensor:
    """A tensor of ``shape``/``strides`` (in elements) from element ``offset`` of the 1-D ``storage``,
    sharing its memory (tensors saved as views of one storage load as views of one storage), with no
    autograd history. Refused when it would reach outside the storage."""
    shape, strides = tuple(shape), tuple(strides)
    numbers = (*shape, *strides, offset)
    if len(shape) != len(strides) or not all(type(n) is int and n >= 0 for n in numbers):
        raise RuntimeError(f"invalid tensor layout in the file: sizes {list(shape)}, strides {list(strides)}, "
                           f"storage offset {offset!r}")
    size = storage.numel()
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if numel_of(shape) else offset
    if needed > size:
        raise RuntimeError(
            f"setStorage: sizes {list(shape)}, strides {list(strides)}, storage offset {offset}, and itemsize "
            f"{storage.element_size()} requiring a storage size of {needed * storage.element_size()} are out of "
            f"bounds for storage of size {size * storage.element_size()}")
    a = storage._a
    return wrap(Array(a.storage, shape, strides, a.offset + offset, a.dtype))
