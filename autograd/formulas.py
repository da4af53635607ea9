"""The longer gradient formulas of the operation table (tkern/operations.py, which holds the short
ones beside their entries): each backward is written with tkern's own tensor operations (so it runs
on every device, and a second derivative records like any other computation).
autograd/recording.py records the calls.

The table is read while tkern is loading, so this module imports nothing of tkern's at its top but
the package itself, whose names it reads at call time.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import tkern


def _is_tensor(x) -> bool:
    return isinstance(x, tkern.Tensor)


# ----- helpers for formulas -----


def sum_to(grad, shape: tuple):
    """grad summed over the dims broadcasting added, back to ``shape``."""
    shape = tuple(shape)
    if grad._a.shape == shape:
        return grad
    if not shape:
        return grad.sum()
    lead = grad.ndim - len(shape)
    dims = list(range(lead)) + [lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1]
    if dims:
        grad = grad.sum(dims, keepdim=True)
    return grad.reshape(shape)


def _meta(ctx, i: int) -> tuple:
    return ctx.meta[(i, None)]


def _shape(ctx, i: int) -> tuple:
    return ctx.meta[(i, None)][0]


def _needs(ctx, i: int) -> bool:
    """Whether positional argument i is a tensor that wants a gradient."""
    return ctx._needs.get(i, False)


def _reduced(ctx, i: int, grad):
    return sum_to(grad, _shape(ctx, i)) if _needs(ctx, i) else None


def _zeros(ctx, i: int):
    from tkern.creation import zeros
    shape, dtype, device = _meta(ctx, i)
    return zeros(shape, dtype=dtype, device=device)


def _expand_reduced(grad, shape: tuple, dim, keepdim: bool):
    """The gradient of a reduction over ``dim`` spread back over the input's shape."""
    if dim is None or len(shape) == 0:
        return grad.expand(shape) if len(shape) else grad
    dims = [dim] if isinstance(dim, int) else list(dim)
    dims = sorted(d % len(shape) for d in dims) if dims else list(range(len(shape)))
    if not keepdim:
        for d in dims:
            grad = grad.unsqueeze(d)
    return grad.expand(shape)


def _count(shape: tuple, dim) -> int:
    dims: Iterable[int]
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        dims = range(len(shape))
    else:
        dims = [dim] if isinstance(dim, int) else dim
    n = 1
    for d in dims:
        n *= shape[d % len(shape)] if shape else 1
    return n


# ----- formulas: (ctx, grad) -> gradients by positional argument -----


def _add(ctx, g):
    alpha = ctx.kwargs.get("alpha", 1)
    return _reduced(ctx, 0, g), _reduced(ctx, 1, g * alpha if alpha != 1 else g)


def _sub(ctx, g):
    grad_other = None
    if _needs(ctx, 1):
        alpha = ctx.kwargs.get("alpha", 1)
        grad_other = _reduced(ctx, 1, -g * alpha if alpha != 1 else -g)
    return _reduced(ctx, 0, g), grad_other


def _mul(ctx, g):
    return (_reduced(ctx, 0, g * ctx.input(1)) if _needs(ctx, 0) else None,
            _reduced(ctx, 1, g * ctx.input(0)) if _needs(ctx, 1) else None)


def _div(ctx, g):
    if ctx.kwargs.get("rounding_mode") is not None:
        # torch: zeros of each input's shape, whatever the upstream gradient holds (g * 0 keeps inf and nan)
        return (_zeros(ctx, 0) if _needs(ctx, 0) else None), (_zeros(ctx, 1) if _needs(ctx, 1) else None)
    b = ctx.input(1)
    return (_reduced(ctx, 0, g / b) if _needs(ctx, 0) else None,
            _reduced(ctx, 1, -g * ctx.input(0) / (b * b)) if _needs(ctx, 1) else None)


def _remainder_like(rounding: str):
    """a - rounding(a / b) * b: the gradient is 1 for a and -rounding(a / b) for b."""
    def formula(ctx, g):
        if (0, None) not in ctx.meta:  # remainder(number, tensor): torch has no derivative
            raise RuntimeError("derivative for aten::remainder is not implemented")
        grad_b = None
        if _needs(ctx, 1):
            a, b = ctx.input(0), ctx.input(1)
            grad_b = _reduced(ctx, 1, -g * tkern.div(a, b, rounding_mode=rounding))
        return (_reduced(ctx, 0, g) if _needs(ctx, 0) else None), grad_b
    return formula


def _div_name(args, kwargs) -> str:
    return "DivBackward0" if kwargs.get("rounding_mode") is None else "DivBackward2"


def _not_implemented(name: str):
    def formula(ctx, g):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return formula


def _drawn(ctx, g):
    """A random draw passes no gradient: zeros for each tensor it reads, as torch gives."""
    inputs = (ctx.input(i) for i in range(len(ctx.args)))
    return tuple(tkern.zeros_like(a) if _is_tensor(a) else None for a in inputs)


