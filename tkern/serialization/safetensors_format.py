"""tkern's own files: safetensors, with what safetensors cannot express in its metadata.

The tensors are the file's safetensors entries (each stored whole: a view stores its own values, and
tensors that share memory are stored as copies, one entry each), so any safetensors reader sees them;
a flat dict of tensors (a state dict) keeps its keys as the entry names. The metadata key ``tkern``
holds JSON with the saved object's structure (containers, their order, non-tensor leaves, each tensor's
entry name, dtype, shape, device, requires_grad and a CRC-32 of its bytes), and ``tkern.crc32`` the
CRC-32 of that JSON, so that a damaged file is refused rather than loaded with wrong values.
"""
from __future__ import annotations

import json
import math
import zlib
from collections import OrderedDict

import numpy as np

from tkern import dtypes
from tkern.device import device
from tkern.ops.array import contiguous_strides
from tkern.size import Size
from tkern.tensor import Tensor

from .placement import host_values, place, strided

STRUCTURE_KEY = "tkern"
CHECKSUM_KEY = "tkern.crc32"
_FORMAT = 1

CODES = {dtypes.bool: "BOOL", dtypes.uint8: "U8", dtypes.int8: "I8", dtypes.int16: "I16", dtypes.int32: "I32",
         dtypes.int64: "I64", dtypes.float16: "F16", dtypes.bfloat16: "BF16", dtypes.float32: "F32",
         dtypes.float64: "F64"}
_BY_CODE = {code: kind for kind, code in CODES.items()}
_DTYPES_BY_NAME = {kind.name: kind for kind in CODES}


def to_bytes(obj) -> bytes:
    """``obj`` as a safetensors file: every check runs (and every tensor is read) before a byte is made."""
    from safetensors.numpy import save
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, (), arrays)
    text = json.dumps({"format": _FORMAT, "structure": structure}, allow_nan=False, separators=(",", ":"))
    return save(arrays, metadata={STRUCTURE_KEY: text, CHECKSUM_KEY: str(zlib.crc32(text.encode()))})


def _encode(value, path: tuple, arrays: dict):
    """The JSON form of ``value``; tensors go into ``arrays`` under a name made from their path."""
    if value is None or isinstance(value, (bool, str)) or type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"kind": "float", "value": repr(value)}
    if isinstance(value, Tensor):
        return _encode_tensor(value, path, arrays)
    if isinstance(value, dict):
        if any(isinstance(k, Tensor) for k in value):
            raise TypeError("tkern.save cannot store a dict with a tensor as a key")
        items = [[_encode(k, (), arrays), _encode(v, (*path, str(k)), arrays)] for k, v in value.items()]
        return {"kind": "dict", "ordered": isinstance(value, OrderedDict), "items": items}
    if isinstance(value, Size):
        return {"kind": "size", "items": list(value)}
    if type(value) in (list, tuple):
        items = [_encode(v, (*path, str(i)), arrays) for i, v in enumerate(value)]
        return items if type(value) is list else {"kind": "tuple", "items": items}
    if type(value) is complex:
        return {"kind": "complex", "value": [_encode(value.real, (), arrays), _encode(value.imag, (), arrays)]}
    if isinstance(value, dtypes.dtype):
        return {"kind": "dtype", "name": value.name}
    if isinstance(value, device):
        return {"kind": "device", "name": str(value)}
    raise TypeError(f"tkern.save cannot store an object of type {type(value).__module__}.{type(value).__qualname__}: "
                    "it stores tensors, dicts, lists and tuples of them, and numbers, strings, bools, None, "
                    "dtypes and devices")


def _encode_tensor(t: Tensor, path: tuple, arrays: dict) -> dict:
    from tkern.nn import Parameter
    values = np.asarray(t.detach()._host())
    if not values.flags.c_contiguous:
        values = values.copy(order="C")  # (not ascontiguousarray, which makes a 0-d array 1-d)
    name = ".".join(path) or "tensor"
    unique, n = name, 1
    while unique in arrays or unique == "__metadata__":
        unique, n = f"{name}#{n}", n + 1
    arrays[unique] = values
    return {"kind": "tensor", "key": unique, "dtype": CODES[t.dtype], "shape": list(values.shape),
            "device": str(t.device), "requires_grad": t.requires_grad, "parameter": isinstance(t, Parameter),
            "crc32": zlib.crc32(values.reshape(-1).view(np.uint8).data)}


