"""Reduction kernels (placeholder: being written)."""
from __future__ import annotations


def reduce(backend, op, x, dims, keepdim, compute, result):
    raise NotImplementedError("reductions on 'cuda' are not written yet")


def arg_reduce(backend, op, values, indices, x, dim):
    raise NotImplementedError("arg reductions on 'cuda' are not written yet")
