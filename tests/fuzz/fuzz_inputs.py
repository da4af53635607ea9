"""Random inputs for the differential fuzzer: shapes, dtypes, layouts and values, drawn with
hypothesis, with the arrays themselves built by numpy from a drawn seed (fast, and they shrink well).

A TensorPair holds the same values as a torch CPU tensor and a tkern tensor on the device under test,
both the same kind of view (transposed, stepped, expanded, offset) of a base tensor that is the leaf
gradients are compared on."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

import tkern
from helpers import TORCH_DTYPES

ALL_DTYPES = [tkern.bool, tkern.uint8, tkern.int8, tkern.int16, tkern.int32, tkern.int64, tkern.float16,
              tkern.bfloat16, tkern.float32, tkern.float64]
FLOAT_DTYPES = [tkern.float16, tkern.bfloat16, tkern.float32, tkern.float64]
INT_DTYPES = [tkern.uint8, tkern.int8, tkern.int16, tkern.int32, tkern.int64]
LAYOUTS = ["contiguous", "transposed", "stepped", "offset", "expanded"]
WRITABLE_LAYOUTS = ["contiguous", "transposed", "stepped", "offset"]
# sizes 0..9 with the small ones likelier, plus primes that defeat power-of-two tiling
SIZES = [0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 11, 13]
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 65504.0,
                  1e30, 3.0e38]


def max_numel(device: str) -> int:
    return 48 if device == "cuda" else 160


def fit_numel(shape: list[int], limit: int) -> tuple[int, ...]:
    """Halve the largest sizes until the shape holds at most ``limit`` elements."""
    shape = list(shape)
    while math.prod(shape) > limit:
        largest = max(range(len(shape)), key=shape.__getitem__)
        shape[largest] //= 2
    return tuple(shape)


@st.composite
def shapes(draw, device: str, min_dims: int = 0, max_dims: int = 5, min_size: int = 0) -> tuple[int, ...]:
    sizes = [s for s in SIZES if s >= min_size]
    shape = draw(st.lists(st.sampled_from(sizes), min_size=min_dims, max_size=max_dims))
    fitted = fit_numel(shape, max_numel(device))
    return tuple(max(s, min_size) for s in fitted)


def broadcast_variant(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape``: some leading dims dropped, some sizes set to 1."""
    dropped = draw(st.integers(0, len(shape)))
    kept = shape[dropped:]
    ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
    return tuple(1 if one else size for size, one in zip(kept, ones))


def dims(draw, ndim: int, allow_bad: bool = True) -> int:
    """A dim of an ndim tensor (0-d tensors take 0 and -1), now and then one out of range."""
    span = max(ndim, 1)
    if allow_bad and draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from([span, -span - 1]))
    return draw(st.integers(-span, span - 1))


def random_values(shape: tuple[int, ...], dtype, seed: int, style: str) -> np.ndarray:
    """Values of a dtype in a style: "small" (few distinct values: ties, zeros, exact results),
    "uniform" (continuous), "wide" (the dtype's whole range) or "special" (inf, nan, -0.0, extremes)."""
    rng = np.random.default_rng(seed)
    if dtype is tkern.bool:
        return rng.random(shape) > 0.5
    if not dtype.is_floating_point:
        info = np.iinfo(dtype.numpy)
        if style == "wide":
            return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype.numpy)
        low = 0 if dtype is tkern.uint8 else -4
        return rng.integers(low, 5 if low else 9, shape).astype(dtype.numpy)
    if style == "small":
        values = rng.integers(-4, 5, shape) / 2.0
    elif style == "special":
        values = rng.uniform(-3, 3, shape)
        mask = rng.random(shape) < 0.4
        values[mask] = rng.choice(SPECIAL_FLOATS, size=shape)[mask]
    elif style == "wide":
        values = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7, shape)
    else:
        values = rng.uniform(-3, 3, shape)
    with np.errstate(over="ignore"):
        if dtype is tkern.bfloat16:  # round once, in torch, so both libraries hold the same bits
            return torch.from_numpy(np.asarray(values, dtype=np.float32)).to(torch.bfloat16).float().numpy()
        return np.asarray(values).astype(dtype.numpy)


@dataclass
class TensorPair:
    torch: torch.Tensor
    tkern: tkern.Tensor
    torch_leaf: torch.Tensor
    tkern_leaf: tkern.Tensor
    dtype: object
    layout: str
    values: np.ndarray  # the logical values, for deciding what a case means

    def describe(self) -> str:
        return f"{self.dtype} {tuple(self.torch.shape)} {self.layout}"


@dataclass
class LayoutPlan:
    base_shape: tuple[int, ...]
    kind: str
    permutation: tuple[int, ...] = ()
    steps: tuple[int, ...] = ()
    offset: int = 0


def plan_layout(draw, shape: tuple[int, ...], layout: str) -> LayoutPlan:
    ndim = len(shape)
    if layout == "transposed" and ndim >= 2:
        permutation = tuple(draw(st.permutations(range(ndim))))
        base = [0] * ndim
        for position, source in enumerate(permutation):
            base[source] = shape[position]
        return LayoutPlan(tuple(base), layout, permutation=permutation)
    if layout == "stepped" and ndim >= 1:
        steps = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
        return LayoutPlan(tuple(s * k for s, k in zip(shape, steps)), layout, steps=steps)
    if layout == "offset":
        return LayoutPlan((math.prod(shape) + 3,), layout, offset=draw(st.integers(1, 3)))
    if layout == "expanded" and ndim >= 1:
        return LayoutPlan(broadcast_variant(draw, shape), layout)
    return LayoutPlan(shape, "contiguous")


