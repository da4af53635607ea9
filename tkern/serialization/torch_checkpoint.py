"""Reading the zip checkpoints ``torch.save`` writes, without torch and without running code from the file.

The archive holds ``<name>/data.pkl`` (the object, pickled) and ``<name>/data/<key>`` (each storage's raw
bytes). The pickle is read by a restricted unpickler: the only globals it resolves are the ones torch's
own ``weights_only=True`` loader allows that tkern can rebuild (tensor and parameter rebuilders,
OrderedDict, Size, device, dtypes, storage types and a few builtins), each mapped onto tkern's own
object; any other global is refused before anything is called. Python's zipfile checks every record's
CRC-32, so damaged bytes are refused rather than loaded.
"""
from __future__ import annotations

import io
import pickle
import struct
import zipfile
import zlib
from collections import Counter, OrderedDict

from tkern import dtypes
from tkern.device import device
from tkern.size import Size
from tkern.tensor import Tensor

from .placement import host_values, place, strided

_TORCH_STORAGES = {"BoolStorage": dtypes.bool, "ByteStorage": dtypes.uint8, "CharStorage": dtypes.int8,
                   "ShortStorage": dtypes.int16, "IntStorage": dtypes.int32, "LongStorage": dtypes.int64,
                   "HalfStorage": dtypes.float16, "BFloat16Storage": dtypes.bfloat16, "FloatStorage": dtypes.float32,
                   "DoubleStorage": dtypes.float64}

# what a damaged archive raises from inside zipfile, depending on which bytes were hit
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, NotImplementedError, struct.error,
               OverflowError)


class _StorageType:
    """What the file's ``torch.FloatStorage`` (and the like) stands for: a dtype, nothing callable."""

    def __init__(self, kind: dtypes.dtype) -> None:
        self.dtype = kind


class _TorchClass:
    """torch.Tensor or torch.nn.Parameter named as a type in the file: a name, nothing callable."""

    def __init__(self, name: str) -> None:
        self.name = name


_TENSOR, _PARAMETER = _TorchClass("torch.Tensor"), _TorchClass("torch.nn.parameter.Parameter")


def _rebuild_tensor(storage: Tensor, storage_offset: int, size, stride) -> Tensor:
    if not isinstance(storage, Tensor):
        raise pickle.UnpicklingError(f"Weights only load failed. a tensor's storage is a {type(storage).__name__}")
    return strided(storage, size, stride, storage_offset)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None) -> Tensor:
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    return t.requires_grad_() if requires_grad is True else t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from tkern.nn import Parameter
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"Weights only load failed. a Parameter's data is a {type(data).__name__}")
    return Parameter(data, requires_grad is True)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    if state:
        raise pickle.UnpicklingError("Weights only load failed. tkern does not restore attributes set on a Parameter")
    return _rebuild_parameter(data, requires_grad, backward_hooks)


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILDERS or new_type not in (_TENSOR, _PARAMETER) or state:
        raise pickle.UnpicklingError("Weights only load failed. tkern rebuilds only plain tensors and Parameters "
                                     "(no tensor subclasses, no attributes set on tensors)")
    t = func(*args)
    return _rebuild_parameter(t, t.requires_grad, None) if new_type is _PARAMETER else t


def _latin1(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode``, which protocol-2 pickles use for bytes, for the encodings they use only."""
    if encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError(f"Weights only load failed. _codecs.encode with encoding {encoding!r}")
    return text.encode(encoding)


_REBUILDERS = (_rebuild_tensor, _rebuild_tensor_v2)

ALLOWED_GLOBALS = {
    "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
    "torch._utils._rebuild_tensor": _rebuild_tensor, "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.Size": Size, "torch.device": device, "torch.Tensor": _TENSOR, "torch.nn.parameter.Parameter": _PARAMETER,
    "builtins.set": set, "builtins.bytearray": bytearray,
    "builtins.complex": complex, "_codecs.encode": _latin1,
    **{f"torch.{kind.name}": kind for kind in _TORCH_STORAGES.values()},
    **{f"torch.{name}": _StorageType(kind) for name, kind in _TORCH_STORAGES.items()},
}


class WeightsUnpickler(pickle.Unpickler):
    """Resolves only ALLOWED_GLOBALS; storages come from ``load_storage(dtype, key, location, numel)``."""

    def __init__(self, file, load_storage) -> None:
        super().__init__(file, encoding="utf-8")
        self._load_storage = load_storage

    def find_class(self, module: str, name: str):
        if module == "__builtin__":  # protocol 2 names builtins as Python 2 did
            module = "builtins"
        found = ALLOWED_GLOBALS.get(f"{module}.{name}")
        if found is None:
            raise pickle.UnpicklingError(
                f"Weights only load failed. Unsupported global: GLOBAL {module}.{name} is not one tkern.load "
                "allows: it rebuilds tensors, Parameters, dicts, lists and tuples of them and Python numbers and "
                "strings, and never runs code from a file")
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)
                and isinstance(pid[2], str) and isinstance(pid[3], str) and type(pid[4]) is int and pid[4] >= 0):
            raise pickle.UnpicklingError(f"Weights only load failed. unsupported persistent id {pid!r:.200}")
        _, storage_type, key, location, numel = pid
        return self._load_storage(storage_type.dtype, key, location, numel)


def from_bytes(data: bytes, map_location) -> object:
    """The object a ``torch.save`` zip checkpoint holds, its tensors placed by ``map_location``."""
    archive, prefix = _open(data)
    records = {info.filename: info for info in archive.infolist()}
    byteorder = _read(archive, prefix + "byteorder").decode(errors="replace") if prefix + "byteorder" in records \
        else "little"
    if byteorder not in ("little", "big"):
        raise RuntimeError(f"tkern.load: unknown byte order {byteorder!r} in the checkpoint")
    storages: dict = {}

    def load_storage(kind: dtypes.dtype, key: str, location: str, numel: int) -> Tensor:
        found = storages.get(key)
        if found is None:
            name = f"{prefix}data/{key}"
            info = records.get(name)
            if info is None or info.file_size != numel * kind.itemsize:
                raise RuntimeError(f"tkern.load: the checkpoint's storage record {name!r} is missing or not "
                                   f"{numel} {kind.name} elements (corrupted file)")
            values = host_values(_read(archive, name), kind, byteorder == "little")
            found = storages[key] = place(values, location, map_location)
        elif found.dtype is not kind:
            raise pickle.UnpicklingError(f"Weights only load failed. storage {key!r} is read as two dtypes")
        return found

    unpickler = WeightsUnpickler(io.BytesIO(_read(archive, prefix + "data.pkl")), load_storage)
    try:
        return unpickler.load()
    except (pickle.UnpicklingError, RuntimeError):
        raise
    except Exception as error:  # a damaged or hostile pickle fails in the unpickler's own ways
        raise pickle.UnpicklingError(f"Weights only load failed. {type(error).__name__}: {error}") from error


def _open(data: bytes) -> tuple:
    """The archive and its record prefix ('archive/' when torch.save wrote to a buffer)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except _ZIP_ERRORS as error:
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {error}. The checkpoint is truncated "
                           "or corrupted.") from error
    pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
    return archive, pickles[0][:-len("data.pkl")]


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except _ZIP_ERRORS as error:
        raise RuntimeError(f"PytorchStreamReader failed reading record {name}: {error}. The checkpoint is "
                           "truncated or corrupted.") from error
