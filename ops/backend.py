"""The backend interface: the primitives every device kind implements, and the registry."""
from __future__ import annotations

from tkern.device import device

from .array import Array

# binary ops whose Python-number second operand beside a float16 or bfloat16 tensor torch reads in
# float32 (every other op reads it cast to the 16-bit type, which ops.elementwise does before a
# backend sees it): a backend computes these in float32, not in the 16-bit type
FLOAT32_SCALAR_OPS = frozenset(("mul", "div", "floor_divide", "trunc_divide"))


class Backend:
    """Primitives on raw Arrays. Promotion, broadcast shapes, output checks and errors are decided
    before a primitive runs (ops/ does that once for every device); a backend never promotes or sees
    autograd state.

    Elementwise primitives get operands that broadcast to ``shape`` (ops.elementwise.expand_to gives
    the stride-0 view for a backend that wants one) and Python scalars; they read each operand as
    ``compute`` dtype and return the output: ``out`` itself when one is passed (already checked),
    else a new contiguous Array of ``result`` dtype. Where compute and result differ (bool results of
    comparisons, bfloat16 computed in float32) the value is cast on store.
    """

    def empty(self, shape: tuple, dtype, device: device) -> Array:
        raise NotImplementedError

    def from_numpy(self, array, device: device) -> Array:
        """Copy a host numpy array into a new contiguous Array on ``device``."""
        raise NotImplementedError

    def to_numpy(self, src: Array):
        """A host numpy array with src's values (a view, not a copy, where the memory is host memory)."""
        raise NotImplementedError

    def fill(self, out: Array, value) -> None:
        raise NotImplementedError

    def sequence(self, out: Array, start, step, end, split: int, compute) -> None:
        """Fill the contiguous 1-d ``out`` (n elements) with start + step * i for i < split and
        end - step * (n - 1 - i) from split on (arange: split = n; linspace counts from both ends
        like torch), computed in ``compute`` (float64 or int64) and cast to out's dtype."""
        raise NotImplementedError

    def copy(self, out: Array, src: Array) -> None:
        """Strided copy with dtype conversion; src has out's shape and device, or is on another
        device of the same type when both are contiguous with one dtype (a plain transfer)."""
        raise NotImplementedError

    def unary(self, op: str, x: Array, compute, result, out: Array | None = None) -> Array:
        raise NotImplementedError

    def binary(self, op: str, a, b, shape: tuple, compute, result, out: Array | None = None) -> Array:
        """a and b are Arrays (at least one) or Python scalars."""
        raise NotImplementedError

    def binary_launcher(self, op: str, compute, result, a_type, b_type):
        """A callable (a, b, shape, out) -> Array doing what ``binary(op, a, b, shape, compute, result,
        out)`` does, for operands of these dtypes (or Python scalar types). The caller caches it per
        combination, so a backend can resolve its kernel and specialisation here once instead of on
        every call."""
        def launch(a, b, shape, out):
            return self.binary(op, a, b, shape, compute, result, out)
        return launch

    def ternary(self, op: str, a, b, c, shape: tuple, compute, out: Array | None = None) -> Array:
        """'where' (a is the bool condition) and 'clamp' (b, c are the bounds, either may be None);
        the result has ``compute`` dtype."""
        raise NotImplementedError

    def reduce(self, op: str, x: Array, dims: tuple, keepdim: bool, compute, result) -> Array:
        """op over ``dims`` of x, accumulated in ``compute``: a new Array of ``result`` dtype with x's
        shape less the reduced dims, or with them kept as size 1 (keepdim)."""
        raise NotImplementedError


    def reduce_launcher(self, op: str, compute, result):
        """A callable (x, dims, keepdim) -> Array doing what ``reduce(op, x, dims, keepdim, compute,
        result)`` does, cached by the caller per (op, input dtype, result dtype) like binary_launcher."""
        def launch(x, dims, keepdim):
            return self.reduce(op, x, dims, keepdim, compute, result)
        return launch
    def arg_reduce(self, op: str, values: Array | None, indices: Array, x: Array, dim: int | None) -> None:
        """values/indices have x's shape with ``dim`` of size 1; dim None means over the flattened x."""
        raise NotImplementedError

    def matmul(self, out: Array, a: Array, b: Array, compute, bias: Array | None = None, alpha=1, beta=1) -> None:
        """Batched (..., m, k) @ (..., k, n) with equal batch shapes, times alpha, plus beta * bias (out's
        shape, broadcast by strides) when a bias is given."""
        raise NotImplementedError

    def layer_norm(self, out: Array, x: Array, weight: Array | None, bias: Array | None, eps: float) -> None:
        """out (rows, cols, contiguous) = each row of x (rows, cols, any strides) normalised to mean 0 and
        variance 1 (biased, plus eps), times weight, plus bias (each 1-D of cols, or None)."""
        raise NotImplementedError

    def layer_norm_backward(self, grad_x: Array, grad_weight: Array | None, grad_bias: Array | None, x: Array,
                            g: Array, weight: Array | None, eps: float) -> None:
        """layer_norm's gradients for the incoming g (x's shape): grad_x (contiguous, x's shape) and,
        where given, grad_weight and grad_bias (cols), the sums over the rows."""
        raise NotImplementedError

    def gather(self, out: Array, x: Array, indices: tuple) -> None:
        """out = x[indices]; indices has one entry per dim of x: None (whole dim) or an int64 Array,
        all index Arrays already broadcast to one shape. Negative entries count from the end of their
        dim. Entries out of range reach only a device backend (ops/indexing checks host-memory indices
        itself): it reads nothing out of bounds and raises IndexError at its next synchronisation."""
        raise NotImplementedError

    def scatter(self, x: Array, indices: tuple, values: Array, accumulate: bool) -> None:
        """x[indices] = values (or +=); values has the shape that gather with these indices gives. As
        gather, except that with an index out of range nothing at all is written."""
        raise NotImplementedError

    def check_class_targets(self, target: Array, classes: int, ignore_index: int) -> None:
        """IndexError, as torch's nll_loss, when an entry of the int64 ``target`` other than
        ignore_index lies outside [0, classes): raised here, or by a device backend at its next
        synchronisation without reading the targets back."""
        values = self.to_numpy(target)
        out_of_range = (values != ignore_index) & ((values < 0) | (values >= classes))
        if out_of_range.any():
            raise IndexError(f"Target {values[out_of_range][0]} is out of bounds.")

    def scan(self, op: str, out: Array, x: Array) -> None:
        """Inclusive scan ('sum' or 'prod') along each row of the contiguous (rows, n) x into the
        contiguous out of x's dtype (already the result type), accumulated in float32 for 16-bit floats."""
        raise NotImplementedError

    def sort(self, values: Array, indices: Array, x: Array, descending: bool) -> None:
        """Stable sort of each row of the contiguous (rows, n) x: values and their int64 positions
        into the contiguous values and indices. NaN sorts above every number (last ascending, first
        descending); equal elements keep their order either way."""
        raise NotImplementedError

    def nonzero(self, x: Array) -> Array:
        """int64 Array of shape (count, x.ndim) with the coordinates of nonzero elements."""
        raise NotImplementedError

    def random(self, kind: str, out: Array, generator, a=None, b=None) -> None:
        """Fill ``out`` from ``generator``. kind: 'uniform' on [a, b), 'normal' with mean a and standard
        deviation b, 'integers' on [a, b), 'bits' (torch's random_(): [0, 2**digits] for floats, the
        type's non-negative range for integers), 'bernoulli' with probability a (a number, or an Array
        broadcast to out), 'exponential' with rate a, 'permutation' (a 1-D out: a random permutation
        of its positions)."""
        raise NotImplementedError

    def multinomial(self, probs: Array, out: Array, generator, replacement: bool) -> None:
        """int64 ``out`` (rows, samples): category indices drawn from each row of the non-negative
        float ``probs`` (rows, categories), checked beforehand."""
        raise NotImplementedError

    def optimizer_step(self, rule, params: list, grads: list, states: tuple, cache: dict) -> None:
        """One optimizer step (an ops.optimizer_step.SGDStep or AdamStep) on parameters of one dtype,
        with their gradients and ``rule.states`` lists of state Arrays, all shaped like the parameter
        they belong to. Params and states are updated in place, in float32 for float16/bfloat16.
        ``cache`` is kept by the caller between steps of the same param group."""
        raise NotImplementedError

    def poly_loss_grad(self, x: Array, y: Array, coeffs: Array, scale: float, loss: Array, grad: Array,
                       dx: Array | None, dy: Array | None) -> None:
        """One pass over the points (x, y) (1-d, any strides) for the polynomial with coefficients
        ``coeffs`` (c0 first): with r = p(x) - y by Horner's rule, the 0-d ``loss`` gets scale * sum r**2
        and ``grad`` (contiguous, coeffs' length) 2 scale * sum r x**k; when given, ``dx`` and ``dy``
        (contiguous, N each) get each point's own gradients 2 scale r p'(x) and -2 scale r. Accumulates
        in float32, or float64 when loss is float64; the same bits on every run."""
        raise NotImplementedError

    def poly_fit(self, x: Array, y: Array, coeffs: Array, lr: float, steps: int, scale: float, out: Array,
                 losses: Array) -> None:
        """``steps`` steps of c -= lr * grad(c) from ``coeffs`` for the loss of poly_loss_grad: the final
        coefficients into ``out`` (contiguous) and the loss before each step into ``losses`` (contiguous,
        ``steps`` long), computed in float64 without reading the data more than once."""
        raise NotImplementedError


BACKENDS: dict = {}


def backend_for(dev: device) -> Backend:
    """The backend that runs ``dev``'s device type; RuntimeError saying why when there is none."""
    found = BACKENDS.get(dev.type)
    if found is None:
        found = _load(dev)
    return found


def _load(dev: device) -> Backend:
    if dev.type == "cpu":
        from .numpy_backend import NumpyBackend
        BACKENDS["cpu"] = NumpyBackend()
        return BACKENDS["cpu"]
    from tkern import cuda
    cuda.check_available()
    from .triton_backend import TritonBackend
    BACKENDS["cuda"] = TritonBackend()
    return BACKENDS["cuda"]
