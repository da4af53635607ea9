"""Host time of a small 'cuda' op, measurable without a GPU.

    python bench/cuda_host_overhead.py [--json bench/results/cuda_host_overhead.json]

A stand-in driver reports an H100 and makes every Triton launch compile-only, so what is timed is
everything tkern and Triton do on the host for an op except the driver's launch call itself (a few
microseconds on a real GPU; torch's whole eager op costs ~5 us there). On a GPU machine,
`python -m bench --only small_op_us` measures the real thing.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time

import triton

from compile_only_driver import install


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    parser.add_argument("--ops", type=int, default=3000)
    args = parser.parse_args()
    install()
    import tkern
    from tkern.ops import triton_arguments
    triton_arguments.INTERPRETING = False  # GPU block sizes, as on the real machine
    x, y = tkern.ones(1000, device="cuda"), tkern.ones(1000, device="cuda")
    m = tkern.ones((30, 40), device="cuda")
    points, coeffs = tkern.ones(2000, device="cuda"), tkern.ones(4, device="cuda")
    cases = {"x + y": lambda: x + y, "x * 2.0": lambda: x * 2.0, "x.sum()": lambda: x.sum(),
             "x[::2] + y[1::2]": lambda: x[::2] + y[1::2], "x.t() @ x (1000x1)": lambda: x[:, None].t() @ x[:, None],
             "x.argmax()": lambda: x.argmax(), "m.max(1) (30x40)": lambda: m.max(1),
             "poly_loss_grad (2000 points, cubic)": lambda: tkern.fused.poly_loss_grad(points, points, coeffs)}
    results = {}
    for name, fn in cases.items():
        for _ in range(20):
            fn()
        start = time.perf_counter()
        for _ in range(args.ops):
            fn()
        results[name] = round((time.perf_counter() - start) / args.ops * 1e6, 2)
        print(f"{name:36s} {results[name]:7.2f} us on the host (launch call excluded)")
    if args.json:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        with open(args.json, "w") as f:
            json.dump({"bench": "cuda_host_overhead", "commit": commit, "machine": platform.processor(),
                       "triton": triton.__version__, "us_per_op": results}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
