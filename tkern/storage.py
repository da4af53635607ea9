"""Storage: a device allocation that views (tensors) share."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .device import device


class Storage:
    """Raw memory of ``nbytes`` on ``device``; ``data`` is the backend's handle to it.

    ``version`` counts in-place writes; every view of the storage sees the same counter.
    """

    __slots__ = ("data", "nbytes", "device", "version", "_bytes", "_typed")

    def __init__(self, data: Any, nbytes: int, device: device):
        self.data = data
        self.nbytes = nbytes
        self.device = device
        self.version = 0
        self._bytes: np.ndarray | None = None
        self._typed: dict | None = None
