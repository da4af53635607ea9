"""The Hopper (sm_90) matmul: a persistent kernel that moves tiles with the Tensor Memory Accelerator.

One program per SM walks the output tiles in grouped order (a stride of the program count), and for
each tile streams its A and B blocks through tensor descriptors: the TMA unit copies a whole
[BLOCK, BLOCK_K] box into shared memory per request, out-of-bounds parts arrive as zeros (so no
masks and no index arithmetic per element), and the pipelined loop feeds wgmma. Persistence keeps the
grid at the SM count, so the last wave of tiles is not left to a half-empty GPU, and flattening the
tile and K loops lets the next tile's loads start while this one's epilogue runs.

It serves 16-bit inputs on one matrix (no batch dims, no split-K) whose operands a descriptor can
describe: the contiguous dim of each has stride 1, the other stride and the start are multiples of
16 bytes. An operand may be contiguous along K or along M/N: the box is loaded as stored and
transposed in shared memory, which wgmma reads either way for 16-bit types. Everything else, and GPUs
before Hopper, keeps triton_matmul's portable kernel.
"""
from __future__ import annotations

import triton
import triton.language as tl

from tkern import dtypes

from . import cuda_memory, triton_arguments, triton_epilogue
from .array import Array
from .triton_launcher import Launcher, hooked
from .triton_arguments import pointer

# from this many multiply-adds on (and on sm_90) the persistent TMA kernel runs; below, the portable
# kernel's plans cost less host time for the same work (read at every launch: tests lower it)
TMA_MIN_WORK = 1 << 27
# run the TMA kernel through Triton's interpreter too, whose arch reads (0, 0): tests set it
UNDER_INTERPRETER = False
# configurations an autotuning key times at most
MAX_TIMED_CONFIGS = 3


def _config(bm: int, bn: int, bk: int, stages: int, warps: int) -> triton.Config:
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8}, num_stages=stages,
                         num_warps=warps)


# every tile at least 64 rows a warpgroup (wgmma); shared memory per stage (BM + BN) * BK * 2 bytes
_CONFIGS = [
    _config(128, 256, 64, 3, 8), _config(256, 128, 64, 3, 8), _config(128, 128, 64, 4, 8),
    _config(128, 128, 64, 4, 4), _config(128, 64, 64, 4, 4), _config(64, 128, 64, 4, 4),
]


def _prune(configs: list, named_args: dict, **kwargs) -> list:
    """The tiles that fit the problem, ranked like the portable kernel's by reuse times how evenly the
    tiles spread over the SMs."""
    args = {**named_args, **kwargs}
    m, n = args["M"], args["N"]
    fitting = [c for c in configs if c.kwargs["BLOCK_M"] <= max(m, 64) and c.kwargs["BLOCK_N"] <= max(n, 64)]
    fitting = fitting or configs[-1:]
    return triton_arguments.ranked_tiles(fitting, m, n, 1, MAX_TIMED_CONFIGS)


