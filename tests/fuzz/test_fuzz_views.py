"""Differential fuzz of views and joins: reshape/view, transpose/permute/t/T, narrow, slicing with
steps, select, expand, squeeze/unsqueeze, flatten, diagonal, split/chunk/unbind; writes through a
view reaching its base; cat and stack with mixed dtypes, the legacy empty (0,) input and bad dims."""
from __future__ import annotations

import math

from hypothesis import strategies as st

import tkern
import torch
from fuzz_compare import Tolerance, run_case
from fuzz_inputs import ALL_DTYPES, SIZES, dims, fit_numel, max_numel, shapes, tensor_pairs
from fuzz_run import fuzz
from known import avoid_known

VIEW_OPS = ["reshape", "view", "transpose", "permute", "t", "T", "narrow", "slice", "select", "expand", "squeeze",
            "unsqueeze", "flatten", "diagonal", "split", "chunk", "unbind"]


def reshape_target(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape of the same numel (adjacent sizes merged, ones inserted, maybe one -1), now and then a wrong one."""
    target = list(shape)
    for _ in range(draw(st.integers(0, 2))):
        if len(target) >= 2:
            i = draw(st.integers(0, len(target) - 2))
            target[i:i + 2] = [target[i] * target[i + 1]]
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    if draw(st.integers(0, 14)) == 0:
        target.append(2)
    return tuple(target)


def view_arguments(draw, op: str, shape: tuple[int, ...]) -> tuple:
    ndim = len(shape)
    if op in ("reshape", "view"):
        return reshape_target(draw, shape),
    if op in ("transpose", "diagonal"):
        return dims(draw, ndim), dims(draw, ndim)
    if op == "permute":
        order = list(draw(st.permutations(range(ndim))))
        if order and draw(st.integers(0, 9)) == 0:
            order[0] = order[-1]
        return tuple(order),
    if op in ("narrow", "split", "chunk"):
        dim = dims(draw, ndim)
        size = shape[dim] if -ndim <= dim < ndim and ndim else 3
        if op == "narrow":
            start = draw(st.integers(-size, size + 1))
            return dim, start, draw(st.integers(0, size + 1))
        return draw(st.integers(0 if op == "split" else 1, size + 2)), dim
    if op == "select":
        dim = dims(draw, ndim)
        size = shape[dim] if -ndim <= dim < ndim and ndim else 1
        return dim, draw(st.integers(-size - 1, size))
    if op == "slice":
        return tuple(slice(draw(st.integers(-s - 2, s + 2) | st.none()), draw(st.integers(-s - 2, s + 2) | st.none()),
                           draw(st.sampled_from([None, 1, 2, 3, 5, -1] if draw(st.integers(0, 9)) == 0
                                                else [None, 1, 2, 3, 5]))) for s in shape[:draw(st.integers(0, ndim))]),
    if op == "expand":
        new = tuple(draw(st.sampled_from([1, 2, 3])) for _ in range(draw(st.integers(0, 1))))
        sizes = tuple(draw(st.sampled_from([2, 3, -1])) if s == 1 else draw(st.sampled_from([s, s, -1, s + 1]))
                      for s in shape)
        return new + sizes,
    if op == "squeeze":
        return draw(st.sampled_from([(), (dims(draw, ndim),), (tuple(draw(st.lists(st.integers(
            -max(ndim, 1), max(ndim, 1) - 1), max_size=2, unique=True))),)])),
    if op == "unsqueeze":
        return draw(st.integers(-ndim - 2, ndim + 1)),
    if op == "flatten":
        return dims(draw, ndim), dims(draw, ndim)
    if op == "unbind":
        return dims(draw, ndim),
    return ()


def apply_view(tensor, op: str, arguments: tuple):
    if op == "slice":
        return tensor[arguments[0]]
    if op == "T":
        return tensor.T
    if op == "squeeze" and arguments and arguments[0] == ():
        return tensor.squeeze()
    if op == "squeeze":
        return tensor.squeeze(*arguments[0])
    return getattr(tensor, op)(*arguments)


def _view_case(data, device: str) -> None:
    op = data.draw(st.sampled_from(VIEW_OPS), label="op")
    write = data.draw(st.booleans(), label="write through the view")
    x = data.draw(tensor_pairs(device, grad=False if write else None), label="x")
    arguments = view_arguments(data.draw, op, tuple(x.torch.shape))
    avoid_known(op, dtype=x.dtype, arguments=arguments, write=write, device=device)

    def call(tensor):
        result = apply_view(tensor, op, arguments)
        if not write:
            return result
        first = result[0] if isinstance(result, tuple) else result
        first.fill_(True if first.dtype in (torch.bool, tkern.bool) else 7)
        return result, tensor

    run_case(device, lambda: call(x.torch), lambda: call(x.tkern), [x], Tolerance(signed_zeros=True),
             f"{op}{arguments} write={write}", inplace_target=x if write else None)


def test_views(device: str) -> None:
    fuzz(_view_case, device, 1.5)


def _join_case(data, device: str) -> None:
    op = data.draw(st.sampled_from(["cat", "stack"]), label="op")
    shape = data.draw(shapes(device, max_dims=4), label="shape")
    count = data.draw(st.integers(1, 4), label="count")
    dim = dims(data.draw, len(shape) + (op == "stack"))
    dtype = data.draw(st.sampled_from(ALL_DTYPES), label="dtype")
    limit = max_numel(device) // count
    pairs = []
    for i in range(count):
        piece = list(shape)
        if op == "cat" and shape and -len(shape) <= dim < len(shape) and data.draw(st.booleans()):
            piece[dim] = data.draw(st.sampled_from(SIZES), label="cat size")
        if op == "cat" and data.draw(st.integers(0, 9), label="legacy empty?") == 0:
            piece = [0]
        pairs.append(data.draw(tensor_pairs(device, shape=fit_numel(piece, limit),
                                            dtype=data.draw(st.sampled_from([dtype] * 4 + ALL_DTYPES))), label="t"))
    avoid_known(op, dtypes=[p.dtype for p in pairs], shapes=[tuple(p.torch.shape) for p in pairs], dim=dim,
                device=device)

    def call(which: str):
        lib = torch if which == "torch" else tkern
        return getattr(lib, op)([getattr(p, which) for p in pairs], dim)
    run_case(device, lambda: call("torch"), lambda: call("tkern"), pairs, Tolerance(signed_zeros=True),
             f"{op} dim={dim}")


def test_cat_and_stack(device: str) -> None:
    fuzz(_join_case, device)
