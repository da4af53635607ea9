"""default_collate and default_convert: samples made into batches as torch's DataLoader makes them.

A batch of tensors is stacked along a new first dim; numbers become a tensor (floats as float64,
ints as int64, bools as bool); numpy arrays and scalars become tensors first; strings stay lists;
mappings, named tuples and sequences are collated field by field (a tuple's fields come back as a
list, as in torch).
"""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ... import dtypes
from ...creation import as_tensor, tensor
from ...math_ops import stack
from ...tensor import Tensor

_STRINGS_OR_OBJECTS = re.compile(r"[SaUO]")  # numpy dtypes that hold no numbers
ERROR_FORMAT = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _rebuilt(container, values: dict | list):
    """A container of container's type holding values: copied and updated where it is mutable, made
    anew from the values otherwise, a plain dict or list where its type cannot be made so."""
    mapping = isinstance(container, collections.abc.Mapping)
    try:
        if isinstance(container, (collections.abc.MutableMapping, collections.abc.MutableSequence)):
            clone = copy.copy(container)
            for key, value in (values.items() if isinstance(values, dict) else enumerate(values)):
                clone[key] = value
            return clone
        return type(container)(values)
    except TypeError:
        return dict(values) if mapping else list(values)


def default_convert(data):
    """numpy arrays and scalars (at any depth of mappings and sequences) made tensors; a tuple becomes
    a list: ``default_convert(np.zeros(2))`` is ``tensor([0., 0.], dtype=torch.float64)``."""
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_"):
        if kind.__name__ == "ndarray" and _STRINGS_OR_OBJECTS.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt(data, [default_convert(d) for d in data])
    return data


def default_collate(batch: list):
    """A list of samples made one batch: ``default_collate([(tkern.ones(2), 1), (tkern.zeros(2), 0)])``
    is ``[tensor([[1., 1.], [0., 0.]]), tensor([1, 0])]``."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _STRINGS_OR_OBJECTS.search(elem.dtype.str):
            raise TypeError(ERROR_FORMAT.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return as_tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuilt(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuilt(elem, fields)
    raise TypeError(ERROR_FORMAT.format(type(elem)))
