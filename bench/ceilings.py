"""The machine's ceilings, measured with torch before any row: what % of peak is held against.

copy_GBps: a device-to-device copy of a large buffer (bytes read + bytes written over the time);
bf16_TFLOPs: torch's bfloat16 matmul of two squares (8192 on a full run). The float32 matmul rows are
held against the same bf16 ceiling (their own peak is lower), so their % says how far they are from
what the tensor cores could do for 16-bit inputs.
"""
from __future__ import annotations

import torch

from .rows import Context


def copy_gbps(context: Context) -> float:
    source = torch.empty(context.sizes.copy_bytes, dtype=torch.uint8, device=context.torch_device)
    source.fill_(1)
    destination = torch.empty_like(source)
    ms = context.clock.kernel_ms(lambda: destination.copy_(source))
    return 2 * source.numel() / ms / 1e6


def bf16_matmul_tflops(context: Context) -> float:
    side = context.sizes.ceiling_mm
    generator = torch.Generator(device=context.torch_device).manual_seed(0)
    a, b = (torch.randn(side, side, generator=generator, device=context.torch_device).to(torch.bfloat16)
            for _ in range(2))
    ms = context.clock.kernel_ms(lambda: a @ b)
    return 2 * side ** 3 / ms / 1e9


def measure(context: Context) -> dict:
    return {"copy_GBps": float(f"{copy_gbps(context):.4g}"), "bf16_TFLOPs": float(f"{bf16_matmul_tflops(context):.4g}")}
