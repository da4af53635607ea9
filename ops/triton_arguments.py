"""The arguments of every Triton launch of tkern: dtype maps, base pointers, layouts and scalars."""
from __future__ import annotations

import struct

import triton
import triton.language as tl

from tkern import dtypes
from tkern.cuda import _interpreting

from . import cuda_memory
from .array import Array

TL_TYPES = {
    dtypes.bool: tl.int1, dtypes.uint8: tl.uint8, dtypes.int8: tl.int8, dtypes.int16: tl.int16,
    dtypes.int32: tl.int32, dtypes.int64: tl.int64, dtypes.float16: tl.float16, dtypes.bfloat16: tl.bfloat16,
    dtypes.float32: tl.float32, dtypes.float64: tl.float64,
}

# the widest offset an int32 index can address
_INT32_LIMIT = 2 ** 31 - 1

BLOCK = 1024
INTERPRETING = _interpreting()
# the largest block the interpreter gets (read at every launch: tests shrink it to reach the
# multi-program paths at small sizes)
INTERPRETER_MAX_BLOCK = 1 << 16


def compute_type(d: dtypes.dtype):
    """Half types compute in float32 (torch's opmath), every other type in itself."""
    if d is dtypes.float16 or d is dtypes.bfloat16:
        return tl.float32
    return TL_TYPES[d]


def pointer(a: Array):
    """The base pointer of a's storage typed as a's dtype (a torch view, cached per storage)."""
    storage = a.storage
    views = storage._typed
    if views is None:
        views = storage._typed = {}
    view = views.get(a.dtype)
    if view is None:
        view = views[a.dtype] = cuda_memory.typed(storage.data, a.dtype)
    return view


def span(a: Array) -> int:
    """One past the largest element offset a reaches from its storage's start (0 when empty)."""
    return a.last_offset() + 1 if 0 not in a.shape else 0


def needs_int64(numel: int, arrays) -> bool:
    if numel > _INT32_LIMIT:
        return True
    for x in arrays:
        # a storage of fewer bytes than the limit can't hold an offset past it: the exact span is
        # worked out only for the rare huge storage
        if type(x) is Array and x.storage.nbytes > _INT32_LIMIT and span(x) > _INT32_LIMIT:
            return True
    return False


def coalesce(shape: tuple, strides_list: list) -> tuple:
    """Drop size-1 dims and merge neighbours that every operand walks as one, so most layouts reach
    the kernel as one or two dims; returns (shape, [strides per operand])."""
    dims = [i for i, n in enumerate(shape) if n != 1]
    if not dims:
        return (1,), [(0,) for _ in strides_list]
    new_shape = [shape[dims[0]]]
    new_strides = [[s[dims[0]]] for s in strides_list]
    for i in dims[1:]:
        n = shape[i]
        if all(st[-1] == s[i] * n for st, s in zip(new_strides, strides_list)):
            new_shape[-1] *= n
            for st, s in zip(new_strides, strides_list):
                st[-1] = s[i]
        else:
            new_shape.append(n)
            for st, s in zip(new_strides, strides_list):
                st.append(s[i])
    return tuple(new_shape), [tuple(st) for st in new_strides]


def scalar_argument(value, compute):
    """(argument, kind) for a Python scalar operand: kind 1 passes it by value; float64 values pass
    their bits (kind 2), since Triton passes Python floats as float32."""
    if compute is tl.float64 and not isinstance(value, bool):
        return struct.unpack("<q", struct.pack("<d", float(value)))[0], 2
    if compute.is_floating() and not isinstance(value, bool):
        return float(value), 1
    if compute.primitive_bitwidth == 1:
        return int(bool(value)), 1  # into bool: nonzero is True (0.5 too)
    if isinstance(value, float):
        # only an int compute type gets here with a float: torch truncates
        return int(value), 1
    if compute.is_int_unsigned() or compute.primitive_bitwidth < 64:
        bits = compute.primitive_bitwidth
        value = int(value) & ((1 << bits) - 1)
        if not compute.is_int_unsigned() and bits > 1 and value >= 1 << (bits - 1):
            value -= 1 << bits
        return (int(bool(value)) if bits == 1 else value), 1
    value = int(value) & (2 ** 64 - 1)
    return (value - 2 ** 64 if value >= 2 ** 63 else value), 1


_SM_COUNTS: dict = {}


def sm_count() -> int:
    """Streaming multiprocessors of the current GPU (an H100's 132 where no driver can tell)."""
    device = triton.runtime.driver.active.get_current_device() if not INTERPRETING else 0
    count = _SM_COUNTS.get(device)
    if count is None:
        try:
            count = triton.runtime.driver.active.utils.get_device_properties(device)["multiprocessor_count"]
        except Exception:  # the interpreter, or the compile-only driver of bench/
            count = 132
        _SM_COUNTS[device] = count
    return count


def float64_bits(value: float) -> int:
    """A Python float as the int64 bits a kernel turns back into float64 with ``scalar_from_bits``."""
    return scalar_argument(value, tl.float64)[0]


@triton.jit
def scalar_from_bits(bits, COMPUTE: tl.constexpr):
    """A float64 scalar argument passed as its bits (``scalar_argument`` kind 2), in the compute type."""
    return tl.cast(tl.cast(bits, tl.int64), tl.float64, bitcast=True).to(COMPUTE)


@triton.jit
def rounded_to(value, DTYPE: tl.constexpr):
    """value converted for a store into DTYPE; into bfloat16 through float32, as torch converts float64
    (and the interpreter has no direct float64/int64 -> bfloat16)."""
    if DTYPE == tl.bfloat16:
        value = value.to(tl.float32)
    return value.to(DTYPE)


def block_for(n: int) -> int:
    """Elements per program: BLOCK on a GPU; under the interpreter, where every program is a Python
    loop iteration, as few programs as the sizes allow."""
    if INTERPRETING:
        return min(max(triton.next_power_of_2(n), 16), INTERPRETER_MAX_BLOCK)
    return BLOCK


def grid_for(n: int, block: int = BLOCK) -> tuple:
    return (max(-(-n // block), 1),)  # triton.cdiv is a jit function: ~1 us a call from Python


def tuning_bench(kernel_call, quantiles):
    """How an autotuner times one configuration: triton.testing.do_bench over ~25 ms after ~5 ms of
    warm-up (its defaults, 100 and 25, cost seconds a key on a machine that must tune everything)."""
    return triton.testing.do_bench(kernel_call, warmup=5, rep=25, quantiles=quantiles)


def ranked_tiles(configs: list, m: int, n: int, copies: int, keep: int) -> list:
    """The ``keep`` matmul configurations likeliest to be fastest, best first: data reuse of the tile
    (BLOCK_M * BLOCK_N / (BLOCK_M + BLOCK_N)) times how full the last wave of its ``copies`` x tiles
    programs runs on the SMs."""
    slots = sm_count()

    def score(config) -> float:
        bm, bn = config.kwargs["BLOCK_M"], config.kwargs["BLOCK_N"]
        waves = copies * -(-m // bm) * -(-n // bn) / slots
        return bm * bn / (bm + bn) * waves / -(-waves // 1)

    return sorted(configs, key=score, reverse=True)[:keep]
