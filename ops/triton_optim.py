"""Fused optimizer steps on 'cuda': one kernel launch updates every parameter of a param group (of one
dtype), whatever their number and sizes.

The design is multi-tensor apply (apex's multi_tensor_apply, torch's fused Adam) with its metadata in
device memory instead of in the kernel's arguments. apex packs up to ~110 addresses into a struct passed
by value and launches again when it fills up; Triton passes no such struct, while a table in device
memory holds any number of parameters for a single launch. The table, an int64 device tensor built on
the host, holds per parameter its size and the places of the parameter and of each state tensor (as
element offsets from the first parameter's storage, which the launch passes as a typed pointer), and
per program a (parameter index, first element) pair: program ``pid`` reads its pair, loads the places
and updates one block of that parameter. When every place is a multiple of 16 bytes' worth of
elements the host says so (VEC), and full blocks run unmasked: loads and stores are then 16-byte
vectors, which pointers made from addresses read out of memory never get. Gradient addresses sit in a second,
small table: gradients are new tensors after every ``zero_grad()``.

Host cost per step: the table is built and uploaded only when the parameter or state Arrays change
(checked by identity; the cache holds those Arrays, so their addresses can't pass to another storage
meanwhile); gradient addresses are compared with the last step's and uploaded only when they differ
(on a GPU such an upload waits for the work queued before it, as torch copies pageable host memory
synchronously: gradients that keep their addresses, as with ``zero_grad(set_to_none=False)``, give
steps that never wait); the step's scalars travel as arguments, as float64 bits, so that float64
parameters see torch's exact values. The kernel reads and writes contiguous memory: a non-contiguous operand goes through a
contiguous copy (two extra copy launches for it, and the table is rebuilt at every such step).
"""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from tkern import dtypes

from . import cuda_memory
from .array import contiguous_strides
from .optimizer_step import AdamStep
from .triton_launcher import Launcher
from .triton_elementwise import BINARY_OPS, UNARY_OPS, maximum_op
from .triton_arguments import TL_TYPES, block_for, compute_type, float64_bits, pointer, scalar_from_bits

_sqrt = UNARY_OPS["sqrt"]
_divide = BINARY_OPS["div"]
_maximum = maximum_op


@triton.jit
def _entry(table, n_params, STATES: tl.constexpr, BLOCK: tl.constexpr):
    """This program's parameter index, first element and the parameter's size, from the table."""
    entry = table + (2 + STATES) * n_params + 2 * tl.program_id(0)
    i = tl.load(entry)
    return i, tl.multiple_of(tl.load(entry + 1), BLOCK), tl.load(table + i)


@triton.jit
def _pointers(base, table, row, n_params, i, offsets, VEC: tl.constexpr):
    """Pointers to the block's elements of the operand whose places fill ``row`` (element offsets from
    ``base``). VEC: a multiple every such offset is (the host checked), 16 bytes' worth of elements
    when all are aligned, so that loads and stores can be vectors."""
    return base + tl.multiple_of(tl.load(table + row * n_params + i), VEC) + offsets


@triton.jit
def _parameter_and_gradient(base, table, grad_table, n_params, i, offsets, mask, COMPUTE: tl.constexpr,
                            MAXIMIZE: tl.constexpr, VEC: tl.constexpr):
    """The parameter's pointers, and its values and (negated when maximizing) gradient in the compute
    type: how every update starts."""
    param_ptrs = _pointers(base, table, 1, n_params, i, offsets, VEC)
    p = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    g = tl.load(_pointers(base, grad_table, 0, n_params, i, offsets, VEC), mask=mask).to(COMPUTE)
    if MAXIMIZE:
        g = -g
    return param_ptrs, p, g


# Each kernel runs its update on a whole block unmasked, or on the parameter's last, partial block
# under a mask: a mask against a size of unknown divisibility would make every load and store scalar.


