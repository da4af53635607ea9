"""Matmul kernels (placeholder: being written)."""
from __future__ import annotations


def matmul(backend, out, a, b, compute):
    raise NotImplementedError("matmul on 'cuda' is not written yet")
