"""Matmul kernels: tiled tl.dot for floating types, an exact outer-product kernel for integers.

Both read every operand in place through (offset, batch strides, row stride, column stride), so
transposed, sliced and batch-broadcast (stride 0) views are never copied. Batch dims are coalesced
and folded with the output tiles into one grid axis; tiles run in grouped order (GROUP_M rows of
tiles share their B columns while they are hot in L2). float16/bfloat16 accumulate in float32,
float32 follows tkern's TF32 switches, float64 runs tl.dot in float64. Integers accumulate in int64
with wrapping arithmetic, which gives torch's wrapped results for every narrower type too.
"""
from __future__ import annotations

import warnings

import triton
import triton.language as tl

from tkern import backends, dtypes

from . import cuda_memory, triton_launch
from .array import Array
from .triton_elementwise import strided_offsets
from .triton_dispatch import Launcher, hooked
from .triton_launch import TL_TYPES, coalesce, needs_int64, pointer

_FLOAT_TYPES = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)

# the one configuration the interpreter runs: each program is Python, so small tiles keep test
# shapes at a handful of programs while still covering partial tiles and grouping
_INTERPRETER_META = dict(BLOCK_M=16, BLOCK_N=16, BLOCK_K=16, GROUP_M=2)
_INT_META = dict(BLOCK_M=64, BLOCK_N=64, GROUP_M=8)
_INT_META_INTERPRETER = dict(BLOCK_M=16, BLOCK_N=16, GROUP_M=2)


def input_precision(dtype: dtypes.dtype, capability: tuple) -> str:
    """The tl.dot input precision for ``dtype`` on a GPU of compute ``capability``.

    float32 uses TF32 tensor cores only when tkern's switches allow it and the GPU has them
    (capability 8.0 on); (0, 0) is the interpreter, which accepts either and computes in float32.
    Every other type is exact in its own precision ("ieee").
    """
    if dtype is dtypes.float32 and backends.get_float32_matmul_precision() != "highest":
        if capability >= (8, 0) or capability == (0, 0):
            return "tf32"
    return "ieee"


def _bucket(n: int) -> int:
    """Sizes tune by power-of-two bucket: one tuning run serves every size of the bucket."""
    return 1 << max(n - 1, 0).bit_length()


# ----- configurations -----


def _config(bm: int, bn: int, bk: int, stages: int, warps: int, group: int = 8) -> triton.Config:
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": group},
                         num_stages=stages, num_warps=warps)


# keyed by (bytes per element, precision): tensor-core tiles for 16-bit and TF32, smaller FMA-friendly
# tiles for IEEE float32 and float64 (which also need more shared memory per element)
_CONFIGS = {
    (2, "ieee"): [
        _config(128, 256, 64, 3, 8), _config(256, 128, 64, 3, 8), _config(128, 128, 64, 4, 8),
        _config(128, 128, 64, 4, 4), _config(64, 256, 64, 4, 4), _config(128, 64, 64, 4, 4),
        _config(64, 128, 64, 4, 4), _config(64, 64, 64, 4, 4), _config(128, 32, 64, 4, 4),
        _config(32, 128, 64, 4, 4), _config(32, 64, 64, 5, 2), _config(16, 64, 64, 5, 2),
        _config(16, 128, 128, 4, 4), _config(64, 16, 64, 5, 2),
    ],
    (4, "tf32"): [
        _config(128, 256, 32, 3, 8), _config(256, 128, 32, 3, 8), _config(128, 128, 32, 4, 8),
        _config(128, 128, 32, 3, 4), _config(64, 256, 32, 4, 4), _config(128, 64, 32, 4, 4),
        _config(64, 128, 32, 4, 4), _config(64, 64, 32, 4, 4), _config(32, 128, 32, 4, 4),
        _config(128, 32, 32, 4, 4), _config(16, 64, 64, 4, 2), _config(64, 16, 64, 4, 2),
    ],
    (4, "ieee"): [
        _config(128, 128, 16, 3, 8), _config(128, 128, 32, 3, 8), _config(128, 64, 32, 3, 4),
        _config(64, 128, 32, 3, 4), _config(64, 64, 32, 3, 4), _config(32, 64, 32, 3, 4),
        _config(64, 32, 32, 3, 4), _config(16, 64, 32, 3, 2), _config(64, 16, 32, 3, 2),
    ],
    (8, "ieee"): [
        _config(128, 64, 16, 3, 8), _config(64, 128, 16, 3, 8), _config(64, 64, 32, 3, 4),
        _config(64, 64, 16, 4, 4), _config(32, 64, 32, 3, 4), _config(64, 32, 32, 3, 4),
        _config(32, 32, 32, 3, 4), _config(16, 64, 32, 3, 2), _config(64, 16, 32, 3, 2),
    ],
}
_ALL_CONFIGS = [c for family in _CONFIGS.values() for c in family]


