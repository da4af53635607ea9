"""AdamW: Adam with decoupled weight decay, as torch's."""
from __future__ import annotations

from collections.abc import Iterable

from .adam import Adam


class AdamW(Adam):
    """torch.optim.AdamW: Adam whose weight decay scales the parameters by ``1 - lr * weight_decay``
    before the step instead of adding to the gradient (default ``weight_decay`` 1e-2).

    >>> import tkern
    >>> w = tkern.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = tkern.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = tkern.tensor([0.5, -3.0])
    >>> opt.step()
    >>> w
    tensor([0.8500, 2.0000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
