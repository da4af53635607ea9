"""Optimizer: the base of tkern's optimizers, with torch's param groups, per-parameter state and
state dicts."""
from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

from tkern.autograd import enable_grad, no_grad
from tkern.tensor import Tensor


class Optimizer:
    """Base class of optimizers, like torch.optim.Optimizer. ``params`` is an iterable of tensors, of
    (name, tensor) pairs, or of dicts that define param groups; ``defaults`` fills in the options a
    group leaves out. A subclass implements ``_update(index, group, params)``, called by ``step`` under
    no_grad for each group with the group's parameters that have a gradient.

    >>> import tkern
    >>> w, b = tkern.ones(2, requires_grad=True), tkern.zeros(1, requires_grad=True)
    >>> opt = tkern.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        # what steps reuse between calls (pointer tables of the fused kernels, step counters), by group
        self._caches: dict = {}
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._caches = {}

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with options of its own, to optimize from now on.

        >>> import tkern
        >>> opt = tkern.optim.SGD([tkern.ones(2, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": tkern.zeros(3, requires_grad=True), "lr": 0.01})
        >>> len(opt.param_groups), opt.param_groups[1]["momentum"]
        (2, 0)
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or getattr(param, "retains_grad", False)):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        # tensors compare elementwise: membership goes by identity
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        taken: set = set()
        for group in self.param_groups:
            taken.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if not taken.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: drop them (``set_to_none``) or zero them in place.

        >>> import tkern
        >>> w = tkern.ones(2, requires_grad=True)
        >>> w.grad = tkern.ones(2)
        >>> tkern.optim.SGD([w]).zero_grad(set_to_none=False)
        >>> w.grad
        tensor([0., 0.])
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient by one step; ``closure`` (run with gradients
        enabled, before the update) re-evaluates the model and returns the loss, which step returns.

        >>> import tkern
        >>> w = tkern.ones(2, requires_grad=True)
        >>> w.grad = tkern.tensor([1.0, -1.0])
        >>> tkern.optim.SGD([w], lr=0.5).step()
        >>> w
        tensor([0.5000, 1.5000], requires_grad=True)
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for index, group in enumerate(self.param_groups):
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(index, group, params)
        return loss

    def _update(self, index: int, group: dict[str, Any], params: list) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as torch lays it out: ``state`` maps integer parameter ids to each
        parameter's state (its tensors, not copies), ``param_groups`` holds each group's options with
        the ids of its parameters.

        >>> import tkern
        >>> opt = tkern.optim.SGD([tkern.ones(2, requires_grad=True)], lr=0.1)
        >>> opt.state_dict()["param_groups"][0]["params"]
        [0]
        """
        ids: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                ids.setdefault(id(p), len(ids))
            packed["params"] = [ids[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(ids[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the state and group options of ``state_dict`` (from ``state_dict()`` of an optimizer of
        the same parameter layout); state tensors move to their parameter's device and dtype.

        >>> import tkern
        >>> opt = tkern.optim.SGD([tkern.ones(2, requires_grad=True)], lr=0.1)
        >>> saved = opt.state_dict()
        >>> opt.param_groups[0]["lr"] = 1.0
        >>> opt.load_state_dict(saved)
        >>> opt.param_groups[0]["lr"]
        0.1
        """
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        params = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in params:
                state[params[key]] = _cast(params[key], value)
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _cast(param: Tensor, value, key=None):
    """A loaded state value with its tensors on the parameter's device (and dtype, for floating point
    parameters); step counts stay as they are, as torch keeps them for its non-fused optimizers."""
    if isinstance(value, Tensor):
        if key == "step":
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value


def split_by(keys: list) -> dict:
    """Indices of ``keys`` grouped by value, in order of first appearance, or None for all of them when
    every key is the same (the usual case): the parameters one fused launch can update together.

    >>> split_by([2.0, 2.0, 1.0]), split_by([True, True])
    ({2.0: [0, 1], 1.0: [2]}, {True: None})
    """
    if keys.count(keys[0]) == len(keys):
        return {keys[0]: None}
    parts: dict = {}
    for i, key in enumerate(keys):
        parts.setdefault(key, []).append(i)
    return parts


def select(members: list | None, params: list, grads: list, states: tuple) -> tuple:
    """The arguments of ops.optimizer_step for the parameters at ``members`` (None: all of them).

    >>> select([1], ["p0", "p1"], ["g0", "g1"], (["s0", "s1"],))
    (['p1'], ['g1'], (['s1'],))
    """
    if members is None:
        return params, grads, states
    return [params[i] for i in members], [grads[i] for i in members], tuple([s[i] for i in members] for s in states)


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ in ("builtins", "") else f"{kind.__module__}.{kind.__qualname__}"
