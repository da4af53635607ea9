"""Host cost of autograd on the CPU: recording, backward, and the seed's sin fit with autograd.

    python bench/autograd_overhead.py [--steps 300] [--repeats 5]

No target in the issue; torch runs in the same process (1 thread), the runs take turns, and the
figures are medians in microseconds.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
import timeit

import torch

import tkern


def sin_fit_step_us(lib, steps: int) -> float:
    """The seed's cubic fit of sin with autograd (tests/test_seeds.py runs the same loop)."""
    x = lib.linspace(-math.pi, math.pi, 2000, dtype=lib.float)
    y = lib.sin(x)
    a, b, c, d = (lib.tensor(v, dtype=lib.float, requires_grad=True) for v in (0.1, 0.2, 0.3, 0.4))
    start = time.perf_counter()
    for _ in range(steps):
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        loss.item()
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p -= 1e-6 * p.grad
                p.grad = None
    return (time.perf_counter() - start) / steps * 1e6


OPS = {
    "b * x, recorded": "b * x",
    "(b * x).sum(), recorded": "(b * x).sum()",
    "(b * x).sum().backward()": "(b * x).sum().backward()",
    "the fit's forward, recorded": "(a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()",
    "the fit's forward and backward": "(a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum().backward()",
}


def op_us(lib, statement: str) -> float:
    x = lib.linspace(-math.pi, math.pi, 2000, dtype=lib.float)
    names = dict(x=x, y=lib.sin(x))
    names.update((n, lib.tensor(v, dtype=lib.float, requires_grad=True)) for n, v in zip("abcd", (0.1, 0.2, 0.3, 0.4)))
    return min(timeit.repeat(statement, globals=names, number=300, repeat=5)) / 300 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for lib in (torch, tkern):
        sin_fit_step_us(lib, 20)
    times = {"torch": [], "tkern": []}
    for _ in range(args.repeats):
        for lib in (torch, tkern):
            times[lib.__name__].append(sin_fit_step_us(lib, args.steps))
    print(f"{'':34s} {'torch':>8s} {'tkern':>8s}  ratio")
    for label, statement in OPS.items():
        t, k = op_us(torch, statement), op_us(tkern, statement)
        print(f"{label:34s} {t:8.1f} {k:8.1f}  {k / t:4.1f}x")
    t, k = (statistics.median(times[n]) for n in ("torch", "tkern"))
    print(f"{'the sin fit with autograd, a step':34s} {t:8.1f} {k:8.1f}  {k / t:4.1f}x")


if __name__ == "__main__":
    main()
