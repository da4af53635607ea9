"""Per-operation overhead of the numpy backend: the seed's sin-fit loop three ways in one run.

    python bench/cpu_overhead.py [--steps 2000] [--repeats 5] [--json bench/results/cpu_overhead.json]

Raw numpy (the seed's own code, float64 scalars), torch on the CPU, and tkern on 'cpu' (the same
code as torch, through tkern.sin_fit). Targets: tkern <= 1.0x torch and <= 1.5x numpy.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import time

import numpy as np
import torch

import tkern
from tkern.sin_fit import fit_sin


def fit_sin_numpy(steps: int) -> float:
    """The seed's numpy version, verbatim but for printing."""
    x = np.linspace(-math.pi, math.pi, 2000)
    y = np.sin(x)
    rng = np.random.default_rng(0)
    a, b, c, d = rng.standard_normal(4)
    learning_rate = 1e-6
    loss = math.nan
    for _ in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = np.square(y_pred - y).sum()
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return float(loss)


def median_seconds(runs: dict, repeats: int) -> dict:
    """Median time of each run; the runs take turns, so a drift in the machine's speed (other load,
    clocks) reaches all of them alike instead of whichever ran during it."""
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    quiet = dict(report_every=0, log=lambda *_: None)
    runs = {
        "numpy": lambda: fit_sin_numpy(args.steps),
        "torch": lambda: fit_sin("cpu", args.steps, lib=torch, **quiet),
        "tkern": lambda: fit_sin("cpu", args.steps, lib=tkern, **quiet),
    }
    for run in runs.values():
        run()
    seconds = median_seconds(runs, args.repeats)
    for name, s in seconds.items():
        print(f"{name:6s} {s * 1e3:8.1f} ms  ({s / args.steps * 1e6:6.1f} us/step)")
    ratio_torch = seconds["tkern"] / seconds["torch"]
    ratio_numpy = seconds["tkern"] / seconds["numpy"]
    print(f"tkern / torch: {ratio_torch:.2f}x (target <= 1.0)")
    print(f"tkern / numpy: {ratio_numpy:.2f}x (target <= 1.5)")
    if args.json:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        record = {"bench": "cpu_overhead", "commit": commit, "machine": platform.processor() or platform.machine(),
                  "steps": args.steps, "torch": torch.__version__, "numpy": np.__version__,
                  "ms": {k: round(v * 1e3, 2) for k, v in seconds.items()},
                  "tkern_over_torch": round(ratio_torch, 3), "tkern_over_numpy": round(ratio_numpy, 3)}
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
