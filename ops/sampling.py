"""Random draws on Arrays, for every device: the fills (Backend.random's kinds) and multinomial.

The CPU backend writes torch's own streams into any layout, in memory order; a device backend draws
into a dense buffer when the target is strided and copies it in.
"""
from __future__ import annotations

from tkern import dtypes

from .allocation import empty
from .array import Array
from .backend import backend_for
from .copying import copy_into
from .views import reshape


def fill(out: Array, kind: str, generator, a=None, b=None) -> None:
    """Replace out's elements by a draw of ``kind`` (see Backend.random)."""
    if out.numel() == 0:
        return
    backend = backend_for(out.device)
    if out.device.type == "cpu" or out.is_contiguous():
        backend.random(kind, out, generator, a, b)
        return
    dense = empty(out.shape, out.dtype, out.device)
    backend.random(kind, dense, generator, a, b)
    copy_into(out, dense)


def multinomial(probs: Array, num_samples: int, replacement: bool, generator) -> Array:
    """int64 category indices, (rows, num_samples) for 2-D probs and (num_samples,) for 1-D; probs
    already checked."""
    rows = probs if probs.ndim == 2 else reshape(probs, (1, probs.shape[0]))
    out = empty((rows.shape[0], num_samples), dtypes.int64, probs.device)
    backend_for(probs.device).multinomial(rows, out, generator, replacement)
    return out if probs.ndim == 2 else reshape(out, (num_samples,))