@triton.jit(do_not_specialize=["n_params", "lr", "weight_decay", "momentum", "dampening_complement"])
def sgd_kernel(base, table, grad_table, n_params, lr, weight_decay, momentum, dampening_complement,
               DTYPE: tl.constexpr, COMPUTE: tl.constexpr, STATES: tl.constexpr, MAXIMIZE: tl.constexpr,
               WEIGHT_DECAY: tl.constexpr, NESTEROV: tl.constexpr, FIRST: tl.constexpr, VEC: tl.constexpr,
               BLOCK: tl.constexpr):
    """torch's single-tensor SGD; STATES is 1 with momentum (the buffer's addresses fill row 2)."""
    i, start, size = _entry(table, n_params, STATES, BLOCK)
    offsets = start + tl.arange(0, BLOCK)
    if start + BLOCK <= size:
        _sgd_block(base, table, grad_table, n_params, lr, weight_decay, momentum, dampening_complement, i, offsets, None,
                   DTYPE, COMPUTE, STATES, MAXIMIZE, WEIGHT_DECAY, NESTEROV, FIRST, VEC)
    else:
        _sgd_block(base, table, grad_table, n_params, lr, weight_decay, momentum, dampening_complement, i, offsets,
                   offsets < size, DTYPE, COMPUTE, STATES, MAXIMIZE, WEIGHT_DECAY, NESTEROV, FIRST, VEC)


@triton.jit
def _sgd_block(base, table, grad_table, n_params, lr, weight_decay, momentum, dampening_complement, i, offsets, mask,
               DTYPE: tl.constexpr, COMPUTE: tl.constexpr, STATES: tl.constexpr, MAXIMIZE: tl.constexpr,
               WEIGHT_DECAY: tl.constexpr, NESTEROV: tl.constexpr, FIRST: tl.constexpr, VEC: tl.constexpr):
    param_ptrs, p, g = _parameter_and_gradient(base, table, grad_table, n_params, i, offsets, mask, COMPUTE,
                                               MAXIMIZE, VEC)
    if WEIGHT_DECAY:
        g = g + scalar_from_bits(weight_decay, COMPUTE) * p
    if STATES == 1:
        m = scalar_from_bits(momentum, COMPUTE)
        buffer_ptrs = _pointers(base, table, 2, n_params, i, offsets, VEC)
        if FIRST:
            buffer = g
        else:
            dampened = scalar_from_bits(dampening_complement, COMPUTE) * g
            buffer = tl.load(buffer_ptrs, mask=mask).to(COMPUTE) * m + dampened
        tl.store(buffer_ptrs, buffer.to(DTYPE), mask=mask)
        if NESTEROV:
            g = g + m * buffer
        else:
            g = buffer
    tl.store(param_ptrs, (p - scalar_from_bits(lr, COMPUTE) * g).to(DTYPE), mask=mask)


@triton.jit(do_not_specialize=["n_params", "weight_decay", "decay_factor", "beta1_complement", "beta2",
                               "beta2_complement", "eps", "step_size", "bias_correction2_sqrt"])
def adam_kernel(base, table, grad_table, n_params, weight_decay, decay_factor, beta1_complement, beta2,
                beta2_complement, eps, step_size, bias_correction2_sqrt,
                DTYPE: tl.constexpr, COMPUTE: tl.constexpr, STATES: tl.constexpr, MAXIMIZE: tl.constexpr,
                WEIGHT_DECAY: tl.constexpr, DECOUPLED: tl.constexpr, LERP_FROM_END: tl.constexpr,
                FIRST: tl.constexpr, VEC: tl.constexpr, BLOCK: tl.constexpr):
    """torch's single-tensor Adam (AdamW when DECOUPLED); rows 2, 3 (and 4 with amsgrad, STATES 3) hold
    the addresses of exp_avg, exp_avg_sq (and max_exp_avg_sq)."""
    i, start, size = _entry(table, n_params, STATES, BLOCK)
    offsets = start + tl.arange(0, BLOCK)
    if start + BLOCK <= size:
        _adam_block(base, table, grad_table, n_params, weight_decay, decay_factor, beta1_complement, beta2,
                    beta2_complement, eps, step_size, bias_correction2_sqrt, i, offsets, None, DTYPE, COMPUTE, STATES,
                    MAXIMIZE, WEIGHT_DECAY, DECOUPLED, LERP_FROM_END, FIRST, VEC)
    else:
        _adam_block(base, table, grad_table, n_params, weight_decay, decay_factor, beta1_complement, beta2,
                    beta2_complement, eps, step_size, bias_correction2_sqrt, i, offsets, offsets < size, DTYPE,
                    COMPUTE, STATES, MAXIMIZE, WEIGHT_DECAY, DECOUPLED, LERP_FROM_END, FIRST, VEC)


