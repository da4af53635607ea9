"""Matmul throughput: tkern's Triton kernels against torch.matmul (cuBLAS), same GPU, same data, one run.

    python bench/matmul.py [--json bench/results/matmul_h100.json] [--rep 100] [--warmup 25] [--only fp16,tf32]

For square and skinny sizes in float16, bfloat16 and float32 (IEEE, and TF32 through the precision
switches of both libraries), each call is timed with triton.testing.do_bench (median of its
repetitions, L2 flushed between them) after one untimed call that autotunes tkern's kernel. Both
timings include each library's Python dispatch and output allocation. Prints TFLOP/s and the ratio
tkern / torch (above 1 means tkern is faster) and the largest difference from torch's result.
Needs a CUDA GPU: the Triton interpreter would time Python, not kernels.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

# (name, batch, m, n, k)
SHAPES = [
    ("square-1024", 1, 1024, 1024, 1024),
    ("square-2048", 1, 2048, 2048, 2048),
    ("square-4096", 1, 4096, 4096, 4096),
    ("square-8192", 1, 8192, 8192, 8192),
    ("skinny-m16", 1, 16, 8192, 8192),
    ("skinny-m128", 1, 128, 8192, 8192),
    ("skinny-k128", 1, 8192, 8192, 128),
    ("batched-16x1024", 16, 1024, 1024, 1024),
]

# (name, dtype name, float32 matmul precision for both libraries)
MODES = [
    ("fp16", "float16", "highest"),
    ("bf16", "bfloat16", "highest"),
    ("fp32-ieee", "float32", "highest"),
    ("fp32-tf32", "float32", "high"),
]


def gpu_missing_reason() -> str | None:
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        return "TRITON_INTERPRET is set: the interpreter runs kernels in Python, unset it to benchmark"
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA GPU is visible to torch (torch.cuda.is_available() is False)"
    return None


def set_precision(torch, tkern, precision: str) -> None:
    torch.backends.cuda.matmul.allow_tf32 = precision != "highest"
    tkern.backends.cuda.matmul.allow_tf32 = precision != "highest"


def run_case(torch, tkern, do_bench, shape: tuple, mode: tuple, args) -> dict:
    import numpy as np

    from tkern.ops import triton_matmul

    name, batch, m, n, k = shape
    mode_name, dtype_name, precision = mode
    set_precision(torch, tkern, precision)
    lead = (batch,) if batch > 1 else ()
    rng = np.random.default_rng(0)
    host_a = rng.standard_normal(lead + (m, k), dtype=np.float32)
    host_b = rng.standard_normal(lead + (k, n), dtype=np.float32)
    torch_dtype, tkern_dtype = getattr(torch, dtype_name), getattr(tkern, dtype_name)
    ta = torch.from_numpy(host_a).cuda().to(torch_dtype)
    tb = torch.from_numpy(host_b).cuda().to(torch_dtype)
    ka = tkern.tensor(host_a, device="cuda").to(tkern_dtype)
    kb = tkern.tensor(host_b, device="cuda").to(tkern_dtype)
    del host_a, host_b

    expected = torch.matmul(ta, tb)
    actual = tkern.matmul(ka, kb)  # autotunes on the first call of a size bucket
    torch.cuda.synchronize()
    config = str(getattr(triton_matmul._dot_tuned, "best_config", None))
    got = torch.from_numpy(actual.float().cpu().numpy()).cuda()
    scale = expected.float().abs().max().item() or 1.0
    max_rel_err = (got - expected.float()).abs().max().item() / scale
    del got, actual, expected

    torch_ms = do_bench(lambda: torch.matmul(ta, tb), warmup=args.warmup, rep=args.rep, return_mode="median")
    tkern_ms = do_bench(lambda: tkern.matmul(ka, kb), warmup=args.warmup, rep=args.rep, return_mode="median")
    flop = 2.0 * batch * m * n * k
    result = dict(
        shape=name, mode=mode_name, dtype=dtype_name, precision=precision, batch=batch, m=m, n=n, k=k,
        tkern_ms=tkern_ms, torch_ms=torch_ms, tkern_tflops=flop / tkern_ms / 1e9, torch_tflops=flop / torch_ms / 1e9,
        ratio=torch_ms / tkern_ms, max_rel_err=max_rel_err, tkern_config=config,
    )
    del ta, tb, ka, kb
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--rep", type=int, default=100, help="do_bench repetition time per case, ms")
    parser.add_argument("--warmup", type=int, default=25, help="do_bench warmup time per case, ms")
    parser.add_argument("--only", help="comma-separated mode or shape names to run (default: all)")
    args = parser.parse_args()

    reason = gpu_missing_reason()
    if reason is not None:
        sys.exit(f"bench/matmul.py needs a CUDA GPU: {reason}")

    import torch
    import triton
    from triton.testing import do_bench

    import tkern

    selected = set(args.only.split(",")) if args.only else None
    device = torch.cuda.get_device_name(0)
    capability = torch.cuda.get_device_capability(0)
    print(f"{device} (sm_{capability[0]}{capability[1]}), torch {torch.__version__}, triton {triton.__version__}")
    header = (f"{'shape':16s} {'mode':10s} {'tkern ms':>9s} {'torch ms':>9s} {'tkern TF/s':>10s} "
              f"{'torch TF/s':>10s} {'ratio':>6s} {'max rel err':>11s}")
    print(header)
    saved_torch_tf32 = torch.backends.cuda.matmul.allow_tf32
    saved_tkern = tkern.get_float32_matmul_precision()
    results = []
    try:
        for mode in MODES:
            for shape in SHAPES:
                if selected and mode[0] not in selected and shape[0] not in selected:
                    continue
                r = run_case(torch, tkern, do_bench, shape, mode, args)
                results.append(r)
                print(f"{r['shape']:16s} {r['mode']:10s} {r['tkern_ms']:9.3f} {r['torch_ms']:9.3f} "
                      f"{r['tkern_tflops']:10.1f} {r['torch_tflops']:10.1f} {r['ratio']:6.2f} {r['max_rel_err']:11.2e}",
                      flush=True)
                torch.cuda.empty_cache()
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved_torch_tf32
        tkern.set_float32_matmul_precision(saved_tkern)

    if args.json:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        record = dict(
            benchmark="matmul", commit=commit, device=device, capability=list(capability),
            torch=torch.__version__, triton=triton.__version__, python=platform.python_version(),
            timing="triton.testing.do_bench median, ms per call (Python dispatch and allocation included)",
            ratio="torch_ms / tkern_ms (above 1: tkern faster)", rep_ms=args.rep, warmup_ms=args.warmup,
            results=results,
        )
        directory = os.path.dirname(args.json)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(record, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
