"""Adam, and AdamW through decoupled weight decay, as torch's."""
from __future__ import annotations

from collections.abc import Iterable

from tkern import dtypes
from tkern.creation import empty_like, tensor
from tkern.ops.optimizer_step import AdamStep, optimizer_step
from tkern.tensor import Tensor

from .optimizer import Optimizer, select, split_by

_MOMENTS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


class Adam(Optimizer):
    """torch.optim.Adam: moving averages of the gradient (``exp_avg``) and of its square
    (``exp_avg_sq``, or their running maximum ``max_exp_avg_sq`` with ``amsgrad``), bias-corrected by
    the step count, give ``p -= lr / (1 - beta1**t) * exp_avg / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.
    ``weight_decay`` adds ``weight_decay * p`` to the gradient, or with ``decoupled_weight_decay``
    (AdamW) scales p by ``1 - lr * weight_decay`` first. Each step updates a param group with one fused
    kernel launch per device and dtype ('cuda'), or numpy over each parameter ('cpu'); ``foreach`` and
    ``fused`` are kept for torch's API and change nothing.

    >>> import tkern
    >>> w = tkern.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = tkern.optim.Adam([w], lr=0.1)
    >>> w.grad = tkern.tensor([0.5, -3.0])
    >>> opt.step()
    >>> w, opt.state[w]["step"]
    (tensor([0.9000, 2.1000], requires_grad=True), tensor(1.))
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": False, "differentiable": False,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update(self, index, group, params):
        amsgrad = group["amsgrad"]
        # a parameter's state is kept only once its first step went through
        new = {}
        states = []
        for p in params:
            state = self.state.get(p)
            if not state:
                # the first step writes the moments whole (torch's zeros are never read)
                state = new[p] = {"step": 0.0, "exp_avg": empty_like(p), "exp_avg_sq": empty_like(p)}
                if amsgrad:
                    state["max_exp_avg_sq"] = empty_like(p)
            states.append(state)
        counts = self._step_counts(index, states)
        beta1, beta2 = group["betas"]
        options = (float(group["lr"]), beta1, beta2, group["eps"], group["weight_decay"],
                   group["decoupled_weight_decay"], amsgrad, group["maximize"])
        moments = tuple([s[name]._a for s in states] for name in _MOMENTS[:3 if amsgrad else 2])
        values, grads = [p._a for p in params], [p.grad._a for p in params]
        caches = self._caches.setdefault(("kernel", index), {})
        for step, members in split_by(counts.tolist()).items():
            optimizer_step(AdamStep(*options, step=step + 1), *select(members, values, grads, moments), caches)
        counts += 1
        self.state.update(new)

    def _step_counts(self, index: int, states: list) -> Tensor:
        """One CPU tensor of the step counts of ``states``, whose 'step' entries become its elements (0-d
        views, torch's per-parameter step tensors), so that a step counts them all in one op."""
        cached = self._caches.get(("steps", index))
        if cached is not None:
            counts, views = cached
            if len(views) == len(states) and all(s["step"] is v for s, v in zip(states, views)):
                return counts
        scalar_type = dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64 else dtypes.float32
        counts = tensor([float(s["step"]) for s in states], dtype=scalar_type)
        views = counts.unbind(0)
        for state, view in zip(states, views):
            state["step"] = view
        self._caches[("steps", index)] = (counts, views)
        return counts
