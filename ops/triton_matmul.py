"""Matmul kernels: tiled tl.dot for floating types, an exact outer-product kernel for integers.

Both read every operand in place through (offset, batch strides, row stride, column stride), so
transposed, sliced and batch-broadcast (stride 0) views are never copied. Batch dims are coalesced
and folded with the output tiles into one grid axis; tiles run in grouped order (GROUP_M rows of
tiles share their B columns while they are hot in L2). float16/bfloat16 accumulate in float32,
float32 follows tkern's TF32 switches, float64 runs tl.dot in float64. Integers accumulate in int64
with wrapping arithmetic, which gives torch's wrapped results for every narrower type too. addmm and
baddbmm scale the accumulator and add their input in the tile's epilogue (triton_epilogue), before
its one store.
"""
from __future__ import annotations

import warnings

import triton
import triton.language as tl

from tkern import backends, dtypes

from . import cuda_memory, triton_arguments, triton_epilogue, triton_matmul_tma
from .array import Array
from .triton_elementwise import strided_offsets
from .triton_launcher import Launcher, hooked
from .triton_arguments import TL_TYPES, coalesce, needs_int64, pointer

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
# tiles for IEEE float32 and float64 (which also need more shared memory per element). These serve
# every GPU before Hopper; none spills registers on sm_90 either (tests/test_gpu_compile.py).
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
        _config(128, 128, 32, 3, 4), _config(128, 64, 32, 4, 4),
        _config(64, 128, 32, 4, 4), _config(64, 64, 32, 4, 4), _config(32, 128, 32, 4, 4),
        _config(128, 32, 32, 4, 4), _config(16, 64, 64, 4, 2), _config(64, 16, 64, 4, 2),
    ],
    (4, "ieee"): [
        _config(128, 128, 16, 3, 8), _config(128, 128, 32, 3, 8), _config(128, 64, 32, 3, 4),
        _config(64, 128, 32, 3, 4), _config(64, 64, 32, 3, 8), _config(32, 64, 32, 3, 4),
        _config(64, 32, 32, 3, 4), _config(16, 64, 32, 3, 2), _config(64, 16, 32, 3, 2),
    ],
    (8, "ieee"): [
        _config(128, 64, 16, 3, 8), _config(64, 128, 16, 3, 8), _config(64, 64, 32, 3, 4),
        _config(64, 64, 16, 4, 4), _config(32, 64, 32, 3, 4), _config(64, 32, 32, 3, 4),
        _config(32, 32, 32, 3, 4), _config(16, 64, 32, 3, 2), _config(64, 16, 32, 3, 2),
    ],
}
# Hopper (sm_90): warpgroup MMA (wgmma) needs 64 rows a warpgroup, so 16-bit and TF32 tiles start at
# BLOCK_M 64; a smaller one compiles to the previous generation's mma.sync at a fraction of the rate
_SM90_CONFIGS = {
    (2, "ieee"): [
        _config(128, 256, 64, 3, 8), _config(256, 128, 64, 3, 8), _config(128, 128, 64, 4, 8),
        _config(128, 128, 64, 4, 4), _config(128, 64, 64, 4, 4), _config(64, 128, 64, 4, 4),
        _config(64, 64, 64, 4, 4), _config(128, 32, 64, 4, 4), _config(64, 32, 64, 4, 4),
    ],
    (4, "tf32"): [
        _config(128, 256, 32, 3, 8), _config(256, 128, 32, 3, 8), _config(128, 128, 32, 4, 8),
        _config(128, 128, 32, 3, 4), _config(128, 64, 32, 4, 4), _config(64, 128, 32, 4, 4),
        _config(64, 64, 32, 4, 4), _config(128, 32, 32, 4, 4), _config(64, 32, 32, 4, 4),
    ],
}
_ALL_CONFIGS = list({id(c): c for family in (*_CONFIGS.values(), *_SM90_CONFIGS.values()) for c in family}.values())
# configurations an autotuning key times at most: each costs a compilation (seconds on a fresh
# machine) and ~30 ms of timing, so the ranking below keeps the likeliest few
MAX_TIMED_CONFIGS = 4


def _family(element_size: int, precision: str, arch: int = 0) -> list:
    key = (element_size, "tf32" if precision == "tf32" else "ieee")
    if arch >= 90 and key in _SM90_CONFIGS:
        return _SM90_CONFIGS[key]
    return _CONFIGS[key]


