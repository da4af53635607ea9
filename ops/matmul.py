"""Matrix products: dot, mm, bmm and matmul with torch's shape rules and batch broadcasting, and addmm and
baddbmm, whose scaling and added input the backends apply as the product is written."""
from __future__ import annotations

from tkern import dtypes

from .allocation import TORCH_TYPE_NAMES, empty
from .array import Array
from .backend import backend_for
from .elementwise import expand_to
from .shapes import broadcast_shapes
from .views import expand, squeeze, unsqueeze

_SHORT_NAMES = {dtypes.float32: "float", dtypes.float64: "double", dtypes.float16: "c10::Half",
                dtypes.bfloat16: "c10::BFloat16", dtypes.int64: "long int", dtypes.int32: "int"}


def _check_dtypes(a: Array, b: Array) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{_SHORT_NAMES.get(a.dtype, a.dtype.name)} != {_SHORT_NAMES.get(b.dtype, b.dtype.name)}")
    if a.device != b.device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{a.device} and {b.device}!")


def _refuse_bool(a: Array, kernel: str) -> None:
    if a.dtype is dtypes.bool:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _check_batched_dtypes(a: Array, b: Array, has_work: bool) -> None:
    """bmm's checks, in torch's order: a bool first operand (when there is work), the dtypes, the devices."""
    if has_work:
        _refuse_bool(a, "bmm")
    if a.dtype is not b.dtype and a.device == b.device:
        raise RuntimeError(f"expected scalar type {TORCH_TYPE_NAMES[a.dtype]} but found {TORCH_TYPE_NAMES[b.dtype]}")
    _check_dtypes(a, b)


def _has_work(a: Array, b: Array, batch: tuple) -> bool:
    """Whether a product sums anything: torch's kernels (and their refusal of bool) run only then."""
    return bool(a.shape[-1]) and 0 not in batch + (a.shape[-2], b.shape[-1])


def _product(a: Array, b: Array, batch: tuple, kernel: str, bias: Array | None = None, alpha=1, beta=1) -> Array:
    """(batch..., m, k) @ (batch..., k, n) after expanding both to the batch shape, times alpha, plus beta *
    bias (expanded to the result's shape; none when beta is 0, as torch then ignores it, NaN and all);
    ``kernel`` names torch's CPU kernel in the refusal of bool, which comes only when there is work."""
    if _has_work(a, b, batch):
        _refuse_bool(a, kernel)
    m, n = a.shape[-2], b.shape[-1]
    a = expand_to(a, batch + a.shape[-2:])
    b = expand_to(b, batch + b.shape[-2:])
    out = empty(batch + (m, n), a.dtype, a.device)
    if bias is not None and beta == 0:
        bias = None
    if bias is not None:
        bias = expand(bias, out.shape)
    backend_for(a.device).matmul(out, a, b, a.dtype, bias, alpha, beta)
    return out


def _mixed_empty_product(a: Array, b: Array, shape: tuple) -> Array | None:
    """torch's bmm checks dtypes only when it computes something: a product of another dtype pair that
    is empty, or sums over an empty k, comes back as zeros in b's dtype. None when there is work to do."""
    if a.dtype is b.dtype or a.device != b.device or (0 not in shape and a.shape[-1] != 0):
        return None
    out = empty(shape, b.dtype, b.device)
    if out.numel():
        backend_for(b.device).fill(out, 0)
    return out


def dot(a: Array, b: Array) -> Array:
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the "
            f"same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found "
            f"{TORCH_TYPE_NAMES[a.dtype]} and {TORCH_TYPE_NAMES[b.dtype]}")
    _check_dtypes(a, b)
    _refuse_bool(a, "dot")  # (even when empty)
    return squeeze(_product(unsqueeze(a, 0), unsqueeze(b, 1), (), "dot"), None)


def mm(a: Array, b: Array) -> Array:
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _check_dtypes(a, b)
    return _product(a, b, (), "addmm_impl_cpu_")


def _check_batches(a: Array, b: Array, short_batch2_is_index_error: bool = False) -> None:
    """torch's checks of bmm's and baddbmm's batches of matrices (baddbmm reads batch2's dim 2 first)."""
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if short_batch2_is_index_error and b.ndim < 3:
        dims = max(b.ndim, 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-dims}, {dims - 1}], but got 2)")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] "
            f"but got: [{b.shape[0]}, {b.shape[1]}].")


def bmm(a: Array, b: Array) -> Array:
    _check_batches(a, b)
    mixed = _mixed_empty_product(a, b, (a.shape[0], a.shape[1], b.shape[2]))
    if mixed is not None:
        return mixed
    _check_batched_dtypes(a, b, _has_work(a, b, a.shape[:1]))
    return _product(a, b, a.shape[:1], "bmm")


def addmm(input: Array, a: Array, b: Array, beta=1, alpha=1) -> Array:
    """beta * input + alpha * (a @ b), input broadcast to the (m, n) result."""
    for name, x in (("mat1", a), ("mat2", b)):
        if x.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {x.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    expand(input, (a.shape[0], b.shape[1]))  # (torch's error for an input that does not broadcast comes first)
    for first, name in ((input, "self"), (a, "mat1")):
        if first.dtype is not b.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {TORCH_TYPE_NAMES[first.dtype]} and "
                               f"{TORCH_TYPE_NAMES[b.dtype]}")
    _check_dtypes(input, a)
    _check_dtypes(a, b)
    return _product(a, b, (), "addmm_impl_cpu_", input, alpha, beta)


