"""Differential fuzz of matmul forms: mm, bmm, matmul with broadcasting (1-d to 4-d operands), @, dot."""
from __future__ import annotations

import operator

import torch
from hypothesis import strategies as st

import tkern
from fuzz_compare import Tolerance, finite_magnitude, run_case
from fuzz_inputs import ALL_DTYPES, FLOAT_DTYPES, SIZES, broadcast_variant, tensor_pairs
from fuzz_run import fuzz
from known import avoid_known

FORMS = {"mm": (2, 2), "bmm": (3, 3), "dot": (1, 1), "matmul": None, "@": None}


def _matmul_case(data, device: str) -> None:
    form = data.draw(st.sampled_from(list(FORMS)), label="form")
    small = st.sampled_from([s for s in SIZES if s <= (5 if device == "cuda" else 9)])
    m, k, n = (data.draw(small, label=name) for name in "mkn")
    batch = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2), label="batch"))
    if form in ("matmul", "@"):
        left_ndim, right_ndim = (data.draw(st.integers(1, 4), label=side) for side in ("left ndim", "right ndim"))
    else:
        left_ndim, right_ndim = FORMS[form]
        batch = batch[:1] or (2,)

    def operand_shape(ndim: int, rows: int, cols: int, vector_size: int) -> tuple[int, ...]:
        if ndim == 1:
            return (vector_size,)
        full = (batch + (1,) * 2)[:max(ndim - 2, 0)]
        return (broadcast_variant(data.draw, full) if form in ("matmul", "@") else full) + (rows, cols)

    left_shape = operand_shape(left_ndim, m, k, k)
    right_shape = operand_shape(right_ndim, k, n, k)
    if data.draw(st.integers(0, 9), label="mismatch?") == 0:
        right_shape = right_shape[:-2] + (right_shape[-2] + 1,) + right_shape[-1:] if len(right_shape) >= 2 \
            else (right_shape[0] + 1,)
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES * 3 + ALL_DTYPES), label="dtype")
    other_dtype = data.draw(st.sampled_from([dtype] * 6 + ALL_DTYPES), label="other dtype")
    styles = ["uniform", "small", "special"]
    a = data.draw(tensor_pairs(device, shape=left_shape, dtype=dtype, styles=styles), label="a")
    b = data.draw(tensor_pairs(device, shape=right_shape, dtype=other_dtype, styles=styles), label="b")
    avoid_known(form, dtype=dtype, other_dtype=other_dtype, device=device, shapes=(left_shape, right_shape),
                grad=a.torch_leaf.requires_grad or b.torch_leaf.requires_grad)

    def call(x, y):
        lib = torch if isinstance(x, torch.Tensor) else tkern
        return operator.matmul(x, y) if form == "@" else getattr(lib, form)(x, y)

    magnitude = finite_magnitude(a, b)
    run_case(device, lambda: call(a.torch, b.torch), lambda: call(a.tkern, b.tkern), [a, b],
             Tolerance("composite", magnitude ** 2 * max(k, 1)), f"{form} {left_shape} x {right_shape}")


def test_matmul(device: str) -> None:
    fuzz(_matmul_case, device)
