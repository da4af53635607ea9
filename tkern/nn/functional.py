"""tkern.nn.functional: activations, linear and losses as functions, like torch.nn.functional.

Every function is a composition of differentiable Tensor operations (elementwise math, reductions,
matmul, views, indexing), so autograd differentiates it without a backward of its own; a loss picks
each sample's target class by advanced indexing (a gather of one entry per sample, no one-hot).
softmax, log_softmax and mse_loss (unweighted) have nodes of their own in the operation table
(tkern/operations.py, "nn.functional.softmax" and so on): one node each, with torch's names, where
the composition would record several; so has poly_mse_loss, whose fused forward computes its
gradients."""
from __future__ import annotations

import warnings

from tkern.autograd import recording
from tkern.ops import TORCH_TYPE_NAMES, broadcast_shapes, result_type
from tkern.ops.indexing import check_class_targets
from tkern.ops.polynomial import check_points, check_reduction
from tkern.ops.shapes import normalize_dim

from .. import dtypes
from ..creation import arange, empty_like
from ..fused import checked_arrays, loss_and_gradients, poly_value
from ..math_ops import where
from ..tensor import Tensor, _written_in_place
from ._reduction import REDUCTIONS, resolve


# ----- activations -----
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) elementwise: ``F.relu(tkern.tensor([-1.0, 2.0]))`` is ``tensor([0., 2.])``."""
    return input.relu_() if inplace else input.relu()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)): ``F.sigmoid(tkern.zeros(2))`` is ``tensor([0.5000, 0.5000])``."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent: ``F.tanh(tkern.zeros(2))`` is ``tensor([0., 0.])``."""
    return input.tanh()


# (in place, an activation is recorded as its out-of-place node on the old value, where torch names
# its in-place nodes ...Backward1)
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x): ``F.silu(tkern.zeros(1))`` is ``tensor([0.])``."""
    return _written_in_place(input, _silu) if inplace else _silu(input)


@recording.differentiable("nn.functional._silu")
def _silu(input: Tensor) -> Tensor:
    return input / ((-input).exp() + 1)  # (torch's form: x / (1 + exp(-x)))


@recording.differentiable("nn.functional.softplus")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, x itself where beta * x > threshold: ``F.softplus(tkern.zeros(1))``."""
    scaled = input * beta
    return where(scaled > threshold, input, scaled.exp().log1p() / beta)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere: ``F.leaky_relu(tkern.tensor([-1.0]))``."""
    if inplace:
        return _written_in_place(input, lambda x: _leaky_relu(x, negative_slope))
    return _leaky_relu(input, negative_slope)


@recording.differentiable("nn.functional._leaky_relu")
def _leaky_relu(input: Tensor, negative_slope: float) -> Tensor:
    return where(input > 0, input, input * negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere: ``F.elu(tkern.tensor([-1.0]))``."""
    return _written_in_place(input, lambda x: _elu(x, alpha)) if inplace else _elu(input, alpha)


@recording.differentiable("nn.functional._elu")
def _elu(input: Tensor, alpha: float) -> Tensor:
    return where(input > 0, input, input.expm1() * alpha)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _shifted(name: str, input: Tensor, dim: int | None, stacklevel: int, dtype) -> tuple[Tensor, int]:
    """(input minus its detached max along dim, dim): the max only guards exp against overflow, and
    softmax does not depend on it, so it carries no gradient."""
    if dim is None:
        dim = _softmax_dim(name, input.dim(), stacklevel + 1)
    # torch checks the dim before the dtype, and names its kernel by whether dim is the last
    last = normalize_dim(dim, input.dim()) >= input.dim() - 1
    if dtype is not None:
        input = input.to(dtype)
    elif not input.is_floating_point() and input.numel():  # (torch's kernel is not reached when empty)
        kernel = f"{name}_lastdim_kernel_impl" if last else f"{name}_kernel_impl"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    if input.numel() == 0:
        return input, dim  # (no max to take; nothing to guard)
    return input - input.detach().amax(dim, keepdim=True), dim


@recording.differentiable("nn.functional.softmax")
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: dtypes.dtype | None = None
            ) -> Tensor:
    """exp(x) / sum(exp(x)) along dim: ``F.softmax(tkern.zeros(2, 2), dim=1)`` is all 0.5."""
    shifted, dim = _shifted("softmax", input, dim, _stacklevel, dtype)
    if not shifted.is_floating_point():
        return empty_like(shifted)  # an empty integer input: empty in its dtype, as in torch
    exps = shifted.exp()
    return exps / exps.sum(dim, keepdim=True)


