"""Gather, scatter and nonzero kernels (placeholder: being written)."""
from __future__ import annotations


def gather(backend, out, x, indices):
    raise NotImplementedError("gather on 'cuda' is not written yet")


def scatter(backend, x, indices, values, accumulate):
    raise NotImplementedError("scatter on 'cuda' is not written yet")


def nonzero(backend, x):
    raise NotImplementedError("nonzero on 'cuda' is not written yet")
