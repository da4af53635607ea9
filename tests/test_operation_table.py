"""The operation table (tkern/operations.py) against everything that must agree with it: both
backends implement every elementwise entry, every form it declares exists, and every differentiable
entry has a gradient test; the elementwise entries' tests are generated here from the table."""
from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same, check_error, check_grad, check_op, make_pair, random_array
from tkern.operations import KINDS, OPERATIONS, RECORDERS, of_kind

UNARY = of_kind("unary")
BINARY = of_kind("binary")
PUBLIC_UNARY = [name for name, op in UNARY.items() if op.function]
PUBLIC_BINARY = [name for name, op in BINARY.items() if op.function]
SHAPES = [(5,), (3, 7), (1,), (0,), (), (2, 1, 4)]
BROADCAST_PAIRS = [((3, 1), (1, 4)), ((5,), ()), ((), (2, 3)), ((0, 3), (1, 3))]


def test_every_entry_is_well_formed():
    for name, op in OPERATIONS.items():
        assert op.kind in KINDS and op.recorder in RECORDERS, name
        assert (op.node is None) == (op.formula is None) or op.recorder in ("pieces", "strided view"), name
        if op.kind not in ("unary", "binary"):
            assert op.implemented_in, f"{name}: only elementwise operations are generated whole"


def test_both_backends_implement_every_elementwise_entry():
    from tkern.ops import numpy_backend, triton_elementwise
    for table, kinds in ((UNARY, (numpy_backend._UNARY, triton_elementwise.UNARY_OPS)),
                         (BINARY, (numpy_backend._BINARY, triton_elementwise.BINARY_OPS))):
        for backend_ops in kinds:
            assert sorted(set(table) - set(backend_ops)) == [], "missing in a backend"
            assert sorted(set(backend_ops) - set(table)) == [], "a backend op the table does not declare"


def test_every_declared_form_exists():
    for name, op in OPERATIONS.items():
        for form in op.forms:
            holder, _, attribute = form.rpartition(".")
            assert hasattr(tkern.Tensor if holder else tkern, attribute), f"{name}: {form} is missing"
        if op.operator:
            assert f"__{op.operator}__" in vars(tkern.Tensor), name
        if op.implemented_in:
            module = importlib.import_module(op.implemented_in)
            function = getattr(module, name.rpartition(".")[2])
            if op.differentiable:
                assert hasattr(function, "__wrapped__") or hasattr(function, "recorded"), \
                    f"{name}: not made differentiable where it is defined"
            takes_out = "out" in inspect.signature(inspect.unwrap(function)).parameters
            assert takes_out == op.out, f"{name}: the table says out={op.out}"


def test_nothing_is_patched_after_the_front_end():
    """Every generated function is the one object tkern exports and Tensor holds."""
    from tkern.front_end import FUNCTIONS, METHODS
    for name, function in FUNCTIONS.items():
        assert getattr(tkern, name) is function, name
    for name, method in METHODS.items():
        assert vars(tkern.Tensor)[name] is method, name


# gradient cases of the entries that are not elementwise: (input shapes, the call on either library,
# check_grad's keyword arguments)
def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