def from_bytes(data: bytes, map_location) -> object:
    """What ``to_bytes`` wrote (or, for a file without tkern's metadata, a dict of its tensors in the
    file's order), its tensors placed by ``map_location``."""
    from safetensors import deserialize
    try:
        entries = dict(deserialize(data))
    except Exception as error:  # safetensors' SafetensorError (an Exception) for any damage it finds
        raise RuntimeError(f"tkern.load: the safetensors file is truncated or corrupted: {error}") from error
    length = int.from_bytes(data[:8], "little")
    header = json.loads(bytes(data[8:8 + length]), object_pairs_hook=OrderedDict)  # valid: deserialize read it
    metadata = header.pop("__metadata__", None) or {}
    if STRUCTURE_KEY not in metadata and CHECKSUM_KEY not in metadata:
        return {name: _tensor(entries[name], name, "cpu", map_location) for name in header}
    text = metadata.get(STRUCTURE_KEY, "")
    if metadata.get(CHECKSUM_KEY) != str(zlib.crc32(text.encode())):
        raise RuntimeError("tkern.load: the file's tkern metadata is corrupted (its CRC-32 does not match)")
    used: set = set()
    try:
        saved = json.loads(text)
        if saved["format"] != _FORMAT:
            raise ValueError(f"unknown format {saved['format']!r}")
        result = _decode(saved["structure"], entries, used, map_location)
    except (KeyError, TypeError, ValueError) as error:
        raise RuntimeError(f"tkern.load: the file's tkern metadata is malformed: {error!r}") from error
    if used != set(entries):
        raise RuntimeError("tkern.load: the file's tensors and its tkern metadata disagree (corrupted file)")
    return result


def _decode(value, entries: dict, used: set, map_location):
    if isinstance(value, list):
        return [_decode(v, entries, used, map_location) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value["kind"]
    if kind == "tensor":
        return _saved_tensor(value, entries, used, map_location)
    if kind == "dict":
        items = [(_decode(k, entries, used, map_location), _decode(v, entries, used, map_location))
                 for k, v in value["items"]]
        return OrderedDict(items) if value["ordered"] else dict(items)
    if kind == "tuple":
        return tuple(_decode(v, entries, used, map_location) for v in value["items"])
    if kind == "size":
        return Size(value["items"])
    if kind == "float":
        return float(value["value"])
    if kind == "complex":
        return complex(*(_decode(v, entries, used, map_location) for v in value["value"]))
    if kind == "dtype":
        return _DTYPES_BY_NAME[value["name"]]
    if kind == "device":
        return device(value["name"])
    raise RuntimeError(f"tkern.load: unknown kind {kind!r} in the file's tkern metadata")


def _saved_tensor(spec: dict, entries: dict, used: set, map_location) -> Tensor:
    name = spec["key"]
    entry = entries.get(name)
    if entry is None or name in used or entry["dtype"] != spec["dtype"] or list(entry["shape"]) != spec["shape"]:
        raise RuntimeError(f"tkern.load: tensor {name!r} does not match the file's tkern metadata (corrupted file)")
    if zlib.crc32(entry["data"]) != spec["crc32"]:
        raise RuntimeError(f"tkern.load: the bytes of tensor {name!r} are corrupted (their CRC-32 does not match)")
    used.add(name)
    t = _tensor(entry, name, spec["device"], map_location)
    if spec["parameter"]:
        from tkern.nn import Parameter
        return Parameter(t, spec["requires_grad"])
    return t.requires_grad_(spec["requires_grad"]) if spec["requires_grad"] else t


def _tensor(entry: dict, name: str, location: str, map_location) -> Tensor:
    kind = _BY_CODE.get(entry["dtype"])
    if kind is None:
        raise TypeError(f"tkern.load: tensor {name!r} has dtype {entry['dtype']}, which tkern does not have "
                        f"(it has {', '.join(CODES.values())})")
    shape = tuple(entry["shape"])
    storage = place(host_values(entry["data"], kind), location, map_location)
    return strided(storage, shape, contiguous_strides(shape), 0)