def baddbmm(input: Array, a: Array, b: Array, beta=1, alpha=1) -> Array:
    """beta * input + alpha * (a @ b) for batches of matrices, input broadcast to the (batch, m, n) result."""
    _check_batches(a, b, short_batch2_is_index_error=True)
    expand(input, (a.shape[0], a.shape[1], b.shape[2]))
    if input.dtype is not a.dtype:
        names = (_SHORT_NAMES.get(x.dtype, x.dtype.name) for x in (input, a, b))
        raise RuntimeError("Input dtypes must be the same, got: input {}, batch1: {}, batch2: {}".format(*names))
    _check_batched_dtypes(a, b, False)
    _check_dtypes(input, a)
    return _product(a, b, a.shape[:1], "baddbmm", input, alpha, beta)


def _folds_into_mm(a: Array, b: Array, smaller_requires_grad: bool) -> bool:
    """torch's should_fold: whether matmul of a batch with a matrix or vector becomes one mm or mv
    (checked like mm: dtypes first) rather than a broadcast bmm (an empty bmm checks nothing).
    A 2-D or 1-D first operand against a batch folds through the batch's transpose."""
    a_larger = a.ndim >= b.ndim
    larger, smaller_ndim = (a, b.ndim) if a_larger else (b, a.ndim)
    if larger.ndim < 3 or smaller_ndim > 2:
        return False
    if smaller_requires_grad:  # torch folds so that the smaller operand's gradient is one mm
        return True
    if a.ndim == 2:
        return False
    if larger.numel() == 0:
        return True
    shape, strides = list(larger.shape), list(larger.strides)
    if not a_larger:
        shape[-2:], strides[-2:] = shape[:-3:-1], strides[:-3:-1]
    # torch's own test (stricter than a view's: a size-1 dim's stride counts)
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _check_folded_dtypes(a: Array, b: Array) -> None:
    """The dtype check of the mm or mv a non-batched matmul becomes; a batch on the right is folded
    through its transpose (it becomes mm's first operand, or mv's matrix with a the vector)."""
    if a.ndim == 1 and b.ndim == 2:
        _check_dtypes(a, b)
        return
    matrix, vector = (a, b) if a.ndim >= b.ndim else (b, a)
    if vector.ndim == 1 and matrix.dtype is not vector.dtype and matrix.device == vector.device:
        names = TORCH_TYPE_NAMES[vector.dtype], TORCH_TYPE_NAMES[matrix.dtype]
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {names[0]}, {names[1]}, and {names[0]}")
    _check_dtypes(matrix, vector)


def matmul(a: Array, b: Array, a_requires_grad: bool = False, b_requires_grad: bool = False) -> Array:
    """torch.matmul. ``a_requires_grad``, ``b_requires_grad``: the operand requires grad (and there is
    no out=), which changes how torch folds batches into mm, and so its dtype checks."""
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] != b.shape[0]:
        # torch drops a batch of one that requires grad, so that its gradient is not summed over a batch
        if a.shape[0] == 1 and a_requires_grad:
            return matmul(squeeze(a, 0), b, a_requires_grad, b_requires_grad)
        if b.shape[0] == 1 and b_requires_grad:
            return matmul(a, squeeze(b, 0), a_requires_grad, b_requires_grad)
    smaller_requires_grad = b_requires_grad if a.ndim >= b.ndim else a_requires_grad
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 2:
        return mm(a, b)
    if a.ndim == 2 and b.ndim == 1 or a.ndim == 1 and b.ndim == 2:
        if b.ndim == 1 and a.shape[1] != b.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})")
    # a folded product is one mm or mv, which checks dtypes first (a batch on the right folds through
    # its transpose, so torch names it m1); the rest go to bmm
    through_bmm = (a.ndim >= 3 or b.ndim >= 3) and not _folds_into_mm(a, b, smaller_requires_grad)
    if not through_bmm:
        _check_folded_dtypes(a, b)
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    a2 = unsqueeze(a, 0) if a_vector else a
    b2 = unsqueeze(b, 1) if b_vector else b
    if a2.shape[-1] != b2.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a2.shape[-3] if a2.ndim > 2 else 1}, {a2.shape[-1]}] but got: "
            f"[{b2.shape[-3] if b2.ndim > 2 else 1}, {b2.shape[-2]}].")
    batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    if through_bmm:
        mixed = _mixed_empty_product(a2, b2, batch + (a2.shape[-2], b2.shape[-1]))
        if mixed is not None:
            return mixed
        _check_batched_dtypes(a, b, _has_work(a2, b2, batch))
    # the kernel torch's matmul reaches: bmm, or the mv or mm it folds into
    kernel = "bmm" if through_bmm else "addmv_impl_cpu" if b_vector or a_vector and b.ndim >= 3 else "addmm_impl_cpu_"
    out = _product(a2, b2, batch, kernel)
    if a_vector:
        out = squeeze(out, out.ndim - 2)
    if b_vector:
        out = squeeze(out, out.ndim - 1)
    return out
