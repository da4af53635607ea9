"""Polynomial least squares: the loss of a polynomial fit with its gradient in one pass, and a whole
gradient-descent fit. Checks, dtypes and outputs are decided here once for every device; the work is
two backend primitives (``poly_loss_grad``, ``poly_fit``).

The points are 1-d x and y of one length N >= 1 (any strides), the coefficients a 1-d c0..cD (lowest
degree first, D >= 0), all floating point on one device. The loss is s * sum_i (p(x_i) - y_i)**2 with
s = 1 ('sum') or 1/N ('mean'); it has the dtype the three promote to, and the gradient has coeffs'.
"""
from __future__ import annotations

import math
import numbers
import operator

from tkern import dtypes

from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array
from .backend import backend_for

REDUCTIONS = ("sum", "mean")


def check_reduction(name: str, reduction, allowed: tuple = REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{name}(): {reduction} is not a valid value for reduction (expected "
                         f"{' or '.join(repr(r) for r in allowed)})")


def accumulation_dtype(loss_dtype: dtypes.dtype) -> dtypes.dtype:
    """What sums and gradients are computed in: float64 for a float64 loss, float32 otherwise."""
    return dtypes.float64 if loss_dtype is dtypes.float64 else dtypes.float32


def scale_of(reduction: str, n: int) -> float:
    """The loss's factor s: 1 for 'sum', 1/N for 'mean'."""
    return 1.0 / n if reduction == "mean" else 1.0


def check_points(name: str, x: Array, y: Array, coeffs: Array) -> dtypes.dtype:
    """torch's exception classes for bad operands, each message naming the argument; returns the
    loss's dtype."""
    for arg, a in (("x", x), ("y", y), ("coeffs", coeffs)):
        if a.ndim != 1:
            raise RuntimeError(f"{name}(): argument '{arg}' must be a 1-D tensor, but got a {a.ndim}-D tensor "
                               f"of shape {list(a.shape)}")
        if not a.dtype.is_floating_point:
            raise RuntimeError(f"{name}(): argument '{arg}' must have a floating point dtype, but got "
                               f"{TORCH_TYPE_NAMES[a.dtype]}")
    for arg, a in (("y", y), ("coeffs", coeffs)):
        if a.device != x.device:
            raise RuntimeError(f"{name}(): expected all tensors to be on the same device, but argument '{arg}' is "
                               f"on {a.device} and argument 'x' on {x.device}")
    if y.shape[0] != x.shape[0]:
        raise RuntimeError(f"{name}(): arguments 'x' and 'y' must have the same length, but got {x.shape[0]} and "
                           f"{y.shape[0]}")
    if x.shape[0] == 0:
        raise RuntimeError(f"{name}(): argument 'x' must hold at least one point, but got an empty tensor")
    if coeffs.shape[0] == 0:
        raise RuntimeError(f"{name}(): argument 'coeffs' must hold at least one coefficient (c0 for degree 0), "
                           "but got an empty tensor")
    return dtypes.promote_types(dtypes.promote_types(x.dtype, y.dtype), coeffs.dtype)


def poly_loss_grad(x: Array, y: Array, coeffs: Array, reduction: str = "sum", want_dx: bool = False,
                   want_dy: bool = False, name: str = "poly_loss_grad", unrounded: bool = False) -> tuple:
    """(loss, grad, dx, dy): the 0-d loss, its gradient for each coefficient, and when wanted each
    point's own gradient for x and y (else None), all from one pass over the points. The gradients have
    their inputs' dtypes, or with ``unrounded`` the accumulation dtype (for autograd, which scales them
    by the incoming gradient before rounding to the inputs' dtypes, as torch does).

    >>> from tkern import tensor
    >>> from tkern.tensor import wrap
    >>> loss, grad, _, _ = poly_loss_grad(tensor([0.0, 1.0])._a, tensor([1.0, 3.0])._a, tensor([1.0, 1.0])._a)
    >>> wrap(loss), wrap(grad)
    (tensor(1.), tensor([-2., -2.]))
    """
    check_reduction(name, reduction)
    loss_dtype = check_points(name, x, y, coeffs)
    device = x.device
    loss = empty((), loss_dtype, device)
    wide = accumulation_dtype(loss_dtype) if unrounded else None
    grad = empty(coeffs.shape, wide or coeffs.dtype, device)
    dx = empty(x.shape, wide or x.dtype, device) if want_dx else None
    dy = empty(y.shape, wide or y.dtype, device) if want_dy else None
    backend_for(device).poly_loss_grad(x, y, coeffs, scale_of(reduction, x.shape[0]), loss, grad, dx, dy)
    return loss, grad, dx, dy


def poly_fit(x: Array, y: Array, coeffs: Array, lr, steps, reduction: str = "sum",
             name: str = "poly_fit") -> tuple:
    """(final coefficients, the loss before each step): ``steps`` steps of c -= lr * grad(c)."""
    check_reduction(name, reduction)
    if isinstance(steps, bool):
        raise TypeError(f"{name}(): argument 'steps' must be int, not bool")
    try:
        steps = operator.index(steps)
    except TypeError:
        raise TypeError(f"{name}(): argument 'steps' must be int, not {type(steps).__name__}") from None
    if steps < 0:
        raise RuntimeError(f"{name}(): argument 'steps' must be non-negative, but got {steps}")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"{name}(): argument 'lr' must be a real number, not {type(lr).__name__}")
    try:
        lr = float(lr)
    except OverflowError:
        lr = math.inf
    if not math.isfinite(lr):
        raise ValueError(f"{name}(): invalid learning rate: argument 'lr' must be finite, but got {lr}")
    loss_dtype = check_points(name, x, y, coeffs)
    device = x.device
    out = empty(coeffs.shape, coeffs.dtype, device)
    losses = empty((steps,), loss_dtype, device)
    backend_for(device).poly_fit(x, y, coeffs, lr, steps, scale_of(reduction, x.shape[0]), out, losses)
    return out, losses
