"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay, as torch's."""
from __future__ import annotations

from collections.abc import Iterable

from tkern.creation import empty_like
from tkern.ops.optimizer_step import SGDStep, optimizer_step

from .optimizer import Optimizer, select, split_by


class SGD(Optimizer):
    """torch.optim.SGD: ``p -= lr * d`` where d is the gradient (negated with ``maximize``) plus
    ``weight_decay * p``, run through a momentum buffer ``b = momentum * b + (1 - dampening) * d``
    (started at d) when ``momentum`` is set, and ``d + momentum * b`` instead of b with ``nesterov``.
    Each step updates a param group with one fused kernel launch per device and dtype ('cuda'), or
    numpy over each parameter ('cpu'). ``foreach`` and ``fused`` are kept for torch's API and change
    nothing: tkern always takes its fused path.

    >>> import tkern
    >>> w = tkern.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = tkern.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = tkern.tensor([1.0, 1.0])
    >>> opt.step(); opt.step()
    >>> w
    tensor([0.7100, 1.7100], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": False,
                    "fused": fused}
        super().__init__(params, defaults)

    def _update(self, index, group, params):
        caches = self._caches.setdefault(("kernel", index), {})
        options = (float(group["lr"]), group["momentum"], group["dampening"], group["weight_decay"],
                   group["nesterov"], group["maximize"])
        values = [p._a for p in params]
        grads = [p.grad._a for p in params]
        if group["momentum"] == 0:
            optimizer_step(SGDStep(*options, first=False), values, grads, (), caches)
            return
        buffers = [self.state[p].get("momentum_buffer") for p in params]
        # torch starts a buffer as a copy of the step's gradient: the kernel writes it whole
        new = {i: empty_like(params[i]) for i, b in enumerate(buffers) if b is None}
        states = ([(new[i] if b is None else b)._a for i, b in enumerate(buffers)],)
        for first, members in split_by([b is None for b in buffers]).items():
            optimizer_step(SGDStep(*options, first=first), *select(members, values, grads, states), caches)
        for i, buffer in new.items():
            self.state[params[i]]["momentum_buffer"] = buffer
