"""The hand-written forwards of the operation table's arithmetic, reductions, linear algebra and
joins (``tkern.sum``, ``tkern.add(a, b, alpha=2)``, ``tkern.cat``...): the table (tkern/operations.py)
declares each, with its gradient; tkern/front_end.py makes them tkern's functions and Tensor's
methods. The plain elementwise operations (sin, mul, eq, ...) are generated there whole."""
from __future__ import annotations

import builtins

from tkern import ops
from tkern.autograd.grad_mode import is_grad_enabled
from tkern.autograd.recording import differentiable
from tkern.ops.matmul import addmm as _add_product, baddbmm as _add_batched_product

from . import dtypes
from .tensor import (Tensor, _binary, _dims_arg, _inplace_binary, _into, _new_tensor, _recorded_inplace, _written_in_place,
                     unwrap, wrap)

_reduce = ops.reduce
_grad_enabled = is_grad_enabled


def _scaled(input, other, alpha, subtracting: bool = False):
    """alpha * other, computed in the dtype of input (+/-) other, after torch's checks on alpha."""
    if type(alpha) is int and alpha == 1:
        return other
    result = result_type(input, other)
    if isinstance(alpha, float) and not result.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, bool) and result is not dtypes.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if alpha == 1 or subtracting and (other is True or other is False or
                                      isinstance(other, Tensor) and other.dtype is dtypes.bool):
        return other  # (subtracting a bool raises torch's error in the op itself)
    if result is dtypes.bool:
        # bool results stay bool: alpha scales in bool arithmetic
        alpha = bool(alpha)
        if not isinstance(other, Tensor):
            return bool(other) and alpha
    if isinstance(other, Tensor):
        if other.dtype is not result:
            other = other.to(result)  # (a bool other times 2 must not turn int64 under a uint8 input)
        if not other._requires_grad:
            return wrap(ops.binary("mul", other._a, alpha))
    elif result is dtypes.float16 or result is dtypes.bfloat16:
        other = ops.rounded_to(other, result)  # torch casts the number to the tensor's type before alpha scales it
    return other * alpha


@differentiable("add")
def add(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other: ``tkern.add(tkern.ones(2), 1)``."""
    return _binary("add", input, _scaled(input, other, alpha), out)


@differentiable("sub")
def sub(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    return _binary("sub", input, _scaled(input, other, alpha, True), out)


@differentiable("div")
def div(input, other, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """True division (int/int gives float); rounding_mode 'trunc' or 'floor' keeps integers."""
    return _binary(_division_op(rounding_mode), input, other, out)


_DIVISION_OPS = {None: "div", "trunc": "trunc_divide", "floor": "floor_divide"}


def _division_op(rounding_mode) -> str:
    op = _DIVISION_OPS.get(rounding_mode) if rounding_mode is None or type(rounding_mode) is str else None
    if op is None:
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    return op


@differentiable("pow", tests_grad_itself=True)
def pow(input, exponent, *, out: Tensor | None = None) -> Tensor:
    if (isinstance(input, Tensor) and input._requires_grad or isinstance(exponent, Tensor) and exponent._requires_grad) \
            and _grad_enabled():
        return pow.recorded(input, exponent, out=out)
    return _binary("pow", input, exponent, out)


def _check_clamp_bounds(name: str, input, min, max) -> tuple:
    """(min, max) as clamp takes them: two tensor bounds or two number bounds (None fits either), not
    one of each, except that a 0-d tensor bound that does not require grad beside a number is read as
    a number (torch's argument parser converts it to a Scalar)."""
    if min is not None and max is not None and isinstance(min, Tensor) != isinstance(max, Tensor):
        bound = min if isinstance(min, Tensor) else max
        if bound.dim() == 0 and not bound.requires_grad:
            number = bound.item()
            return (number, max) if bound is min else (min, number)
        given = ", ".join(([] if input is None else ["Tensor"]) + [f"min={type(min).__name__}", f"max={type(max).__name__}"])
        leading = "Tensor input, " if input is not None else ""
        trailing = ", *, Tensor out = None" if input is not None else ""
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({given}), but expected one of:\n"
                        f" * ({leading}Tensor min = None, Tensor max = None{trailing})\n"
                        f" * ({leading}Number min = None, Number max = None{trailing})\n")
    return min, max


@differentiable("clamp")
def clamp(input: Tensor, min=None, max=None, *, out: Tensor | None = None) -> Tensor:
    min, max = _check_clamp_bounds("clamp", input, min, max)
    low, high = (None if b is None else unwrap(b) for b in (min, max))
    if out is not None:
        return _into(out, lambda o: ops.clamp(input._a, low, high, out=o), lambda: ops.clamp(input._a, low, high),
                     "clamp")
    return wrap(ops.clamp(input._a, low, high))


def _check_one_bound(name: str, input, bound) -> None:
    if not isinstance(bound, (Tensor, int, float)):
        given = type(bound).__name__
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, {given}), but expected "
                        f"one of:\n * (Tensor input, Tensor {name[6:9]}, *, Tensor out = None)\n"
                        f" * (Tensor input, Number {name[6:9]}, *, Tensor out = None)\n")


