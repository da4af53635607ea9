"""tkern.nn.functional: activations, linear and losses as functions, like torch.nn.functional.

Every function is a composition of differentiable Tensor operations (elementwise math, reductions,
matmul, views, indexing), so autograd differentiates it without a backward of its own; a loss picks
each sample's target class by advanced indexing (a gather of one entry per sample, no one-hot).
softmax, log_softmax and mse_loss (unweighted) have nodes of their own in the operation table
(tkern/operations.py, "nn.functional.softmax" and so on): one node each, with torch's names, where
the composition would record several; so has poly_mse_loss, whose fused forward computes its
gradients."""
from __future__ import annotations

import math
import warnings

from tkern.autograd import recording
from tkern.autograd.grad_mode import no_grad
from tkern.ops import TORCH_TYPE_NAMES, broadcast_shapes, result_type
from tkern.ops import normalization
from tkern.ops.indexing import check_class_targets
from tkern.ops.polynomial import check_points
from tkern.ops.polynomial import check_reduction as check_poly_reduction
from tkern.ops.shapes import normalize_dim

from .. import dtypes
from ..creation import arange, empty_like
from ..fused import checked_arrays, loss_and_gradients, poly_value
from ..math_ops import addmm, where
from ..tensor import Tensor, _written_in_place, wrap
from ._reduction import REDUCTIONS, check_reduction, legacy_get_string, resolve


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


@recording.differentiable("nn.functional.gelu")
def gelu(input: Tensor, *, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF (approximate='tanh': torch's tanh form of it):
    ``F.gelu(tkern.zeros(1))`` is ``tensor([0.])``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"GeluKernelImpl\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    x = input.float() if input.dtype in (dtypes.float16, dtypes.bfloat16) else input  # (torch's opmath)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        result = x * 0.5 * (inner.tanh() + 1)
    else:
        result = x * 0.5 * ((x * (1 / math.sqrt(2.0))).erf() + 1)
    return result if result.dtype is input.dtype else result.to(input.dtype)


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
    is ``(4, 2)``. With a bias it is one addmm (the bias added as the product is written), over a
    contiguous input's leading dims flattened into rows, as torch records it (AddmmBackward0, under a
    view when not 2-D); a strided input that is not 2-D is a matmul and an add, as in torch."""
    if input.dim() == 2 and bias is not None and weight.dim() == 2:
        return addmm(bias, input, weight.t())
    if bias is None or input.dim() == 0 or weight.dim() != 2 or not input.is_contiguous():
        output = input.matmul(weight.t())
        return output if bias is None else output + bias
    rows = addmm(bias, input.reshape(math.prod(input.shape[:-1]), input.shape[-1]), weight.t())
    return rows.view(*input.shape[:-1], weight.shape[0])


@recording.differentiable("nn.functional.layer_norm")
def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Each sample normalised over its trailing ``normalized_shape`` dims (mean 0, biased variance 1, eps
    added), then scaled by weight and shifted by bias; one fused pass per row on 'cuda':
    ``F.layer_norm(tkern.tensor([[1.0, 3.0]]), (2,))`` is ``tensor([[-1.0000, 1.0000]])``."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    return wrap(normalization.layer_norm(input._a, tuple(normalized_shape), _array_or_none(weight),
                                         _array_or_none(bias), eps))


def _array_or_none(x: Tensor | None):
    return None if x is None else x._a


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of weight at the indices of input (any shape; the result adds weight's row dim): the rows
    at padding_idx get no gradient, with scale_grad_by_freq each row's gradient is divided by how often the
    input names it, and with max_norm the rows looked up are first renormalised in place to at most that
    norm. ``F.embedding(tkern.tensor([1]), tkern.eye(3))`` is ``tensor([[0., 1., 0.]])``."""
    rows = weight.shape[0] if weight.dim() else 0
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported by tkern (it has no sparse tensors)")
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{TORCH_TYPE_NAMES[input.dtype]}Tensor instead (while checking "
                           "arguments for embedding)")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    # a negative index is out of range here (not counted from the end): moved past the end, where the
    # lookup's own range check refuses it, on the device, without reading the indices back
    indices = where(input < 0, rows, input.long())
    if max_norm is not None:
        _renormalized(weight, indices, max_norm, norm_type)
    return _embedding(weight, indices, -1 if padding_idx is None else padding_idx, scale_grad_by_freq)


@recording.differentiable("nn.functional._embedding")
def _embedding(weight: Tensor, indices: Tensor, padding_idx: int, scale_grad_by_freq: bool) -> Tensor:
    return weight[indices]


def _renormalized(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: each row looked up scaled in place to norm max_norm where it is longer
    (a repeated index writes the same row twice)."""
    with no_grad():
        indices = indices.reshape(-1)
        rows = weight[indices]
        norms = rows.norm(norm_type, dim=1, keepdim=True)
        weight[indices] = where(norms > max_norm, rows * (max_norm / (norms + 1e-7)), rows)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Each channel (dim 1) normalised over the batch and any further dims: by the batch's own mean and
    biased variance when training (updating running_mean and running_var, with the unbiased variance, by
    ``momentum``), by the running statistics otherwise; then scaled by weight and shifted by bias.
    ``F.batch_norm(x, None, None, training=True)`` has mean 0 per channel."""
    channels = input.shape[1] if input.dim() > 1 else 0
    if training and (input.numel() // channels if channels else input.numel()) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.size()}")
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and p.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {p.numel()}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be defined in evaluation mode")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    for p in (weight, bias, running_mean, running_var):
        if p is not None and p.dtype is not input.dtype:
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{TORCH_TYPE_NAMES[input.dtype]}")
    dims = [0] + list(range(2, input.dim()))
    if training and input.numel():
        with no_grad():
            batch = input.detach()
            for running, statistic in ((running_mean, lambda: batch.mean(dims)),
                                       (running_var, lambda: batch.var(dims, correction=1))):
                if running is not None:
                    running.mul_(1 - momentum).add_(statistic() * momentum)
    # (in training the running statistics stay out of the recorded call: their next update must not
    # trip the version check of a graph not yet backpropagated)
    stats = (None, None) if training else (running_mean, running_var)
    return _batch_norm(input, weight, bias, *stats, eps)


@recording.differentiable("nn.functional._batch_norm")
def _batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                running_var: Tensor | None, eps: float) -> Tensor:
    shape = [1] * input.dim()
    shape[1] = input.shape[1]
    if running_mean is None:
        dims = [0] + list(range(2, input.dim()))
        mean = input.mean(dims, keepdim=True)
        centred = input - mean
        variance = (centred * centred).mean(dims, keepdim=True)
    else:
        assert running_var is not None  # (batch_norm passes both statistics or neither)
        centred = input - running_mean.reshape(shape)
        variance = running_var.reshape(shape)
    output = centred / (variance + eps).sqrt()
    if weight is not None:
        output = output * weight.reshape(shape)
    if bias is not None:
        output = output + bias.reshape(shape)
    return output


# ----- dropout -----
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), as torch does on the
    CPU: a noise tensor laid out like input gets bernoulli_(1 - p), is divided by 1 - p and multiplies
    input (MulBackward0); on 'cpu' the mask is torch's draw for the same seed."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        noise = input.new_zeros(())
    else:
        noise = _empty_in_layout_of(input).bernoulli_(1 - p)
        noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


def _empty_in_layout_of(input: Tensor) -> Tensor:
    """An uninitialised tensor like input, with input's order of dimensions in memory where input is
    dense (torch's empty_like), so that a draw into it meets the elements in torch's order."""
    order = sorted(range(input.ndim), key=lambda d: -input.stride(d))
    permuted = [input.shape[d] for d in order]
    strides, step = [0] * input.ndim, 1
    for position in reversed(range(input.ndim)):
        strides[position] = step
        step *= permuted[position]
    dense = all(input.shape[d] == 1 or input.stride(d) == strides[i] for i, d in enumerate(order))
    if not dense:
        return empty_like(input)
    inverse = sorted(range(input.ndim), key=lambda i: order[i])
    return empty_like(input.permute(*order)).permute(*inverse)


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
    check_poly_reduction("poly_mse_loss", reduction, REDUCTIONS)
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


# ----- binary cross entropies, smooth L1 and Huber losses, KL divergence -----
def _no_weight_gradient(function: str, weight: Tensor | None, argument: str) -> None:
    if weight is not None and weight.requires_grad:
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{argument}'. "
                           "This input cannot have requires_grad True.")


