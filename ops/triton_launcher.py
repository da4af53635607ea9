"""Launching a compiled Triton kernel again without Triton's generic per-call dispatch.

``kernel[grid](*args)`` binds the arguments, specialises each one in C, hashes the result into a
cache key, checks the kernel's globals and builds launch metadata: ~8 us of host time per launch,
more than the rest of a small tkern op. ``Launcher`` keeps every CompiledKernel that Triton's own
dispatch returned under a key of tkern's, and calls the compiled kernel's launcher directly when
the key comes round again.

The key must tell apart every pair of calls Triton would compile differently; being finer costs
only an extra trip through Triton's dispatch. So it holds constexprs, tuples and specialised ints by
exact value, unspecialised scalars by the type Triton gives them (i32/i64/u64 by range, fp32 for a
float), and tensors by dtype. Alignment of tensors is left out on purpose: tkern passes only storage
base pointers, which the caching allocator aligns to 512 bytes (``tests/test_triton_launcher.py``
checks the key against Triton's own choice of kernel).

A compiled kernel belongs to one GPU's context, so each Launcher keeps its kernels and plans per GPU,
and ``use_device`` (called by the backend before every operation, like torch's device guard) makes
the operands' GPU current and swaps in that GPU's.

The direct call mirrors JITFunction.run of Triton 3.6. Should a later release change the launcher's
arguments, the first direct launch raises TypeError, tkern warns once and goes back to Triton's
dispatch for the rest of the process.
"""
from __future__ import annotations

import warnings

import triton
from triton import knobs
from triton.runtime.jit import JITFunction

from . import triton_arguments

# bound on kept specialisations per kernel: the key holds sizes and offsets by value, so a program
# cycling through endless shapes would otherwise grow the cache without limit
_MAX_KEPT = 4096

_I32_MIN, _I32_MAX, _U64_MIN = -2 ** 31, 2 ** 31 - 1, 2 ** 63


def _range_of(value: int) -> int:
    """Triton's type for an unspecialised int: 0 for i32, 1 for i64, 2 for u64."""
    if _I32_MIN <= value <= _I32_MAX:
        return 0
    return 2 if value >= _U64_MIN else 1


def scalar_key(value) -> object:
    """What decides the Triton type of an unspecialised scalar argument: an int's range, or the
    value's Python type."""
    return _range_of(value) if type(value) is int else type(value)


def hooked() -> bool:
    """Whether a profiler listens to launches (Triton 3.6 keeps the hooks in HookChains, empty when
    nobody does; other releases use None)."""
    for hook in (knobs.runtime.launch_enter_hook, knobs.runtime.launch_exit_hook):
        if hook is not None and getattr(hook, "calls", True) != []:
            return True
    return False


# the GPU launches go to, as tkern last made it current (None before the first operation)
_current_device: int | None = None
_LAUNCHERS: list = []


def use_device(index: int) -> None:
    """Make GPU ``index`` the one the following launches go to."""
    if index != _current_device:
        _switch_device(index)


def _switch_device(index: int) -> None:
    global _current_device
    if not triton_arguments.INTERPRETING:  # (the interpreter has one device, and no driver to tell)
        triton.runtime.driver.active.set_current_device(index)
    _current_device = index
    for launcher in _LAUNCHERS:
        launcher.compiled, launcher.plans = launcher.per_device.setdefault(index, ({}, {}))


