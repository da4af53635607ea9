"""two_layer_seed: the seed's two-layer network trained with autograd (seeds/003), whole loop wall time.

x.mm(w1).clamp(min=0).mm(w2), the summed squared error, backward, a no-grad update of w1 and w2 at
lr 1e-6 and zeroed gradients, 500 steps, the loss read with .item() every 100th step as the seed prints it.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch

import tkern

from .rows import Context, Measurement, Row
from .sizes import Sizes
from .twins import random_pair

FAMILY = "seed"
LEARNING_RATE = 1e-6
CHECKED_STEPS = 100


def seed_training(lib, x, y, w1_start, w2_start, steps: int) -> list[float]:
    """The seed's loop on ``lib`` (torch or tkern): the losses it prints, then the last one."""
    w1 = w1_start.clone().requires_grad_(True)
    w2 = w2_start.clone().requires_grad_(True)
    printed = []
    for t in range(steps):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            printed.append(loss.item())
        loss.backward()
        with lib.no_grad():
            w1 -= LEARNING_RATE * w1.grad
            w2 -= LEARNING_RATE * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return printed + [loss.item()]


def _two_layer(context: Context, n: int, d_in: int, hidden: int, d_out: int, steps: int) -> Measurement:
    device = context.torch_device
    (tx, kx), (ty, ky) = random_pair(device, (n, d_in), "float32", 11), random_pair(device, (n, d_out), "float32", 12)
    (tw1, kw1), (tw2, kw2) = (random_pair(device, (d_in, hidden), "float32", 13),
                              random_pair(device, (hidden, d_out), "float32", 14))
    # checked over the first 100 steps only: later losses are float32 rounding noise (a float64 run of
    # the same program differs from a float32 one by 100% at step 500), not a property of either library
    check_steps = min(steps, CHECKED_STEPS)
    losses = seed_training(tkern, kx, ky, kw1, kw2, check_steps)
    expected = seed_training(torch, tx, ty, tw1, tw2, check_steps)
    if not np.allclose(losses, expected, rtol=1e-3):
        raise AssertionError(f"losses {losses}, torch {expected} after {check_steps} steps (rtol 1e-3)")
    tkern_ms = context.clock.wall_ms(partial(seed_training, tkern, kx, ky, kw1, kw2, steps))
    torch_ms = context.clock.wall_ms(partial(seed_training, torch, tx, ty, tw1, tw2, steps))
    return Measurement(tkern_ms, torch_ms, extra={"steps": steps})


def rows(sizes: Sizes) -> list[Row]:
    n, d_in, hidden, d_out, steps = sizes.two_layer
    return [Row("two_layer_seed", FAMILY, [[n, d_in], [d_in, hidden], [hidden, d_out]], "float32",
                partial(_two_layer, n=n, d_in=d_in, hidden=hidden, d_out=d_out, steps=steps))]
