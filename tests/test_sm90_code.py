"""What the kernels compile to for an H100/H200 (sm_90), read from their PTX and ptxas's report
without a GPU: the properties that decide their speed, each checked so that losing one fails here.

A child process installs bench/compile_only_driver.py (every launch compiles for sm_90 and runs
nothing), drives the backend's primitives and the matmul configurations over the cases below, and
prints the code facts of each; the tests read them. Nothing runs, so values are never looked at.
"""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

_FACTS = r'''
import json
import sys

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()
compile_only_driver.keep_kernels()
kernels, code_facts = compile_only_driver.kernels, compile_only_driver.code_facts

import triton.language as tl

from tkern import dtypes
from tkern.device import device
from tkern.ops import triton_arguments, triton_matmul, triton_matmul_tma
from tkern.ops.optimizer_step import AdamStep, SGDStep
from tkern.ops.triton_backend import TritonBackend

triton_arguments.INTERPRETING = False  # plan, block and tune as on the GPU
backend, cuda = TritonBackend(), device("cuda", 0)
F32, F16, BF16 = dtypes.float32, dtypes.float16, dtypes.bfloat16
facts = {}


def record(name, launch):
    """Run ``launch`` and keep the facts of every kernel it compiled, under ``name``."""
    kernels.clear()
    launch()
    facts[name] = [dict(code_facts(kernel), kernel=kernel_name) for kernel_name, kernel in kernels]


def empty(shape, dtype):
    return backend.empty(shape, dtype, cuda)


# elementwise: contiguous adds at an odd length, and with both inputs at storage offset 1
ODD = (1 << 20) + 3
for dtype in (F32, F16):
    record(f"add_odd_{dtype.name}", lambda: backend.binary("add", empty((ODD,), dtype), empty((ODD,), dtype),
                                                           (ODD,), dtype, dtype))
    shifted = empty((ODD + 1,), dtype).view_as((ODD,), (1,), 1)
    record(f"add_offset1_{dtype.name}", lambda: backend.binary("add", shifted, shifted, (ODD,), dtype, dtype))
for dtype in (F32, BF16):
    record(f"tanh_{dtype.name}", lambda: backend.unary("tanh", empty((ODD,), dtype), dtype, dtype))

# reductions as planned for a GPU: all (split in two stages), rows, columns, prod, an odd length
record("sum_all", lambda: backend.reduce("sum", empty((1 << 26,), F32), (0,), False, F32, F32))
record("sum_all_odd", lambda: backend.reduce("sum", empty((ODD,), F32), (0,), False, F32, F32))
record("sum_rows", lambda: backend.reduce("sum", empty((8192, 8192), F32), (1,), False, F32, F32))
record("sum_cols", lambda: backend.reduce("sum", empty((8192, 8192), F32), (0,), False, F32, F32))
record("prod_all", lambda: backend.reduce("prod", empty((1 << 22,), F32), (0,), False, F32, F32))

# the fused optimizer steps over aligned parameters
for rule in (AdamStep(1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, False, 2.0), SGDStep(0.1, 0.9, 0.0, 0.0, False, False, False)):
    params = [empty((1 << 20,), F32), empty((1000,), F32)]
    states = tuple([empty(p.shape, F32) for p in params] for _ in range(rule.states))
    record(f"optimizer_{type(rule).__name__}",
           lambda: backend.optimizer_step(rule, params, [empty(p.shape, F32) for p in params], states, {}))

# every matmul configuration an sm_90 GPU runs, compiled for its dtype at an aligned 4096**3 problem
for size, precision in ((2, "ieee"), (4, "tf32"), (4, "ieee"), (8, "ieee")):
    dtype = {2: BF16, 4: F32, 8: dtypes.float64}[size]
    a, b, c = (empty((4096, 4096), dtype) for _ in range(3))
    args = (triton_arguments.pointer(a), triton_arguments.pointer(b), triton_arguments.pointer(c), 4096, 4096, 4096,
            (1,), (0,), (0,), (0,), 0, 0, 0, 4096, 1, 4096, 1, 4096, 1, 0, 4096)
    vector = 16 // size
    for config in triton_matmul._family(size, precision, 90):
        meta = dict(M_BUCKET=4096, N_BUCKET=4096, K_BUCKET=4096, ARCH=90, PRECISION=precision,
                    ACC=tl.float64 if size == 8 else tl.float32, UPCAST=False, NB=1, WIDE=False, A_DIV_M=1,
                    A_DIV_K=vector, B_DIV_K=1, B_DIV_N=vector, SPLIT_K=1, EVEN_K=True, FULL_M=True, FULL_N=True,
                    **config.kwargs, num_warps=config.num_warps, num_stages=config.num_stages)
        blocks = "x".join(str(config.kwargs[k]) for k in ("BLOCK_M", "BLOCK_N", "BLOCK_K"))
        record(f"mm_sm90_{size}{precision}_{blocks}_s{config.num_stages}w{config.num_warps}",
               lambda: triton_matmul._dot_kernel[(1,)](*args, **meta))

# every configuration of the persistent TMA kernel, both operand layouts
for config in triton_matmul_tma._CONFIGS:
    a, b, c = (empty((4096, 4096), BF16) for _ in range(3))
    args = (triton_arguments.pointer(a), triton_arguments.pointer(b), triton_arguments.pointer(c), 4096, 4096, 4096, 0, 0, 0,
            4096, 4096, 4096, 4096, 4096, 4096)
    blocks = "x".join(str(config.kwargs[k]) for k in ("BLOCK_M", "BLOCK_N", "BLOCK_K"))
    for a_k, b_k in ((True, False), (False, True)):
        meta = dict(A_K_CONTIGUOUS=a_k, B_K_CONTIGUOUS=b_k, C_DESCRIPTOR=True, UPCAST=False, **config.kwargs,
                    num_warps=config.num_warps, num_stages=config.num_stages)
        record(f"tma_{blocks}_s{config.num_stages}w{config.num_warps}_{a_k}{b_k}",
               lambda: triton_matmul_tma._tma_kernel[(1,)](*args, **meta))

# matmul problems the bench rows name, through the backend (sm_90 tiles, as tuned first)
for name, (m, n, k) in {"mm_odd_bf16": (4097, 4095, 4093), "mm_4104_bf16": (4104, 4104, 4096),
                        "mm_wgrad_bf16": (1024, 1024, 65536)}.items():
    a, b, c = empty((m, k), BF16), empty((k, n), BF16), empty((m, n), BF16)
    record(name, lambda: backend.matmul(c, a, b, BF16))
print(json.dumps(facts))
'''