@triton.jit
def _adam_block(base, table, grad_table, n_params, weight_decay, decay_factor, beta1_complement, beta2, beta2_complement,
                eps, step_size, bias_correction2_sqrt, i, offsets, mask, DTYPE: tl.constexpr, COMPUTE: tl.constexpr,
                STATES: tl.constexpr, MAXIMIZE: tl.constexpr, WEIGHT_DECAY: tl.constexpr, DECOUPLED: tl.constexpr,
                LERP_FROM_END: tl.constexpr, FIRST: tl.constexpr, VEC: tl.constexpr):
    param_ptrs, p, g = _parameter_and_gradient(base, table, grad_table, n_params, i, offsets, mask, COMPUTE,
                                               MAXIMIZE, VEC)
    if WEIGHT_DECAY:
        if DECOUPLED:
            p = p * scalar_from_bits(decay_factor, COMPUTE)
        else:
            g = g + scalar_from_bits(weight_decay, COMPUTE) * p
    avg_ptrs = _pointers(base, table, 2, n_params, i, offsets, VEC)
    avg_sq_ptrs = _pointers(base, table, 3, n_params, i, offsets, VEC)
    if FIRST:
        # new moments are torch's zeros: their memory was never written
        avg = tl.zeros_like(g)
        avg_sq = tl.zeros_like(g)
    else:
        avg = tl.load(avg_ptrs, mask=mask).to(COMPUTE)
        avg_sq = tl.load(avg_sq_ptrs, mask=mask).to(COMPUTE)
    # torch's lerp: from the start for a weight under 0.5, from the end otherwise
    weight = scalar_from_bits(beta1_complement, COMPUTE)
    if LERP_FROM_END:
        avg = g - (g - avg) * (1.0 - weight)
    else:
        avg = avg + weight * (g - avg)
    avg_sq = avg_sq * scalar_from_bits(beta2, COMPUTE) + scalar_from_bits(beta2_complement, COMPUTE) * g * g
    tl.store(avg_ptrs, avg.to(DTYPE), mask=mask)
    tl.store(avg_sq_ptrs, avg_sq.to(DTYPE), mask=mask)
    second = avg_sq
    if STATES == 3:
        max_ptrs = _pointers(base, table, 4, n_params, i, offsets, VEC)
        if not FIRST:
            second = _maximum(tl.load(max_ptrs, mask=mask).to(COMPUTE), avg_sq)
        tl.store(max_ptrs, second.to(DTYPE), mask=mask)
    denom = _divide(_sqrt(second), scalar_from_bits(bias_correction2_sqrt, COMPUTE)) + scalar_from_bits(eps, COMPUTE)
    p = p + _divide(-scalar_from_bits(step_size, COMPUTE) * avg, denom)
    tl.store(param_ptrs, p.to(DTYPE), mask=mask)


_launch_sgd = Launcher(sgd_kernel)
_launch_adam = Launcher(adam_kernel)


