"""The matmul kernels' epilogue: alpha * (a @ b) + beta * bias on a tile's accumulator, before its one
store, so addmm, baddbmm and Linear's bias cost no second pass over the output."""
from __future__ import annotations

import triton
import triton.language as tl

from .triton_elementwise import strided_offsets

# what the epilogue does (a constexpr: the plain product compiles exactly as without one)
PLAIN, SCALED, SCALED_PLUS_BIAS = 0, 1, 2


@triton.jit
def apply(acc, bias_ptr, bias_offset, batch, batch_sizes, bias_batch_strides, NB: tl.constexpr, offs_m, offs_n, M, N,
          stride_bias_m, stride_bias_n, alpha, beta, EPILOGUE: tl.constexpr):
    """acc scaled by alpha and, with a bias, plus beta times the bias at the tile's rows and columns of
    matrix ``batch`` (a broadcast bias has stride 0 along the dims it repeats)."""
    if EPILOGUE >= 1:
        acc = acc * alpha
    if EPILOGUE == 2:
        mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
        bias_base = bias_offset + strided_offsets(batch, batch_sizes, bias_batch_strides, NB)
        bias = tl.load(bias_ptr + bias_base + offs_m[:, None] * stride_bias_m + offs_n[None, :] * stride_bias_n,
                       mask=mask, other=0)
        acc = acc + bias.to(acc.dtype) * beta
    return acc