@pytest.fixture(scope="module")
def facts() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = f"BENCH = {str(ROOT / 'bench')!r}\n" + textwrap.dedent(_FACTS)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.splitlines()[-1])


def only(facts: dict, name: str, kernel: str) -> dict:
    found = [f for f in facts[name] if f["kernel"] == kernel]
    assert len(found) == 1, (name, [f["kernel"] for f in facts[name]])
    return found[0]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("case", ["add_odd", "add_offset1"])
def test_contiguous_add_keeps_16_byte_loads_at_odd_lengths_and_offsets(facts, case, dtype):
    """2**20 + 3 elements, or inputs at storage offset 1: the bulk still loads 16 bytes at a time (the
    head and tail in the last program are the only narrow accesses). Offset 1 inputs with a fresh
    output cannot all align; the head aligns the two inputs."""
    code = only(facts, f"{case}_{dtype}", "binary_kernel")
    assert code["loads"].get("ld.global.v4.b32", 0) >= 2, code["loads"]
    if case == "add_odd":
        assert code["stores"].get("st.global.v4.b32", 0) >= 1, code["stores"]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_tanh_has_no_fp64_instructions(facts, dtype):
    code = only(facts, f"tanh_{dtype}", "unary_kernel")
    assert code["fp64"] == 0, code


