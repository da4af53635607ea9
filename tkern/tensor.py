"""The Tensor: a strided view of device memory plus autograd fields; methods follow torch."""
from __future__ import annotations

import builtins
import warnings
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from tkern import ops
from tkern.autograd.grad_mode import is_grad_enabled
from tkern.ops.array import Array
from tkern.ops.backend import backend_for

from . import dtypes
from .device import as_device
from .size import Size
from .storage import Storage

_Number = (int, float, bool)


_new_tensor = object.__new__
_weak = weakref.ref


def wrap(array: Array) -> "Tensor":
    """A new Tensor (no autograd history) around an Array."""
    t = _new_tensor(Tensor)
    t._a = array
    t._requires_grad = False
    return t


def _view_of(source: "Tensor", array: Array) -> "Tensor":
    """A new Tensor around ``array``; when it shares source's memory it is a view, and remembers
    its base (the tensor that owns the memory, as torch's ``_base``), whose live views autograd
    follows when an in-place write changes the base's history."""
    t = _new_tensor(Tensor)
    t._a = array
    t._requires_grad = False
    storage = array._storage
    if storage is not None and storage is source._a._storage:
        base = source._base
        if base is None:
            base = source
        t._base = base
        if source._multi_output_view is not None:
            t._multi_output_view = source._multi_output_view
        if source._no_grad_view or not _grad_enabled():
            # (a recorded view op clears this on its output: it runs with grad mode off itself)
            t._no_grad_view = True
        views = base.__dict__.get("_views")
        if views is None:
            views = base._views = []
        views.append(_weak(t))  # (a WeakSet costs 4x as much per view)
        n = len(views)
        if n >= 64 and not n & (n - 1):
            views[:] = [v for v in views if v() is not None]
    return t


def unwrap(x):
    """The Array of a Tensor; Python numbers pass through; numpy scalars become Python numbers."""
    if type(x) is Tensor:
        return x._a
    if isinstance(x, Tensor):
        return x._a
    if isinstance(x, _Number):
        return x
    if isinstance(x, (np.generic,)):
        return x.item()
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


_ops_binary = ops.binary
_grad_enabled = is_grad_enabled


def _binary(op: str, a, b, out=None) -> "Tensor":
    if out is not None:
        return _into(out, lambda o: ops.binary(op, unwrap(a), unwrap(b), out=o), lambda: ops.binary(op, unwrap(a), unwrap(b)),
                     op)
    t = _new_tensor(Tensor)
    kind = type(b)
    t._a = _ops_binary(op, a._a if type(a) is Tensor else unwrap(a),
                       b._a if kind is Tensor else b if kind is float or kind is int else unwrap(b))
    t._requires_grad = False
    return t


def _inplace_binary(op: str, self: "Tensor", other, differentiable) -> "Tensor":
    """``self op= other``; ``differentiable`` is the operation's recorded function (None: no gradient)."""
    if self._requires_grad or isinstance(other, Tensor) and other._requires_grad or self._no_grad_view:
        self._check_inplace()
        if (self._requires_grad or isinstance(other, Tensor) and other._requires_grad) and _grad_enabled() \
                and differentiable is not None:
            # x *= x reads the old x on both sides (keeping x itself would make a reference cycle)
            return _recorded_inplace(self, lambda old: differentiable(old, old if other is self else other))
    a = self._a
    ops.binary(op, a, other._a if type(other) is Tensor else unwrap(other), a)
    return self