@recording.differentiable("nn.functional.log_softmax")
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: dtypes.dtype | None = None
                ) -> Tensor:
    """x - log(sum(exp(x))) along dim: ``F.log_softmax(tkern.zeros(1, 2), dim=1)`` is ``[[-0.6931, -0.6931]]``."""
    shifted, dim = _shifted("log_softmax", input, dim, _stacklevel, dtype)
    if not shifted.is_floating_point():
        return empty_like(shifted)
    return shifted - shifted.exp().sum(dim, keepdim=True).log()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 rows with a 1 at each value's class: ``F.one_hot(tkern.tensor([0, 2]), 3)``."""
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0 and num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if tensor.numel():
        low, high = tensor.min().item(), tensor.max().item()
        if low < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = high + 1
        elif high >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


# ----- layers -----
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias over any leading dims: ``F.linear(tkern.ones(4, 3), tkern.ones(2, 3)).shape``
    is ``(4, 2)``."""
    output = input.matmul(weight.t())
    return output if bias is None else output + bias


# ----- losses -----
def _reduced(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _pointwise_loss(errors: Tensor, weight: Tensor | None, input: Tensor, reduction: str) -> Tensor:
    """Reduce elementwise errors, weighted per element when a weight of input's shape is given."""
    if weight is None:
        return _reduced(errors, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = errors * weight
    return weighted.sum() / weight.sum() if reduction == "mean" else _reduced(weighted, reduction)


def _warn_on_broadcast(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum, or each) of (input - target)**2: ``F.mse_loss(tkern.ones(2), tkern.zeros(2))`` is
    ``tensor(1.)``."""
    _warn_on_broadcast(input, target)
    reduction = resolve(size_average, reduce, reduction)
    if input.dtype is not target.dtype:
        broadcast_shapes(input._a.shape, target._a.shape)  # (torch's shape error comes before its dtype error)
        promoted = result_type(input._a, target._a)
        if not promoted.is_floating_point:
            raise NotImplementedError(f"\"mse_cpu\" not implemented for '{TORCH_TYPE_NAMES[promoted]}'")
        # torch subtracts in the promoted type, where a bool operand is no longer bool
        input, target = input.to(promoted), target.to(promoted)
    elif not input.dtype.is_floating_point:
        broadcast_shapes(input._a.shape, target._a.shape)
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    if weight is None:
        return _squared_error(input, target, reduction)
    difference = input - target
    return _pointwise_loss(difference * difference, weight, input, reduction)


@recording.differentiable("nn.functional._squared_error")
def _squared_error(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    difference = input - target
    return _reduced(difference * difference, reduction)


@recording.differentiable("nn.functional.poly_mse_loss")
def poly_mse_loss(x: Tensor, y: Tensor, coeffs: Tensor, reduction: str = "sum") -> Tensor:
    """Squared error of the polynomial with coefficients ``coeffs`` (c0 first) at the points (x, y):
    sum (or mean, or each) of (p(x) - y)**2, the loss of ``tkern.fused.poly_loss_grad``.

    With 'sum' or 'mean' one fused pass computes the loss and, when autograd records it (node
    ``PolyMseLossBackward0``), the gradients of coeffs and of x and y where they require grad, so
    backward only scales them; 'none' is composed of elementwise operations.

    >>> x = tkern.tensor([0.0, 1.0, 2.0])
    >>> F.poly_mse_loss(x, 1 + 2 * x, tkern.tensor([1.0, 1.0]))
    tensor(5.)
    """
    if reduction == "none":
        check_points("poly_mse_loss", *checked_arrays("poly_mse_loss", x, y, coeffs))
        residual = poly_value(x, coeffs) - y
        return residual * residual
    check_reduction("poly_mse_loss", reduction, REDUCTIONS)
    return loss_and_gradients(x, y, coeffs, reduction, False, False, "poly_mse_loss")[0]


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum, or each) of |input - target|: ``F.l1_loss(tkern.ones(2), tkern.zeros(2))`` is
    ``tensor(1.)``."""
    _warn_on_broadcast(input, target)
    reduction = resolve(size_average, reduce, reduction)
    return _pointwise_loss((input - target).abs(), weight, input, reduction)


def _class_targets(input: Tensor, target: Tensor, ignore_index: int) -> Tensor:
    """target as int64, checked like torch's nll_loss (shape, dtype, range); a 1-element target of a
    1-D input becomes 0-d. A target on a GPU is range-checked there: an error surfaces at the next
    synchronisation, as torch's device-side assert does."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() > 1 and (target.dim() == 0 or target.shape[0] != input.shape[0]):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 0}).")
    if input.dim() <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() == 1 and target.dim() == 1:
        if target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
        target = target.reshape(())
    expected = tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.dim() > 1 else ()
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {TORCH_TYPE_NAMES[target.dtype]}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    target = target.detach().to(dtypes.int64)
    check_class_targets(target._a, input.shape[0 if input.dim() == 1 else 1], ignore_index)
    return target


def _at_targets(values: Tensor, target: Tensor, class_dim: int) -> Tensor:
    """values[..., target, ...] along class_dim: each sample's entry at its class, in target's shape
    (values has target's dims plus the class dim)."""
    if not values.shape[class_dim]:
        return values.sum(class_dim).expand(target.shape)  # (no class to pick: zeros)
    if values.dim() == 1:
        return values[target.reshape(-1)].reshape(target.shape)
    # the other dims are indexed by aranges that broadcast against target: the gather reads only the picks
    key = []
    for dim, size in enumerate(values.shape):
        if dim == class_dim:
            key.append(target)
        else:
            shape = [1] * target.dim()
            shape[dim - (dim > class_dim)] = size
            key.append(arange(size, device=values.device).reshape(shape))
    return values[tuple(key)]


def _class_weights(input: Tensor, weight: Tensor | None, class_dim: int) -> Tensor | None:
    """weight checked and viewed to broadcast along input's class dim."""
    if weight is None:
        return None
    classes = input.shape[class_dim]
    if weight.numel() != classes:
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {TORCH_TYPE_NAMES[input.dtype]} but found "
                           f"{TORCH_TYPE_NAMES[weight.dtype]}")
    shape = [1] * input.dim()
    shape[class_dim] = classes
    return weight.reshape(shape)


def _weighted(values: Tensor, weights: Tensor | None) -> Tensor:
    return values if weights is None else values * weights


def _nll(log_probs: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str,
         label_smoothing: float = 0.0) -> Tensor:
    """-weight[t] * log_probs[t] per sample, with log_probs[t] gathered at the target class; 'mean' divides
    by the summed weight of the targets not ignored. label_smoothing mixes in the weighted sum over all
    classes, as torch does."""
    target = _class_targets(log_probs, target, ignore_index)
    class_dim = 0 if log_probs.dim() == 1 else 1
    classes = log_probs.shape[class_dim]
    weights = _class_weights(log_probs, weight, class_dim)
    kept = target != ignore_index
    # an ignored target picks class 0 and its loss is masked out (by where, not a product: no NaN
    # from a -inf there)
    safe = target.where(kept, 0)
    picked = _at_targets(log_probs, safe, class_dim)
    if weights is None:
        target_weights = kept.to(log_probs.dtype)
        losses = (-picked).where(kept, 0.0)
    else:
        target_weights = _at_targets(weights.reshape(-1), safe, 0).where(kept, 0.0)
        losses = (-picked * target_weights).where(kept, 0.0)
    if label_smoothing > 0.0:
        smooth = (-_weighted(log_probs, weights).sum(class_dim)).where(kept, 0.0)
        losses = (1.0 - label_smoothing) * losses + (label_smoothing / classes) * smooth
    if reduction == "mean":
        return losses.sum() / target_weights.sum()
    return _reduced(losses, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices given log-probabilities (class dim 1, or 0 for 1-D input):
    ``F.nll_loss(tkern.log(tkern.tensor([[0.5, 0.5]])), tkern.tensor([0]))`` is ``tensor(0.6931)``."""
    return _nll(input, target, weight, ignore_index, resolve(size_average, reduce, reduction))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits (class dim 1, or 0 for 1-D input) against class indices, or against class
    probabilities of input's shape: ``F.cross_entropy(tkern.zeros(1, 2), tkern.tensor([1]))`` is
    ``tensor(0.6931)``."""
    reduction = resolve(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    if target.shape != input.shape:
        return _nll(log_softmax(input, class_dim), target, weight, ignore_index, reduction, label_smoothing)
    if not target.is_floating_point():
        raise RuntimeError("Expected floating point type for target with class probabilities, got "
                           f"{TORCH_TYPE_NAMES[target.dtype]}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    classes = input.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    weights = _class_weights(input, weight, class_dim)
    losses = -_weighted(log_softmax(input, class_dim) * target, weights).sum(class_dim)
    if reduction == "mean":
        return losses.sum() / (input.numel() / classes)
    return _reduced(losses, reduction)
