"""Elementwise rows: adds in every layout the issue names, and tanh. Memory-bound: bytes read + written."""
from __future__ import annotations

import math
from functools import partial

import torch

import tkern

from .rows import Context, Measurement, Row, checked_kernel_times
from .sizes import Sizes
from .twins import random_pair

FAMILY = "elementwise"


def _add(context: Context, a_shape: tuple, b_shape: tuple) -> Measurement:
    ta, ka = random_pair(context.torch_device, a_shape, "float32", seed=1)
    tb, kb = random_pair(context.torch_device, b_shape, "float32", seed=2)
    # a float32 add is one correctly rounded operation: the results must be identical
    tkern_ms, torch_ms = checked_kernel_times(context, lambda: ka + kb, lambda: ta + tb, rtol=0.0)
    out_elements = math.prod(torch.broadcast_shapes(a_shape, b_shape))
    return Measurement(tkern_ms, torch_ms, bytes_moved=4 * (ta.numel() + tb.numel() + out_elements))


def _add_transposed(context: Context, side: int) -> Measurement:
    ta, ka = random_pair(context.torch_device, (side, side), "float32", seed=1)
    tb, kb = random_pair(context.torch_device, (side, side), "float32", seed=2)
    tkern_ms, torch_ms = checked_kernel_times(context, lambda: ka + kb.t(), lambda: ta + tb.t(), rtol=0.0)
    return Measurement(tkern_ms, torch_ms, bytes_moved=3 * 4 * side * side, extra={"operation": "a + b.T"})


def _add_at_offset_one(context: Context, n: int) -> Measurement:
    """Both operands are base[1:] of a buffer one longer: no 16-byte alignment, an odd length."""
    ta, ka = random_pair(context.torch_device, (n + 1,), "float32", seed=1)
    tb, kb = random_pair(context.torch_device, (n + 1,), "float32", seed=2)
    ta, ka, tb, kb = ta[1:], ka[1:], tb[1:], kb[1:]
    tkern_ms, torch_ms = checked_kernel_times(context, lambda: ka + kb, lambda: ta + tb, rtol=0.0)
    return Measurement(tkern_ms, torch_ms, bytes_moved=3 * 4 * n, extra={"storage_offset": 1})


def _tanh(context: Context, n: int, dtype: str) -> Measurement:
    tx, kx = random_pair(context.torch_device, (n,), dtype, seed=3)
    # torch's own tanh is a few ulp from exact: that much, in the row's precision
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1.6e-2, 1e-3)
    tkern_ms, torch_ms = checked_kernel_times(context, lambda: tkern.tanh(kx), lambda: tx.tanh(), rtol, atol)
    return Measurement(tkern_ms, torch_ms, bytes_moved=2 * n * tx.element_size())


def rows(sizes: Sizes) -> list[Row]:
    n, side = sizes.elements, sizes.square
    return [
        Row("add_f32", FAMILY, [[n], [n]], "float32", partial(_add, a_shape=(n,), b_shape=(n,))),
        Row("add_bcast_f32", FAMILY, [[side, 1], [1, side]], "float32",
            partial(_add, a_shape=(side, 1), b_shape=(1, side))),
        Row("add_transposed_f32", FAMILY, [[side, side], [side, side]], "float32",
            partial(_add_transposed, side=side)),
        Row("add_odd_f32", FAMILY, [[n + 3], [n + 3]], "float32", partial(_add_at_offset_one, n=n + 3)),
        Row("tanh_f32", FAMILY, [[n]], "float32", partial(_tanh, n=n, dtype="float32")),
        Row("tanh_bf16", FAMILY, [[n]], "bfloat16", partial(_tanh, n=n, dtype="bfloat16")),
    ]


def sweep_shape(n: int) -> Row:
    """One point of the add_f32 size sweep, as a row."""
    return Row(f"add_f32_{n}", FAMILY, [[n], [n]], "float32", partial(_add, a_shape=(n,), b_shape=(n,)))