def _recorded_inplace(self: "Tensor", compute) -> "Tensor":
    """An in-place op on a tensor of the graph: computed out of place from a copy of the old value
    (a node of its own), written back, and the tensor's history moved on to the new node. Through a
    view, the base's history moves on instead (torch's CopySlices), and every live view of the base
    is re-derived from it."""
    from tkern.autograd import view_history
    from tkern.autograd.grad_mode import no_grad
    if self._no_grad_view:
        raise RuntimeError(_NO_GRAD_VIEW)
    if self._multi_output_view is not None:
        raise RuntimeError(
            f"{self._multi_output_view} is a view and is being modified inplace. This view is the output of a "
            "function that returns multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one.")
    base = self._base
    # through a view, the old value is read afresh from the base's history, as in torch: the view's
    # own node (and any hook on it) is not on the path of the write
    old = self if base is None else base.as_strided(self._a.shape, self._a.strides, self._a.offset)
    new = compute(old.clone())
    if not dtypes.can_cast(new.dtype, self.dtype):
        raise RuntimeError(f"result type {ops.TORCH_TYPE_NAMES[new.dtype]} can't be cast to the desired output type "
                           f"{ops.TORCH_TYPE_NAMES[self.dtype]}")
    with no_grad():
        ops.copy_into(self._a, new._a)
    if not self._a.dtype.is_floating_point:
        return self  # an integer tensor has no gradient, whatever was written into it
    retained = view_history.take_retained_grad_hook(self)
    if base is not None:
        view_history.copy_slices(base, self, new)
    else:
        self._requires_grad = new._requires_grad
        self.grad_fn = new.grad_fn
        self._output_nr = new._output_nr
        if "_views" in self.__dict__:
            view_history.rederive_views(self)
    if retained is not None and self.grad_fn is not None:
        self.grad_fn.output_hooks(self._output_nr).append(retained)  # retain_grad follows the new value
    return self


def _written_in_place(self: "Tensor", compute, *others) -> "Tensor":
    """``self`` overwritten with ``compute(self)`` (an operation of the same shape and dtype): where
    ``self`` or a tensor among ``others`` needs a graph, recorded as that operation on the old value
    (_recorded_inplace); else the result copied in, after torch's check that it has self's shape."""
    self._check_inplace()
    if _grad_enabled() and (self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)):
        return _recorded_inplace(self, compute)
    result = compute(self)._a
    if result.shape != self._a.shape:
        raise RuntimeError(f"output with shape {list(self._a.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    ops.copy_into(self._a, result)
    return self


_NO_GRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use "
    "case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the "
    "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
    "you want the inplace to be tracked).")


def _replaced(old: "Tensor", value) -> "Tensor":
    """``value`` (a number, or a tensor broadcast to old's shape) in place of ``old``, recorded so
    that old gets a zero gradient (not old * 0, which would turn inf and NaN into NaN)."""
    import tkern
    everywhere = tkern.ones(old._a.shape, dtype=dtypes.bool, device=old._a.device)
    return tkern.where(everywhere, value, old)


