"""adam_step: one tkern.optim.Adam step over many float32 parameters against torch's fused Adam.

Memory-bound: each element reads parameter, gradient and both moments and writes back three (28 bytes).
"""
from __future__ import annotations

from functools import partial

import torch

import tkern

from .rows import Context, Measurement, Row
from .sizes import Sizes
from .twins import assert_agree, random_pair

FAMILY = "optimizer"
BYTES_PER_ELEMENT = 7 * 4


def _adam(context: Context, parameters: int, elements: int) -> Measurement:
    torch_params, tkern_params = [], []
    for index in range(parameters):
        tp, kp = random_pair(context.torch_device, (elements,), "float32", seed=100 + index)
        tg, kg = random_pair(context.torch_device, (elements,), "float32", seed=10_000 + index)
        tp.requires_grad_(True)
        tp.grad = tg
        kp.requires_grad_(True)
        kp.grad = kg
        torch_params.append(tp)
        tkern_params.append(kp)
    torch_adam = torch.optim.Adam(torch_params, lr=1e-3, fused=True)
    tkern_adam = tkern.optim.Adam(tkern_params, lr=1e-3)
    torch_adam.step()
    tkern_adam.step()
    assert_agree([p.detach() for p in tkern_params], [p.detach() for p in torch_params], rtol=1e-5, atol=1e-6)
    tkern_ms = context.clock.kernel_ms(tkern_adam.step)
    torch_ms = context.clock.kernel_ms(torch_adam.step)
    return Measurement(tkern_ms, torch_ms, bytes_moved=BYTES_PER_ELEMENT * parameters * elements,
                       extra={"parameters": parameters})


def rows(sizes: Sizes) -> list[Row]:
    parameters, elements = sizes.adam
    # shape: one parameter's; "parameters" in the record says how many
    return [Row("adam_step", FAMILY, [[elements]], "float32", partial(_adam, parameters=parameters, elements=elements))]