def apply_layout(base, plan: LayoutPlan, shape: tuple[int, ...]):
    """The same view of a torch or a tkern base."""
    if plan.kind == "transposed":
        return base.permute(*plan.permutation)
    if plan.kind == "stepped":
        return base[tuple(slice(None, None, k) for k in plan.steps)]
    if plan.kind == "offset":
        return base[plan.offset:plan.offset + math.prod(shape)].view(shape)
    if plan.kind == "expanded":
        return base.expand(*shape)
    return base


def base_values(plan: LayoutPlan, shape: tuple[int, ...], dtype, seed: int, style: str) -> np.ndarray:
    """Base values arranged so that the view's logical values are random_values(shape, ...)."""
    if plan.kind == "transposed":
        logical = random_values(shape, dtype, seed, style)
        return np.ascontiguousarray(np.transpose(logical, np.argsort(plan.permutation)))
    if plan.kind == "stepped":
        base = random_values(plan.base_shape, dtype, seed + 1, style)
        base[tuple(slice(None, None, k) for k in plan.steps)] = random_values(shape, dtype, seed, style)
        return base
    if plan.kind == "offset":
        base = random_values(plan.base_shape, dtype, seed + 1, style)
        base[plan.offset:plan.offset + math.prod(shape)] = random_values(shape, dtype, seed, style).reshape(-1)
        return base
    return random_values(plan.base_shape, dtype, seed, style)


def make_pair(device: str, values: np.ndarray, dtype, plan: LayoutPlan, shape: tuple[int, ...],
              requires_grad: bool = False, clone_leaf: bool = False) -> TensorPair:
    """torch and tkern tensors of ``values`` laid out by ``plan``; with requires_grad the base is the
    leaf, and with clone_leaf the view is taken of a clone of it (so in-place ops may write it)."""
    host = np.array(values)
    torch_base = torch.from_numpy(host.copy()).to(TORCH_DTYPES[dtype])
    tkern_base = tkern.tensor(host.copy(), device=device).to(dtype)
    if requires_grad:
        torch_base.requires_grad_()
        tkern_base.requires_grad_()
    torch_source, tkern_source = torch_base, tkern_base
    if clone_leaf:
        torch_source, tkern_source = torch_base.clone(), tkern_base.clone()
    torch_view = apply_layout(torch_source, plan, shape)
    tkern_view = apply_layout(tkern_source, plan, shape)
    return TensorPair(torch_view, tkern_view, torch_base, tkern_base, dtype, plan.kind,
                      torch_view.detach().float().numpy() if dtype is tkern.bfloat16 else torch_view.detach().numpy())


@st.composite
def tensor_pairs(draw, device: str, shape: tuple[int, ...] | None = None, dtypes=None, dtype=None,
                 layouts=None, grad: bool | None = None, clone_leaf: bool = False, styles=None) -> TensorPair:
    """One TensorPair; ``grad`` None draws whether a floating tensor requires grad."""
    if shape is None:
        shape = draw(shapes(device))
    if dtype is None:
        dtype = draw(st.sampled_from(dtypes or ALL_DTYPES))
    layout = draw(st.sampled_from(layouts or LAYOUTS))
    plan = plan_layout(draw, shape, layout)
    style = draw(st.sampled_from(styles or ["uniform", "uniform", "small", "special", "wide"]))
    seed = draw(st.integers(0, 2**32 - 1))
    requires_grad = dtype.is_floating_point and (draw(st.booleans()) if grad is None else grad)
    values = base_values(plan, shape, dtype, seed, style)
    return make_pair(device, values, dtype, plan, shape, requires_grad, clone_leaf and requires_grad)


INTERPRETER = bool(os.environ.get("TRITON_INTERPRET"))


def as_tkern_receives(value, device: str):
    """A Python number as tkern's kernels receive it, for torch's side of a case: under Triton's
    interpreter a -0.0 passed as a Python number arrives as +0.0 (README, known differences: an
    interpreter quirk, not tkern's; a GPU keeps the sign)."""
    if device == "cuda" and INTERPRETER and isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0:
        return 0.0
    return value


@st.composite
def python_scalars(draw, kinds=("bool", "int", "float")) -> bool | int | float:
    kind = draw(st.sampled_from(kinds))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "int":
        # (2049 and 70000: rounded, or overflowed, when torch casts them to float16/bfloat16 first)
        return draw(st.one_of(st.integers(-5, 5), st.sampled_from([0, 1, -1, 127, 255, 256, -129, 2049, 70000,
                                                                   2**31, 2**40])))
    # (0.1, 1/3, 3.3: rounded differently to float32 and to float16/bfloat16; 65536.0 and 1e5 overflow
    # float16; 1e-5 and 1e-8 underflow it)
    return draw(st.one_of(st.sampled_from([0.0, -0.0, 0.5, -1.5, 2.0, 1e-3, np.inf, -np.inf, np.nan, 0.1, 1 / 3, 3.3,
                                           65536.0, 1e5, 1e-5, 1e-8]),
                          st.floats(-4, 4, allow_nan=False, width=32)))
