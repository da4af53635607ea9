"""small_op_us: the host's time per small op, where dispatch and launch cost dominate the kernel.

A burst of adds of two 1024-element float32 tensors, synchronised once at the end, per call; torch eager
on the same device beside it. tkern_ms/torch_ms are the per-call times (also given in us).
"""
from __future__ import annotations

from functools import partial

from .rows import Context, Measurement, Row
from .sizes import Sizes
from .twins import assert_agree, random_pair

FAMILY = "small_op"


def _small_add(context: Context, n: int, calls: int) -> Measurement:
    tx, kx = random_pair(context.torch_device, (n,), "float32", seed=6)
    ty, ky = random_pair(context.torch_device, (n,), "float32", seed=7)
    assert_agree(kx + ky, tx + ty, rtol=0.0)
    tkern_us = context.clock.host_us_per_call(lambda: kx + ky, calls)
    torch_us = context.clock.host_us_per_call(lambda: tx + ty, calls)
    return Measurement(tkern_us / 1e3, torch_us / 1e3, extra={
        "tkern_us": round(tkern_us, 3), "torch_us": round(torch_us, 3), "calls": calls})


def rows(sizes: Sizes) -> list[Row]:
    n, calls = sizes.small_op
    return [Row("small_op_us", FAMILY, [[n], [n]], "float32", partial(_small_add, n=n, calls=calls))]