def _pow(ctx, g):
    """torch's pow_backward, pow_backward_self and pow_backward_exponent, in their order of operations
    (g * (e * x ** (e - 1)): the number e is read in float32 beside a 16-bit g, not rounded first)."""
    base, exponent = ctx.input(0), ctx.input(1)
    grad_base = grad_exponent = None
    if _needs(ctx, 0):
        if not _is_tensor(exponent):
            # the derivative of x ** 0 is 0, even at x = 0 and whatever g holds (x ** False is not
            # x ** 0 there: torch's Scalar False does not equal 0.0, and 0 * x ** -1 is nan at 0)
            zero = exponent == 0 and type(exponent) is not bool
            # (x ** 1 is x exactly: the square's derivative skips a pow)
            power = base if exponent == 2 else base ** (exponent - 1)
            grad_base = _zeros(ctx, 0) if zero else g * (exponent * power)
        else:
            grad_base = tkern.where(exponent == 0, 0.0, g * (exponent * base ** (exponent - 1)))
        grad_base = sum_to(grad_base, _shape(ctx, 0))
    if _needs(ctx, 1):
        out = ctx.output()
        if _is_tensor(base):
            # 0 at base 0 where the exponent is non-negative, not NaN; the log is of the promoted base
            promoted = base.to(out.dtype) if base.dtype != out.dtype else base
            grad_exponent = sum_to(g * tkern.where((base == 0) & (exponent >= 0), 0.0, out * promoted.log()),
                                   _shape(ctx, 1))
        elif base == 0:
            # 0 where the exponent is non-negative; elsewhere out * log(0), -inf times out's sign
            grad_exponent = g * tkern.where(exponent >= 0, 0.0, out * -math.inf)
        else:
            grad_exponent = g * (out * (math.log(base) if base > 0 else math.nan))
    return grad_base, grad_exponent















def _clamp_between(low_at: int | None, high_at: int | None):
    """The formula of clamp (bounds at arguments 1 and 2) and of clamp_min / clamp_max (one bound
    at argument 1): torch's clamp_backward and clamp_backward_min_max; where min > max the result
    is max, and so is the gradient."""
    def formula(ctx, g):
        x = ctx.input(0)
        low = ctx.input(low_at) if low_at is not None else None
        high = ctx.input(high_at) if high_at is not None else None
        both = low is not None and high is not None
        if both:
            inside = (x >= low) & (x <= high)
        else:
            inside = x >= low if low is not None else x <= high
        grads = [_reduced(ctx, 0, tkern.where(inside, g, 0.0)), None, None]
        if low_at is not None and _needs(ctx, low_at):
            below = (x < low) & (low < high) if both else x < low
            grads[low_at] = sum_to(tkern.where(below, g, 0.0), _shape(ctx, low_at))
        if high_at is not None and _needs(ctx, high_at):
            above = (x > high) | (high < low) if both else x > high
            grads[high_at] = sum_to(tkern.where(above, g, 0.0), _shape(ctx, high_at))
        return grads
    return formula


def _masked_fill(ctx, g):
    mask = ctx.input(1)
    grad_value = tkern.where(mask, g, 0.0).sum() if _needs(ctx, 2) else None
    return _reduced(ctx, 0, tkern.where(mask, 0.0, g)), None, grad_value


def _atan2(ctx, g):
    a, b = ctx.input(0), ctx.input(1)
    squares = a * a + b * b
    # torch: 0 where the sum of squares is 0 (at the origin, or where it underflows), not 1 / 0
    recip = tkern.where(squares == 0, 0.0, squares.reciprocal())
    return (_reduced(ctx, 0, g * b * recip) if _needs(ctx, 0) else None,
            _reduced(ctx, 1, g * -a * recip) if _needs(ctx, 1) else None)


def _where(ctx, g):
    condition = ctx.input(0)
    zero = tkern.zeros_like(g)  # (not g * 0: an inf or NaN in g must not reach the side not taken)
    return (None, _reduced(ctx, 1, tkern.where(condition, g, zero)), _reduced(ctx, 2, tkern.where(condition, zero, g)))


def _extremum_pair(larger: bool):
    def formula(ctx, g):
        a, b = ctx.input(0), ctx.input(1)
        # in g's dtype, as torch: half of g to each side of a tie, all of it to the winner
        shared = tkern.where(a == b, g / 2, g)
        a_loses, b_loses = (a < b, a > b) if larger else (a > b, a < b)
        return (_reduced(ctx, 0, tkern.where(a_loses, 0.0, shared)) if _needs(ctx, 0) else None,
                _reduced(ctx, 1, tkern.where(b_loses, 0.0, shared)) if _needs(ctx, 1) else None)
    return formula


def _sum(ctx, g):
    dim = ctx.argument(1, "dim")
    keepdim = ctx.argument(2, "keepdim", False)
    grad = _expand_reduced(g, _shape(ctx, 0), dim, keepdim)
    dtype = _meta(ctx, 0)[1]
    return (grad.to(dtype) if grad._a.dtype is not dtype else grad,)