@triton.jit(do_not_specialize=["M_BUCKET", "N_BUCKET", "K_BUCKET"])
def _tma_kernel(a_ptr, b_ptr, c_ptr, M, N, K, a_offset, b_offset, c_offset, stride_a, stride_b, stride_c,
                M_BUCKET, N_BUCKET, K_BUCKET, A_K_CONTIGUOUS: tl.constexpr, B_K_CONTIGUOUS: tl.constexpr,
                C_DESCRIPTOR: tl.constexpr, UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                GROUP_M: tl.constexpr, EPILOGUE: tl.constexpr = 0, bias_ptr=None, bias_batch_strides=(0,),
                bias_offset=0, stride_bias_m=0, stride_bias_n=0, alpha=1.0, beta=1.0):
    # stride_a, stride_b: each operand's stride along its non-contiguous dim; stride_c: c's row stride.
    # The buckets are only the autotuning key; EPILOGUE and after: triton_epilogue's, as the portable
    # kernel takes them.
    if A_K_CONTIGUOUS:
        a_desc = tl.make_tensor_descriptor(a_ptr + a_offset, shape=[M, K], strides=[stride_a, 1],
                                           block_shape=[BLOCK_M, BLOCK_K])
    else:
        a_desc = tl.make_tensor_descriptor(a_ptr + a_offset, shape=[K, M], strides=[stride_a, 1],
                                           block_shape=[BLOCK_K, BLOCK_M])
    if B_K_CONTIGUOUS:
        b_desc = tl.make_tensor_descriptor(b_ptr + b_offset, shape=[N, K], strides=[stride_b, 1],
                                           block_shape=[BLOCK_N, BLOCK_K])
    else:
        b_desc = tl.make_tensor_descriptor(b_ptr + b_offset, shape=[K, N], strides=[stride_b, 1],
                                           block_shape=[BLOCK_K, BLOCK_N])
    if C_DESCRIPTOR:
        c_desc = tl.make_tensor_descriptor(c_ptr + c_offset, shape=[M, N], strides=[stride_c, 1],
                                           block_shape=[BLOCK_M, BLOCK_N])
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    k_tiles = tl.cdiv(K, BLOCK_K)
    per_group = GROUP_M * tiles_n
    for tile in tl.range(tl.program_id(0), tiles_m * tiles_n, tl.num_programs(0), flatten=True):
        # grouped order, as the portable kernel's: GROUP_M rows of tiles share their B columns in L2
        first_m = (tile // per_group) * GROUP_M
        rows = tl.minimum(tiles_m - first_m, GROUP_M)
        row0 = (first_m + (tile % per_group) % rows) * BLOCK_M
        col0 = ((tile % per_group) // rows) * BLOCK_N
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for ki in range(k_tiles):
            k0 = ki * BLOCK_K
            if A_K_CONTIGUOUS:
                a = a_desc.load([row0, k0])
            else:
                a = tl.trans(a_desc.load([k0, row0]))
            if B_K_CONTIGUOUS:
                b = tl.trans(b_desc.load([col0, k0]))
            else:
                b = b_desc.load([k0, col0])
            if UPCAST:
                # (the interpreter multiplies bfloat16 bits as integers: see triton_matmul's UPCAST)
                a = a.to(tl.float32)
                b = b.to(tl.float32)
            acc = tl.dot(a, b, acc)
        offs_m = row0 + tl.arange(0, BLOCK_M)
        offs_n = col0 + tl.arange(0, BLOCK_N)
        acc = triton_epilogue.apply(acc, bias_ptr, bias_offset, 0, (1,), bias_batch_strides, 1, offs_m, offs_n, M, N,
                                    stride_bias_m, stride_bias_n, alpha, beta, EPILOGUE)
        c = acc.to(c_ptr.dtype.element_ty)
        if C_DESCRIPTOR:
            c_desc.store([row0, col0], c)
        else:
            mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
            tl.store(c_ptr + c_offset + offs_m[:, None] * stride_c + offs_n[None, :], c, mask=mask)


_tuned = triton.autotune(configs=_CONFIGS, key=["M_BUCKET", "N_BUCKET", "K_BUCKET"],
                         prune_configs_by={"early_config_prune": _prune}, do_bench=triton_arguments.tuning_bench,
                         cache_results=True)(_tma_kernel)
_TMA = Launcher(_tma_kernel)
# (dtype, buckets, layout flags) -> (BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, launch options): what the
# autotuner chose, for a direct launch
_PLANS: dict = {}
_allocator_set = False


def _describable(x: Array) -> tuple | None:
    """(contiguous along its last dim, stride of the other dim) when a descriptor can describe x's last
    two dims: stride 1 along one, a 16-byte multiple along the other and at the start; else None."""
    rows, cols = x.strides[-2], x.strides[-1]
    size = x.dtype.itemsize
    if cols == 1 and (rows * size) % 16 == 0 and rows >= x.shape[-1]:
        along_last, other = True, rows
    elif rows == 1 and (cols * size) % 16 == 0 and cols >= x.shape[-2]:
        along_last, other = False, cols
    else:
        return None
    if (x.offset * size) % 16:
        return None
    return along_last, other


def applies(a: Array, b: Array, out: Array, m: int, n: int, k: int, batches: int, split: int) -> bool:
    """Whether this product takes the TMA kernel."""
    if a.dtype not in (dtypes.float16, dtypes.bfloat16) or batches != 1 or split != 1 or m * n * k < TMA_MIN_WORK:
        return False
    if triton_arguments.INTERPRETING:
        if not UNDER_INTERPRETER:
            return False
    elif cuda_memory.capability(out.device.index) < (9, 0):
        return False
    return _describable(a) is not None and _describable(b) is not None


def _scratch(size: int, alignment: int, stream):
    # device memory for the descriptors each program builds (128 bytes apiece), from tkern's allocator
    return cuda_memory.scratch(size)


def matmul(out: Array, a: Array, b: Array, m: int, n: int, k: int, epilogue: dict) -> None:
    """out (m, n) = a (m, k) @ b (k, n) on the TMA kernel (``applies`` said yes), with the portable
    kernel's ``epilogue`` arguments (triton_epilogue)."""
    global _allocator_set
    if not _allocator_set:
        triton.set_allocator(_scratch)
        _allocator_set = True
    described_a, described_b = _describable(a), _describable(b)
    assert described_a is not None and described_b is not None  # (applies() said so)
    a_k_contiguous, stride_a = described_a
    b_n_contiguous, stride_b = described_b
    stride_c = out.strides[-2]
    c_descriptor = out.strides[-1] == 1 and (stride_c * out.dtype.itemsize) % 16 == 0 and (
        out.offset * out.dtype.itemsize) % 16 == 0
    buckets = (1 << max(m - 1, 0).bit_length(), 1 << max(n - 1, 0).bit_length(), 1 << max(k - 1, 0).bit_length())
    args = (pointer(a), pointer(b), pointer(out), m, n, k, a.offset, b.offset, out.offset, stride_a, stride_b,
            stride_c, *buckets)
    flags = (a_k_contiguous, not b_n_contiguous, c_descriptor,
             triton_arguments.INTERPRETING and a.dtype is dtypes.bfloat16)
    sms = triton_arguments.sm_count()

    def grid(meta: dict) -> tuple:
        return (min(sms, -(-m // meta["BLOCK_M"]) * -(-n // meta["BLOCK_N"])),)

    plan_key = (a.dtype, *buckets, *flags, epilogue["EPILOGUE"])
    plan = _PLANS.get(plan_key)
    if plan is not None and not hooked():
        blocks, options = plan
        _TMA.launch_bound(grid(dict(BLOCK_M=blocks[0], BLOCK_N=blocks[1])), args + flags + blocks
                          + tuple(epilogue.values()), options)
        return
    meta = dict(A_K_CONTIGUOUS=flags[0], B_K_CONTIGUOUS=flags[1], C_DESCRIPTOR=flags[2], UPCAST=flags[3])
    if triton_arguments.INTERPRETING:
        _tma_kernel[grid({"BLOCK_M": 16, "BLOCK_N": 16})](*args, **meta, BLOCK_M=16, BLOCK_N=16, BLOCK_K=16,
                                                         GROUP_M=2, **epilogue)
        return
    _tuned[grid](*args, **meta, **epilogue)
    config = _tuned.best_config
    options = {key: value for key, value in config.all_kwargs().items() if key not in config.kwargs}
    _PLANS[plan_key] = (tuple(config.kwargs[name] for name in ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M")),
                        options)
