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
    from tkern.ops import triton_dispatch
    triton_dispatch.launch = lambda compiled, grid, args: None
    autotuner.Autotuner.run = first_config