def _mean(ctx, g):
    dim = ctx.argument(1, "dim")
    keepdim = ctx.argument(2, "keepdim", False)
    shape = _shape(ctx, 0)
    return (_expand_reduced(g, shape, dim, keepdim) / _count(shape, dim),)


def _var_like(take_root: bool):
    """torch's var_backward, and std_backward (var_backward of g / (2 std), 0 where std is 0)."""
    def formula(ctx, g):
        x = ctx.input(0)
        dim = ctx.argument(1, "dim")
        unbiased = ctx.argument(2, "unbiased")
        keepdim = ctx.argument(3, "keepdim", False)
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        correction = ctx.kwargs.get("correction")
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        shape = _shape(ctx, 0)
        dims = None if dim is None else dim
        if take_root:
            std = ctx.output()
            g = tkern.where(std == 0, 0.0, g / (2 * std))
        centred = x - x.mean(dims, keepdim=True) if dims is not None else x - x.mean()
        g = _expand_reduced(g, shape, dims, keepdim)
        if shape and dims is not None and not isinstance(dims, int) and len(dims) == 0:
            # torch's var_backward counts an explicit empty dim list as one element (its forward
            # reduces every dim)
            denominator = 1 - correction
        else:
            denominator = _count(shape, dims) - correction
        if denominator <= 0 and (dims is None or not shape):
            # torch, over every element with no positive degrees of freedom: an infinite slope of g's
            # sign wherever x is off its mean (NaN on it)
            return (g * centred.abs() * math.inf,)
        return (g * centred * (2.0 / denominator if denominator else math.inf),)
    return formula


def _prod(ctx, g):
    """torch's prod_backward: g * out / x when the input holds no zero at all, else each element's
    gradient is the product of the elements before it times the product of those after it (finite
    where out / x would be inf / inf, as for an infinite element beside a finite one)."""
    x = ctx.input(0)
    dim = ctx.argument(1, "dim")
    keepdim = ctx.argument(2, "keepdim", False)
    shape = _shape(ctx, 0)
    if not shape:
        return (g,)
    g = _expand_reduced(g, shape, dim, keepdim)
    zeros = int((x == 0).sum().item())  # (torch reads the count on the host too)
    if zeros == 0:
        return (g * (_expand_reduced(ctx.output(), shape, dim, keepdim) / x),)
    if dim is None and zeros > 1 and not ctx.create_graph:
        return (_zeros(ctx, 0),)  # two zeros in the product: torch's zeros, whatever else x holds
    flat = dim is None
    values, d = (x.reshape(-1), 0) if flat else (x, dim % len(shape))
    others = _products_before(values, d) * _products_after(values, d)
    return (g * (others.reshape(shape) if flat else others),)


def _products_before(x, dim: int):
    """Along dim, the product of the elements before each one (1 for the first): log2(n) rounds of
    shifted products (Hillis and Steele's scan)."""
    n = x.shape[dim]
    products = tkern.cat([tkern.ones_like(x.narrow(dim, 0, 1)), x.narrow(dim, 0, n - 1)], dim)
    step = 1
    while step < n:
        products = tkern.cat([products.narrow(dim, 0, step),
                              products.narrow(dim, step, n - step) * products.narrow(dim, 0, n - step)], dim)
        step *= 2
    return products


def _products_after(x, dim: int):
    """Along dim, the product of the elements after each one (1 for the last)."""
    n = x.shape[dim]
    products = tkern.cat([x.narrow(dim, 1, n - 1), tkern.ones_like(x.narrow(dim, 0, 1))], dim)
    step = 1
    while step < n:
        products = tkern.cat([products.narrow(dim, 0, n - step) * products.narrow(dim, step, n - step),
                              products.narrow(dim, n - step, step)], dim)
        step *= 2
    return products


def _logsumexp(ctx, g):
    """torch's logsumexp_backward: g * exp(x - out) (0, not inf / inf, beside an infinite element)."""
    dim = ctx.argument(1, "dim")
    keepdim = ctx.argument(2, "keepdim", False)
    shape = _shape(ctx, 0)
    out = _expand_reduced(ctx.output(), shape, dim, keepdim)
    return (_expand_reduced(g, shape, dim, keepdim) * (ctx.input(0) - out).exp(),)


