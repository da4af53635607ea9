"""tkern.fused: fused kernels with no single torch equivalent, first the polynomial least-squares fit.

A polynomial p(x) = c0 + c1 x + ... + cD x**D fitted to points (x, y) by the squared error
sum_i (p(x_i) - y_i)**2 (or its mean): ``poly_loss_grad`` gives the loss and the gradient of every
coefficient from one pass over the points (Horner's rule, no intermediate arrays on 'cuda'), and
``poly_fit`` runs a whole gradient-descent fit without going back to the host.
"""
from __future__ import annotations

from tkern.ops.array import Array
from tkern.ops.polynomial import poly_fit as _poly_fit
from tkern.ops.polynomial import poly_loss_grad as _poly_loss_grad

from .dtypes import promote_types
from .tensor import Tensor, wrap


def checked_arrays(name: str, x, y, coeffs) -> tuple[Array, Array, Array]:
    """The Arrays of the three tensor arguments; TypeError naming the first that is not a Tensor."""
    for arg, value in (("x", x), ("y", y), ("coeffs", coeffs)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(value).__name__}")
    return x._a, y._a, coeffs._a


def loss_and_gradients(x: Tensor, y: Tensor, coeffs: Tensor, reduction: str, want_dx: bool, want_dy: bool,
                       name: str, unrounded: bool = False) -> tuple:
    """(loss, grad, dx, dy) as tensors without history (dx, dy None unless wanted): what
    ``poly_loss_grad`` and ``nn.functional.poly_mse_loss`` compute (``unrounded``: the gradients in the
    accumulation dtype rather than the inputs')."""
    results = _poly_loss_grad(*checked_arrays(name, x, y, coeffs), reduction, want_dx, want_dy, name, unrounded)
    return tuple(None if a is None else wrap(a) for a in results)


def poly_loss_grad(x: Tensor, y: Tensor, coeffs: Tensor, reduction: str = "sum") -> tuple[Tensor, Tensor]:
    """(loss, grad) of fitting the polynomial with coefficients ``coeffs`` (c0 first: the seed's a, b, c, d)
    to the points (x, y): loss = sum (p(x) - y)**2 ('sum') or its mean ('mean'), a 0-d tensor of the
    dtype the three promote to; grad[k] = d loss / d coeffs[k], with coeffs' shape and dtype.

    One pass over x and y: p(x) by Horner's rule, then the squared residual and the residual times each
    power of x summed in float32 (float64 where the operands promote to float64); deterministic, the same
    bits on every run. The results carry no autograd history (``nn.functional.poly_mse_loss`` is the recorded form).

    >>> import tkern
    >>> x = tkern.tensor([0.0, 1.0, 2.0])
    >>> loss, grad = tkern.fused.poly_loss_grad(x, 1 + 2 * x, tkern.tensor([1.0, 1.0]))
    >>> loss, grad
    (tensor(5.), tensor([ -6., -10.]))
    """
    loss, grad, _, _ = loss_and_gradients(x, y, coeffs, reduction, False, False, "poly_loss_grad")
    return loss, grad


def poly_fit(x: Tensor, y: Tensor, coeffs: Tensor, lr: float, steps: int, reduction: str = "sum"
             ) -> tuple[Tensor, Tensor]:
    """(coefficients, losses) after ``steps`` steps of plain gradient descent from ``coeffs``, each
    c_k -= lr * grad_k exactly as the seed's loop steps: the final coefficients (coeffs' shape and dtype)
    and the loss before each step (shape (steps,)). Nothing waits on the host until the results are read.

    How it computes: loss and gradient depend on the data only through the moments sum x**j (j <= 2D),
    sum y x**j (j <= D) and sum y**2, so one pass over the points gathers those in float64, and the steps
    then update the D + 1 coefficients in float64 from them (on 'cuda' one program runs every step, on
    the CPU blocks of steps come out of batched matrix powers). The result agrees with the step-by-step
    float32 loop to its rounding; a loss is accurate to about 1e-16 of sum y**2 + sum p(x)**2, and a
    value that rounding pushes below zero reads 0.

    >>> import math, tkern
    >>> x = tkern.linspace(-math.pi, math.pi, 2000)
    >>> coeffs, losses = tkern.fused.poly_fit(x, tkern.sin(x), tkern.zeros(4), lr=1e-6, steps=2000)
    >>> losses.shape, bool(losses[-1] < losses[0])
    (tkern.Size([2000]), True)
    """
    if isinstance(lr, Tensor) and lr.numel() == 1:
        lr = lr.item()  # (as torch.optim takes a tensor learning rate)
    out, losses = _poly_fit(*checked_arrays("poly_fit", x, y, coeffs), lr, steps, reduction, "poly_fit")
    return wrap(out), wrap(losses)


def poly_value(x: Tensor, coeffs: Tensor) -> Tensor:
    """p(x) by Horner's rule with tkern's (differentiable) operations, one op at a time, in the dtype x
    and coeffs promote to (the 0-d coefficients alone would not promote x)."""
    dtype = promote_types(x.dtype, coeffs.dtype)
    x, coeffs = x.to(dtype), coeffs.to(dtype)
    degree = coeffs.shape[0] - 1
    value = coeffs[degree]
    for k in range(degree - 1, -1, -1):
        value = value * x + coeffs[k]
    return value


__all__ = ["poly_fit", "poly_loss_grad"]