def _prune(configs: list, named_args: dict, **kwargs) -> list:
    """The few configurations of this dtype, precision and GPU generation likeliest to be fastest for
    the problem, best first: tiles the problem can fill, ranked by data reuse (BLOCK_M * BLOCK_N /
    (BLOCK_M + BLOCK_N)) times how full their last wave of programs runs."""
    args = {**named_args, **kwargs}
    family = _family(args["a_ptr"].element_size(), args["PRECISION"], args["ARCH"])
    cap_m, cap_n = max(args["M_BUCKET"], 16), max(args["N_BUCKET"], 16)
    fitting = [c for c in family if c.kwargs["BLOCK_M"] <= cap_m and c.kwargs["BLOCK_N"] <= cap_n]
    if not fitting:
        # a problem smaller than every tile of the family: the smallest tiles waste least
        smallest = min(c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] for c in family)
        return [c for c in family if c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] == smallest]
    batches = 1
    for size in args["batch_sizes"]:
        batches *= size
    # (split-K multiplies the programs and the slots alike: the waves are the batches' tiles')
    return triton_arguments.ranked_tiles(fitting, args["M"], args["N"], batches, MAX_TIMED_CONFIGS)


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
def _store_tile(c_ptr, c_offset, acc, offs_m, offs_n, row0, col0, M, N, stride_cm, stride_cn):
    """Store the tile's rows from row0 and columns from col0 that lie inside (M, N): a tile shifted
    back from the edge leaves the rows and columns it shares with its neighbour to that neighbour."""
    c_ptrs = c_ptr + c_offset + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    mask = (offs_m[:, None] >= row0) & (offs_m[:, None] < M) & (offs_n[None, :] >= col0) & (offs_n[None, :] < N)
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask)


# ----- the kernels -----


