"""The seeds' cubic fit of sin(x) by hand-written gradient descent, on any device, three ways: op by op
as the seed writes it, with the fused loss-and-gradient kernel at every step, and as one poly_fit."""
from __future__ import annotations

import math
import time

import tkern

POINTS = 2000


def _problem(device: str, seed: int, lib=tkern) -> tuple:
    """The seed's data and starting coefficients: x on [-pi, pi], y = sin(x), a..d drawn from randn."""
    lib.manual_seed(seed)
    dtype = lib.float
    x = lib.linspace(-math.pi, math.pi, POINTS, device=device, dtype=dtype)
    y = lib.sin(x)
    return x, y, [lib.randn((), device=device, dtype=dtype) for _ in range(4)]


def _reporting(report_every: int, t: int) -> bool:
    """Whether step t prints its loss: every ``report_every`` steps, as the seed prints every 100."""
    return bool(report_every) and t % report_every == report_every - 1


def fit_sin(device: str = "cpu", steps: int = 2000, learning_rate: float = 1e-6, report_every: int = 100,
            seed: int = 0, log=print, lib=tkern) -> tuple:
    """Fit y = a + b x + c x^2 + d x^3 to sin on 2000 points of [-pi, pi] exactly as the seed does;
    returns (a, b, c, d, final loss). ``lib`` may be torch itself, for comparisons."""
    x, y, (a, b, c, d) = _problem(device, seed, lib)
    loss = float("nan")
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if _reporting(report_every, t):
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


def fit_sin_fused_steps(device: str = "cpu", steps: int = 2000, learning_rate: float = 1e-6,
                        report_every: int = 100, seed: int = 0, log=print) -> tuple:
    """The same fit with one fused pass (tkern.fused.poly_loss_grad) and one update per step; the loss
    is read back only when reported."""
    x, y, start = _problem(device, seed)
    coeffs = tkern.stack(start)
    loss = None
    for t in range(steps):
        loss, grad = tkern.fused.poly_loss_grad(x, y, coeffs)
        if _reporting(report_every, t):
            log(f"step {t + 1}: loss {loss.item()}")
        coeffs -= learning_rate * grad
    return (*coeffs.tolist(), loss.item() if loss is not None else float("nan"))


def fit_sin_poly_fit(device: str = "cpu", steps: int = 2000, learning_rate: float = 1e-6,
                     report_every: int = 100, seed: int = 0, log=print) -> tuple:
    """The same fit as one tkern.fused.poly_fit: one pass over the data, then every step on the device."""
    x, y, start = _problem(device, seed)
    coeffs, losses = tkern.fused.poly_fit(x, y, tkern.stack(start), learning_rate, steps)
    values = losses.tolist()
    for t, loss in enumerate(values):
        if _reporting(report_every, t):
            log(f"step {t + 1}: loss {loss}")
    return (*coeffs.tolist(), values[-1] if values else float("nan"))


WAYS = (("op by op, as the seed writes it", fit_sin),
        ("tkern.fused.poly_loss_grad at every step", fit_sin_fused_steps),
        ("tkern.fused.poly_fit, the whole fit in one call", fit_sin_poly_fit))


def main() -> None:
    reason = tkern.cuda.unavailable_reason()
    print(f"tkern {tkern.__version__}")
    print("devices: cpu (numpy backend)" + (", cuda (Triton backend)" if reason is None else ""))
    if reason is not None:
        print(f"cuda: not available ({reason})")
    device = "cuda" if reason is None else "cpu"
    print(f"fitting y = a + b x + c x^2 + d x^3 to sin(x) on {POINTS} points, 2000 steps, on {device}")
    op_by_op = None
    for title, fit in WAYS:
        print(f"\n{title}:")
        start = time.perf_counter()
        a, b, c, d, _ = fit(device)
        elapsed = time.perf_counter() - start
        speedup = "" if op_by_op is None else f" ({op_by_op / elapsed:.1f}x faster than op by op)"
        op_by_op = op_by_op or elapsed
        print(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")
        print(f"time: {elapsed:.4f} s{speedup}")