def _outside_unit_interval(values: Tensor) -> bool:
    return not ((values >= 0) & (values <= 1)).all().item()  # (a NaN is outside too)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
                         ) -> Tensor:
    """-(t * log(p) + (1 - t) * log(1 - p)) of probabilities p, each log clamped at -100 as in torch:
    ``F.binary_cross_entropy(tkern.tensor([0.5]), tkern.tensor([1.0]))`` is ``tensor(0.6931)``."""
    reduction = resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) "
                         "is deprecated. Please ensure they have the same size.")
    if weight is not None:
        shape = broadcast_shapes(tuple(target.shape), tuple(weight.shape))
        if shape != tuple(input.shape):
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(shape)}")
        weight = weight.expand(shape)
    _no_weight_gradient("binary_cross_entropy", weight, "weight")
    for other in (target, weight):
        if other is not None and other.dtype is not input.dtype:
            raise RuntimeError(f"Found dtype {TORCH_TYPE_NAMES[other.dtype]} but expected "
                               f"{TORCH_TYPE_NAMES[input.dtype]}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    if _outside_unit_interval(input):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if _outside_unit_interval(target):
        raise RuntimeError("all elements of target should be between 0 and 1")
    return _binary_cross_entropy(input, target, weight, reduction)


@recording.differentiable("nn.functional._binary_cross_entropy")
def _binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    losses = (target - 1) * (-input).log1p().clamp(min=-100) - target * input.log().clamp(min=-100)
    return _reduced(_weighted(losses, weight), reduction)


def _log_sigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) without overflow: min(x, 0) - log1p(exp(-|x|))."""
    return x.clamp(max=0) - (-x.abs()).exp().log1p()


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy of sigmoid(input), computed stably from the logits; pos_weight weighs the
    positive term (per class, broadcast over the last dim): ``F.binary_cross_entropy_with_logits(
    tkern.zeros(1), tkern.ones(1))`` is ``tensor(0.6931)``."""
    reduction = resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    for name, given in (("weight", weight), ("pos_weight", pos_weight)):
        _no_weight_gradient("binary_cross_entropy_with_logits", given, name)
    if not input.is_floating_point():
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{TORCH_TYPE_NAMES[input.dtype]}'")
    if not target.is_floating_point():
        raise RuntimeError(f"result type {TORCH_TYPE_NAMES[result_type(input._a, target._a)]} can't be cast to the "
                           f"desired output type {TORCH_TYPE_NAMES[target.dtype]}")
    # (torch's shape errors, in its order, before anything is computed)
    if pos_weight is not None:
        broadcast_shapes(tuple(pos_weight.shape), tuple(input.shape))
    if weight is not None:
        broadcast_shapes(tuple(input.shape), tuple(weight.shape))
    return _binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


