"""Differential fuzz of indexing: getitem with basic keys (ints, slices with steps, None, Ellipsis)
and advanced ones (integer tensors and lists, bool masks), setitem with scalars and tensors, and
index_put_ with and without accumulate; with backward through all of them."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

import tkern
from fuzz_compare import Tolerance, finite_magnitude, run_case
from fuzz_inputs import (ALL_DTYPES, WRITABLE_LAYOUTS, as_tkern_receives, python_scalars, random_values, shapes,
                         tensor_pairs)
from fuzz_run import fuzz
from helpers import TORCH_DTYPES
from known import avoid_known


def index_component(draw, size: int, allow_duplicates: bool, kinds=("int", "slice", "slice", "ints", "mask")):
    """One entry of a key for a dim of ``size``: ("int", i), ("slice", s), ("ints", array), ("mask", array)."""
    kind = draw(st.sampled_from(kinds))
    if kind == "int" and size:
        return "int", draw(st.integers(-size, size - 1))
    if kind == "ints" and size:
        count = draw(st.integers(0, 4))
        if allow_duplicates:
            values = draw(st.lists(st.integers(-size, size - 1), min_size=count, max_size=count))
        else:
            values = draw(st.permutations(range(size)))[:count]
        return "ints", np.array(values, dtype=np.int64)
    if kind == "mask":
        return "mask", np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
    return "slice", slice(draw(st.integers(-size - 1, size + 1) | st.none()),
                          draw(st.integers(-size - 1, size + 1) | st.none()), draw(st.sampled_from([None, 1, 2, 3])))


def build_key(components, which: str, device: str, as_list: bool):
    def convert(kind, value):
        if kind in ("int", "slice", "none", "ellipsis"):
            return value
        if as_list:
            return value.tolist()
        return torch.from_numpy(value) if which == "torch" else tkern.tensor(value, device=device)
    return tuple(convert(kind, value) for kind, value in components)


def draw_key(draw, shape: tuple[int, ...], allow_duplicates: bool) -> list:
    components = []
    for size in shape[:draw(st.integers(0, len(shape)))]:
        components.append(index_component(draw, size, allow_duplicates))
    if draw(st.integers(0, 5)) == 0:
        components.insert(draw(st.integers(0, len(components))), ("none", None))
    if draw(st.integers(0, 5)) == 0:
        components.insert(0 if not components else draw(st.integers(0, len(components))), ("ellipsis", Ellipsis))
    if shape and draw(st.integers(0, 7)) == 0:
        components = [("mask", np.asarray(random_values(shape, tkern.bool, draw(st.integers(0, 99)), "uniform")))]
    return components


def _getitem_case(data, device: str) -> None:
    x = data.draw(tensor_pairs(device), label="x")
    components = draw_key(data.draw, tuple(x.torch.shape), allow_duplicates=True)
    as_list = data.draw(st.integers(0, 4), label="lists?") == 0
    avoid_known("getitem", kinds=[k for k, _ in components], dtype=x.dtype, device=device)
    run_case(device, lambda: x.torch[build_key(components, "torch", device, as_list)],
             lambda: x.tkern[build_key(components, "tkern", device, as_list)], [x], Tolerance(signed_zeros=True),
             f"getitem {components}")


def test_getitem(device: str) -> None:
    fuzz(_getitem_case, device, 1.5)


def _setitem_case(data, device: str) -> None:
    form = data.draw(st.sampled_from(["setitem", "index_put_", "index_put_ accumulate"]), label="form")
    # index_put_ on a 0-d tensor has a single form (a 0-d mask): keep it to about one case in ten of
    # those forms, or it takes a fifth of them (hypothesis draws the empty shape often)
    zero_d = form == "setitem" or data.draw(st.integers(0, 9), label="0-d index_put_?") == 0
    x = data.draw(tensor_pairs(device, shape=data.draw(shapes(device, min_dims=0 if zero_d else 1), label="shape"),
                               layouts=WRITABLE_LAYOUTS, clone_leaf=True), label="x")
    shape = tuple(x.torch.shape)
    accumulate = form == "index_put_ accumulate"
    if form == "setitem":
        components = draw_key(data.draw, shape, allow_duplicates=False)
    else:  # index_put_ takes tensors only: integer indices or bool masks, one per leading dim
        components = [index_component(data.draw, size, accumulate, ("ints", "ints", "mask")) for size in
                      shape[:data.draw(st.integers(1, max(len(shape), 1)))]] if shape else \
            [("mask", np.array(data.draw(st.booleans(), label="0-d mask")))]
    with torch.no_grad():
        probe, probe_error = None, None
        try:
            probe = x.torch.detach()[build_key(components, "torch", device, False)]
        except Exception as error:  # the values' shape is then free: the op must raise torch's class
            probe_error = error
    target_shape = tuple(probe.shape) if probe_error is None else (1,)
    value_kind = data.draw(st.sampled_from(["tensor", "tensor", "broadcast", "scalar"] if form == "setitem"
                                           else ["tensor", "broadcast"]), label="value kind")
    value_dtype = data.draw(st.sampled_from([x.dtype] * 5 + ALL_DTYPES), label="value dtype")
    if value_kind == "scalar":
        value = data.draw(python_scalars(), label="value")
    else:
        value_shape = target_shape if value_kind == "tensor" else target_shape[data.draw(
            st.integers(0, len(target_shape))):]
        value = data.draw(tensor_pairs(device, shape=value_shape, dtype=value_dtype,
                                       layouts=["contiguous", "transposed", "stepped"]), label="value")
    pairs = [x] + ([] if value_kind == "scalar" else [value])
    avoid_known(form, kinds=[k for k, _ in components], dtype=x.dtype, value_kind=value_kind,
                value_dtype=getattr(value, "dtype", type(value)), device=device,
                value_numel=getattr(getattr(value, "torch", None), "numel", lambda: 1)(),
                grad=any(p.torch_leaf.requires_grad for p in pairs))

    def call(which: str):
        target = getattr(x, which)
        key = build_key(components, which, device, False)
        source = as_tkern_receives(getattr(value, which, value), device if which == "torch" else "cpu")
        if form == "setitem":
            target[key] = source
            return target
        return target.index_put_(key, source, accumulate=accumulate)

    # accumulate sums repeated positions, in another order (and, on 'cuda', with atomic adds)
    tolerance = Tolerance("composite", finite_magnitude(*pairs) * 4) if accumulate else Tolerance(signed_zeros=True)
    run_case(device, lambda: call("torch"), lambda: call("tkern"), pairs, tolerance,
             f"{form} {components} value {value_kind} {getattr(value, 'dtype', value)}", inplace_target=x)


def test_setitem_and_index_put(device: str) -> None:
    fuzz(_setitem_case, device, 1.5)