@differentiable("clamp_min")
def clamp_min(input: Tensor, min, *, out: Tensor | None = None) -> Tensor:
    """max(input, min) elementwise, NaN kept: ``tkern.clamp_min(x, 0.0)``."""
    _check_one_bound("clamp_min", input, min)
    return clamp(input, min, None, out=out)


@differentiable("clamp_max")
def clamp_max(input: Tensor, max, *, out: Tensor | None = None) -> Tensor:
    """min(input, max) elementwise, NaN kept: ``tkern.clamp_max(x, 1.0)``."""
    _check_one_bound("clamp_max", input, max)
    return clamp(input, None, max, out=out)


def _check_mask(mask, value) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{ops.TORCH_TYPE_NAMES[mask.dtype]}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")


@differentiable("masked_fill")
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere, in input's dtype (the shapes broadcast):
    ``x.masked_fill(x < 0, 0.0)``."""
    _check_mask(mask, value)
    filled = where(mask, value, input)
    return filled if filled.dtype is input.dtype else filled.to(input.dtype)


@differentiable("where")
def where(condition: Tensor, input=None, other=None, *, out: Tensor | None = None):
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    a, b = unwrap(input), unwrap(other)
    if out is not None:
        return _into(out, lambda o: ops.where(condition._a, a, b, out=o), lambda: ops.where(condition._a, a, b),
                     "where")
    return wrap(ops.where(condition._a, a, b))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    from tkern.ops.backend import backend_for
    coords = wrap(backend_for(input.device).nonzero(input._a))
    return coords.unbind(1) if as_tuple else coords


def _dims(dim):
    if isinstance(dim, list):
        return tuple(dim)
    return dim


@differentiable("sum", tests_grad_itself=True)
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None) -> Tensor:
    """Sum over all or some dims: ``tkern.ones(2, 3).sum(1)``."""
    if input._requires_grad and _grad_enabled():
        return sum.recorded(input, dim, keepdim, dtype=dtype, out=out)
    total = _new_tensor(Tensor)
    total._a = _reduce("sum", input._a, tuple(dim) if type(dim) is list else dim, keepdim, dtype)
    total._requires_grad = False
    return total if out is None else _result(total, out)


@differentiable("prod")
def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    return wrap(ops.reduce("prod", input._a, dim, keepdim, dtype))


@differentiable("mean")
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out: Tensor | None = None) -> Tensor:
    return _result(wrap(ops.mean(input._a, _dims(dim), keepdim, dtype)), out)


def _correction(unbiased, correction) -> float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


@differentiable("var")
def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return wrap(ops.var(input._a, _dims(dim), _correction(unbiased, correction), keepdim))


@differentiable("std")
def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return wrap(ops.var(input._a, _dims(dim), _correction(unbiased, correction), keepdim, take_sqrt=True))


def _extremum(op: str, input: Tensor, dim, keepdim: bool):
    if isinstance(dim, Tensor):
        return _binary("maximum" if op == "max" else "minimum", input, dim)
    if dim is None:
        return wrap(ops.reduce_all_values(op, input._a))
    values, indices = ops.max_min_with_indices(op, input._a, dim, keepdim)
    return ops.ValuesIndices(wrap(values), wrap(indices))


@differentiable("max")
def max(input: Tensor, dim=None, keepdim: bool = False):
    """max(): the largest value; max(dim): (values, indices); max(other): maximum."""
    return _extremum("max", input, dim, keepdim)


@differentiable("min")
def min(input: Tensor, dim=None, keepdim: bool = False):
    return _extremum("min", input, dim, keepdim)


@differentiable("amax")
def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return wrap(ops.reduce("max", input._a, _dims(dim) if dim != () else None, keepdim))


@differentiable("amin")
def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return wrap(ops.reduce("min", input._a, _dims(dim) if dim != () else None, keepdim))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return wrap(ops.arg_reduce("max", input._a, dim, keepdim))


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return wrap(ops.arg_reduce("min", input._a, dim, keepdim))


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return wrap(ops.reduce("all", input._a, _dims(dim), keepdim))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return wrap(ops.reduce("any", input._a, _dims(dim), keepdim))


def _result(result: Tensor, out: Tensor | None) -> Tensor:
    if out is None:
        return result
    return _into(out, lambda o: _copy_exact(o, result._a), lambda: result._a)


def _copy_exact(out, result) -> None:
    ops.allocation.check_output(out, result.shape, result.dtype)
    ops.copy_into(out, result)


@differentiable("matmul")
def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with torch's 1-D, 2-D and batched rules: ``tkern.ones(2, 3) @ tkern.ones(3)``."""
    return _result(wrap(ops.matmul(input._a, other._a, out is None and input.requires_grad,
                                   out is None and other.requires_grad)), out)