def _into(out: "Tensor", write, compute, name: str = "") -> "Tensor":
    """Run op ``name`` into a user's out= tensor, resizing it like torch when its shape differs."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._requires_grad and _grad_enabled():
        raise RuntimeError(f"{name + '(): ' if name else ''}functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    try:
        write(out._a)
        return out
    except RuntimeError as err:
        if "doesn't match the broadcast shape" not in str(err):
            raise
    result = compute()
    if not dtypes.can_cast(result.dtype, out.dtype):
        raise RuntimeError(
            f"result type {ops.TORCH_TYPE_NAMES[result.dtype]} can't be cast to the desired output type "
            f"{ops.TORCH_TYPE_NAMES[out.dtype]}")
    out.resize_(result.shape)
    ops.copy_into(out._a, result)
    return out


def _dims_arg(dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


class Tensor:
    """A multi-dimensional array on 'cpu' or 'cuda' with torch's API."""

    # _a and _requires_grad are read by every operation: slots are the fastest attributes there are.
    # Every way of making a Tensor sets both (wrap(), the operators, __init__); a __getattr__ fallback
    # would cost more than it saves, as CPython then stops specialising attribute reads on Tensors
    __slots__ = ("_a", "_requires_grad", "__dict__", "__weakref__")
    grad_fn = None
    _output_nr = 0  # which output of grad_fn this tensor is
    _base: Tensor | None = None  # for a view: the tensor whose memory it views (torch's Tensor._base)
    _no_grad_view = False  # a view made with grad mode off (or a view of one): a recorded write through it fails
    _multi_output_view = None  # "Output i of Split" for a piece of split/chunk/unbind (and views of one)
    _a: Array
    _views: list  # on a base: weak references to its views (made with the first view)

    if TYPE_CHECKING:
        # the operations of the table (tkern/operations.py), attached below from front_end.METHODS;
        # mypy looks operators up on the class, never through __getattr__, so they are declared here
        def __getattr__(self, name: str) -> Any: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __ifloordiv__(self, other: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __imod__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __ipow__(self, other: Any) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __rand__(self, other: Any) -> Tensor: ...
        def __iand__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __ror__(self, other: Any) -> Tensor: ...
        def __ior__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def __rxor__(self, other: Any) -> Tensor: ...
        def __ixor__(self, other: Any) -> Tensor: ...

    def __init__(self, *args, **kwargs):
        from .creation import legacy_constructor
        self._a = legacy_constructor(dtypes.get_default_dtype(), args, kwargs.get("device"))._a
        self._requires_grad = False

    # ----- attributes -----
    @property
    def shape(self) -> Size:
        return Size(self._a.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._a.shape)
        return self._a.shape[ops.normalize_dim(dim, self._a.ndim)]

    @property
    def dtype(self) -> dtypes.dtype:
        return self._a.dtype

    @property
    def device(self):
        return self._a.device

    @property
    def is_cuda(self) -> bool:
        return self._a.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._a.device.type == "cpu"

    @property
    def ndim(self) -> int:
        return len(self._a.shape)

    def dim(self) -> int:
        return len(self._a.shape)

    ndimension = dim

    def numel(self) -> int:
        return self._a.numel()

    nelement = numel

    def stride(self, dim: int | None = None):
        if dim is None:
            return self._a.strides
        return self._a.strides[ops.normalize_dim(dim, self._a.ndim)]

    def storage_offset(self) -> int:
        return self._a.offset

    def is_contiguous(self, memory_format=None) -> bool:
        return self._a.is_contiguous()

    def element_size(self) -> int:
        return self._a.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._a.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.numel() * self._a.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._a.dtype.is_floating_point

    def data_ptr(self) -> int:
        data = self._a.storage.data
        base = data.__array_interface__["data"][0] if isinstance(data, np.ndarray) else data.data_ptr()
        return base + self._a.offset * self._a.dtype.itemsize

    @property
    def _version(self) -> int:
        return self._a.storage.version

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not self._a.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
        self._requires_grad = bool(value)
        if value:
            from tkern.autograd.view_history import live_views
            for view in live_views(self):  # as in torch, its views require grad too (leaves themselves)
                if view._a.dtype is self._a.dtype:
                    view._requires_grad = True

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> "Tensor | None":
        return self.__dict__.get("_grad")

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with "
                                   f"grad_dtype '{self.dtype}'. The gradient must match the tensor's grad_dtype "
                                   "(defaults to the tensor's dtype).")
            if value.device != self.device:
                raise RuntimeError("attempting to assign a gradient located on device with index "
                                   f"'{value.device.index}' to a tensor located on device with index "
                                   f"'{self.device.index}'. Please ensure that the gradient and the tensor are on "
                                   "the same device")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                                   f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the "
                                   "same size")
        self.__dict__["_grad"] = value

    @grad.deleter
    def grad(self) -> None:
        self.__dict__["_grad"] = None

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def backward(self, gradient: "Tensor | None" = None, retain_graph: builtins.bool | None = None,
                 create_graph: builtins.bool = False, inputs=None) -> None:
        """Add d(self)/d(leaf) into every leaf's ``.grad``: ``loss.backward()``."""
        from tkern.autograd.engine import backward
        backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; a tensor it returns replaces
        the gradient. Returns a handle whose ``remove()`` undoes it."""
        from tkern.autograd.graph import RemovableHandle
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            hooks = self.__dict__.setdefault("_leaf_hooks", [])
        else:
            hooks = self.grad_fn.output_hooks(self._output_nr)
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward, like a leaf's."""
        import weakref
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self.__dict__.get("_retains_grad"):
            return
        self._retains_grad = True
        target = weakref.ref(self)

        def keep(grad):
            tensor = target()
            if tensor is not None:
                grad = grad if grad.requires_grad else grad.detach()  # (create_graph keeps the graph)
                tensor.grad = grad.clone() if tensor.grad is None else tensor.grad + grad

        keep.retains_grad = True
        self.grad_fn.output_hooks(self._output_nr).append(keep)

    @property
    def retains_grad(self) -> builtins.bool:
        return self.__dict__.get("_retains_grad", False)

    @property
    def data(self) -> "Tensor":
        """The same memory, outside autograd, with a version counter of its own (as in torch: writing
        through .data does not invalidate what backward saved)."""
        a = self._a
        storage = a.storage
        alias = Storage(storage.data, storage.nbytes, storage.device)
        return wrap(Array(alias, a.shape, a.strides, a.offset, a.dtype))

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._a = value._a

    def detach(self) -> "Tensor":
        return wrap(self._a)

    def detach_(self) -> "Tensor":
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for "
                "training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence "
                "detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def T(self) -> "Tensor":
        if self.ndim == 2:
            return self.t()
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
            "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.", UserWarning,
            stacklevel=2)
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> "Tensor":
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    def _check_inplace(self) -> None:
        if self._no_grad_view and _grad_enabled() and (
                self._requires_grad or self._base is not None and self._base._requires_grad):
            raise RuntimeError(_NO_GRAD_VIEW)
        if self._requires_grad and _grad_enabled():
            if self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            base = self._base
            if base is not None and base.grad_fn is None and base._requires_grad:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")

    # ----- conversion -----

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, device=None) -> "Tensor":
        return self.to(as_device(device if device is not None else "cuda"))

    def type(self, dtype=None):
        if dtype is None:
            return f"torch.{_LEGACY_TYPE_NAMES[self.dtype]}"
        return self.to(dtype)

    def float(self) -> "Tensor":
        return self.to(dtypes.float32)

    def double(self) -> "Tensor":
        return self.to(dtypes.float64)

    def half(self) -> "Tensor":
        return self.to(dtypes.float16)

    def bfloat16(self) -> "Tensor":
        return self.to(dtypes.bfloat16)

    def int(self) -> "Tensor":
        return self.to(dtypes.int32)

    def long(self) -> "Tensor":
        return self.to(dtypes.int64)

    def short(self) -> "Tensor":
        return self.to(dtypes.int16)

    def char(self) -> "Tensor":
        return self.to(dtypes.int8)

    def byte(self) -> "Tensor":
        return self.to(dtypes.uint8)

    def bool(self) -> "Tensor":
        return self.to(dtypes.bool)

    def numpy(self, *, force: builtins.bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._a.device.type != "cpu":
            if force:
                return self.cpu().numpy()
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                "to host memory first.")
        return backend_for(self._a.device).to_numpy(self._a)

    def _host(self) -> np.ndarray:
        """Values as a host numpy array (a copy for device tensors)."""
        return backend_for(self._a.device).to_numpy(self._a)

    # numpy defers to Tensor's reflected operators (np.float32(2) * x is a Tensor), as with torch
    __array_priority__ = 1000

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        values = self.numpy(force=True)
        return values.astype(dtype) if dtype is not None else values

    @property
    def __array_interface__(self) -> dict:
        from .array_interfaces import host_interface
        return host_interface(self)

    @property
    def __cuda_array_interface__(self) -> dict:
        from .array_interfaces import cuda_interface
        return cuda_interface(self)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule sharing this tensor's memory: ``numpy.from_dlpack(x)``, ``torch.from_dlpack(x)``."""
        from .dlpack import export
        return export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple:
        from .dlpack import device_of
        return device_of(self)

    def item(self):
        a = self._a
        values = a.host
        if values is not None and values.size == 1 and a.dtype is not dtypes.bfloat16:
            return values.item()
        n = a.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        value = self._host()
        return value.reshape(()).item() if self._a.dtype is not dtypes.bfloat16 else builtins.float(value.reshape(()))

    def tolist(self):
        values = self._host()
        if self._a.dtype is dtypes.bfloat16:
            values = values.astype(np.float32)
        return values.tolist()

    def __float__(self) -> builtins.float:
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self._a.dtype.is_floating_point or self._a.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return self.item()

    def __bool__(self) -> builtins.bool:
        n = self._a.numel()
        if n != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'more than one value' if n else 'no values'} is ambiguous")
        return builtins.bool(self.item())

    def __len__(self) -> builtins.int:
        if not self._a.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    def __iter__(self):
        if not self._a.shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> builtins.int:
        return id(self)

    def __repr__(self, *, tensor_contents=None) -> str:
        from .printing import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._a.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self.numpy(force=True).copy(), str(self.device), self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        result = wrap(ops.clone(self._a))
        result._requires_grad = self._requires_grad
        memo[id(self)] = result
        return result

    # ----- views -----

    def view_as(self, other: "Tensor") -> "Tensor":
        return self.view(other._a.shape)

    def reshape_as(self, other: "Tensor") -> "Tensor":
        return self.reshape(other._a.shape)

    def swapaxes(self, axis0: builtins.int, axis1: builtins.int) -> "Tensor":
        return self.transpose(axis0, axis1)  # (through transpose as autograd wraps it)

    swapdims = swapaxes

    def t_(self) -> "Tensor":
        return self._reshaped_in_place(lambda: self.t())

    def _reshaped_in_place(self, view) -> "Tensor":
        """t_, squeeze_, unsqueeze_: this tensor takes the layout (and, in a graph, the history) of
        ``view()``, a view of itself."""
        self._check_inplace()
        new = view()
        self._a = new._a
        if new.grad_fn is not None:
            self.grad_fn = new.grad_fn
            self._output_nr = new._output_nr
        return self

    def expand_as(self, other: "Tensor") -> "Tensor":
        return self.expand(other._a.shape)

    def squeeze_(self, dim=None) -> "Tensor":
        return self._reshaped_in_place(lambda: self.squeeze(dim))

    def unsqueeze_(self, dim: builtins.int) -> "Tensor":
        return self._reshaped_in_place(lambda: self.unsqueeze(dim))

    def ravel(self) -> "Tensor":
        return self.reshape(-1)

    def __setitem__(self, key, value) -> None:
        self._check_inplace()
        if (self._requires_grad or isinstance(value, Tensor) and value._requires_grad) and _grad_enabled():
            from tkern.autograd.recording import recorded_setitem
            recorded_setitem(self, key, value)
            return
        value = value._a if isinstance(value, Tensor) else unwrap(value)
        ops.setitem(self._a, _index_key(key), value, _index_array)

    def index_put_(self, indices, values: "Tensor", accumulate: builtins.bool = False) -> "Tensor":
        self._check_inplace()
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put_(): argument 'indices' (position 1) must be tuple of Tensors, "
                            f"not {type(indices).__name__}")
        for position, index in enumerate(indices):
            if not isinstance(index, Tensor):
                raise TypeError(
                    f"expected Tensor as element {position} in argument 0, but got {type(index).__name__}")
        if (self._requires_grad or values._requires_grad) and _grad_enabled():
            from tkern.autograd.recording import recorded_index_put
            return recorded_index_put(self, tuple(indices), values, accumulate)
        ops.index_put(self._a, tuple(i._a for i in indices), values._a, accumulate)
        return self

    def resize_(self, *sizes) -> "Tensor":
        shape = ops.check_shape_arg(sizes)
        if shape != self._a.shape:
            if self._a.numel():
                warnings.warn(
                    f"An output with one or more elements was resized since it had shape {list(self._a.shape)}, "
                    f"which does not match the required output shape {list(shape)}.", UserWarning, stacklevel=3)
            self._a = ops.empty(shape, self._a.dtype, self._a.device)
        return self

    # ----- in-place fills and copies -----
    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def fill_(self, value) -> "Tensor":
        self._check_inplace()
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(
                    f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
            if value._requires_grad and _grad_enabled():
                return _recorded_inplace(self, lambda old: _replaced(old, value))
            # a tensor value is cast like a copy (wrapping), unlike a Python number, which must fit
            as_copy = value.device == self.device
            value = value.to(self.dtype).item()
        else:
            as_copy = False
            value = ops.copying.checked_scalar(value, self._a.dtype)
        if self._requires_grad and _grad_enabled():
            return _recorded_inplace(self, lambda old: _replaced(old, value))
        ops.fill(self._a, value, as_copy=as_copy)
        return self

    def copy_(self, src: "Tensor", non_blocking: builtins.bool = False) -> "Tensor":
        self._check_inplace()
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_(): argument 'other' must be Tensor, not {type(src).__name__}")
        if (self._requires_grad or src._requires_grad) and _grad_enabled():
            return _recorded_inplace(self, lambda old: _replaced(old, src.to(dtype=self.dtype, device=self.device)))
        ops.copy_into(self._a, src._a)
        return self

    # ----- operators the operation table does not generate -----
    def __rtruediv__(self, other):
        # torch's __rtruediv__ is self.reciprocal() * other: two roundings, and MulBackward0
        return self.reciprocal() * other

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return other.matmul(self)

    def __imatmul__(self, other):
        return self.matmul(other)

    def __pos__(self):
        return self

    def __invert__(self):
        op = "logical_not" if self._a.dtype is dtypes.bool else "bitwise_not"
        if self._a.dtype.is_floating_point:
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        return wrap(ops.unary(op, self._a))


def _rebuild(values, device, requires_grad):
    from .creation import tensor
    return tensor(values, device=device, requires_grad=requires_grad)


def _index_array(values) -> Array:
    """A list or numpy array used as an index, as an int64 (or bool) Array."""
    from .creation import tensor
    index = tensor(values)._a
    if index.dtype.is_floating_point and not index.numel():
        # torch reads an empty sequence ([] or an empty float numpy array) as an empty int64 index
        return ops.empty(index.shape, dtypes.int64, index.device)
    return index


def _index_key(key):
    if isinstance(key, Tensor):
        return key._a
    if isinstance(key, tuple):
        return tuple(k._a if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, slice)) or k is None or k is Ellipsis for k in key):
        # torch still reads such a list as a tuple of indices, and says it will stop
        warnings.warn(_SEQUENCE_AS_TUPLE, UserWarning, stacklevel=4)
        return tuple(k._a if isinstance(k, Tensor) else k for k in key)
    return key


_SEQUENCE_AS_TUPLE = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; "
    "use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
    "x[torch.tensor(seq)], which will result either in an error or a different result")


_LEGACY_TYPE_NAMES = {
    dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor", dtypes.float16: "HalfTensor",
    dtypes.bfloat16: "BFloat16Tensor", dtypes.int64: "LongTensor", dtypes.int32: "IntTensor",
    dtypes.int16: "ShortTensor", dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor", dtypes.bool: "BoolTensor",
}


# The operations (sin, sum, view, __add__, ...): declared in tkern/operations.py, built by
# tkern/front_end.py, attached here once (the front end needs the class above)
from .front_end import METHODS  # noqa: E402

for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