@recording.differentiable("nn.functional._binary_cross_entropy_with_logits")
def _binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None,
                                      pos_weight: Tensor | None, reduction: str) -> Tensor:
    log_sigmoid = _log_sigmoid(input)
    if pos_weight is not None:
        log_sigmoid = ((pos_weight - 1) * target + 1) * log_sigmoid
    # (torch writes the losses into (1 - target) * input in place: they take target's dtype)
    losses = ((1 - target) * input - log_sigmoid).to(target.dtype)
    return _reduced(_weighted(losses, weight), reduction)


def _check_float_pair(input: Tensor, target: Tensor, kernel: str) -> dtypes.dtype:
    """The promoted dtype of an elementwise loss of input and target, checked like torch's kernel."""
    broadcast_shapes(tuple(input.shape), tuple(target.shape))
    promoted = result_type(input._a, target._a)
    if not promoted.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{TORCH_TYPE_NAMES[promoted]}'")
    return promoted


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 * d**2 / beta where |d| < beta, |d| - 0.5 * beta elsewhere, d = input - target (beta 0: the L1
    loss): ``F.smooth_l1_loss(tkern.tensor([0.5, 3.0]), tkern.zeros(2))`` is ``tensor(1.3125)``."""
    _warn_on_broadcast(input, target)
    _check_float_pair(input, target, "smooth_l1_cpu")
    reduction = resolve(size_average, reduce, reduction)
    if beta == 0.0:
        return _pointwise_loss((input - target).abs(), None, input, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _smooth_l1_loss(input, target, reduction, beta)


@recording.differentiable("nn.functional._smooth_l1_loss")
def _smooth_l1_loss(input: Tensor, target: Tensor, reduction: str, beta: float) -> Tensor:
    distance = (input - target).abs()
    return _reduced(where(distance < beta, 0.5 * distance * distance / beta, distance - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 * d**2 where |d| < delta, delta * (|d| - 0.5 * delta) elsewhere, d = input - target, each
    weighted by weight when given: ``F.huber_loss(tkern.tensor([0.5, 3.0]), tkern.zeros(2))`` is
    ``tensor(1.3125)``."""
    _warn_on_broadcast(input, target)
    promoted = _check_float_pair(input, target, "huber_cpu")
    if not input.is_floating_point():
        raise RuntimeError(f"result type {TORCH_TYPE_NAMES[promoted]} can't be cast to the desired output type "
                           f"{TORCH_TYPE_NAMES[input.dtype]}")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return _huber_loss(input, target, check_reduction(reduction), delta)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return _reduced(_huber_loss(input, target, "none", delta) * weight, reduction)


@recording.differentiable("nn.functional._huber_loss")
def _huber_loss(input: Tensor, target: Tensor, reduction: str, delta: float) -> Tensor:
    # (the result has input's dtype: torch writes it into a tensor like input)
    distance = (input - target).abs()
    losses = where(distance < delta, 0.5 * distance * distance, delta * (distance - 0.5 * delta))
    return _reduced(losses.to(input.dtype), reduction)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of target from input, both log-probabilities (target only with
    log_target): target * (log(target) - input) summed; 'batchmean' divides the sum by the batch size:
    ``F.kl_div(tkern.tensor([0.5, 0.5]).log(), tkern.tensor([0.5, 0.5]), reduction='batchmean')`` is
    ``tensor(0.)``."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        if reduction != "batchmean":
            reduction = check_reduction(reduction)
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        losses = target.exp() * (target - input)
    else:
        # target * log(target), 0 where target is 0 (torch's xlogy(target, target))
        losses = where(target == 0, 0.0, target * target.log()) - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.dim() else total
    return _reduced(losses, reduction)