@triton.jit(do_not_specialize=["M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH"])
def _dot_kernel(a_ptr, b_ptr, c_ptr, M, N, K, batch_sizes, a_batch_strides, b_batch_strides, c_batch_strides,
                a_offset, b_offset, c_offset, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                c_split_stride, n_out, M_BUCKET, N_BUCKET, K_BUCKET, ARCH, PRECISION: tl.constexpr, ACC: tl.constexpr,
                UPCAST: tl.constexpr, NB: tl.constexpr, WIDE: tl.constexpr, A_DIV_M: tl.constexpr,
                A_DIV_K: tl.constexpr, B_DIV_K: tl.constexpr, B_DIV_N: tl.constexpr, SPLIT_K: tl.constexpr,
                EVEN_K: tl.constexpr, FULL_M: tl.constexpr, FULL_N: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                GROUP_M: tl.constexpr, EPILOGUE: tl.constexpr = 0, bias_ptr=None, bias_batch_strides=(0,),
                bias_offset=0, stride_bias_m=0, stride_bias_n=0, alpha=1.0, beta=1.0):
    # M_BUCKET, N_BUCKET, K_BUCKET and ARCH are only the autotuning key (sizes, GPU generation):
    # plain unspecialised ints, so a new key retunes without compiling new kernel variants.
    # A_DIV_*/B_DIV_*: what the host knows each operand's offsets to be multiples of along a dim
    # whose other dim is contiguous (a row stride of 4104 is 8 elements of 16 bytes, which Triton's
    # own specialisation, by 16 only, cannot see). With SPLIT_K, program_id(1) takes one share of
    # the K tiles and c is a workspace in the accumulator's type, SPLIT_K slices c_split_stride apart.
    # c has n_out columns; N, those of b, is larger when b is a zero-padded copy. EPILOGUE (last, with
    # defaults, so a plain product passes none of it): triton_epilogue's alpha, beta and bias.
    batch, row0, col0 = _tile(M, N, BLOCK_M, BLOCK_N, GROUP_M, WIDE)
    # a tile past the edge is shifted back inside (FULL_*: the dim holds a whole tile), so its rows
    # and columns stay contiguous and in bounds and vector loads survive; below a tile's size, rows
    # and columns past the edge re-read valid ones (their results are never stored)
    if FULL_M:
        offs_m = tl.minimum(row0, M - BLOCK_M) + tl.arange(0, BLOCK_M)
        rows = offs_m
    else:
        offs_m = row0 + tl.arange(0, BLOCK_M)
        rows = offs_m % M
    if FULL_N:
        offs_n = tl.minimum(col0, N - BLOCK_N) + tl.arange(0, BLOCK_N)
        cols = offs_n
    else:
        offs_n = col0 + tl.arange(0, BLOCK_N)
        cols = offs_n % N
    k_tiles = tl.cdiv(K, BLOCK_K)
    first = 0
    last = k_tiles
    if SPLIT_K > 1:
        share = tl.cdiv(k_tiles, SPLIT_K)
        first = tl.program_id(1) * share
        last = tl.minimum(first + share, k_tiles)
    lanes_k = tl.arange(0, BLOCK_K)
    offs_k = first * BLOCK_K + lanes_k
    step_a = stride_ak * BLOCK_K
    step_b = stride_bk * BLOCK_K
    if WIDE:
        # a stride below 2**31 still overflows int32 times BLOCK_K
        offs_k = offs_k.to(tl.int64)
        step_a = tl.cast(stride_ak, tl.int64) * BLOCK_K
        step_b = tl.cast(stride_bk, tl.int64) * BLOCK_K
    a_offsets = (a_offset + strided_offsets(batch, batch_sizes, a_batch_strides, NB)
                 + rows[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_offsets = (b_offset + strided_offsets(batch, batch_sizes, b_batch_strides, NB)
                 + offs_k[:, None] * stride_bk + cols[None, :] * stride_bn)
    # (along M or N the claim holds only for a tile shifted inside: a wrapped one is not contiguous)
    if A_DIV_K > 1 or (A_DIV_M > 1 and FULL_M):
        a_offsets = tl.multiple_of(a_offsets, [A_DIV_M, A_DIV_K])
    if B_DIV_K > 1 or (B_DIV_N > 1 and FULL_N):
        b_offsets = tl.multiple_of(b_offsets, [B_DIV_K, B_DIV_N])
    a_ptrs = a_ptr + a_offsets
    b_ptrs = b_ptr + b_offsets
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    # whole K tiles unmasked (a mask along a contiguous K would cost the vector loads of every
    # iteration), then the partial last one
    if EVEN_K:
        whole = last
    else:
        whole = tl.minimum(last, K // BLOCK_K)
    for k in range(first, whole):
        a = tl.load(a_ptrs)
        b = tl.load(b_ptrs)
        acc = _accumulate(acc, a, b, PRECISION, ACC, UPCAST)
        a_ptrs += step_a
        b_ptrs += step_b
    if not EVEN_K:
        # the partial tile belongs to the split whose share holds it (a later share may start past it)
        if (whole < last) & (whole >= first):
            remaining = K - whole * BLOCK_K
            a = tl.load(a_ptrs, mask=lanes_k[None, :] < remaining, other=0.0)
            b = tl.load(b_ptrs, mask=lanes_k[:, None] < remaining, other=0.0)
            acc = _accumulate(acc, a, b, PRECISION, ACC, UPCAST)
    c_base = c_offset + strided_offsets(batch, batch_sizes, c_batch_strides, NB)
    if SPLIT_K > 1:
        c_base += tl.program_id(1) * c_split_stride
    acc = triton_epilogue.apply(acc, bias_ptr, bias_offset, batch, batch_sizes, bias_batch_strides, NB, offs_m, offs_n,
                                M, n_out, stride_bias_m, stride_bias_n, alpha, beta, EPILOGUE)
    _store_tile(c_ptr, c_base, acc, offs_m, offs_n, row0, col0, M, n_out, stride_cm, stride_cn)


@triton.jit
def _accumulate(acc, a, b, PRECISION: tl.constexpr, ACC: tl.constexpr, UPCAST: tl.constexpr):
    if UPCAST:
        # the interpreter multiplies bfloat16 bits as integers; float32 products of bfloat16
        # values are exact, so this is the tensor cores' result
        a = a.to(ACC)
        b = b.to(ACC)
    return tl.dot(a, b, acc, input_precision=PRECISION, out_dtype=ACC)


_dot_heuristic = triton.heuristics({"EVEN_K": lambda args: args["K"] % args["BLOCK_K"] == 0,
                                    "FULL_M": lambda args: args["M"] >= args["BLOCK_M"],
                                    "FULL_N": lambda args: args["N"] >= args["BLOCK_N"]})(_dot_kernel)
# tuning results persist in Triton's cache directory (TRITON_CACHE_DIR), so a process that meets a
# key tuned before, in this or an earlier run, compiles its one configuration and times nothing
_dot_tuned = triton.autotune(configs=_ALL_CONFIGS, key=["M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH", "PRECISION",
                                                        "SPLIT_K"],
                             prune_configs_by={"early_config_prune": _prune}, do_bench=triton_arguments.tuning_bench,
                             cache_results=True)(_dot_heuristic)


@triton.jit
def _int_kernel(a_ptr, b_ptr, c_ptr, M, N, K, batch_sizes, a_batch_strides, b_batch_strides, c_batch_strides,
                a_offset, b_offset, c_offset, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                NB: tl.constexpr, WIDE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                GROUP_M: tl.constexpr, EPILOGUE: tl.constexpr = 0, bias_ptr=None, bias_batch_strides=(0,),
                bias_offset=0, stride_bias_m=0, stride_bias_n=0, alpha=1, beta=1):
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
    acc = triton_epilogue.apply(acc, bias_ptr, bias_offset, batch, batch_sizes, bias_batch_strides, NB, offs_m, offs_n,
                                M, N, stride_bias_m, stride_bias_n, alpha, beta, EPILOGUE)
    _store_tile(c_ptr, c_base, acc, offs_m, offs_n, row0, col0, M, N, stride_cm, stride_cn)


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
    if triton_arguments.INTERPRETING:
        with warnings.catch_warnings():
            # the interpreter's scalars are 1-element arrays, and `for k in range(K)` makes numpy warn
            # about their conversion to int; a compiled kernel has no such conversion
            warnings.filterwarnings("ignore", "Conversion of an array with ndim > 0", DeprecationWarning)
            kernel[grid](*args, **meta)
        return
    if kernel is _int_kernel:
        _INT(grid(meta), *args, *(meta[name] for name in _INT_META_ORDER))
        return
    # tune (or look up) through Triton's autotuner once per key; later launches go straight to
    # the chosen configuration's compiled kernel
    kernel[grid](*args, **meta)
    config = getattr(kernel, "best_config", None)
    if config is None:
        return
    options = {k: v for k, v in config.all_kwargs().items() if k not in config.kwargs}
    blocks = tuple(config.kwargs[name] for name in ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M"))
    # keyed by the pointer's dtype (what the launch sees) and the tuning meta in _TUNED_META's order; the
    # heuristics (EVEN_K, FULL_M, FULL_N) are worked out per launch between the two halves
    key = (args[0].dtype, *(meta[name] for name in _PLAN_META))
    _PLANS[key] = (blocks, tuple(meta[name] for name in _TUNED_META), options)


# the integer kernel's parameters after the operands', in order
_INT_META_ORDER = ("NB", "WIDE", "BLOCK_M", "BLOCK_N", "GROUP_M", "EPILOGUE", "bias_ptr", "bias_batch_strides",
                   "bias_offset", "stride_bias_m", "stride_bias_n", "alpha", "beta")
# the kernel's parameters between the operands' and EVEN_K, in order
_TUNED_META = ("M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH", "PRECISION", "ACC", "UPCAST", "NB", "WIDE", "A_DIV_M",
               "A_DIV_K", "B_DIV_K", "B_DIV_N", "SPLIT_K")
# the ones that tell plans apart (ACC and UPCAST follow from the dtype)
_PLAN_META = ("PRECISION", "M_BUCKET", "N_BUCKET", "K_BUCKET", "ARCH", "NB", "WIDE", "A_DIV_M", "A_DIV_K", "B_DIV_K",
              "B_DIV_N", "SPLIT_K", "EPILOGUE")

# split-K: a problem whose output tiles (at 128 x 128) leave SMs idle and whose K is deep splits K
# over up to this many programs per tile, each taking at least SPLIT_K_DEPTH of K (read at every
# launch: tests shrink it)
MAX_SPLIT_K = 16
SPLIT_K_DEPTH = 4096
# operands whose rows are not 16-byte aligned (K = 4093 in bfloat16, say) load element by element and
# spill on sm_90; from this many multiply-adds on, they are first copied into zero-padded aligned
# buffers (at 4097 x 4095 x 4093 the copies move ~130 MB, ~30 us against a ~0.2 ms product)
PAD_MIN_WORK = 1 << 27


def _divisibility(x: Array, vector: int, extent: int) -> tuple:
    """(div along the rows, div along the columns) of x's last two dims: ``vector`` where every start of
    a run along the contiguous dim is a multiple of it (the offset, the other dim's stride and the
    batch strides all are; for a tile shifted back from the edge of the contiguous dim, ``extent``,
    the size of that dim, too), 1 elsewhere and when unknown."""
    rows, cols = x.strides[-2], x.strides[-1]
    if cols == 1:
        contiguous, strided, div = x.shape[-1], rows, (1, vector)
    elif rows == 1:
        contiguous, strided, div = x.shape[-2], cols, (vector, 1)
    else:
        return 1, 1
    if any(v % vector for v in (x.offset, strided, *x.strides[:-2])) or (contiguous == extent and extent % vector):
        return 1, 1
    return div


def _aligned(x: Array, vector: int) -> bool:
    """Whether x's runs along its contiguous dim all start on a 16-byte boundary."""
    return _divisibility(x, vector, -1) != (1, 1)


def _padded(backend, x: Array, rows: int, cols: int) -> Array:
    """A contiguous zero-padded copy of x with its last two dims grown to (rows, cols)."""
    buffer = backend.empty(x.shape[:-2] + (rows, cols), x.dtype, x.device)
    backend.fill(buffer, 0)
    backend.copy(buffer.view_as(x.shape, buffer.strides, 0), x)
    return buffer


def _split_k(m: int, n: int, k: int, batches: int) -> int:
    if batches != 1:
        return 1
    tiles = -(-m // 128) * -(-n // 128)
    return max(1, min(triton_arguments.sm_count() // tiles, k // SPLIT_K_DEPTH, MAX_SPLIT_K))


def matmul(backend, out: Array, a: Array, b: Array, compute: dtypes.dtype, bias: Array | None = None, alpha=1,
           beta=1) -> None:
    """Fill the contiguous ``out`` (*batch, m, n) with a (*batch, m, k) @ b (*batch, k, n), times alpha,
    plus beta * bias (out's shape, broadcast by strides) when a bias is given: one kernel either way."""
    m, n, k = a.shape[-2], b.shape[-1], a.shape[-1]
    batch_shape = out.shape[:-2]
    if out.numel() == 0:
        return
    epilogue = (triton_epilogue.SCALED_PLUS_BIAS if bias is not None else
                triton_epilogue.PLAIN if alpha == 1 else triton_epilogue.SCALED)
    if k == 0 and epilogue == triton_epilogue.PLAIN:
        backend.fill(out, 0)
        return
    dtype = a.dtype
    if dtype is dtypes.bool or dtype not in TL_TYPES:
        raise NotImplementedError(f"matmul on 'cuda' does not support {dtype}")
    interpreting = triton_arguments.INTERPRETING
    batches = out.numel() // (m * n)
    vector = 16 // dtype.itemsize
    if (dtype in _FLOAT_TYPES and batches * m * n * k >= PAD_MIN_WORK
            and not (_aligned(a, vector) and _aligned(b, vector))):
        k_padded = -(-k // vector) * vector
        # (b keeps its padded width: tiles at the right edge then start on a 16-byte boundary too)
        a = _padded(backend, a, m, k_padded)
        b = _padded(backend, b, k_padded, -(-n // vector) * vector)
        k = k_padded
    a_strides, b_strides, c_strides = a.strides, b.strides, out.strides
    bias_strides = (bias if bias is not None else out).strides
    if batch_shape:
        sizes, (a_bs, b_bs, c_bs, bias_bs) = coalesce(batch_shape, [a_strides[:-2], b_strides[:-2], c_strides[:-2],
                                                                  bias_strides[:-2]])
    else:
        sizes, a_bs, b_bs, c_bs, bias_bs = (1,), (0,), (0,), (0,), (0,)
    wide = needs_int64(batches * m * n, (a, b, out) if bias is None else (a, b, out, bias))
    floating = dtype in _FLOAT_TYPES
    # (passed by every launch, a plain product's too: a Launcher finds its tensor arguments by position once)
    epilogue_args = dict(EPILOGUE=epilogue, bias_ptr=pointer(out if bias is None else bias),
                         bias_batch_strides=bias_bs, bias_offset=(out if bias is None else bias).offset,
                         stride_bias_m=bias_strides[-2],
                         stride_bias_n=bias_strides[-1], alpha=float(alpha) if floating else int(alpha),
                         beta=float(beta) if floating else int(beta))

    if dtype not in _FLOAT_TYPES:
        args: tuple = (pointer(a), pointer(b), pointer(out), m, n, k, sizes, a_bs, b_bs, c_bs, a.offset, b.offset,
                out.offset, a_strides[-2], a_strides[-1], b_strides[-2], b_strides[-1], c_strides[-2], c_strides[-1])
        _launch(_int_kernel, _grid(batches, m, n, 1), args, dict(NB=len(sizes), WIDE=wide, **epilogue_args,
                                                                  **(_INT_META_INTERPRETER if interpreting else _INT_META)))
        return
    n_out, n = n, b.shape[-1]
    # (split-K sums its slices in a second pass, where an epilogue would have to be a third)
    split = _split_k(m, n, k, batches) if epilogue == triton_epilogue.PLAIN else 1
    if triton_matmul_tma.applies(a, b, out, m, n, k, batches, split):
        triton_matmul_tma.matmul(out, a, b, m, n_out, k, epilogue_args)
        return
    target, c_offset, c_split_stride, (stride_cm, stride_cn) = out, out.offset, 0, c_strides[-2:]
    # the slices keep the accumulator's precision
    partial_type = dtypes.float64 if dtype is dtypes.float64 else dtypes.float32
    if split > 1:
        target = backend.empty((split, m, n_out), partial_type, out.device)
        c_offset, c_split_stride, stride_cm, stride_cn = 0, m * n_out, n_out, 1
    args = (pointer(a), pointer(b), pointer(target), m, n, k, sizes, a_bs, b_bs, c_bs, a.offset, b.offset, c_offset,
            a_strides[-2], a_strides[-1], b_strides[-2], b_strides[-1], stride_cm, stride_cn, c_split_stride, n_out)
    capability = cuda_memory.capability(out.device.index)
    precision = input_precision(dtype, capability)
    m_bucket, n_bucket, k_bucket = _bucket(m), _bucket(n), _bucket(k)
    arch = capability[0] * 10 + capability[1]
    # (an M-contiguous a or N-contiguous b is read by tiles shifted back from the edge of M or N, whose
    # starts are multiples only if M or N is)
    a_div = _divisibility(a, vector, m if a.strides[-1] != 1 else -1)
    b_div = _divisibility(b, vector, n if b.strides[-2] != 1 else -1)
    meta = dict(M_BUCKET=m_bucket, N_BUCKET=n_bucket, K_BUCKET=k_bucket, ARCH=arch, PRECISION=precision,
                ACC=tl.float64 if dtype is dtypes.float64 else tl.float32,
                UPCAST=interpreting and dtype is dtypes.bfloat16, NB=len(sizes), WIDE=wide, A_DIV_M=a_div[0],
                A_DIV_K=a_div[1], B_DIV_K=b_div[0], B_DIV_N=b_div[1], SPLIT_K=split)
    launched = False
    if not interpreting and not hooked():
        planned = {**meta, **epilogue_args}
        plan = _PLANS.get((args[0].dtype, *(planned[name] for name in _PLAN_META)))
        if plan is not None:
            blocks, tuned, options = plan
            block_m, block_n, block_k = blocks[:3]
            _DOT.launch_bound(_grid(batches, m, n, split)(dict(BLOCK_M=block_m, BLOCK_N=block_n)),
                              args + tuned + (k % block_k == 0, m >= block_m, n >= block_n) + blocks
                              + tuple(epilogue_args.values()), options)
            launched = True
    if not launched:
        grid = _grid(batches, m, n, split)
        if interpreting:
            # the interpreter would time every configuration in Python: one small one instead
            _launch(_dot_heuristic, grid, args, {**meta, **_INTERPRETER_META, **epilogue_args})
        else:
            _launch(_dot_tuned, grid, args, {**meta, **epilogue_args})
    if split > 1:
        # the slices' sum in a fixed order (deterministic, unlike atomics), rounded once to out's dtype
        backend.copy(out, backend.reduce("sum", target, (0,), False, partial_type, partial_type))


def _grid(batches: int, m: int, n: int, split: int):
    def grid(meta: dict) -> tuple:
        return (batches * -(-m // meta["BLOCK_M"]) * -(-n // meta["BLOCK_N"]), split)
    return grid