@differentiable("mm")
def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    return _result(wrap(ops.mm(input._a, mat2._a)), out)


@differentiable("bmm")
def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    return _result(wrap(ops.bmm(input._a, mat2._a)), out)


@differentiable("dot")
def dot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    return _result(wrap(ops.dot(input._a, other._a)), out)


@differentiable("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape (one kernel on 'cuda'):
    ``tkern.addmm(tkern.zeros(2), tkern.ones(3, 4), tkern.ones(4, 2))`` is all 4."""
    return _result(wrap(_add_product(input._a, mat1._a, mat2._a, beta, alpha)), out)


@differentiable("baddbmm")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2) over a batch of matrices:
    ``tkern.baddbmm(tkern.zeros(2), tkern.ones(5, 3, 4), tkern.ones(5, 4, 2)).shape`` is (5, 3, 2)."""
    return _result(wrap(_add_batched_product(input._a, batch1._a, batch2._a, beta, alpha)), out)


def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _written_in_place(self, lambda old: addmm(old, mat1, mat2, beta=beta, alpha=alpha), mat1, mat2)


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _written_in_place(self, lambda old: baddbmm(old, batch1, batch2, beta=beta, alpha=alpha), batch1, batch2)


@differentiable("cat")
def cat(tensors, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join tensors along an existing dim: ``tkern.cat([a, b], dim=1)``."""
    return _result(wrap(ops.cat([t._a for t in tensors], dim, None if out is None else out.dtype)), out)


@differentiable("stack")
def stack(tensors, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    return _result(wrap(ops.stack([t._a for t in tensors], dim)), out)


def result_type(tensor1, tensor2) -> dtypes.dtype:
    return ops.result_type(unwrap(tensor1), unwrap(tensor2))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    return _inplace_binary("add", self, _scaled(self, other, alpha), add)


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    return _inplace_binary("sub", self, _scaled(self, other, alpha, True), sub)


def div_(self: Tensor, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is not None and _grad_enabled() and (
            self._requires_grad or isinstance(other, Tensor) and other._requires_grad):
        # recorded as div with its mode (zero gradients), not as floor_divide (no derivative)
        self._check_inplace()
        return _recorded_inplace(self, lambda old: div(old, old if other is self else other,
                                                       rounding_mode=rounding_mode))
    return _inplace_binary(_division_op(rounding_mode), self, other, div)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    min, max = _check_clamp_bounds("clamp_", None, min, max)
    return _clamped_in_place(self, min, max, lambda old: clamp(old, min, max))


def clamp_min_(self: Tensor, min) -> Tensor:
    _check_one_bound("clamp_min_", self, min)
    return _clamped_in_place(self, min, None, lambda old: clamp_min(old, min))


def clamp_max_(self: Tensor, max) -> Tensor:
    _check_one_bound("clamp_max_", self, max)
    return _clamped_in_place(self, None, max, lambda old: clamp_max(old, max))


def _clamped_in_place(self: Tensor, min, max, recorded) -> Tensor:
    """self clamped to [min, max] in place; ``recorded(old)`` computes it out of place where a graph
    is needed (so the node is the operation's own: ClampBackward, ClampMinBackward...)."""
    self._check_inplace()
    if _grad_enabled() and (self._requires_grad or isinstance(min, Tensor) and min._requires_grad
                            or isinstance(max, Tensor) and max._requires_grad):
        return _recorded_inplace(self, recorded)
    low, high = (None if b is None else unwrap(b) for b in (min, max))
    ops.clamp(self._a, low, high, out=self._a)
    return self


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    _check_mask(mask, value)
    return _written_in_place(self, lambda old: masked_fill(old, mask, value), value)


def where_method(self: Tensor, condition: Tensor, other) -> Tensor:
    return where(condition, self, other)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """torch.norm: the Frobenius norm (p='fro', over every element or ``dim``) or a vector p-norm:
    ``tkern.norm(x)``, ``x.norm(1, dim=0)``."""
    from . import linalg
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm: p={p!r} needs a singular value decomposition, which tkern does not "
                                      "have yet ('fro' and numbers are supported)")
        p = 2
    return linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-D tensors: ``tkern.outer(a, b)[i, j] == a[i] * b[j]`` (torch records
    it as the product it is, MulBackward0)."""
    for name, value in (("input", input), ("vec2", vec2)):
        if not isinstance(value, Tensor):
            raise TypeError(f"outer(): argument '{name}' must be Tensor, not {type(value).__name__}")
        if value.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {'self' if name == 'input' else name}, but got "
                               f"{value.dim()}-D")
    return input.reshape(-1, 1) * vec2


@differentiable("tril")
def tril(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The lower triangle of the last two dims (column - row <= diagonal), zeros above:
    ``tkern.tril(tkern.ones(3, 3))``."""
    return _result(_triangle("tril", input, diagonal), out)


@differentiable("triu")
def triu(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The upper triangle of the last two dims (column - row >= diagonal), zeros below."""
    return _result(_triangle("triu", input, diagonal), out)


def tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    return _written_in_place(self, lambda old: tril(old, diagonal))


def triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    return _written_in_place(self, lambda old: triu(old, diagonal))


def _triangle(name: str, input: Tensor, diagonal: int) -> Tensor:
    from .creation import arange
    if input.dim() < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, columns = input.shape[-2:]
    offset = arange(columns, device=input.device) - arange(rows, device=input.device).reshape(-1, 1)
    keep = offset <= diagonal if name == "tril" else offset >= diagonal
    return where(keep, input, input.new_zeros(()))  # (a zero of input's dtype: NaN above the diagonal too)


@differentiable("flip")
def flip(input: Tensor, *dims) -> Tensor:
    """A copy with the order of the elements reversed along ``dims``: ``tkern.flip(x, (0,))``,
    ``x.flip(0, 1)``."""
    from .creation import arange
    dims = _dims_arg(dims)
    flipped = [ops.normalize_dim(d, input.dim()) for d in dims]
    for i, d in enumerate(flipped):
        if d in flipped[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    result = input.clone()
    for d in flipped:
        n = input.shape[d]
        result = result[(slice(None),) * d + (arange(n - 1, -1, -1, device=input.device),)]
    return result


@differentiable("repeat")
def repeat(input: Tensor, *repeats) -> Tensor:
    """The tensor tiled ``repeats`` times along each dim (leading new dims for extra counts):
    ``x.repeat(2, 1)``."""
    repeats = _dims_arg(repeats)
    if len(repeats) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(repeats) - input.dim()) + tuple(input.shape)
    final = [r * n for r, n in zip(repeats, shape)]
    if builtins.any(n < 0 for n in final):  # (this module's any and min are tkern's)
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(final)}: {final}")
    # each dim as (count, size): a stride-0 count beside the data, then one copy
    interleaved = [d for n in shape for d in (1, n)]
    expanded = [d for r, n in zip(repeats, shape) for d in (r, n)]
    return input.reshape(interleaved).expand(expanded).reshape(final)


def tile(input: Tensor, dims) -> Tensor:
    """repeat with ``dims`` padded with leading ones to the tensor's rank: ``tkern.tile(x, (2,))``."""
    dims = _dims_arg(dims if isinstance(dims, (tuple, list)) else (dims,))
    return repeat(input, (1,) * (input.dim() - len(dims)) + dims)


@differentiable("roll")
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Elements shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor without dims):
    ``tkern.roll(x, 1, 0)``."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return roll(input.flatten(), shifts, 0).reshape(input.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    result = input
    for shift, dim in zip(shifts, dims):
        dim = ops.normalize_dim(dim, input.dim())
        n = input.shape[dim]
        if n == 0 or shift % n == 0:
            result = result.clone() if result is input else result
            continue
        start = n - shift % n
        result = cat([result.narrow(dim, start, n - start), result.narrow(dim, 0, start)], dim)
    return result


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``tkern.softmax(x, 1)``, the same as tkern.nn.functional.softmax."""
    from .nn import functional
    return functional.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    from .nn import functional
    return functional.log_softmax(input, dim, dtype=dtype)


@differentiable("logsumexp")
def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over dim, computed stably: ``tkern.logsumexp(x, 1)``."""
    if not keepdim and input.ndim and isinstance(dim, (tuple, list)) and not dim and input.numel():
        # torch reduces every dim for dim=() but then writes into a 0-d output it cannot broadcast to
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape [{', '.join(['1'] * input.ndim)}]")
    if not input.dtype.is_floating_point:
        input = input.to(dtypes.get_default_dtype())  # torch: bool and integer inputs give the default float
    if input.numel() == 0:
        return input.exp().sum(dim, keepdim).log()  # no maximum to shift by; an empty sum's log is -inf
    shift = input.detach().amax(dim, keepdim=True)
    shift = where(shift.isinf(), 0.0, shift)
    total = (input - shift).exp().sum(dim, keepdim=True).log() + shift
    return total if keepdim else total.squeeze(dim)


def cpp_type_name(dtype) -> str:
    """The C++ name some of torch's messages give a dtype: float, double, c10::Half, long int..."""
    return _CPP_TYPE_NAMES.get(dtype) or ops.TORCH_TYPE_NAMES[dtype].lower()


_CPP_TYPE_NAMES = {dtypes.float16: "c10::Half", dtypes.bfloat16: "c10::BFloat16", dtypes.int64: "long int",
                    dtypes.uint8: "unsigned char", dtypes.int8: "signed char", dtypes.int16: "short int"}


def _check_lerp(name: str, input, end, weight) -> None:
    if not isinstance(end, Tensor):
        weight_kind = "Tensor" if isinstance(weight, Tensor) else type(weight).__name__
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(end).__name__}, {weight_kind}), but expected one of:\n"
                        " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    for argument, value in (("end", end), ("weight", weight)):
        if isinstance(value, Tensor) and value.dtype is not input.dtype:
            raise RuntimeError(f"expected dtype {cpp_type_name(input.dtype)} for `{argument}` but got dtype "
                               f"{cpp_type_name(value.dtype)}")
    if not input.dtype.is_floating_point:
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{ops.TORCH_TYPE_NAMES[input.dtype]}'")


@differentiable("lerp")
def lerp(input: Tensor, end: Tensor, weight, *, out: Tensor | None = None) -> Tensor:
    """input + weight * (end - input), weight a number or a tensor (all broadcast):
    ``tkern.lerp(tkern.zeros(2), tkern.ones(2), 0.25)``."""
    _check_lerp("lerp", input, end, weight)
    dtype = input.dtype
    if dtype is dtypes.float16 or dtype is dtypes.bfloat16:
        # torch computes 16-bit lerp in float32 and rounds once
        input, end = input.float(), end.float()
        weight = weight.float() if isinstance(weight, Tensor) else weight
    difference = end - input
    # torch's two forms, each exact at its end: from input for |weight| < 0.5, from end otherwise
    if isinstance(weight, Tensor):
        result = where(weight.abs() < 0.5, input + weight * difference, end - difference * (1 - weight))
    elif abs(weight) < 0.5:
        result = input + weight * difference
    else:
        result = end - difference * (1 - weight)
    return _result(result if result.dtype is dtype else result.to(dtype), out)


def lerp_(self: Tensor, end: Tensor, weight) -> Tensor:
    _check_lerp("lerp_", self, end, weight)
    return _written_in_place(self, lambda old: lerp(old, end, weight), end, weight)
