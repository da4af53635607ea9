"""The optimizer step as one primitive: torch's SGD and Adam/AdamW updates of many parameters at once.

An optimizer hands over the parameters of one param group that have a gradient, with their state
tensors and one step's hyperparameters (an ``SGDStep`` or ``AdamStep``). This module checks the
operands, splits them by (device, dtype) and gives each part to its backend in one call: on 'cuda'
that is one kernel launch for the whole part, on 'cpu' numpy over each parameter. Backends compute
in float32 for float16/bfloat16 parameters and round once on store, like torch's fused kernels.
"""
from __future__ import annotations

from dataclasses import dataclass

from .allocation import bump_version
from .array import Array
from .backend import backend_for


@dataclass(frozen=True)
class SGDStep:
    """One step of torch.optim.SGD. ``first``: the momentum buffers are new, and this step sets them
    to the (decayed, maximize-negated) gradient as torch's ``grad.clone()`` does; their old contents
    are never read.

    >>> SGDStep(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
    ...         first=True).states
    1
    """

    lr: float
    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool
    maximize: bool
    first: bool

    @property
    def states(self) -> int:
        """State tensors per parameter: the momentum buffer, when there is momentum."""
        return 1 if self.momentum != 0 else 0


@dataclass(frozen=True)
class AdamStep:
    """One step of torch.optim.Adam (``decoupled``: AdamW) for parameters at step count ``step``
    (after this step's increment, as torch counts). At step 1 the moments are new: treated as the
    zeros torch starts them at, never read.

    >>> AdamStep(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
    ...          amsgrad=False, maximize=False, step=1.0).step_size
    0.010000000000000002
    """

    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    decoupled: bool
    amsgrad: bool
    maximize: bool
    step: float

    @property
    def states(self) -> int:
        """exp_avg, exp_avg_sq, and max_exp_avg_sq with amsgrad."""
        return 3 if self.amsgrad else 2

    @property
    def first(self) -> bool:
        return self.step == 1

    @property
    def step_size(self) -> float:
        # computed in Python floats exactly as torch's single-tensor Adam does
        return self.lr / (1 - self.beta1 ** self.step)

    @property
    def bias_correction2_sqrt(self) -> float:
        return (1 - self.beta2 ** self.step) ** 0.5


def optimizer_step(rule: SGDStep | AdamStep, params: list[Array], grads: list[Array], states: tuple,
                   caches: dict) -> None:
    """Update ``params`` and ``states`` (a tuple of ``rule.states`` lists, each with one Array per
    parameter, shaped like it) in place by one step of ``rule``; ``grads`` are only read. ``caches``
    is a dict the caller keeps for this param group between steps: a backend keeps there what it may
    reuse (the pointer tables of the 'cuda' kernel).

    >>> from tkern import tensor
    >>> p, g = tensor([1.0, 2.0]), tensor([0.5, 0.5])
    >>> optimizer_step(SGDStep(0.1, 0.0, 0.0, 0.0, False, False, False), [p._a], [g._a], (), {})
    >>> p
    tensor([0.9500, 1.9500])
    """
    for (device, dtype), indices in _parts(params, grads).items():
        if not dtype.is_floating_point:
            raise RuntimeError(f"optimizers update floating point parameters only, got {dtype}")
        if indices is None:
            part_params, part_grads, part_states = params, grads, states
        else:
            part_params = [params[i] for i in indices]
            part_grads = [grads[i] for i in indices]
            part_states = tuple([s[i] for i in indices] for s in states)
        cache = caches.get((device, dtype))
        if cache is None:
            cache = caches[(device, dtype)] = {}
        backend_for(device).optimizer_step(rule, part_params, part_grads, part_states, cache)
    for written in (params, *states):
        for a in written:
            bump_version(a)


def _parts(params: list, grads: list) -> dict:
    """Indices of ``params`` by (device, dtype), or None for all of them when they share one; checks
    that each gradient matches its parameter."""
    device, dtype = params[0].device, params[0].dtype
    shared = True
    for p, g in zip(params, grads):
        # devices compared field by field: device.__eq__ is a Python call, ~40% of this loop
        pd, gd = p.device, g.device
        if g.shape != p.shape or g.dtype is not p.dtype or gd.type != pd.type or gd.index != pd.index:
            raise RuntimeError(
                f"the gradient of a parameter of shape {list(p.shape)}, {p.dtype} on {pd} has shape "
                f"{list(g.shape)}, {g.dtype} on {gd}")
        if p.dtype is not dtype or pd.type != device.type or pd.index != device.index:
            shared = False
    if shared:
        return {(device, dtype): None}
    parts: dict = {}
    for i, p in enumerate(params):
        parts.setdefault((p.device, p.dtype), []).append(i)
    return parts