def _places(arrays, base: int) -> list:
    """Each array's first element as an element offset from the byte address ``base`` (storages start on
    allocator boundaries, so every difference is a whole number of elements)."""
    return [(a.storage.data.data_ptr() - base) // a.dtype.itemsize + a.offset for a in arrays]


class _Tables:
    """The device tables for one list of parameters and their states, and the Arrays they address."""

    def __init__(self, backend, params: list, states: tuple):
        self.params, self.states = params, states
        device = params[0].device
        sizes = np.array([a.numel() for a in params], np.int64)
        self.block = block_for(int(sizes.max()))
        counts = -(-sizes // self.block)
        owners = np.repeat(np.arange(len(params)), counts)
        starts = (np.arange(owners.size) - np.repeat(np.cumsum(counts) - counts, counts)) * self.block
        # every place counts from the first parameter's storage, which the launch passes as a pointer
        self.base = params[0].storage.data.data_ptr()
        rows: list = [sizes, _places(params, self.base)] + [_places(s, self.base) for s in states]
        self.vector = 16 // params[0].dtype.itemsize
        self.aligned = all(place % self.vector == 0 for row in rows[1:] for place in row)
        table = np.concatenate([np.array(row, np.int64) for row in rows] + [np.stack([owners, starts], 1).reshape(-1)])
        self.table = backend.from_numpy(table, device)
        self.grid = (owners.size,)
        self.grad_table = backend.empty((len(params),), dtypes.int64, device)
        self.grad_places: list | None = None
        self.grads_aligned = False

    def serves(self, params: list, states: tuple) -> bool:
        return self.params == params and self.states == states

    def point_at(self, grads: list) -> None:
        """Upload the gradients' places unless the table holds them already."""
        places = _places(grads, self.base)
        if places != self.grad_places:
            cuda_memory.to_device(self.grad_table.storage.data, np.array(places, np.int64))
            self.grad_places = places
            self.grads_aligned = all(place % self.vector == 0 for place in places)


def _contiguous(backend, arrays: list, written: list | None) -> list:
    """arrays with each non-contiguous one replaced by a contiguous copy; (original, copy) pairs are
    added to ``written`` when the copies must be written back."""
    result = []
    for a in arrays:
        # the stride comparison settles the usual case at a fifth of is_contiguous's cost
        if a.strides != contiguous_strides(a.shape) and not a.is_contiguous():
            copy = backend.empty(a.shape, a.dtype, a.device)
            backend.copy(copy, a)
            if written is not None:
                written.append((a, copy))
            a = copy
        result.append(a)
    return result


def optimizer_step(backend, rule, params: list, grads: list, states: tuple, cache: dict) -> None:
    """One fused launch for ``params`` of one device and dtype; see Backend.optimizer_step.

    >>> import tkern  # on a GPU, or with TRITON_INTERPRET=1
    >>> w = tkern.ones(3, device="cuda", requires_grad=True)
    >>> w.grad = tkern.full((3,), 2.0, device="cuda")
    >>> tkern.optim.SGD([w], lr=0.25).step()  # reaches this function through the 'cuda' backend
    >>> w
    tensor([0.5000, 0.5000, 0.5000], device='cuda:0', requires_grad=True)
    """
    written: list = []
    tables = cache.get("tables")
    if tables is None or not tables.serves(params, states):
        params = _contiguous(backend, params, written)
        states = tuple(_contiguous(backend, s, written) for s in states)
        tables = cache["tables"] = _Tables(backend, params, states)
    # the contiguous copies of gradients must outlive the launch
    grads = _contiguous(backend, grads, None)
    tables.point_at(grads)
    if tables.grid[0]:
        _launch(rule, tables, params[0].dtype)
    for original, copy in written:
        backend.copy(original, copy)


def _launch(rule, tables: _Tables, dtype) -> None:
    table, grad_table, n = pointer(tables.table), pointer(tables.grad_table), len(tables.params)
    base = pointer(tables.params[0])
    compute = compute_type(dtype)
    vector = tables.vector if tables.aligned and tables.grads_aligned else 1
    if isinstance(rule, AdamStep):
        weight = 1 - rule.beta1
        # torch's lerp compares the weight in its compute type
        from_end = abs(float(np.float32(weight)) if compute is not tl.float64 else weight) >= 0.5
        _launch_adam(tables.grid, base, table, grad_table, n, float64_bits(rule.weight_decay),
                     float64_bits(1 - rule.lr * rule.weight_decay), float64_bits(weight), float64_bits(rule.beta2),
                     float64_bits(1 - rule.beta2), float64_bits(rule.eps), float64_bits(rule.step_size),
                     float64_bits(rule.bias_correction2_sqrt), TL_TYPES[dtype], compute, rule.states, rule.maximize,
                     rule.weight_decay != 0, rule.decoupled, from_end, rule.first, vector, tables.block)
    else:
        _launch_sgd(tables.grid, base, table, grad_table, n, float64_bits(rule.lr), float64_bits(rule.weight_decay),
                    float64_bits(rule.momentum), float64_bits(1 - rule.dampening), TL_TYPES[dtype], compute,
                    rule.states, rule.maximize, rule.weight_decay != 0, rule.nesterov, rule.first, vector, tables.block)
