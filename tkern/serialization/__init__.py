"""tkern.save and tkern.load: objects of tensors as safetensors files, and torch's zip checkpoints read back.

``save`` writes safetensors (safetensors_format.py); ``load`` tells the two formats apart by their first
bytes and never runs code from a file: safetensors holds no code, and torch's pickles are read by a
restricted unpickler (torch_checkpoint.py).
"""
from __future__ import annotations

import os
import pickle
from typing import IO

from . import safetensors_format, torch_checkpoint
from .placement import check_map_location

_ZIP_MAGIC = b"PK\x03\x04"


def save(obj, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a tensor, or dicts, lists and tuples of tensors and Python numbers, strings, bools
    and None: a state dict, an optimizer's state dict) to the path or binary file ``f`` as safetensors;
    nothing is written when ``obj`` holds anything else.

    >>> import io, tkern
    >>> buffer = io.BytesIO()
    >>> tkern.save({"w": tkern.ones(2)}, buffer)
    >>> tkern.load(io.BytesIO(buffer.getvalue()))
    {'w': tensor([1., 1.])}
    """
    data = safetensors_format.to_bytes(obj)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            file.write(data)
    else:
        f.write(data)


def load(f: str | os.PathLike | IO[bytes], map_location=None, *, weights_only: bool | None = True):
    """Read what ``tkern.save`` wrote, any safetensors file, or a zip checkpoint from ``torch.save``, from
    the path or binary file ``f``; tensors go to the device they were saved on, or where
    ``map_location`` sends them (a device or its name, a dict of saved location to device, or a
    callable ``(storage, location) -> storage or None``), as with torch.load. Checkpoints are always
    read as torch reads them with ``weights_only=True``: tkern never unpickles arbitrary objects.

    >>> import io, tkern
    >>> buffer = io.BytesIO()
    >>> tkern.save([tkern.tensor(3), 0.5], buffer)
    >>> tkern.load(io.BytesIO(buffer.getvalue()), map_location="cpu")
    [tensor(3), 0.5]
    """
    check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            data = file.read()
    else:
        data = f.read()
    if not data:
        raise EOFError("tkern.load: the file is empty")
    if data[:4] == _ZIP_MAGIC:
        return torch_checkpoint.from_bytes(data, map_location)
    if data[8:9] == b"{":  # safetensors: an 8-byte little-endian header length, then the JSON header
        return safetensors_format.from_bytes(data, map_location)
    if data[:1] == b"\x80":
        raise RuntimeError("tkern.load reads torch's zip checkpoints, not the legacy format torch.save wrote with "
                           "_use_new_zipfile_serialization=False: save it again with torch.save's defaults")
    raise pickle.UnpicklingError(f"tkern.load: neither a safetensors file nor a torch zip checkpoint (it starts "
                                 f"with {data[:16]!r})")
