"""The seeds' cubic fit of sin(x) by hand-written gradient descent, on any device."""
from __future__ import annotations

import math
import time

import tkern


def fit_sin(device: str = "cpu", steps: int = 2000, learning_rate: float = 1e-6, report_every: int = 100,
            seed: int = 0, log=print, lib=tkern) -> tuple:
    """Fit y = a + b x + c x^2 + d x^3 to sin on 2000 points of [-pi, pi] exactly as the seed does;
    returns (a, b, c, d, final loss). ``lib`` may be torch itself, for comparisons."""
    lib.manual_seed(seed)
    dtype = lib.float
    x = lib.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = lib.sin(x)
    a, b, c, d = (lib.randn((), device=device, dtype=dtype) for _ in range(4))
    loss = float("nan")
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if report_every and t % report_every == report_every - 1:
            log(f"step {t + 1}: loss {loss}")
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return a.item(), b.item(), c.item(), d.item(), loss


def main() -> None:
    reason = tkern.cuda.unavailable_reason()
    print(f"tkern {tkern.__version__}")
    print("devices: cpu (numpy backend)" + (", cuda (Triton backend)" if reason is None else ""))
    if reason is not None:
        print(f"cuda: not available ({reason})")
    device = "cuda" if reason is None else "cpu"
    print(f"fitting y = a + b x + c x^2 + d x^3 to sin(x) on {device}")
    start = time.perf_counter()
    a, b, c, d, _ = fit_sin(device)
    elapsed = time.perf_counter() - start
    print(f"time: {elapsed:.3f} s")
    print(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")