def _vector_norm(ctx, g):
    """torch's linalg_vector_norm_backward, case by case of ord."""
    x = ctx.input(0)
    ord = ctx.argument(1, "ord", 2)
    dim, keepdim = ctx.argument(2, "dim"), ctx.argument(3, "keepdim", False)
    dtype = ctx.kwargs.get("dtype")
    if dtype is not None:
        x = x.to(dtype)  # (computed in dtype; the node hands the gradient back in x's own)
    shape = _shape(ctx, 0)
    dims = None if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if ord == 0:
        return (None,)  # (torch's: no gradient at all, not zeros)
    g = _expand_reduced(g, shape, dims, keepdim)
    if ord == 1:
        return (x.sign() * g,)
    norm = _expand_reduced(ctx.output(), shape, dims, keepdim)
    if ord == 2:
        return (x * tkern.where(norm == 0, 0.0, g / norm),)
    if math.isinf(ord):
        magnitude = x.abs()
        mask = (magnitude == norm) | magnitude.isnan()
        count = mask.sum(dims, keepdim=True) if dims is not None else mask.sum()
        return (x.sign() * ((g / count) * mask),)
    if ord < 1:
        scaled = x.sign() * tkern.where(x == 0, 0.0, x.abs().pow(ord - 1))
        return (scaled * g * norm.pow(1 - ord),)
    scaled = x.sign() * x.abs().pow(ord - 1) if ord < 2 else x * x.abs().pow(ord - 2)
    return (scaled * tkern.where(norm == 0, 0.0, g / norm.pow(ord - 1)),)


def _extremum_reduction(ctx, g):
    """max/min/amax/amin: the gradient goes to the extreme elements, shared evenly among ties
    (torch's rule for amax/amin and full reductions); max/min with a dim pick the returned index."""
    x = ctx.input(0)
    shape = _shape(ctx, 0)
    dim = ctx.argument(1, "dim")
    keepdim = ctx.argument(2, "keepdim", False)
    if isinstance(dim, int) and ctx.name() in ("MaxBackward0", "MinBackward0"):
        if not shape:
            return (g,)  # a 0-d input is its own maximum, whatever dim (0 or -1) named it
        indices = ctx.kwargs["_indices"]
        index = indices if keepdim or not shape else indices.unsqueeze(dim)
        positions = tkern.arange(shape[dim], device=x.device).reshape([-1 if d == dim % len(shape) else 1
                                                                      for d in range(len(shape))])
        return (_expand_reduced(g, shape, dim, keepdim) * (positions == index),)
    dims = None if dim is None or (not isinstance(dim, int) and len(dim) == 0) else dim
    out = _expand_reduced(ctx.output(), shape, dims, keepdim)
    chosen = x == out
    if ctx.name() in ("MaxBackward1", "MinBackward1"):
        # max() and min() of everything: a NaN result came from the NaN elements, which share g
        chosen = chosen | (x.isnan() & out.isnan())
    count = chosen.sum(dims, keepdim=True) if dims is not None else chosen.sum()
    return ((_expand_reduced(g, shape, dims, keepdim) / count) * chosen,)


def _matmul(ctx, g):
    a = ctx.input(0) if _needs(ctx, 1) else None
    b = ctx.input(1) if _needs(ctx, 0) else None
    a_shape, b_shape = _shape(ctx, 0), _shape(ctx, 1)
    a2_shape = (1,) + a_shape if len(a_shape) == 1 else a_shape
    b2_shape = b_shape + (1,) if len(b_shape) == 1 else b_shape
    if len(a_shape) == 1 and len(b_shape) == 1:
        g2 = g.reshape(1, 1)
    elif len(a_shape) == 1:
        g2 = g.unsqueeze(-2)
    elif len(b_shape) == 1:
        g2 = g.unsqueeze(-1)
    else:
        g2 = g
    grad_a = grad_b = None
    if b is not None:
        grad_a = sum_to(g2 @ b.reshape(b2_shape).transpose(-1, -2), a2_shape).reshape(a_shape)
    if a is not None:
        grad_b = sum_to(a.reshape(a2_shape).transpose(-1, -2) @ g2, b2_shape).reshape(b_shape)
    return grad_a, grad_b


def _matmul_name(args, kwargs) -> str:
    a, b = args[0], args[1]
    if a.ndim == 1 and b.ndim == 1:
        return "DotBackward0"
    if a.ndim == 2 and b.ndim == 2:
        return "MmBackward0"
    if a.ndim == 2 and b.ndim == 1:
        return "MvBackward0"
    return "BmmBackward0" if a.ndim == 3 and b.ndim == 3 else "UnsafeViewBackward0"


def _reshape_back(ctx, g):
    return (g.reshape(_shape(ctx, 0)),)


def _permute(ctx, g):
    dims = ctx.args[1:]
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    n = len(dims)
    inverse = [0] * n
    for i, d in enumerate(dims):
        inverse[d % n] = i
    return (g.permute(inverse),)


def _transpose(ctx, g):
    return (g.transpose(ctx.args[1], ctx.args[2]),)


def _t(ctx, g):
    return (g.t(),)


def _expand(ctx, g):
    return (sum_to(g, _shape(ctx, 0)),)


def _embed(ctx, g, key):
    """g written into zeros of the input's shape at ``key``; repeated indices add up."""
    from tkern import ops
    from tkern.tensor import _index_array, _index_key
    grad = _zeros(ctx, 0)
    if _basic_key(key):
        grad[key] = g
    else:
        ops.setitem(grad._a, _index_key(key), g.to(grad.dtype)._a, _index_array, accumulate=True)
    return grad


