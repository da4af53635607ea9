"""Differential fuzz of reductions over random dims: sum, mean, prod, amax/amin, max/min (whole and
with dim), argmax/argmin, all/any, var/std with corrections, logsumexp."""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

import tkern
from fuzz_compare import Tolerance, outcome, run_case
from fuzz_inputs import ALL_DTYPES, dims, tensor_pairs
from fuzz_run import fuzz
from helpers import TORCH_DTYPES
from known import avoid_known

REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "all", "any", "var", "std",
              "logsumexp"]
MULTI_DIM = {"sum", "mean", "amax", "amin", "var", "std", "logsumexp"}


def _reduction_case(data, device: str) -> None:
    op = data.draw(st.sampled_from(REDUCTIONS), label="op")
    x = data.draw(tensor_pairs(device), label="x")
    ndim = x.torch.dim()
    dim_kind = data.draw(st.sampled_from(["none", "int", "tuple"] if op in MULTI_DIM else ["none", "int"]),
                         label="dim kind")
    if op == "logsumexp" and dim_kind == "none":
        dim_kind = "int"
    kwargs: dict = {}
    if dim_kind == "int":
        kwargs["dim"] = dims(data.draw, ndim)
    elif dim_kind == "tuple":
        kwargs["dim"] = tuple(data.draw(st.lists(st.integers(-max(ndim, 1), max(ndim, 1) - 1), max_size=3,
                                                 unique=True), label="dims"))
    if dim_kind != "none" or op in ("var", "std") and data.draw(st.booleans()):
        kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
    if op in ("var", "std") and data.draw(st.booleans(), label="correction?"):
        kwargs["correction"] = data.draw(st.sampled_from([0, 1, 2]), label="correction")
    if op in ("sum", "mean", "prod") and data.draw(st.integers(0, 3), label="dtype?") == 0:
        kwargs["dtype"] = data.draw(st.sampled_from(ALL_DTYPES), label="dtype")
    form = data.draw(st.sampled_from(["function", "method"]), label="form")
    avoid_known(op, dtype=x.dtype, kwargs=kwargs, ndim=ndim, numel=x.torch.numel(), device=device)

    def call(tensor):
        options = dict(kwargs)
        if "dtype" in options and isinstance(tensor, torch.Tensor):
            options["dtype"] = TORCH_DTYPES[options["dtype"]]
        lib = torch if isinstance(tensor, torch.Tensor) else tkern
        return getattr(lib, op)(tensor, **options) if form == "function" else getattr(tensor, op)(**options)

    finite = np.abs(x.values[np.isfinite(x.values)].astype(np.float64))
    magnitude = float(finite.max(initial=1.0))
    # a product's terms are the partial products; a sum's, the summands
    scale = magnitude ** min(x.torch.numel(), 8) if op == "prod" else magnitude * math.sqrt(max(x.torch.numel(), 1))
    # std's gradient divides by std: where std is at the rounding noise of the values (equal values,
    # such as an expanded input, which torch's float32 reduction may not find exactly equal), either
    # side's gradient is noise
    backward = True
    if op == "std" and x.torch.dtype.is_floating_point:
        expected, _ = outcome(lambda: call(x.torch.detach()))
        backward = expected is None or not bool((expected.abs() <= 1e-4 * magnitude).any())
    run_case(device, lambda: call(x.torch), lambda: call(x.tkern), [x], Tolerance("composite", scale),
             f"{op} {form} {kwargs}", backward=backward)


def test_reductions(device: str) -> None:
    fuzz(_reduction_case, device, 2)