def _family(element_size: int, precision: str) -> list:
    return _CONFIGS[element_size, "tf32" if precision == "tf32" else "ieee"]


def _prune(configs: list, named_args: dict, **kwargs) -> list:
    """The configurations of this dtype and precision whose tiles the problem can fill."""
    args = {**named_args, **kwargs}
    family = _family(args["a_ptr"].element_size(), args["PRECISION"])
    cap_m, cap_n = max(args["M_BUCKET"], 16), max(args["N_BUCKET"], 16)
    fitting = [c for c in family if c.kwargs["BLOCK_M"] <= cap_m and c.kwargs["BLOCK_N"] <= cap_n]
    if fitting:
        return fitting
    # a problem smaller than every tile of the family: the smallest tiles waste least
    smallest = min(c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] for c in family)
    return [c for c in family if c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] == smallest]


# ----- shared index helpers -----


@triton.jit
def _tile(M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr, WIDE: tl.constexpr):
    """(batch index, first row, first column) of this program, tiles in grouped order."""
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    per_batch = tiles_m * tiles_n
    batch = pid // per_batch
    tile = pid % per_batch
    # GROUP_M consecutive rows of tiles are walked column by column, so a group reuses each B
    # column block GROUP_M times and its A rows tiles_n times while they stay in L2
    per_group = GROUP_M * tiles_n
    group = tile // per_group
    first_m = group * GROUP_M
    rows = tl.minimum(tiles_m - first_m, GROUP_M)
    in_group = tile % per_group
    pid_m = first_m + in_group % rows
    pid_n = in_group // rows
    if WIDE:
        batch = batch.to(tl.int64)
        pid_m = pid_m.to(tl.int64)
        pid_n = pid_n.to(tl.int64)
    return batch, pid_m * BLOCK_M, pid_n * BLOCK_N


@triton.jit
def _store_tile(c_ptr, c_offset, acc, offs_m, offs_n, M, N, stride_cm, stride_cn):
    c_ptrs = c_ptr + c_offset + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask)


# ----- the kernels -----