def _getitem(ctx, g):
    return (_embed(ctx, g, ctx.input(1)),)


def _narrow(ctx, g):
    dim, start, length = ctx.args[1], ctx.args[2], ctx.args[3]
    shape = _shape(ctx, 0)
    dim %= len(shape)
    start = start + shape[dim] if start < 0 else start
    key = (slice(None),) * dim + (slice(start, start + length),)
    return (_embed(ctx, g, key),)


def _select(ctx, g):
    dim, index = ctx.args[1], ctx.args[2]
    ndim = len(_shape(ctx, 0))
    return (_embed(ctx, g, (slice(None),) * (dim % ndim) + (index,)),)


def _diagonal(ctx, g):
    # written in the input's index space: an input whose elements share memory (expanded) still
    # gets the gradient only on its diagonal
    offset = ctx.argument(1, "offset", 0)
    dim1 = ctx.argument(2, "dim1", 0)
    dim2 = ctx.argument(3, "dim2", 1)
    grad = _zeros(ctx, 0)
    grad.diagonal(offset, dim1, dim2).copy_(g)
    return (grad,)


def _identity(ctx, g):
    return (g,)


def _to_copy(ctx, g):
    _, dtype, device = _meta(ctx, 0)
    return (g.to(dtype=dtype, device=device),)


def _repeat(ctx, g):
    """The gradient of each copy summed back onto the input (torch's repeat_backward)."""
    from tkern.tensor import _dims_arg
    shape = _shape(ctx, 0)
    repeats = _dims_arg(ctx.args[1:])
    if not repeats:
        return (g,)
    padded = (1,) * (len(repeats) - len(shape)) + tuple(shape)
    split = [d for r, n in zip(repeats, padded) for d in (r, n)]
    return (g.reshape(split).sum(tuple(range(0, len(split), 2))).reshape(shape),)


def _roll(ctx, g):
    shifts = ctx.argument(1, "shifts")
    shifts = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
    return (g.roll(shifts, ctx.argument(2, "dims")),)


def _cat(ctx, g):
    pieces = ctx.args[0]
    dim = ctx.argument(1, "dim", 0)
    grads, start = [], 0
    for i in range(len(pieces)):
        shape, dtype, device = ctx.meta[(0, i)]
        if shape == (0,):
            # torch lets a 1-d empty tensor join a cat along any dim; its gradient is empty too
            from tkern.creation import zeros
            grads.append(zeros(shape, dtype=dtype, device=device))
            continue
        size = shape[dim % g.ndim]
        grads.append(g.narrow(dim, start, size))
        start += size
    return (grads,)


def _stack(ctx, g):
    dim = ctx.argument(1, "dim", 0)
    return (list(g.unbind(dim)),)


def _softmax_dim(ctx) -> int:
    dim = ctx.argument(1, "dim")
    if dim is None:  # torch's implicit choice (deprecated, but still made)
        return 0 if len(_shape(ctx, 0)) in (0, 1, 3) else 1
    return dim


def _softmax(ctx, g):
    out = ctx.output()
    return (out * (g - (g * out).sum(_softmax_dim(ctx), keepdim=True)),)


def _log_softmax(ctx, g):
    return (g - ctx.output().exp() * g.sum(_softmax_dim(ctx), keepdim=True),)


def _squared_error(ctx, g):
    difference = ctx.input(0) - ctx.input(1)
    reduction = ctx.argument(2, "reduction")
    count = difference.numel()
    scale = 2.0 if reduction != "mean" else 2.0 / count if count else float("nan")
    grad = (scale * difference) * g  # torch's order: norm * (x - y) * g, each product rounded
    return _reduced(ctx, 0, grad), (_reduced(ctx, 1, -grad) if _needs(ctx, 1) else None)


def _poly_mse_loss(ctx, g):
    """The gradients the fused forward computed (in its accumulation dtype), scaled by g before they are
    rounded to the inputs' dtypes; under create_graph they are computed again from the saved inputs
    with differentiable operations, so that they have gradients too."""
    x, y, coeffs = ctx.input(0), ctx.input(1), ctx.input(2)  # (unpacking checks they were not written since)
    if not ctx.create_graph:
        return tuple(None if grad is None else grad * g for grad in ctx.kwargs["_gradients"])
    from tkern import arange, stack
    from tkern.fused import poly_value
    from tkern.ops.polynomial import scale_of
    degree = coeffs.shape[0] - 1
    scaled = (poly_value(x, coeffs) - y) * (g * (2.0 * scale_of(ctx.args[3], x.shape[0])))
    grad_x = None
    if _needs(ctx, 0):
        powers = arange(1, degree + 1, dtype=coeffs.dtype, device=coeffs.device)
        grad_x = scaled * (poly_value(x, coeffs[1:] * powers) if degree else 0.0 * scaled)
    term, sums = scaled, []
    for k in range(degree + 1):
        sums.append(term.sum())
        if k < degree:
            term = term * x
    return grad_x, (-scaled if _needs(ctx, 1) else None), stack(sums)


