"""A stand-in Triton driver for machines without a GPU: it reports an H100 and turns every launch
into compile-only, so kernels are built for sm_90 and host costs can be timed, but nothing runs.

Used by bench/cuda_host_overhead.py and tests/test_gpu_compile.py. Call ``install()`` before tkern
creates any 'cuda' tensor; values in 'cuda' memory are then never computed.
"""
from __future__ import annotations

import triton
from triton.backends.compiler import GPUTarget
from triton.runtime import autotuner, jit

compiled: list = []


class CompileOnlyH100:
    device = 0

    def get_current_device(self):
        return self.device

    def set_current_device(self, index):
        self.device = index

    def get_current_stream(self, device=None):
        return 0

    def get_current_target(self):
        return GPUTarget("cuda", 90, 32)

    def get_active_torch_device(self):
        import torch
        return torch.device("cpu")


def install() -> None:
    import tkern.cuda
    tkern.cuda._interpreting = lambda: True  # buffers in host memory, 'cuda' reported available
    triton.runtime.driver.set_active(CompileOnlyH100())
    run = jit.JITFunction.run

    def compile_only(self, *args, grid, warmup, **kwargs):
        compiled.append(self.fn.__name__)
        return run(self, *args, grid=grid, warmup=True, **kwargs)

    def first_config(self, *args, **kwargs):
        # timing configurations needs a GPU: build the first one the pruning keeps
        self.nargs = dict(zip(self.arg_names, args))
        configs = self.prune_configs(kwargs)
        self.best_config = configs[0]
        return self.fn.run(*args, **kwargs, **configs[0].all_kwargs())

    jit.JITFunction.run = compile_only
    from tkern.ops import cuda_memory, triton_launcher
    cuda_memory.capability = lambda index=None: (9, 0)  # plan and tune as for the H100 reported above
    triton_launcher.launch = lambda compiled, grid, args: None
    autotuner.Autotuner.run = first_config


kernels: list = []


def keep_kernels() -> None:
    """Also record (kernel name, CompiledKernel) of every launch in ``kernels``, for their code. Call
    after ``install()``."""
    run = jit.JITFunction.run

    def keep(self, *args, grid, warmup, **kwargs):
        kernel = run(self, *args, grid=grid, warmup=warmup, **kwargs)
        kernels.append((self.fn.__name__, kernel))
        return kernel

    jit.JITFunction.run = keep


def code_facts(kernel) -> dict:
    """What the sm_90 code of a CompiledKernel does, for checks: its global loads and stores by width,
    16-byte and narrower asynchronous copies, TMA (bulk tensor) copies, fp64 instructions, wgmma and
    mma.sync counts, and ptxas's register and spill report."""
    import collections
    import os
    import re
    import subprocess
    import tempfile

    ptx = kernel.asm["ptx"]
    ptxas = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas")
    with tempfile.NamedTemporaryFile("w", suffix=".ptx", delete=False) as f:
        f.write(ptx)
    try:
        report = subprocess.run([ptxas, "--gpu-name", "sm_90a", "-v", f.name, "-o", os.devnull], capture_output=True,
                                text=True).stderr
    finally:
        os.unlink(f.name)
    return {
        "loads": dict(collections.Counter(re.findall(r"ld\.global(?:\.\w+)*", ptx))),
        "stores": dict(collections.Counter(re.findall(r"st\.global(?:\.\w+)*", ptx))),
        "copies": dict(collections.Counter(re.findall(r"cp\.async\.\w+\.shared\.global \[[^]]*\], \[[^]]*\], (\w+)",
                                                      ptx))),
        "tma_copies": len(re.findall(r"cp\.async\.bulk\.tensor", ptx)),
        "fp64": len(re.findall(r"^\s*[a-z][\w.]*\.f64\b", ptx, re.M)),
        "wgmma": len(re.findall(r"wgmma\.mma_async", ptx)),
        "mma_sync": len(re.findall(r"\bmma\.sync", ptx)),
        "maxnreg": re.findall(r"\.maxnreg (\d+)", ptx),
        "registers": [int(r) for r in re.findall(r"Used (\d+) registers", report)],
        "spills": [int(s) for s in re.findall(r"(\d+) bytes spill stores", report)],
    }
