"""The 'cuda' backend: every primitive as Triton kernels of this repository on raw device buffers.

Memory comes from ops.cuda_memory (torch allocates and copies bytes, nothing more); the kernels live
in ops/triton_*.py by family. With TRITON_INTERPRET=1 and no GPU the same kernels run in Triton's
interpreter on host memory.
"""
from __future__ import annotations

import numpy as np

from tkern import dtypes
from tkern.storage import Storage

from . import (cuda_memory, device_errors, triton_elementwise as elementwise, triton_indexing, triton_matmul,
               triton_norm, triton_optim, triton_polynomial, triton_random, triton_reduction, triton_rows)
from .array import Array, contiguous_strides, numel_of
from .backend import Backend
from .triton_launcher import use_device
from .triton_arguments import compute_type


class TritonBackend(Backend):
    """Every method that launches a kernel first makes its operands' GPU current (``use_device``)."""

    def empty(self, shape, dtype, device):
        nbytes = numel_of(shape) * dtype.itemsize
        buffer = cuda_memory.allocate(nbytes, dtype, device.index)
        storage = Storage(buffer, nbytes, device)
        storage._typed = {dtype: buffer}
        return Array(storage, shape, contiguous_strides(shape), 0, dtype)

    def from_numpy(self, array, device):
        data = np.asarray(array)
        if not data.flags.c_contiguous:
            data = np.ascontiguousarray(data)  # (which would also make a 0-d array 1-d)
        out = self.empty(data.shape, dtypes.from_numpy_dtype(data.dtype), device)
        cuda_memory.to_device(out.storage.data, data)
        return out

    def to_numpy(self, src):
        # a host read waits for every kernel before it: the errors they found surface here
        device_errors.raise_pending(src.device.index)
        if not src.is_contiguous():
            dense = self.empty(src.shape, src.dtype, src.device)
            self.copy(dense, src)
            src = dense
        item = src.dtype.itemsize
        raw = cuda_memory.to_host(src.storage.data, src.offset * item, src.numel() * item)
        return raw.view(src.dtype.numpy).reshape(src.shape)

    def fill(self, out, value):
        use_device(out.device.index)
        elementwise.run_fill(out, value)

    def sequence(self, out, start, step, end, split, compute):
        use_device(out.device.index)
        elementwise.run_sequence(out, start, step, end, split, compute_type(compute))

    def copy(self, out, src):
        if src.dtype is out.dtype and src.shape == out.shape and src.is_contiguous() and out.is_contiguous() \
                and src.strides == out.strides:
            item = src.dtype.itemsize
            cuda_memory.copy_bytes(out.storage.data, out.offset * item, src.storage.data, src.offset * item,
                                   src.numel() * item)
            return
        use_device(out.device.index)
        elementwise.run_unary(elementwise.copy_op, out, src, compute_type(out.dtype))

    def unary(self, op, x, compute, result, out=None):
        if out is None:
            out = self.empty(x.shape, result, x.device)
        use_device(out.device.index)
        elementwise.run_unary(elementwise.UNARY_OPS[op], out, x, compute_type(compute))
        return out

    def binary(self, op, a, b, shape, compute, result, out=None):
        if out is None:
            out = self.empty(shape, result, (a if type(a) is Array else b).device)
        use_device(out.device.index)
        elementwise.run_binary(elementwise.binary_op(op, compute, b), out, a, b, compute_type(compute))
        return out

    def binary_launcher(self, op, compute, result, a_type, b_type):
        if op == "pow" and not isinstance(b_type, dtypes.dtype):
            # the kernel's operation depends on the exponent's value (x ** 2, x ** 3 as multiplies)
            return super().binary_launcher(op, compute, result, a_type, b_type)
        operation = elementwise.binary_op(op, compute)
        tl_compute = compute_type(compute)
        empty = self.empty
        run_binary = elementwise.run_binary

        def launch(a, b, shape, out):
            if out is None:
                out = empty(shape, result, (a if type(a) is Array else b).device)
            use_device(out.device.index)
            run_binary(operation, out, a, b, tl_compute)
            return out
        return launch

    def ternary(self, op, a, b, c, shape, compute, out=None):
        if out is None:
            out = self.empty(shape, compute, a.device)
        use_device(out.device.index)
        if op == "clamp" and (b is None or c is None):
            bound_op = elementwise.clamp_max_op if b is None else elementwise.clamp_min_op
            elementwise.run_binary(bound_op, out, a, c if b is None else b, compute_type(compute))
        else:
            elementwise.run_ternary(elementwise.TERNARY_OPS[op], out, a, b, c, compute_type(compute))
        return out

    def reduce(self, op, x, dims, keepdim, compute, result):
        use_device(x.device.index)
        return triton_reduction.reduce(self, op, x, dims, keepdim, compute, result)

    def arg_reduce(self, op, values, indices, x, dim):
        use_device(x.device.index)
        triton_reduction.arg_reduce(self, op, values, indices, x, dim)

    def matmul(self, out, a, b, compute, bias=None, alpha=1, beta=1):
        use_device(out.device.index)
        triton_matmul.matmul(self, out, a, b, compute, bias, alpha, beta)

    def layer_norm(self, out, x, weight, bias, eps):
        use_device(out.device.index)
        triton_norm.layer_norm(out, x, weight, bias, eps)

    def layer_norm_backward(self, grad_x, grad_weight, grad_bias, x, g, weight, eps):
        use_device(grad_x.device.index)
        triton_norm.layer_norm_backward(self, grad_x, grad_weight, grad_bias, x, g, weight, eps)

    def gather(self, out, x, indices):
        use_device(out.device.index)
        triton_indexing.gather(self, out, x, indices)

    def scatter(self, x, indices, values, accumulate):
        use_device(x.device.index)
        triton_indexing.scatter(self, x, indices, values, accumulate)

    def check_class_targets(self, target, classes, ignore_index):
        use_device(target.device.index)
        triton_indexing.check_class_targets(self, target, classes, ignore_index)

    def scan(self, op, out, x):
        use_device(x.device.index)
        triton_rows.scan(self, op, out, x)

    def sort(self, values, indices, x, descending):
        use_device(x.device.index)
        triton_rows.sort(self, values, indices, x, descending)

    def nonzero(self, x):
        use_device(x.device.index)
        return triton_indexing.nonzero(self, x)

    def random(self, kind, out, generator, a=None, b=None):
        use_device(out.device.index)
        triton_random.random(self, kind, out, generator, a, b)

    def multinomial(self, probs, out, generator, replacement):
        use_device(probs.device.index)
        triton_random.multinomial(self, probs, out, generator, replacement)

    def optimizer_step(self, rule, params, grads, states, cache):
        use_device(params[0].device.index)
        triton_optim.optimizer_step(self, rule, params, grads, states, cache)

    def poly_loss_grad(self, x, y, coeffs, scale, loss, grad, dx, dy):
        use_device(x.device.index)
        triton_polynomial.loss_grad(self, x, y, coeffs, scale, loss, grad, dx, dy)

    def poly_fit(self, x, y, coeffs, lr, steps, scale, out, losses):
        use_device(x.device.index)
        triton_polynomial.fit(self, x, y, coeffs, lr, steps, scale, out, losses)