def _basic_key(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in keys)


def _copy_slices(ctx, g):
    key = ctx.args[1]
    grad_old = g.clone()
    value_meta = ctx.meta.get((2, None))
    # zeros shaped like the tensor value (not a scalar 0): a lone uint8 mask refuses one-element values
    grad_old[key] = 0 if value_meta is None else _zeros_in_value_shape(g, value_meta)
    grad_value = _sum_to_value(g[key], value_meta) if _needs(ctx, 2) else None
    return grad_old, None, grad_value


def _zeros_in_value_shape(g, value_meta: tuple):
    from tkern.creation import zeros
    return zeros(value_meta[0], dtype=g.dtype, device=g.device)


def _sum_to_value(gathered, value_meta: tuple):
    """The gradient at the written positions summed back to the value's shape, which may carry
    leading size-1 dims the selection lacks (setitem drops them; a one-element value written
    through a mask ignores its shape), in the value's dtype."""
    shape, dtype, _ = value_meta
    lead = next((i for i, size in enumerate(shape) if size != 1), len(shape))
    return sum_to(gathered, shape[lead:]).reshape(shape).to(dtype)


def _index_put(ctx, g):
    indices, accumulate = ctx.args[1], ctx.args[3]
    value_meta = ctx.meta[(2, None)]
    grad_old = None
    if _needs(ctx, 0):
        grad_old = g if accumulate else g.clone().index_put_(indices, _zeros_in_value_shape(g, value_meta))
    key = tuple(slice(None) if i is None else i for i in indices)
    grad_value = _sum_to_value(g[key], value_meta) if _needs(ctx, 2) else None
    return grad_old, None, grad_value


def _add_at(ctx, g):
    """view_history.add_at: the memory's gradient passes through; the values' is read at their positions."""
    return g, None, g[ctx.input(1)]


# ----- addmm and baddbmm; layer_norm, batch_norm and embedding (nn.functional) -----

def _times(g, factor):
    return g if factor == 1 else g * factor  # (torch's maybe_multiply: no op for a factor of 1)


def _add_product(ctx, g):
    """addmm and baddbmm: beta * input + alpha * (m1 @ m2)."""
    beta, alpha = ctx.kwargs.get("beta", 1), ctx.kwargs.get("alpha", 1)
    grad_input = _reduced(ctx, 0, _times(g, beta))
    grad_m1 = _times(g @ ctx.input(2).transpose(-2, -1), alpha) if _needs(ctx, 1) else None
    grad_m2 = _times(ctx.input(1).transpose(-2, -1) @ g, alpha) if _needs(ctx, 2) else None
    return grad_input, grad_m1, grad_m2


# ----- nn.functional's binary cross entropies, smooth L1 and Huber losses (torch's backward formulas) -----

def _loss_gradient(grad, g, weight, reduction: str):
    """An elementwise loss's local gradient times the upstream g, the weight, and 1/count for 'mean'."""
    grad = grad * g
    if weight is not None:
        grad = grad * weight
    return grad / grad.numel() if reduction == "mean" else grad


def _binary_cross_entropy(ctx, g):
    x, t, weight = ctx.input(0), ctx.input(1), ctx.input(2)
    reduction = ctx.argument(3, "reduction")
    grad_x = grad_t = None
    if _needs(ctx, 0):  # torch's EPSILON keeps the division finite at 0 and 1
        grad_x = _loss_gradient((x - t) / ((1 - x) * x).clamp(min=1e-12), g, weight, reduction)
    if _needs(ctx, 1):
        grad_t = _loss_gradient(-(x / (1 - x)).log(), g, weight, reduction)  # -logit(x)
    return grad_x, grad_t


def _binary_cross_entropy_with_logits(ctx, g):
    from tkern.nn.functional import _log_sigmoid
    x, t, weight, pos_weight = ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3)
    reduction = ctx.argument(4, "reduction")
    grad_x = grad_t = None
    if _needs(ctx, 0):
        if pos_weight is None:
            local = x.sigmoid() - t
        else:
            weighted_target = pos_weight * t
            local = (weighted_target + 1 - t) * x.sigmoid() - weighted_target
        grad_x = sum_to(_loss_gradient(local, g, weight, reduction), _shape(ctx, 0))
    if _needs(ctx, 1):
        local = -x if pos_weight is None else _log_sigmoid(-x) - pos_weight * _log_sigmoid(x)
        grad_t = sum_to(_loss_gradient(local, g, weight, reduction), _shape(ctx, 1))
    return grad_x, grad_t


