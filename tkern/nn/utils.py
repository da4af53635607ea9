"""tkern.nn.utils: clipping gradients before an optimizer step, like torch.nn.utils."""
from __future__ import annotations

import math

from tkern import linalg
from tkern.autograd.grad_mode import no_grad
from tkern.creation import tensor
from tkern.math_ops import stack
from tkern.tensor import Tensor


def _with_gradients(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale every gradient by max_norm / (total norm + 1e-6) when the total norm (the norm of the
    gradients' norms) exceeds max_norm; returns the total norm: ``clip_grad_norm_(model.parameters(), 1.0)``."""
    parameters = _with_gradients(parameters)
    norm_type = float(norm_type)
    if not parameters:
        return tensor(0.0)
    with no_grad():
        norms = [linalg.vector_norm(p.grad, norm_type) for p in parameters]
        device = norms[0].device
        total = linalg.vector_norm(stack([n.to(device) for n in norms]), norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
                "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`")
        scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for p in parameters:
            p.grad.mul_(scale.to(p.grad.device))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient to [-clip_value, clip_value] in place: ``clip_grad_value_(model.parameters(), 0.5)``."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _with_gradients(parameters):
            p.grad.clamp_(-clip_value, clip_value)
