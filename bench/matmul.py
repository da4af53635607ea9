"""Matmul rows: tkern.matmul against torch.matmul (cuBLAS) on the same operands. Achieved is TFLOP/s.

The rows run in the order that adds the fewest new kernel compilations at each step (a fresh machine
compiles every autotuning configuration of a dtype once): the bf16 rows first, then f16, then the two
float32 precisions, IEEE last (its own configurations and the slowest kernels).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial

import torch

import tkern

from .rows import Context, Measurement, Row, checked_kernel_times
from .sizes import Sizes
from .twins import random_pair

FAMILY = "matmul"
# fraction of the largest |expected| two correct results may differ by: the output's rounding for
# 16-bit types, TF32's 10-bit mantissa, float32 summation order
TOLERANCE = {"bfloat16": 2e-2, "float16": 1e-2, "tf32": 5e-3, "float32": 1e-4}


@contextlib.contextmanager
def float32_precision(tf32: bool) -> Iterator[None]:
    """Both libraries' float32 matmul switch (torch.backends.cuda.matmul.allow_tf32), restored after."""
    saved_torch, saved_tkern = torch.backends.cuda.matmul.allow_tf32, tkern.get_float32_matmul_precision()
    torch.backends.cuda.matmul.allow_tf32 = tf32
    tkern.backends.cuda.matmul.allow_tf32 = tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved_torch
        tkern.set_float32_matmul_precision(saved_tkern)


def _matmul(context: Context, batch: int, m: int, n: int, k: int, dtype: str, tf32: bool = False,
            transposed_a: bool = False) -> Measurement:
    lead = (batch,) if batch > 1 else ()
    if transposed_a:  # a weight gradient: x.t() @ grad with x (k, m) contiguous, read in place
        ta, ka = random_pair(context.torch_device, lead + (k, m), dtype, seed=8)
        ta, ka = ta.transpose(-1, -2), ka.transpose(-1, -2)
    else:
        ta, ka = random_pair(context.torch_device, lead + (m, k), dtype, seed=8)
    tb, kb = random_pair(context.torch_device, lead + (k, n), dtype, seed=9)
    tolerance = TOLERANCE["tf32" if tf32 else dtype]
    with float32_precision(tf32):
        tkern_ms, torch_ms = checked_kernel_times(context, lambda: tkern.matmul(ka, kb), lambda: torch.matmul(ta, tb),
                                                  rtol=tolerance, atol=tolerance, relative_atol=True)
    extra = {"precision": "tf32" if tf32 else "ieee"} if dtype == "float32" else {}
    if transposed_a:
        extra["layout"] = "a = x.t(), x contiguous (K, M)"
    return Measurement(tkern_ms, torch_ms, flops=2.0 * batch * m * n * k, extra=extra)


def _row(name: str, batch: int, m: int, n: int, k: int, dtype: str, **options) -> Row:
    lead = [batch] if batch > 1 else []
    return Row(name, FAMILY, [lead + [m, k], lead + [k, n]], dtype,
               partial(_matmul, batch=batch, m=m, n=n, k=k, dtype=dtype, **options))


def rows(sizes: Sizes) -> list[Row]:
    side, large = sizes.mm, sizes.mm_large
    batch, bmm_side = sizes.bmm
    return [
        _row("mm_bf16_4096", 1, side, side, side, "bfloat16"),
        _row("mm_bf16_8192", 1, large, large, large, "bfloat16"),
        _row("mm_wgrad_bf16", 1, *sizes.mm_wgrad, "bfloat16", transposed_a=True),
        _row("mm_odd_bf16", 1, *sizes.mm_odd, "bfloat16"),
        _row("mm_f16_4096", 1, side, side, side, "float16"),
        _row("bmm_f16", batch, bmm_side, bmm_side, bmm_side, "float16"),
        _row("mm_tf32_4096", 1, side, side, side, "float32", tf32=True),
        _row("mm_f32_4096", 1, side, side, side, "float32"),
    ]


def sweep_shape(side: int) -> Row:
    """One point of the mm_bf16 size sweep, as a row."""
    return _row(f"mm_bf16_{side}", 1, side, side, side, "bfloat16")