def _clipped_difference(bound_of: str, scaled: bool):
    """Smooth L1 (``scaled``: the difference over beta inside the bound, +-1 outside) and Huber (the
    difference inside, +-delta outside): the gradient of the loss of d = input - target."""
    def formula(ctx, g):
        difference = ctx.input(0) - ctx.input(1)
        reduction, bound = ctx.argument(2, "reduction"), ctx.argument(3, bound_of)
        outside = 1.0 if scaled else bound
        inside = difference / bound if scaled else difference
        local = tkern.where(difference <= -bound, -outside, tkern.where(difference >= bound, outside, inside))
        grad = _loss_gradient(local, g, None, reduction)
        return _reduced(ctx, 0, grad), (_reduced(ctx, 1, -grad) if _needs(ctx, 1) else None)
    return formula


# ----- indexing along a dim, sorting, scans, lerp, erf, gelu -----


def _gather(ctx, g):
    dim, index = ctx.argument(1, "dim"), ctx.input(2)
    return (_zeros(ctx, 0).scatter_add(dim, index, g),)


def _scatter(ctx, g):
    """scatter of a tensor (ScatterBackward0) or of a number (ScatterBackward1): the written places
    pass no gradient to input; src gets the gradient of where it went."""
    if ctx.kwargs.get("reduce") is not None:
        _not_implemented("scatter")(ctx, g)  # (torch's node with reduce= has no formula either)
    dim, index = ctx.argument(1, "dim"), ctx.input(2)
    grad_src = g.gather(dim, index) if _needs(ctx, 3) else None
    return g.scatter(dim, index, 0), None, None, grad_src


def _scatter_add(ctx, g):
    dim, index = ctx.argument(1, "dim"), ctx.input(2)
    return g, None, None, (g.gather(dim, index) if _needs(ctx, 3) else None)


def _index_select(ctx, g):
    dim, index = ctx.argument(1, "dim"), ctx.input(2)
    shape = _shape(ctx, 0)
    if not shape:
        return (g.reshape(()),)
    dim %= len(shape)
    # index_add as a scatter_add of index broadcast over the other dims
    spread = index.reshape([1] * dim + [-1] + [1] * (len(shape) - dim - 1)).expand(g.shape)
    return (_zeros(ctx, 0).scatter_add(dim, spread, g),)


def _masked_select(ctx, g):
    mask = ctx.input(1)
    shape, dtype, device = _meta(ctx, 0)
    full = tkern.zeros(tkern.ops.broadcast_shapes(shape, mask.shape), dtype=dtype, device=device)
    full[mask.expand(full.shape)] = g
    return sum_to(full, shape), None


def _sort(ctx, g):
    # the indices are found again from the saved input: tkern's sort is stable, so the same ones
    dim, descending = ctx.argument(1, "dim", -1), ctx.argument(2, "descending", False)
    indices = tkern.sort(ctx.input(0).detach(), dim, descending).indices
    return (_zeros(ctx, 0).scatter(dim, indices, g),)


def _topk(ctx, g):
    k, dim = ctx.argument(1, "k"), ctx.argument(2, "dim")
    dim = -1 if dim is None else dim
    largest = ctx.argument(3, "largest", True)
    indices = tkern.topk(ctx.input(0).detach(), k, dim, largest).indices
    return (_zeros(ctx, 0).scatter(dim, indices, g),)


def _cumsum(ctx, g):
    dim = ctx.argument(1, "dim")
    if not g.ndim:
        return (g,)
    return (g.flip(dim).cumsum(dim).flip(dim),)


def _cumprod(ctx, g):
    """torch's cumprod_backward: without zeros in the input, the reversed running sum of g * out
    over x; with zeros, each element's gradient sum_{j >= k} g[j] prod_{i <= j, i != k} x[i] from
    the products before k times the running products after it, a (n, n) table per row."""
    x, dim = ctx.input(0), ctx.argument(1, "dim")
    if not x.ndim or not x.numel():
        return (g,)
    dim %= x.ndim
    if not bool((x == 0).any()):  # (torch reads this on the host too)
        return ((g * ctx.output()).flip(dim).cumsum(dim).flip(dim) / x,)
    x_last, g_last = x.transpose(dim, -1), g.transpose(dim, -1)
    n = x_last.shape[-1]
    position = tkern.arange(n, device=x.device)
    after = position.reshape(1, n) > position.reshape(n, 1)  # [k, i]: i > k
    # products[..., k, j] = prod of x[i] for k < i <= j
    products = tkern.where(after, x_last.unsqueeze(-2), 1.0).cumprod(-1)
    reached = position.reshape(1, n) < position.reshape(n, 1)  # [k, j]: j < k, not reached from k
    weighted = tkern.where(reached, 0.0, g_last.unsqueeze(-2) * products).sum(-1)
    grad = _products_before(x_last, x_last.ndim - 1) * weighted
    return (grad.transpose(dim, -1),)


def _lerp(ctx, g):
    start, end, weight = ctx.input(0), ctx.input(1), ctx.input(2)
    grad_weight = None
    if _is_tensor(weight) and _needs(ctx, 2):
        grad_weight = _reduced(ctx, 2, g * (end - start))
    return _reduced(ctx, 0, g * (1 - weight)), _reduced(ctx, 1, g * weight), grad_weight


