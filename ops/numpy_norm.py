"""Layer normalisation on the host: the numpy backend's rows, normalised and differentiated, with
16-bit types computed in float32 as the Triton kernels do."""
from __future__ import annotations

import numpy as np


def _compute(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


def _normalized(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(each row of x normalised, each row's 1 / std as a column)."""
    centred = x - x.mean(axis=1, keepdims=True)
    rstd = 1 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + eps)
    return centred * rstd, rstd


def layer_norm(out: np.ndarray, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
               eps: float) -> None:
    y, _ = _normalized(_compute(x), eps)
    if weight is not None:
        y = y * weight.astype(y.dtype)
    if bias is not None:
        y = y + bias.astype(y.dtype)
    np.copyto(out, y, casting="unsafe")


def layer_norm_backward(grad_x: np.ndarray, grad_weight: np.ndarray | None, grad_bias: np.ndarray | None,
                        x: np.ndarray, g: np.ndarray, weight: np.ndarray | None, eps: float) -> None:
    normalized, rstd = _normalized(_compute(x), eps)
    g = g.astype(normalized.dtype)
    gw = g if weight is None else g * weight.astype(normalized.dtype)
    cols = x.shape[1]
    dx = (gw - gw.sum(axis=1, keepdims=True) / cols
          - normalized * ((gw * normalized).sum(axis=1, keepdims=True) / cols)) * rstd
    np.copyto(grad_x, dx, casting="unsafe")
    if grad_weight is not None:
        np.copyto(grad_weight, (g * normalized).sum(axis=0), casting="unsafe")
    if grad_bias is not None:
        np.copyto(grad_bias, g.sum(axis=0), casting="unsafe")