def test_gpu_reduction_plans_compile_with_vector_loads(facts):
    """Compiled with the GPU's plans (several programs per SM, a split reduction in two stages), and the
    pass over x loads 16 bytes at a time, an odd length included."""
    assert len(facts["sum_all"]) == 2 and len(facts["prod_all"]) == 2, (facts["sum_all"], facts["prod_all"])
    for name in ("sum_all", "sum_all_odd", "sum_rows", "sum_cols", "prod_all"):
        first = facts[name][0]
        assert first["kernel"] == "reduce_kernel" and first["loads"].get("ld.global.v4.b32", 0) >= 1, (name, first)
        assert all(f["spills"] == [0] for f in facts[name]), (name, facts[name])


@pytest.mark.parametrize("rule", ["AdamStep", "SGDStep"])
def test_optimizer_step_loads_and_stores_vectors(facts, rule):
    code = only(facts, f"optimizer_{rule}", "adam_kernel" if rule == "AdamStep" else "sgd_kernel")
    assert code["loads"].get("ld.global.v4.b32", 0) >= 4 and code["stores"].get("st.global.v4.b32", 0) >= 2, code


def test_sm90_tensor_core_configurations_use_wgmma(facts):
    """Every 16-bit and TF32 tile of the sm_90 lists compiles to warpgroup MMA, none to mma.sync."""
    names = [name for name in facts if name.startswith(("mm_sm90_2ieee", "mm_sm90_4tf32"))]
    assert len(names) >= 16, names
    for name in names:
        (code,) = facts[name]
        assert code["wgmma"] > 0 and code["mma_sync"] == 0, (name, code)


def test_no_matmul_configuration_spills(facts):
    """None of the tiles sm_90 can pick (its 16-bit and TF32 lists, the IEEE float32 and float64 ones)
    spills registers. (The pre-Hopper 16-bit and TF32 lists are not compiled here: the stand-in driver
    targets sm_90 only.)"""
    names = [name for name in facts if name.startswith("mm_sm")]
    assert len(names) >= 36, len(names)
    for name in names:
        (code,) = facts[name]
        assert code["spills"] == [0] and max(code["registers"]) <= 255, (name, code)


def test_tma_kernel_moves_tiles_by_descriptor_into_wgmma(facts):
    """Every configuration of sm_90's persistent matmul, with operands contiguous along K or not: tiles
    arrive by TMA (bulk tensor copies, no per-element cp.async), feed wgmma, and nothing spills."""
    names = [name for name in facts if name.startswith("tma_")]
    assert len(names) == 2 * len(facts_configs()), names
    for name in names:
        (code,) = facts[name]
        assert code["tma_copies"] > 0 and not code["copies"] and code["wgmma"] > 0, (name, code)
        assert code["spills"] == [0] and code["mma_sync"] == 0, (name, code)


def facts_configs() -> list:
    from tkern.ops import triton_matmul_tma
    return triton_matmul_tma._CONFIGS


@pytest.mark.parametrize("name,kernel", [("mm_odd_bf16", "_tma_kernel"), ("mm_4104_bf16", "_tma_kernel"),
                                         ("mm_wgrad_bf16", "_dot_kernel")])
def test_awkward_matmuls_stream_whole_tiles(facts, name, kernel):
    """Odd sizes (operands copied to aligned, zero-padded buffers first) and strides that are multiples
    of 8 but not 16 take the TMA kernel; a deep K with few output tiles takes the portable kernel split
    over K, copying tiles with 16-byte cp.async only. wgmma throughout, nothing spilled."""
    code = only(facts, name, kernel)
    moved = code["tma_copies"] > 0 if kernel == "_tma_kernel" else set(code["copies"]) == {"0x10"}
    assert moved and code["wgmma"] > 0 and code["spills"] == [0], code