def _erf(ctx, g):
    x = ctx.input(0)
    return (g * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp(),)


def _gelu(ctx, g):
    """torch's gelu_backward, for approximate='none' and 'tanh'."""
    x = ctx.input(0)
    if ctx.argument(1, "approximate", "none") == "tanh":
        beta, kappa = math.sqrt(2.0) * 2.0 / math.sqrt(math.pi) * 0.5, 0.044715
        inner = beta * (x + kappa * x * x * x)
        tanh_inner = inner.tanh()
        left, right = 0.5 * x, 1 + tanh_inner
        left_derivative, right_derivative = 0.5 * right, left * (1 - tanh_inner * tanh_inner)
        return (g * (left_derivative + right_derivative * beta * (1 + 3 * kappa * x * x)),)
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2.0))).erf())
    pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2.0 * math.pi))
    return (g * (cdf + x * pdf),)


def _normalized(x, dims: list, eps: float) -> tuple:
    """(x normalised over dims, 1 / its std there), as layer_norm and batch_norm compute them."""
    centred = x - x.mean(dims, keepdim=True)
    rstd = 1 / ((centred * centred).mean(dims, keepdim=True) + eps).sqrt()
    return centred * rstd, rstd


def _through_normalization(gw, normalized, rstd, dims: list):
    """The input's gradient of (x - mean) * rstd over dims, for the gradient gw of the normalised values."""
    return rstd * (gw - gw.mean(dims, keepdim=True) - normalized * (gw * normalized).mean(dims, keepdim=True))


def _summed(x, dims: list):
    return x.sum(dims) if dims else x


def _layer_norm(ctx, g):
    """F.layer_norm(input, normalized_shape, weight, bias, eps): the backends' fused row kernel, or with
    create_graph the same formula in tensor operations, which record their own graph."""
    from tkern.ops.normalization import layer_norm_backward
    from tkern.tensor import wrap
    x, weight = ctx.input(0), ctx.input(2)
    shape, eps = tuple(ctx.argument(1, "normalized_shape")), ctx.argument(4, "eps", 1e-5)
    if not ctx.create_graph:
        grads = layer_norm_backward(x._a, g._a, shape, None if weight is None else weight._a, eps, _needs(ctx, 2),
                                    _needs(ctx, 3))
        grad_x, grad_weight, grad_bias = (None if a is None else wrap(a) for a in grads)
        return grad_x if _needs(ctx, 0) else None, None, grad_weight, grad_bias
    dims, lead = list(range(x.ndim - len(shape), x.ndim)), list(range(x.ndim - len(shape)))
    normalized, rstd = _normalized(x, dims, eps)
    grad_x = _through_normalization(g if weight is None else g * weight, normalized, rstd, dims)
    return (grad_x if _needs(ctx, 0) else None, None, _summed(g * normalized, lead) if _needs(ctx, 2) else None,
            _summed(g, lead) if _needs(ctx, 3) else None)


def _batch_norm(ctx, g):
    """F.batch_norm's recorded part (input, weight, bias, running_mean, running_var, eps): normalised by
    the batch's statistics over every dim but the channels' (running_mean None), or by the running ones."""
    x, weight, running_mean, running_var = ctx.input(0), ctx.input(1), ctx.input(3), ctx.input(4)
    dims = [0] + list(range(2, x.ndim))
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    gw = g if weight is None else g * weight.reshape(shape)
    if running_mean is None:
        normalized, rstd = _normalized(x, dims, ctx.argument(5, "eps"))
        grad_x = _through_normalization(gw, normalized, rstd, dims) if _needs(ctx, 0) else None
    else:
        rstd = 1 / (running_var.reshape(shape) + ctx.argument(5, "eps")).sqrt()
        normalized = (x - running_mean.reshape(shape)) * rstd
        grad_x = gw * rstd if _needs(ctx, 0) else None
    return (grad_x, g.mul(normalized).sum(dims) if _needs(ctx, 1) else None, g.sum(dims) if _needs(ctx, 2) else None)


def _embedding(ctx, g):
    """F.embedding's lookup (weight, indices, padding_idx, scale_grad_by_freq): each row's gradient added
    into its weight row (divided by the row's count of lookups when scaled), none for the padding row."""
    indices, padding_idx, scaled = ctx.input(1), ctx.args[2], ctx.args[3]
    if padding_idx >= 0:
        g = tkern.where((indices != padding_idx).unsqueeze(-1), g, 0.0)
    if scaled:
        flat = indices.reshape(-1)
        counts = tkern.zeros(_shape(ctx, 0)[0], dtype=g.dtype, device=g.device)
        counts.index_put_((flat,), tkern.ones(flat.shape, dtype=g.dtype, device=g.device), accumulate=True)
        g = g / counts[indices].unsqueeze(-1)
    return _embed(ctx, g, indices), None, None, None
