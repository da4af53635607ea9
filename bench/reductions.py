"""Reduction rows: sums over everything, rows and columns, and max with indices. Memory-bound."""
from __future__ import annotations

from functools import partial

from .rows import Context, Measurement, Row, checked_kernel_times
from .sizes import Sizes
from .twins import random_pair

FAMILY = "reductions"
# float32 sums in different orders differ by rounding that grows with the reduced length
SUM_ATOL_PER_ELEMENT = 1e-6


def _sum(context: Context, shape: tuple, dim: int | None) -> Measurement:
    tx, kx = random_pair(context.torch_device, shape, "float32", seed=4)
    if dim is None:
        tkern_fn, torch_fn, reduced = (lambda: kx.sum()), (lambda: tx.sum()), tx.numel()
    else:
        tkern_fn, torch_fn, reduced = (lambda: kx.sum(dim)), (lambda: tx.sum(dim)), shape[dim]
    tkern_ms, torch_ms = checked_kernel_times(context, tkern_fn, torch_fn, rtol=1e-5,
                                              atol=SUM_ATOL_PER_ELEMENT * reduced)
    out_elements = tx.numel() // reduced
    return Measurement(tkern_ms, torch_ms, bytes_moved=4 * (tx.numel() + out_elements))


def _max_rows(context: Context, side: int) -> Measurement:
    tx, kx = random_pair(context.torch_device, (side, side), "float32", seed=5)
    # distinct random values: the maximum and its index are exact
    tkern_ms, torch_ms = checked_kernel_times(context, lambda: kx.max(1), lambda: tx.max(1), rtol=0.0)
    return Measurement(tkern_ms, torch_ms, bytes_moved=4 * side * side + (4 + 8) * side)


def rows(sizes: Sizes) -> list[Row]:
    n, side = sizes.elements, sizes.square
    return [
        Row("sum_all_f32", FAMILY, [[n]], "float32", partial(_sum, shape=(n,), dim=None)),
        Row("sum_rows_f32", FAMILY, [[side, side]], "float32", partial(_sum, shape=(side, side), dim=1)),
        Row("sum_cols_f32", FAMILY, [[side, side]], "float32", partial(_sum, shape=(side, side), dim=0)),
        Row("max_dim_f32", FAMILY, [[side, side]], "float32", partial(_max_rows, side=side)),
    ]
