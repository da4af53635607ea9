"""tkern.nn.init: fill a tensor in place with initial values, like torch.nn.init (no gradient is recorded);
torch's deprecated names without the trailing underscore warn and call them."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from tkern.autograd import no_grad

from ..creation import empty_like, rand, randn, randperm
from ..creation import eye as _eye
from ..creation import tensor as tensor_of
from ..math_ops import where
from ..random import Generator
from ..tensor import Tensor

_LINEAR_FUNCTIONS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                     "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for a nonlinearity: ``calculate_gain('relu')`` is ``sqrt(2)``."""
    if nonlinearity in _LINEAR_FUNCTIONS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b): ``uniform_(tkern.empty(3), -1.0, 1.0)``."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std**2): ``normal_(tkern.empty(3), 0.0, 0.02)``."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with val: ``constant_(tkern.empty(3), 0.5)``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0: ``zeros_(tkern.empty(3))``."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1: ``ones_(tkern.empty(3))``."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot uniform, U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)): ``xavier_uniform_(tkern.empty(3, 5))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot normal, N(0, gain**2 * 2 / (fan_in + fan_out)): ``xavier_normal_(tkern.empty(3, 5))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def _zero_element(tensor: Tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform, U(-b, b) with b = gain * sqrt(3 / fan): ``kaiming_uniform_(tkern.empty(3, 5), a=math.sqrt(5))``."""
    if _zero_element(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal, N(0, gain**2 / fan): ``kaiming_normal_(tkern.empty(3, 5), nonlinearity='relu')``."""
    if _zero_element(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal): ``eye_(tkern.empty(3, 5))``."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(_eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta (the identity convolution), per
    group of output channels: ``dirac_(tkern.empty(4, 2, 3), groups=2)``."""
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = tensor.shape[0] // groups
    channels = range(min(per_group, tensor.shape[1]))
    with no_grad():
        tensor.zero_()
        if channels:
            # every (output, input) channel pair of the delta, written in one indexed store
            outputs = [g * per_group + d for g in range(groups) for d in channels]
            inputs = [d for _ in range(groups) for d in channels]
            centres = tuple(size // 2 for size in tensor.shape[2:])
            tensor[(tensor_of(outputs, device=tensor.device), tensor_of(inputs, device=tensor.device)) + centres] = 1
    return tensor


def _orthonormal_columns(matrix: Tensor) -> Tensor:
    """Q of matrix = QR (rows >= columns) with R's diagonal positive, by Gram-Schmidt orthogonalising
    each column twice (once leaves float32 rounding errors that a second pass removes): the
    sign-corrected Q that torch takes from its Householder QR."""
    q = empty_like(matrix)
    for j in range(matrix.shape[1]):
        column = matrix[:, j]
        if j:
            basis = q[:, :j]
            for _ in range(2):
                column = column - basis.matmul(basis.t().matmul(column))
        q[:, j] = column / column.norm()
    return q


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix, the tensor viewed as (size(0), rest), times gain: Q of a
    normal draw, uniform over the orthogonal matrices: ``orthogonal_(tkern.empty(3, 5))``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        drawn = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)
        q = _orthonormal_columns(drawn.t() if rows < cols else drawn)
        tensor.view_as(drawn).copy_(q.t() if rows < cols else q)
        return tensor.mul_(gain)


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std**2) truncated to [a, b], drawn by torch's rejection sampling (normal draws
    redrawn outside [a, b] when that interval holds over 30% of the mass, else uniform draws on
    [a, b] accepted with the normal density): ``trunc_normal_(tkern.empty(3, 5), std=0.02)``."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may "
                      "be incorrect.", stacklevel=2)
    with no_grad():
        if _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std) > 0.3:
            # the bounds as the tensor's dtype holds them, for a test consistent with its values
            low, high = (tensor_of(bound, dtype=tensor.dtype).item() for bound in (a, b))
            result = tensor.normal_(mean, std, generator=generator)
            while (outside := (result < low).logical_or(result > high)).any().item():
                result = where(outside, empty_like(result).normal_(mean, std, generator=generator), result)
            return tensor.copy_(result)
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

        def rejected(candidates: Tensor) -> Tensor:
            log_density = ((candidates - mean) / std).pow(2) * -0.5 - log_peak
            return empty_like(candidates).uniform_(generator=generator).log() > log_density

        result = tensor.uniform_(a, b, generator=generator)
        pending = rejected(result)
        while pending.any().item():
            candidates = empty_like(tensor).uniform_(a, b, generator=generator)
            result = where(pending, candidates, result)
            pending = where(pending, rejected(candidates), pending)
        return tensor.copy_(result)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None) -> Tensor:
    """Fill a 2-D tensor with N(0, std**2), then zero the fraction sparsity of each column (rows picked
    by randperm from the default generator, as torch picks them): ``sparse_(tkern.empty(5, 3), 0.4)``."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for col in range(cols):
            tensor[randperm(rows)[:zeros].to(tensor.device), col] = 0
    return tensor


def _deprecated(init: Callable) -> Callable:
    """torch's old name of an initialiser (without the trailing underscore), which warns."""
    new_name = init.__name__
    old_name = new_name[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return init(*args, **kwargs)
    deprecated.__name__ = old_name
    deprecated.__doc__ = f"Deprecated: ``nn.init.{new_name}``."
    return deprecated


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
