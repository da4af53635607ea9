"""Layer normalisation over the trailing dims: torch's checks, then the backends' row primitives
(layer_norm, layer_norm_backward) on the input read as (rows, normalised elements)."""
from __future__ import annotations

from tkern import dtypes

from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array, numel_of
from .backend import backend_for
from .copying import contiguous
from .views import reshape

_FLOATS = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)


def _check_layer_norm(x: Array, normalized_shape: tuple, weight: Array | None, bias: Array | None) -> None:
    shape = list(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got normalized_shape = {shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and list(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(p.shape)} and normalized_shape = {shape}")
    if x.ndim < len(shape) or list(x.shape[x.ndim - len(shape):]) != shape:
        trailing = ", ".join(map(str, shape))
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape [*, {trailing}], but got "
                           f"input of size{list(x.shape)}")
    if x.dtype not in _FLOATS:
        raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{TORCH_TYPE_NAMES[x.dtype]}'")
    for p in (weight, bias):
        if p is not None and p.dtype is not x.dtype:
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{TORCH_TYPE_NAMES[x.dtype]}")
        if p is not None and p.device != x.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"{x.device} and {p.device}!")


def _rows(x: Array, cols: int) -> Array:
    """x as (rows, cols), a view where one serves."""
    return reshape(x, (x.numel() // cols if cols else 0, cols))


def _flat(p: Array | None) -> Array | None:
    return None if p is None else contiguous(reshape(p, (p.numel(),)))


def layer_norm(x: Array, normalized_shape: tuple, weight: Array | None, bias: Array | None, eps: float) -> Array:
    """x normalised over its trailing ``normalized_shape`` dims (mean 0, biased variance 1, plus eps),
    times weight, plus bias."""
    _check_layer_norm(x, normalized_shape, weight, bias)
    out = empty(x.shape, x.dtype, x.device)
    if out.numel():
        cols = numel_of(normalized_shape)
        backend_for(x.device).layer_norm(_rows(out, cols), _rows(x, cols), _flat(weight), _flat(bias), eps)
    return out


def layer_norm_backward(x: Array, g: Array, normalized_shape: tuple, weight: Array | None, eps: float,
                        want_weight: bool, want_bias: bool) -> tuple:
    """(grad of x, of weight or None, of bias or None) of layer_norm for the incoming gradient g."""
    cols = numel_of(normalized_shape)
    backend = backend_for(x.device)
    grad_x = empty(x.shape, x.dtype, x.device)
    grads = [empty(tuple(normalized_shape), x.dtype, x.device) if want else None for want in (want_weight, want_bias)]
    if x.numel():
        grad_weight, grad_bias = (None if p is None else reshape(p, (cols,)) for p in grads)
        backend.layer_norm_backward(_rows(grad_x, cols), grad_weight, grad_bias, _rows(x, cols), _rows(g, cols),
                                    _flat(weight), eps)
    else:
        for p in grads:
            if p is not None and p.numel():
                backend.fill(p, 0)
    return grad_x, *grads