GRADIENT_CASES = {
    "clamp": ([(3, 4), (4,), (4,)], lambda x, low, high: x.clamp(min=low, max=high), {}),
    "clamp_min": ([(3, 4), (4,)], lambda x, low: x.clamp_min(low), {}),
    "clamp_max": ([(3, 4)], lambda x: _lib(x).clamp_max(x, 0.5), {}),
    "masked_fill": ([(3, 4), ()], lambda x, v: x.masked_fill(x.detach() > 0.5, v), {}),
    "where": ([(3, 4), (4,)], lambda x, y: _lib(x).where(x > 0, x, y), {}),
    "sum": ([(3, 4)], lambda x: x.sum(1), {}),
    "mean": ([(3, 4)], lambda x: x.mean((0, 1), keepdim=True), {}),
    "prod": ([(3, 4)], lambda x: x.prod(0), {}),
    "var": ([(3, 4)], lambda x: x.var(1), {}),
    "std": ([(3, 4)], lambda x: x.std(), {}),
    "max": ([(3, 4)], lambda x: x.max(1)[0], {}),
    "min": ([(3, 4)], lambda x: x.min(), {}),
    "amax": ([(3, 4)], lambda x: x.amax(0), {}),
    "amin": ([(3, 4)], lambda x: x.amin(1, keepdim=True), {}),
    "logsumexp": ([(3, 4)], lambda x: x.logsumexp(1), {}),
    "linalg.vector_norm": ([(3, 4)], lambda x: _lib(x).linalg.vector_norm(x, 3, dim=1), {}),
    "matmul": ([(2, 3, 4), (4,)], lambda a, b: a.matmul(b), {}),
    "mm": ([(3, 4), (4, 2)], lambda a, b: a.mm(b), {}),
    "bmm": ([(2, 3, 4), (2, 4, 2)], lambda a, b: a.bmm(b), {}),
    "dot": ([(5,), (5,)], lambda a, b: a.dot(b), {}),
    "addmm": ([(4,), (3, 5), (5, 4)], lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2), {"atol": 1e-4}),
    "baddbmm": ([(3, 1), (2, 3, 5), (2, 5, 4)], lambda c, a, b: c.baddbmm(a, b, alpha=-1), {"atol": 1e-4}),
    # draws pass no gradient; p = 0 and std = 0 make the values certain
    "bernoulli": ([(3, 4)], lambda x: _lib(x).bernoulli(x * 0) + x, {}),
    "normal": ([(3, 4)], lambda x: _lib(x).normal(x, 0.0), {}),
    "cat": ([(2, 3), (1, 3)], lambda a, b: _lib(a).cat([a, b]), {}),
    "stack": ([(2, 3), (2, 3)], lambda a, b: _lib(a).stack([a, b], 1), {}),
    "view": ([(3, 4)], lambda x: x.view(4, 3), {}),
    "reshape": ([(3, 4)], lambda x: x.t().reshape(12), {}),
    "flatten": ([(2, 3, 2)], lambda x: x.flatten(1), {}),
    "unflatten": ([(2, 6)], lambda x: x.unflatten(1, (3, 2)), {}),
    "squeeze": ([(3, 1, 4)], lambda x: x.squeeze(1), {}),
    "unsqueeze": ([(3, 4)], lambda x: x.unsqueeze(0), {}),
    "permute": ([(2, 3, 4)], lambda x: x.permute(2, 0, 1), {}),
    "transpose": ([(2, 3, 4)], lambda x: x.transpose(0, 2), {}),
    "t": ([(3, 4)], lambda x: x.t(), {}),
    "expand": ([(3, 1)], lambda x: x.expand(3, 5), {}),
    "narrow": ([(5, 4)], lambda x: x.narrow(0, 1, 3), {}),
    "select": ([(5, 4)], lambda x: x.select(1, 2), {}),
    "diagonal": ([(4, 5)], lambda x: x.diagonal(1), {}),
    "__getitem__": ([(5, 4)], lambda x: x[1:4:2, [0, 3, 3]], {}),
    "as_strided": ([(12,)], lambda x: x.as_strided((3, 3), (2, 1), 1), {}),
    "split": ([(5, 4)], lambda x: x.split(2)[1], {}),
    "chunk": ([(5, 4)], lambda x: x.chunk(2, 1)[0], {}),
    "unbind": ([(3, 4)], lambda x: x.unbind(1)[2], {}),
    "tril": ([(2, 3, 4)], lambda x: x.tril(1), {}),
    "triu": ([(4, 3)], lambda x: _lib(x).triu(x, -1), {}),
    "flip": ([(2, 3, 4)], lambda x: _lib(x).flip(x, (0, 2)), {}),
    "repeat": ([(2, 3)], lambda x: x.repeat(2, 1, 3), {}),
    "roll": ([(3, 4)], lambda x: _lib(x).roll(x, (1, -2), (0, 1)), {}),
    "clone": ([(3, 4)], lambda x: x.clone(), {}),
    "contiguous": ([(3, 4)], lambda x: x.t().contiguous(), {}),
    "to": ([(3, 4)], lambda x: x.to(_lib(x).float64), {}),
    "nn.functional.softmax": ([(3, 4)], lambda x: _lib(x).nn.functional.softmax(x, 1), {}),
    "nn.functional.log_softmax": ([(3, 4)], lambda x: _lib(x).nn.functional.log_softmax(x, 0), {}),
    "nn.functional._silu": ([(3, 4)], lambda x: _lib(x).nn.functional.silu(x), {}),
    "nn.functional.softplus": ([(3, 4)], lambda x: _lib(x).nn.functional.softplus(x, 2.0, 3.0), {}),
    "nn.functional._leaky_relu": ([(3, 4)], lambda x: _lib(x).nn.functional.leaky_relu(x, 0.2), {}),
    "nn.functional._elu": ([(3, 4)], lambda x: _lib(x).nn.functional.elu(x, 0.7), {}),
    "nn.functional._squared_error": ([(3, 4), (3, 4)], lambda x, y: _lib(x).nn.functional.mse_loss(x, y), {}),
    "nn.functional._binary_cross_entropy": (
        [(3, 4), (3, 4)], lambda p, t: _lib(p).nn.functional.binary_cross_entropy(p.sigmoid(), t.sigmoid()), {}),
    "nn.functional._binary_cross_entropy_with_logits": (
        [(3, 4), (3, 4)], lambda x, t: _lib(x).nn.functional.binary_cross_entropy_with_logits(x, t.sigmoid()), {}),
    "nn.functional._smooth_l1_loss": (
        [(3, 4), (3, 4)], lambda x, y: _lib(x).nn.functional.smooth_l1_loss(x, y, beta=1.5), {}),
    "nn.functional._huber_loss": ([(3, 4), (3, 4)], lambda x, y: _lib(x).nn.functional.huber_loss(x, y, delta=1.5), {}),
    # torch has no fused polynomial loss: its composition is the reference
    "nn.functional.poly_mse_loss": (
        [(7,), (7,), (3,)],
        lambda x, y, c: (tkern.nn.functional.poly_mse_loss(x, y, c) if _lib(x) is tkern else
                         ((c[0] + c[1] * x + c[2] * x * x - y) ** 2).sum()), {"atol": 1e-4}),
    "lerp": ([(3, 4), (4,), (3, 1)], lambda a, b, w: a.lerp(b, w), {}),
    "gather": ([(3, 4)], lambda x: x.gather(1, _lib(x).tensor([[0, 0], [3, 1], [2, 2]], device=x.device)), {}),
    "scatter": ([(3, 4), (1, 4)], lambda x, s: x.scatter(0, _lib(x).tensor([[2, 0, 1, 2]], device=x.device), s), {}),
    "scatter_add": ([(3, 4), (2, 4)], lambda x, s: x.scatter_add(0, _lib(x).tensor([[2, 0, 1, 2], [2, 1, 1, 0]],
                                                                                 device=x.device), s), {}),
    "index_select": ([(3, 4)], lambda x: x.index_select(1, _lib(x).tensor([3, 0, 3], device=x.device)), {}),
    "masked_select": ([(3, 4)], lambda x: x.masked_select(x.detach() > 0), {}),
    "sort": ([(3, 4)], lambda x: x.sort(0, descending=True).values, {}),
    "topk": ([(3, 4)], lambda x: x.topk(2).values, {}),
    "cumsum": ([(3, 4)], lambda x: x.cumsum(1), {}),
    "cumprod": ([(3, 4)], lambda x: x.cumprod(0), {}),
    "nn.functional.gelu": ([(3, 4)], lambda x: _lib(x).nn.functional.gelu(x, approximate="tanh"), {}),
    # add_at: the gradient of a view whose elements share memory
    "nn.functional.layer_norm": ([(3, 4), (4,), (4,)],
                                 lambda x, w, b: _lib(x).nn.functional.layer_norm(x, (4,), w, b), {"atol": 1e-4}),
    "nn.functional._batch_norm": ([(3, 4, 2), (4,), (4,)], lambda x, w, b: _lib(x).nn.functional.batch_norm(
        x, None, None, w, b, training=True), {"atol": 1e-4}),
    "nn.functional._embedding": ([(6, 3)], lambda w: _lib(w).nn.functional.embedding(
        _lib(w).tensor([[1, 5], [1, 0]], device=w.device), w, padding_idx=0), {}),
    "add_at": ([(6,)], lambda x: x.as_strided((3, 3), (1, 1)) * 2, {}),
}


