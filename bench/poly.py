"""The fused polynomial rows, built from bench/poly_fit.py's pieces (the seed's cubic fit of sin(x)).

poly_step_f32: tkern.fused.poly_loss_grad (one pass) against torch eager doing the step's math op by op;
achieved = 8 bytes a point (x and y, float32) over the time. poly_fit_2000: tkern.fused.poly_fit's whole
fit against torch eager's loop with the seed's .item() each step, both wall clock.
"""
from __future__ import annotations

from functools import partial

import torch

import tkern

from . import poly_fit
from .rows import Context, Measurement, Row, checked_kernel_times
from .sizes import Sizes

FAMILY = "poly"


def _step(context: Context, n: int) -> Measurement:
    tx, ty = poly_fit.points("torch", context.torch_device, n)
    kx, ky = poly_fit.points("tkern", "cuda", n)
    start = poly_fit.seed_problem(n, 1)["start"]
    torch_coeffs = [torch.tensor(v, device=context.torch_device) for v in start]
    tkern_coeffs = tkern.tensor(start, device="cuda")

    def torch_step() -> tuple:
        loss, grads = poly_fit.seed_gradients(tx, ty, *torch_coeffs)
        return loss, torch.stack(grads)

    # float32 sums of n terms in different orders, and sin(x) a few ulp apart between the libraries
    tkern_ms, torch_ms = checked_kernel_times(context, lambda: tkern.fused.poly_loss_grad(kx, ky, tkern_coeffs),
                                              torch_step, rtol=1e-3, atol=1e-4, relative_atol=True)
    return Measurement(tkern_ms, torch_ms, bytes_moved=8 * n)


def _fit(context: Context, n: int, steps: int) -> Measurement:
    fit = poly_fit.seed_problem(n, steps)
    tx, ty = poly_fit.points("torch", context.torch_device, n)
    kx, ky = poly_fit.points("tkern", "cuda", n)
    torch_fit = poly_fit.seed_loop(torch)
    final, expected = poly_fit.fused_fit(kx, ky, fit), torch_fit(tx, ty, fit)
    if not poly_fit.coefficients_agree(final, expected):
        raise AssertionError(f"final coefficients {final}, torch {expected} (rtol {poly_fit.RTOL})")
    tkern_ms = context.clock.wall_ms(lambda: poly_fit.fused_fit(kx, ky, fit))
    torch_ms = context.clock.wall_ms(lambda: torch_fit(tx, ty, fit))
    return Measurement(tkern_ms, torch_ms, extra={"steps": steps})


def rows(sizes: Sizes) -> list[Row]:
    n_fit, steps = sizes.poly_fit
    return [
        Row("poly_step_f32", FAMILY, [[sizes.poly_step], [sizes.poly_step], [4]], "float32",
            partial(_step, n=sizes.poly_step)),
        Row("poly_fit_2000", FAMILY, [[n_fit], [n_fit], [4]], "float32", partial(_fit, n=n_fit, steps=steps)),
    ]
