"""tkern.device: where a tensor's memory lives."""
from __future__ import annotations

from . import cuda as _cuda


class device:
    """A device like torch.device: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 1)``."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: "str | device", index: int | None = None):
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(): index given twice")
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        name = type
        if ":" in name:
            name, _, idx = name.partition(":")
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = name
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def as_device(value: "str | device | int | None") -> device:
    """Normalise a user's device argument; bare 'cuda' means the current GPU (tkern.cuda.set_device)."""
    if value is None:
        return CPU
    if isinstance(value, int):
        return device("cuda", value)
    d = value if isinstance(value, device) else device(value)
    if d.type == "cuda" and d.index is None:
        return device("cuda", _cuda._current)
    if d.type == "cpu" and d.index is not None:
        return CPU
    return d


_default = CPU


def set_default_device(device: "str | device | int | None") -> None:
    """The device factory functions (zeros, tensor, rand, arange, ...) use when given none, as
    torch.set_default_device: ``tkern.set_default_device('cuda')``; None restores 'cpu'."""
    global _default
    _default = CPU if device is None else as_device(device)


def get_default_device() -> device:
    return _default


def factory_device(value: "str | device | int | None") -> device:
    """A factory function's device argument: the default device when none is given."""
    return _default if value is None else as_device(value)