def test_every_differentiable_entry_has_a_gradient_test():
    elementwise = set(UNARY) | set(BINARY)
    missing = [name for name, op in OPERATIONS.items()
               if op.differentiable and name not in elementwise and name not in GRADIENT_CASES]
    assert missing == []
    assert sorted(set(GRADIENT_CASES) - set(OPERATIONS)) == []


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradient(name, device):
    shapes, call, options = GRADIENT_CASES[name]
    check_grad(shapes, call, device=device, **options)


# ----- the elementwise entries, generated -----

def _same_outcome(call, t, k, compare) -> None:
    """``call(lib, tensor)`` on torch's tensor and on tkern's: ``compare`` asserts on both results, or
    tkern raises the exception class torch raises."""
    try:
        expected = call(torch, t)
    except Exception:  # noqa: BLE001 (the class must be torch's)
        check_error(lambda: call(torch, t), lambda: call(tkern, k))
        return
    compare(expected, call(tkern, k))


@pytest.mark.parametrize("name", PUBLIC_UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary(name, shape, device):
    check_op([shape], getattr(torch, name), getattr(tkern, name), device=device)
    check_op([shape], lambda x: getattr(x, name)(), device=device)


@pytest.mark.parametrize("name", PUBLIC_UNARY)
@pytest.mark.parametrize("dtype", [tkern.float64, tkern.int32, tkern.bool], ids=lambda d: d.name)
def test_unary_dtypes(name, dtype, device):
    values = random_array((4, 3), dtype, seed=1)
    t, k = make_pair(values, device, dtype)
    _same_outcome(lambda lib, x: getattr(lib, name)(x), t, k, assert_same)


@pytest.mark.parametrize("name", [n for n in PUBLIC_UNARY if UNARY[n].inplace])
def test_unary_in_place(name, device):
    values = random_array((3, 4), seed=2)
    t, k = make_pair(values, device)
    t_view, k_view = t[:, 1:], k[:, 1:]
    getattr(t_view, name + "_")()
    assert getattr(k_view, name + "_")() is k_view
    assert_same(t, k)


@pytest.mark.parametrize("name", [n for n in PUBLIC_UNARY if UNARY[n].out])
def test_unary_out(name, device):
    values = random_array((2, 3), seed=3)
    t, k = make_pair(values, device)
    t_out, k_out = getattr(torch, name)(t), tkern.empty(2, 3, device=device, dtype=getattr(tkern, name)(k).dtype)
    assert getattr(tkern, name)(k, out=k_out) is k_out
    assert_same(t_out, k_out)


@pytest.mark.parametrize("name", [n for n in PUBLIC_UNARY if UNARY[n].differentiable])
def test_unary_gradient(name, device):
    check_grad([(3, 5)], lambda x: getattr(x, name)(), device=device, low=0.2, high=2.0)
    check_grad([(3, 5)], lambda x: getattr(_lib(x), name)(x.t()), device=device, seed=4)


def _binary_dtype(name: str):
    return tkern.int32 if BINARY[name].integers_only else tkern.float32


@pytest.mark.parametrize("name", PUBLIC_BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary(name, shapes, device):
    dtype = _binary_dtype(name)
    check_op(list(shapes), getattr(torch, name), getattr(tkern, name), device=device, dtype=dtype, low=0.5)
    check_op(list(shapes), lambda a, b: getattr(a, name)(b), device=device, dtype=dtype, low=0.5)


@pytest.mark.parametrize("name", PUBLIC_BINARY)
@pytest.mark.parametrize("number", [2, 0.5])
def test_binary_with_a_number(name, number, device):
    dtype = _binary_dtype(name)
    if dtype is tkern.int32 and type(number) is float:
        number = 3
    values = random_array((3, 4), dtype, seed=5, low=0.5)
    t, k = make_pair(values, device, dtype)
    cases = [(lambda lib, x: getattr(lib, name)(x, number))]
    if BINARY[name].operands == "any":
        cases.append(lambda lib, x: getattr(lib, name)(number, x))
    for case in cases:
        _same_outcome(case, t, k, assert_same)


@pytest.mark.parametrize("name", [n for n in PUBLIC_BINARY if BINARY[n].inplace])
def test_binary_in_place(name, device):
    dtype = _binary_dtype(name)
    values, other = random_array((3, 4), dtype, seed=6, low=0.5), random_array((4,), dtype, seed=7, low=0.5)
    t, k = make_pair(values, device, dtype)
    t_other, k_other = make_pair(other, device, dtype)
    getattr(t, name + "_")(t_other)
    assert getattr(k, name + "_")(k_other) is k
    assert_same(t, k)


@pytest.mark.parametrize("name", [n for n in PUBLIC_BINARY if BINARY[n].differentiable])
def test_binary_gradient(name, device):
    if name == "floor_divide":  # torch: "derivative for aten::floor_divide is not implemented"
        values = random_array((3,), seed=8)
        t, k = make_pair(values, device)
        t.requires_grad_()
        k.requires_grad_()
        check_error(lambda: torch.floor_divide(t, 2).sum().backward(), lambda: tkern.floor_divide(k, 2).sum().backward())
        return
    check_grad([(3, 4), (4,)], getattr(torch, name), getattr(tkern, name), device=device, low=0.5, high=2.0)


@pytest.mark.parametrize("name", [n for n, op in BINARY.items() if op.operator])
def test_binary_operators(name, device):
    import operator
    symbol = BINARY[name].operator
    forward = getattr(operator, symbol, None) or getattr(operator, symbol + "_")
    dtype = _binary_dtype(name)
    values, other = random_array((3, 4), dtype, seed=9, low=0.5), random_array((4,), dtype, seed=10, low=0.5)
    t, k = make_pair(values, device, dtype)
    t_other, k_other = make_pair(other, device, dtype)
    assert_same(forward(t, t_other), forward(k, k_other))
    assert_same(forward(t, 2), forward(k, 2))
    if BINARY[name].reflected:
        assert_same(forward(3, t), forward(3, k))
    if BINARY[name].inplace:
        in_place = getattr(operator, "i" + symbol, None) or getattr(operator, "i" + symbol + "_")
        assert_same(in_place(t.clone(), t_other), in_place(k.clone(), k_other))


def test_atan_node_name_and_double_backward(device):
    """The table's proof entry: one line there, one in each backend."""
    x = tkern.tensor(np.array([-3.0, -0.5, 0.0, 2.0, np.inf]), device=device, requires_grad=True)
    t = torch.tensor([-3.0, -0.5, 0.0, 2.0, np.inf], dtype=torch.float64, requires_grad=True)
    y, expected = x.atan(), t.atan()
    assert y.grad_fn.name() == expected.grad_fn.name() == "AtanBackward0"
    (grad,) = tkern.autograd.grad(y.sum(), x, create_graph=True)
    (expected_grad,) = torch.autograd.grad(expected.sum(), t, create_graph=True)
    assert_same(expected_grad, grad)
    assert_same(torch.autograd.grad(expected_grad.sum(), t)[0], tkern.autograd.grad(grad.sum(), x)[0])
    assert TORCH_DTYPES[tkern.atan(tkern.tensor([1], device=device)).dtype] is torch.atan(torch.tensor([1])).dtype


def _same_node_name(expected, actual) -> None:
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__


@pytest.mark.parametrize("name", [n for n in PUBLIC_BINARY if BINARY[n].differentiable])
def test_binary_node_names(name, device):
    """torch's node name for every operand form: two tensors, a number second, a number first."""
    values = random_array((3,), seed=11, low=0.5, high=2.0)
    t, k = make_pair(values, device)
    t.requires_grad_()
    k.requires_grad_()
    forms = [lambda lib, x: getattr(lib, name)(x, x.detach()), lambda lib, x: getattr(lib, name)(x, 2.0)]
    if BINARY[name].operands == "any":
        forms.append(lambda lib, x: getattr(lib, name)(2.0, x))
    if BINARY[name].operands == "tensors":
        forms = forms[:1]
    for form in forms:
        _same_outcome(form, t, k, _same_node_name)