@triton.jit(do_not_specialize=["M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH"])
def _dot_kernel(a_ptr, b_ptr, c_ptr, M, N, K, batch_sizes, a_batch_strides, b_batch_strides, c_batch_strides,
                a_offset, b_offset, c_offset, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                M_BUCKET, N_BUCKET, K_BUCKET, ARCH, PRECISION: tl.constexpr, ACC: tl.constexpr,
                UPCAST: tl.constexpr, NB: tl.constexpr, WIDE: tl.constexpr, EVEN_K: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    # M_BUCKET, N_BUCKET, K_BUCKET and ARCH are only the autotuning key (sizes, GPU generation):
    # plain unspecialised ints, so a new key retunes without compiling new kernel variants
    batch, row0, col0 = _tile(M, N, BLOCK_M, BLOCK_N, GROUP_M, WIDE)
    offs_m = row0 + tl.arange(0, BLOCK_M)
    offs_n = col0 + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    step_a = stride_ak * BLOCK_K
    step_b = stride_bk * BLOCK_K
    if WIDE:
        # a stride below 2**31 still overflows int32 times BLOCK_K
        offs_k = offs_k.to(tl.int64)
        step_a = tl.cast(stride_ak, tl.int64) * BLOCK_K
        step_b = tl.cast(stride_bk, tl.int64) * BLOCK_K
    # rows and columns past the edge re-read valid ones (their results are never stored), so only
    # the K tail needs a load mask
    rows = offs_m % M
    cols = offs_n % N
    a_ptrs = (a_ptr + a_offset + strided_offsets(batch, batch_sizes, a_batch_strides, NB)
              + rows[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = (b_ptr + b_offset + strided_offsets(batch, batch_sizes, b_batch_strides, NB)
              + offs_k[:, None] * stride_bk + cols[None, :] * stride_bn)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            remaining = K - k * BLOCK_K
            a = tl.load(a_ptrs, mask=offs_k[None, :] < remaining, other=0.0)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < remaining, other=0.0)
        if UPCAST:
            # the interpreter multiplies bfloat16 bits as integers; float32 products of bfloat16
            # values are exact, so this is the tensor cores' result
            a = a.to(ACC)
            b = b.to(ACC)
        acc = tl.dot(a, b, acc, input_precision=PRECISION, out_dtype=ACC)
        a_ptrs += step_a
        b_ptrs += step_b
    c_base = c_offset + strided_offsets(batch, batch_sizes, c_batch_strides, NB)
    _store_tile(c_ptr, c_base, acc, offs_m, offs_n, M, N, stride_cm, stride_cn)


_dot_heuristic = triton.heuristics({"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0})(_dot_kernel)
_dot_tuned = triton.autotune(configs=_ALL_CONFIGS, key=["M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH", "PRECISION"],
                             prune_configs_by={"early_config_prune": _prune})(_dot_heuristic)


@triton.jit
def _int_kernel(a_ptr, b_ptr, c_ptr, M, N, K, batch_sizes, a_batch_strides, b_batch_strides, c_batch_strides,
                a_offset, b_offset, c_offset, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                NB: tl.constexpr, WIDE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                GROUP_M: tl.constexpr):
    # tl.dot takes no integers wider than 8 bits: rank-1 updates in int64 instead, exact and
    # wrapping; every narrower result is the int64 one truncated, as torch's wrapped one is
    batch, row0, col0 = _tile(M, N, BLOCK_M, BLOCK_N, GROUP_M, WIDE)
    offs_m = row0 + tl.arange(0, BLOCK_M)
    offs_n = col0 + tl.arange(0, BLOCK_N)
    rows = offs_m % M
    cols = offs_n % N
    a_ptrs = a_ptr + a_offset + strided_offsets(batch, batch_sizes, a_batch_strides, NB) + rows * stride_am
    b_ptrs = b_ptr + b_offset + strided_offsets(batch, batch_sizes, b_batch_strides, NB) + cols * stride_bn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.int64)
    for k in range(0, K):
        a = tl.load(a_ptrs).to(tl.int64)
        b = tl.load(b_ptrs).to(tl.int64)
        acc += a[:, None] * b[None, :]
        a_ptrs += stride_ak
        b_ptrs += stride_bk
    c_base = c_offset + strided_offsets(batch, batch_sizes, c_batch_strides, NB)
    _store_tile(c_ptr, c_base, acc, offs_m, offs_n, M, N, stride_cm, stride_cn)


# ----- launch -----


_DOT = Launcher(_dot_kernel)
_INT = Launcher(_int_kernel)
# (pointer dtype, precision, M/N/K buckets, arch, NB, WIDE) -> (BLOCK_M, BLOCK_N, BLOCK_K, the kernel's
# arguments after the operands' for K a multiple of BLOCK_K and not, launch options): the
# configuration Triton's autotuner chose for that key, laid out for a direct launch
_PLANS: dict = {}


def _launch(kernel, grid, args: tuple, meta: dict) -> None:
    """Where a matmul launch starts unless a plan serves it (tests watch it to see the precision a
    launch gets): every interpreted launch, every integer one, and the first of each autotuning key."""
    if triton_launch.INTERPRETING:
        with warnings.catch_warnings():
            # the interpreter's scalars are 1-element arrays, and `for k in range(K)` makes numpy warn
            # about their conversion to int; a compiled kernel has no such conversion
            warnings.filterwarnings("ignore", "Conversion of an array with ndim > 0", DeprecationWarning)
            kernel[grid](*args, **meta)
        return
    if kernel is _int_kernel:
        _INT(grid(meta), *args, **meta)
        return
    # tune (or look up) through Triton's autotuner once per key; later launches go straight to
    # the chosen configuration's compiled kernel
    kernel[grid](*args, **meta)
    config = getattr(kernel, "best_config", None)
    if config is None:
        return
    options = {k: v for k, v in config.all_kwargs().items() if k not in config.kwargs}
    blocks = tuple(config.kwargs[name] for name in ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M"))
    tails = tuple((*(meta[name] for name in _TUNED_META), even_k, *blocks) for even_k in (True, False))
    # keyed by the pointer's dtype (what the launch sees) and the tuning meta in _TUNED_META's order
    _PLANS[(args[0].dtype, *(meta[name] for name in _PLAN_META))] = (*blocks[:3], *tails, options)


# the kernel's parameters between the operands' and EVEN_K, in order
_TUNED_META = ("M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH", "PRECISION", "ACC", "UPCAST", "NB", "WIDE")
# the ones that tell plans apart (ACC and UPCAST follow from the dtype)
_PLAN_META = ("PRECISION", "M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH", "NB", "WIDE")


def matmul(backend, out: Array, a: Array, b: Array, compute: dtypes.dtype) -> None:
    """Fill the contiguous ``out`` (*batch, m, n) with a (*batch, m, k) @ b (*batch, k, n)."""
    m, n, k = a.shape[-2], b.shape[-1], a.shape[-1]
    batch_shape = out.shape[:-2]
    if out.numel() == 0:
        return
    if k == 0:
        backend.fill(out, 0)
        return
    dtype = a.dtype
    if dtype is dtypes.bool or dtype not in TL_TYPES:
        raise NotImplementedError(f"matmul on 'cuda' does not support {dtype}")
    a_strides, b_strides, c_strides = a.strides, b.strides, out.strides
    if batch_shape:
        sizes, (a_bs, b_bs, c_bs) = coalesce(batch_shape, [a_strides[:-2], b_strides[:-2], c_strides[:-2]])
    else:
        sizes, a_bs, b_bs, c_bs = (1,), (0,), (0,), (0,)
    batches = out.numel() // (m * n)
    args = (pointer(a), pointer(b), pointer(out), m, n, k, sizes, a_bs, b_bs, c_bs, a.offset, b.offset, out.offset,
            a_strides[-2], a_strides[-1], b_strides[-2], b_strides[-1], c_strides[-2], c_strides[-1])
    wide = needs_int64(batches * m * n, (a, b, out))
    interpreting = triton_launch.INTERPRETING

    def grid(meta: dict) -> tuple:
        return (batches * -(-m // meta["BLOCK_M"]) * -(-n // meta["BLOCK_N"]),)

    if dtype not in _FLOAT_TYPES:
        _launch(_int_kernel, grid, args, dict(NB=len(sizes), WIDE=wide,
                                              **(_INT_META_INTERPRETER if interpreting else _INT_META)))
        return
    capability = cuda_memory.capability(out.device.index)
    precision = input_precision(dtype, capability)
    m_bucket, n_bucket, k_bucket = _bucket(m), _bucket(n), _bucket(k)
    arch = capability[0] * 10 + capability[1]
    if not interpreting and not hooked():
        plan = _PLANS.get((args[0].dtype, precision, m_bucket, n_bucket, k_bucket, arch, len(sizes), wide))
        if plan is not None:
            block_m, block_n, block_k, even_tail, odd_tail, options = plan
            _DOT.launch_bound((batches * -(-m // block_m) * -(-n // block_n),),
                              args + (even_tail if k % block_k == 0 else odd_tail), options)
            return
    meta = dict(M_BUCKET=m_bucket, N_BUCKET=n_bucket, K_BUCKET=k_bucket, ARCH=arch, PRECISION=precision,
                ACC=tl.float64 if dtype is dtypes.float64 else tl.float32,
                UPCAST=interpreting and dtype is dtypes.bfloat16, NB=len(sizes), WIDE=wide)
    if interpreting:
        # the interpreter would time every configuration in Python: one small one instead
        _launch(_dot_heuristic, grid, args, {**meta, **_INTERPRETER_META})
    else:
        _launch(_dot_tuned, grid, args, meta)
