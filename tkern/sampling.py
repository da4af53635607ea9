"""Sampling: the in-place random fills (uniform_, normal_, random_, bernoulli_, exponential_) and the
random functions of tensors (bernoulli, multinomial, normal), checked as torch checks them before
anything is drawn. On 'cpu' every draw is torch's own stream (ops/cpu_random.py). The random
factories (rand, randn, randint, randperm) are in creation.py."""
from __future__ import annotations

import builtins
import math

from tkern import ops
from tkern.autograd.grad_mode import is_grad_enabled, no_grad
from tkern.autograd.recording import differentiable

from . import dtypes
from .random import Generator, default_generator
from .tensor import Tensor, _recorded_inplace, _replaced, wrap


def generator_for(generator: Generator | None, device) -> Generator:
    if generator is None:
        return default_generator(device)
    if generator.device.type != device.type:
        raise RuntimeError(f"Expected a '{device.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator


def _filled(self: Tensor, kind: str, generator, a=None, b=None) -> Tensor:
    """self overwritten by a draw; on a tensor with a graph, recorded as a write with no gradient."""
    self._check_inplace()
    gen = generator_for(generator, self.device)
    if self.requires_grad and is_grad_enabled():
        draw = wrap(ops.empty(self._a.shape, self.dtype, self.device))
        ops.sampling.fill(draw._a, kind, gen, a, b)
        return _recorded_inplace(self, lambda old: _replaced(old, draw))
    ops.sampling.fill(self._a, kind, gen, a, b)
    return self


def _require_floating(self: Tensor, kernel: str) -> None:
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{ops.TORCH_TYPE_NAMES[self.dtype]}'")


def _number(value: float) -> str:
    """A bound as torch's messages print it (1 for 1.0)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill in place with U(from, to): ``tkern.empty(3).uniform_(-1, 1)``."""
    _require_floating(self, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_number(from_)} > "
                           f"to={_number(to)}")
    return _filled(self, "uniform", generator, float(from_), float(to))


def _check_std(std: float) -> None:
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill in place with N(mean, std**2)."""
    _check_std(std)
    _require_floating(self, "normal_kernel_cpu")
    return _filled(self, "normal", generator, float(mean), float(std))


def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Generator | None = None) -> Tensor:
    """Fill in place with integers on [from, to) (``x.random_(10)``: on [0, 10)); without bounds, on
    [0, 2**mantissa] for floats and the type's non-negative range for integers."""
    from .creation import _check_integer_range
    if to is None and from_ == 0:
        return _filled(self, "bits", generator)
    if to is None:
        from_, to = 0, from_
    _check_integer_range(from_, to, self.dtype)
    return _filled(self, "integers", generator, int(from_), int(to))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_number(lambd)}")
    _require_floating(self, "exponential_cpu")
    return _filled(self, "exponential", generator, float(lambd))


def _check_probability(p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def _check_probabilities(p: Tensor) -> None:
    _require_floating(p, "bernoulli_tensor_cpu_p_")
    values = p.detach().cpu().numpy()
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
                           "improved?  If so, please report an enhancement request to PyTorch.)")


def bernoulli_(self: Tensor, p=0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill in place with 1 (probability p, a number or a tensor broadcast to self) or 0."""
    if isinstance(p, Tensor):
        _check_probabilities(p)
        if p.device != self.device:
            p = p.to(self.device)
        ops.broadcast_shapes(self.shape, p.shape)
        return _filled(self, "bernoulli", generator, ops.expand(p._a, tuple(self.shape)))
    _check_probability(p)
    return _filled(self, "bernoulli", generator, float(p))


@differentiable("bernoulli")
def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None,
              out: Tensor | None = None) -> Tensor:
    """0/1 draws with the probabilities in input (or with the number p), in input's shape and dtype."""
    if p is None:
        _check_probabilities(input)
    else:
        _check_probability(p)
    result = wrap(ops.empty(input._a.shape, input.dtype, input.device))
    with no_grad():
        result.bernoulli_(input if p is None else p, generator=generator)
    if out is not None:
        return out.resize_(result.shape).copy_(result)
    return result


def _check_multinomial(input: Tensor, num_samples: int, replacement: bool) -> None:
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{ops.TORCH_TYPE_NAMES[input.dtype]}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    values = input.detach().float().cpu().numpy() if input.dtype.itemsize < 4 else input.detach().cpu().numpy()
    values = values.reshape(-1, input.shape[-1])
    if not replacement or num_samples == 1:
        if not (values < math.inf).all() or not (values >= 0).all():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    else:
        if (values < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not (abs(values) < math.inf).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
    if (values.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None,
                out: Tensor | None = None) -> Tensor:
    """int64 indices of categories drawn from each row of input's non-negative weights."""
    _check_multinomial(input, num_samples, replacement)
    gen = generator_for(generator, input.device)
    result = wrap(ops.sampling.multinomial(input._a, int(num_samples), builtins.bool(replacement), gen))
    if out is not None:
        return out.resize_(result.shape).copy_(result)
    return result


@differentiable("normal")
def normal(mean, std=1.0, size=None, *, generator: Generator | None = None, out: Tensor | None = None, dtype=None,
           layout=None, device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """Normal draws: elementwise means and standard deviations (tensors, or a tensor and a number),
    or one mean and std for a tensor of ``size``; torch draws N(0, 1) (N(0, std) for a number std)
    and then scales and shifts by the tensors, and so does this."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected a size for float mean and std")
        from .creation import empty
        result = empty(size, dtype=dtype, device=device)
        result.normal_(mean, std, generator=generator)
        if requires_grad:
            result.requires_grad_()
    else:
        result = _normal_of_tensors(mean, std, generator)
    if out is not None:
        return out.resize_(result.shape).copy_(result)
    return result


def _normal_of_tensors(mean, std, generator) -> Tensor:
    if isinstance(std, Tensor):
        values = std.detach().cpu().numpy()
        if values.size and not (values >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std(std)
    with no_grad():
        if isinstance(mean, Tensor) and not isinstance(std, Tensor):
            result = wrap(ops.empty(mean._a.shape, mean.dtype, mean.device)).normal_(0.0, std, generator=generator)
            return result.add_(mean.detach())
        like = std if not isinstance(mean, Tensor) else mean
        shape = ops.broadcast_shapes(tuple(mean.shape), tuple(std.shape)) if isinstance(mean, Tensor) and \
            isinstance(std, Tensor) else tuple(like.shape)
        result = wrap(ops.empty(shape, like.dtype, like.device)).normal_(generator=generator)
        result.mul_(std.detach())
        return result.add_(mean.detach() if isinstance(mean, Tensor) else mean)
