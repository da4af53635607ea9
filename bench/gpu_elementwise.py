"""Elementwise, reduction and launch-overhead figures on a GPU: tkern's Triton kernels against torch.

    python bench/gpu_elementwise.py [--json bench/results/gpu_elementwise_h100.json]

Bandwidth ops are reported in GB/s and as % of the measured ceiling (torch's device-to-device copy
of the same bytes); small ops in microseconds per op measured on the host over a burst of launches
(that is the launch overhead the issue asks about). Medians of triton.testing.do_bench.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time

import torch
import triton
import triton.testing

import tkern


def _pair(shape, dtype):
    t = torch.randn(shape, device="cuda", dtype=dtype)
    return t, tkern.tensor(t.cpu().float().numpy(), device="cuda").to(getattr(tkern, str(dtype).split(".")[1]))


def _gbps(nbytes: float, ms: float) -> float:
    return nbytes / ms / 1e6


def bandwidth_cases():
    n = 1 << 26
    cases = []
    for dtype in (torch.float32, torch.float16):
        (ta, ka), (tb, kb) = _pair((n,), dtype), _pair((n,), dtype)
        size = ta.element_size()
        cases.append((f"add contiguous {str(dtype)[6:]}", 3 * n * size, lambda: ta + tb, lambda: ka + kb))
    (ta, ka) = _pair((8192, 8192), torch.float32)
    cases.append(("add transposed fp32", 3 * ta.numel() * 4, lambda: ta.t() + ta, lambda: ka.t() + ka))
    (tr, kr) = _pair((1, 8192), torch.float32)
    cases.append(("add broadcast row fp32", 2 * ta.numel() * 4, lambda: ta + tr, lambda: ka + kr))
    cases.append(("copy transposed fp32", 2 * ta.numel() * 4, lambda: ta.t().contiguous(), lambda: ka.t().contiguous()))
    cases.append(("sum all fp32", ta.numel() * 4, lambda: ta.sum(), lambda: ka.sum()))
    cases.append(("sum rows fp32", ta.numel() * 4, lambda: ta.sum(1), lambda: ka.sum(1)))
    cases.append(("sum cols fp32", ta.numel() * 4, lambda: ta.sum(0), lambda: ka.sum(0)))
    cases.append(("max rows fp32", ta.numel() * 4, lambda: ta.max(1), lambda: ka.max(1)))
    return cases


def copy_ceiling_gbps() -> float:
    src = torch.empty(1 << 28, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = triton.testing.do_bench(lambda: dst.copy_(src), return_mode="median")
    return _gbps(2 * src.numel(), ms)


def host_microseconds(fn, launches: int = 2000) -> float:
    fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(launches):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / launches * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench/gpu_elementwise.py needs a CUDA GPU")
    ceiling = copy_ceiling_gbps()
    print(f"device-to-device copy ceiling: {ceiling:.0f} GB/s")
    rows = []
    for name, nbytes, torch_fn, tkern_fn in bandwidth_cases():
        t_ms = triton.testing.do_bench(torch_fn, return_mode="median")
        k_ms = triton.testing.do_bench(tkern_fn, return_mode="median")
        row = {"case": name, "torch_ms": round(t_ms, 4), "tkern_ms": round(k_ms, 4),
               "tkern_gbps": round(_gbps(nbytes, k_ms), 1), "tkern_pct_of_copy": round(100 * _gbps(nbytes, k_ms) / ceiling, 1),
               "tkern_over_torch": round(k_ms / t_ms, 3)}
        rows.append(row)
        print(row)
    (ts, ks), (tt, kt) = _pair((1000,), torch.float32), _pair((1000,), torch.float32)
    small = {
        "x + y (1000 fp32)": (lambda: ts + tt, lambda: ks + kt),
        "x * 2.0 (1000 fp32)": (lambda: ts * 2.0, lambda: ks * 2.0),
        "x.sum() (1000 fp32)": (lambda: ts.sum(), lambda: ks.sum()),
        "x[::2] + y[1::2]": (lambda: ts[::2] + tt[1::2], lambda: ks[::2] + kt[1::2]),
    }
    overhead = []
    for name, (torch_fn, tkern_fn) in small.items():
        row = {"case": name, "torch_us": round(host_microseconds(torch_fn), 2),
               "tkern_us": round(host_microseconds(tkern_fn), 2)}
        overhead.append(row)
        print(row)
    if args.json:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        record = {"bench": "gpu_elementwise", "commit": commit, "gpu": torch.cuda.get_device_name(),
                  "torch": torch.__version__, "triton": triton.__version__, "host": platform.processor(),
                  "copy_ceiling_gbps": round(ceiling, 1), "bandwidth": rows, "launch_overhead": overhead}
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