class Launcher:
    """``Launcher(kernel)(grid, *args, **kwargs)`` does what ``kernel[grid](*args, **kwargs)`` does.
    Hot call sites pass every argument, constexprs included, positionally in the kernel's parameter
    order; keyword arguments cost a rebinding per call."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        # GPU index -> (compiled, plans) of that GPU; the current GPU's two are also attributes
        self.per_device: dict = {}
        self.compiled: dict = {}
        self.tensors: tuple | None = None  # positions holding tensors, found on the first call
        self.tensor_tuples: tuple = ()  # positions holding tuples of tensors
        self.unspecialised: tuple = ()  # positions whose value goes in the key as its Triton type
        self.functions: tuple = ()  # positions holding jit functions (constexpr operations)
        self.plans: dict = {}  # a caller's plan key -> (compiled kernel, grid, arguments after the head)
        self.per_device[_current_device] = (self.compiled, self.plans)
        _LAUNCHERS.append(self)

    def key(self, args: tuple, options: dict) -> tuple:
        # a tensor stands in the key as its dtype: the key never keeps device memory alive
        key = list(args)
        tensors = self.tensors
        assert tensors is not None  # (launch_bound found them before its first key)
        for i in tensors:
            key[i] = args[i].dtype
        for i in self.tensor_tuples:
            key[i] = tuple(t.dtype for t in args[i])
        for i in self.functions:
            key[i] = id(args[i])  # a JITFunction's own hash works out its source hash: ~1 us
        for i in self.unspecialised:
            key[i] = scalar_key(args[i])
        if options:
            key.append(tuple(options.items()))
        return tuple(key)

    def __call__(self, grid: tuple, *args, **kwargs) -> None:
        """Keyword arguments that are not parameters (num_warps, num_stages) are launch options, as
        with ``kernel[grid]``."""
        if triton_arguments.INTERPRETING or hooked():
            # the interpreter has no compiled kernels; a profiler's hook wants Triton's metadata
            self.kernel[grid](*args, **kwargs)
            return
        options = kwargs
        if kwargs:
            names = self.kernel.arg_names
            args = args + tuple(kwargs[name] for name in names[len(args):])
            options = {k: v for k, v in kwargs.items() if k not in names}
        self.launch_bound(grid, args, options)

    def launch_bound(self, grid: tuple, args: tuple, options: dict) -> None:
        """Launch with every parameter in ``args`` and launch options apart."""
        if self.tensors is None:
            self.tensors = tuple(i for i, a in enumerate(args) if hasattr(a, "data_ptr"))
            self.tensor_tuples = tuple(i for i, a in enumerate(args)
                                       if type(a) is tuple and any(hasattr(t, "data_ptr") for t in a))
            self.unspecialised = tuple(p.num for p in self.kernel.params if p.do_not_specialize and not p.is_constexpr)
            self.functions = tuple(i for i, a in enumerate(args) if isinstance(a, JITFunction))
        key = self.key(args, options)
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.kernel[grid](*args, **options)
            if len(self.compiled) >= _MAX_KEPT:
                self.compiled.clear()
            self.compiled[key] = compiled
            return
        if _direct_launch_works is True:
            launch(compiled, grid, args)
        elif _direct_launch_works is None:
            _first_direct_launch(self.kernel, compiled, grid, args, options)
        else:
            self.kernel[grid](*args, **options)

    # Plans: a call site whose arguments split into a head that changes from call to call (base
    # pointers, scalar values) and a tail fixed by a key of its own (sizes, strides, offsets, options)
    # keeps the compiled kernel with the tail, and skips building the tail and this class's key.

    def launch_planned(self, plan_key, head: tuple) -> bool:
        """Launch ``head`` + the tail kept under ``plan_key``; False (nothing launched) when there is
        no plan. The caller's key must fix every argument outside the head, and the Triton type of
        each scalar in it; pointers in the head are storage bases, aligned alike."""
        plan = self.plans.get(plan_key)
        if plan is None or _direct_launch_works is not True or hooked():
            return False
        compiled, grid, tail = plan
        launch(compiled, grid, head + tail)
        return True

    def launch_and_plan(self, plan_key, grid: tuple, head: tuple, tail: tuple, **options) -> None:
        """Launch as ``self(grid, *head, *tail, **options)``, then keep a plan for ``plan_key`` once
        the direct launch is known to work and the compiled kernel is at hand."""
        args = head + tail
        self(grid, *args, **options)
        if _direct_launch_works is True and self.tensors is not None and not triton_arguments.INTERPRETING:
            compiled = self.compiled.get(self.key(args, options))
            if compiled is not None:
                if len(self.plans) >= _MAX_KEPT:
                    self.plans.clear()
                self.plans[plan_key] = (compiled, grid, tail)


# whether this Triton's compiled-kernel launcher takes JITFunction.run's arguments (Triton 3.6 does);
# None until the first direct launch tells
_direct_launch_works: bool | None = None


def _first_direct_launch(kernel, compiled, grid: tuple, args: tuple, options: dict) -> None:
    global _direct_launch_works
    try:
        launch(compiled, grid, args)
    except TypeError as err:
        _direct_launch_works = False
        warnings.warn(f"tkern: this Triton's kernel launcher changed ({err}); every launch goes through "
                      "Triton's dispatch (slower on the host)", RuntimeWarning, stacklevel=3)
        kernel[grid](*args, **options)
        return
    _direct_launch_works = True


def launch(compiled, grid: tuple, args: tuple) -> None:
    """The compiled kernel's own launcher, as JITFunction.run calls it (the compile-only stand-in
    driver of bench/ replaces this)."""
    stream = triton.runtime.driver.active.get_current_stream(_current_device)
    compiled.run(grid[0], grid[1] if len(grid) > 1 else 1, grid[2] if len(grid) > 2 else 1, stream,
                 compiled.function, compiled.packed_metadata, None, None, None, *args)
