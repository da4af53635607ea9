"""Random kernels (placeholder: being written)."""
from __future__ import annotations


def random(backend, kind, out, generator, low=None, high=None):
    raise NotImplementedError("random on 'cuda' is not written yet")
