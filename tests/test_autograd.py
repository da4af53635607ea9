"""Backward of every differentiable op against torch.autograd, through helpers.check_grad, and the
engine's semantics (accumulation, retain_graph, hooks, grad modes, in-place checks, custom
Functions, autograd.grad, gradcheck)."""
import gc
import weakref

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, make_pair, random_array

BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((5,), ()), ((), ()), ((1,), (7,))]


@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("fn", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
                                lambda a, b: a.maximum(b), lambda a, b: a.minimum(b),
                                lambda a, b: a.add(b, alpha=2.5), lambda a, b: a.sub(b, alpha=0.5)])
def test_binary_broadcasting(shapes, fn, device):
    check_grad(shapes, fn, device=device, low=0.5, high=3.0)


@pytest.mark.parametrize("fn", [lambda a: a * 2.5, lambda a: 2.5 - a, lambda a: 3.0 / a, lambda a: a ** 2,
                                lambda a: a ** 3, lambda a: a.pow(0.5), lambda a: 2.0 ** a, lambda a: -a,
                                lambda a: a ** 0])
def test_scalar_operands(fn, device):
    check_grad([(3, 5)], fn, device=device, low=0.5, high=2.0)


def test_tensor_exponent(device):
    check_grad([(4, 3), (4, 3)], lambda a, b: a ** b, device=device, low=0.5, high=2.0)
    check_grad([(4, 3), (3,)], torch.pow, tkern.pow, device=device, low=0.5, high=2.0)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg",
                                  "square", "reciprocal", "floor", "round"])
@pytest.mark.parametrize("shape", [(3, 4), (1,), ()])
def test_unary(name, shape, device):
    low = 0.5 if name in ("log", "sqrt", "reciprocal") else -2.0
    check_grad([shape], lambda x: getattr(x, name)(), device=device, low=low, high=2.0)
    check_grad([shape], getattr(torch, name), getattr(tkern, name), device=device, low=low, high=2.0)


def test_clamp_and_where(device):
    check_grad([(4, 5)], lambda x: x.clamp(min=0), device=device)
    check_grad([(4, 5)], lambda x: x.clamp(-1.0, 1.0), device=device)
    check_grad([(4, 5)], lambda x: x.clamp(max=0.5), device=device)
    check_grad([(4, 5), (4, 5)], lambda a, b: torch.where(a > 0, a, b) if isinstance(a, torch.Tensor)
               else tkern.where(a > 0, a, b), device=device)
    check_grad([(4, 5), (5,)], lambda a, b: torch.where(b > 0, a, b) if isinstance(a, torch.Tensor)
               else tkern.where(b > 0, a, b), device=device)


@pytest.mark.parametrize("fn", [lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.sum(1, keepdim=True),
                                lambda x: x.sum((0, 2)), lambda x: x.mean(), lambda x: x.mean(-1),
                                lambda x: x.mean((0, 1), keepdim=True), lambda x: x.var(1), lambda x: x.std(),
                                lambda x: x.std(0, keepdim=True), lambda x: x.max(), lambda x: x.min(),
                                lambda x: x.max(1)[0], lambda x: x.min(0, keepdim=True).values,
                                lambda x: x.amax(1), lambda x: x.amin((0, 2)), lambda x: x.prod(1)])
def test_reductions(fn, device):
    check_grad([(3, 4, 2)], fn, device=device, low=0.5, high=2.0)


@pytest.mark.parametrize("values", [[[1.5, 2.0, 3.0], [0.5, 4.0, 2.0]], [[1.5, 0.0, 3.0], [0.0, 4.0, 0.0]],
                                    [[0.0, 0.0, 2.0], [1.0, 2.0, 3.0]]])
def test_prod_with_zeros(values, device):
    for fn in (lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.prod(0, keepdim=True)):
        t, k = make_pair(np.array(values, np.float32), device)
        t.requires_grad_()
        k.requires_grad_()
        fn(t).sum().backward()
        fn(k).sum().backward()
        assert_same(t.grad, k.grad)


def test_max_ties_share_the_gradient(device):
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]], np.float32)
    t, k = make_pair(values, device)
    t.requires_grad_()
    k.requires_grad_()
    t.amax(1).sum().backward()
    k.amax(1).sum().backward()
    assert_same(t.grad, k.grad)


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 3)),
                                    ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,)), ((1, 4), (4, 1))])
def test_matmul(shapes, device):
    check_grad(list(shapes), lambda a, b: a @ b, device=device, atol=1e-4)


def test_mm_bmm_dot(device):
    check_grad([(3, 4), (4, 2)], lambda a, b: a.mm(b), device=device, atol=1e-4)
    check_grad([(2, 3, 4), (2, 4, 2)], lambda a, b: a.bmm(b), device=device, atol=1e-4)
    check_grad([(5,), (5,)], lambda a, b: a.dot(b), device=device, atol=1e-4)


@pytest.mark.parametrize("fn", [lambda x: x.view(4, 6), lambda x: x.reshape(-1), lambda x: x.permute(2, 0, 1),
                                lambda x: x.transpose(0, 2), lambda x: x[0].t(), lambda x: x.flatten(1),
                                lambda x: x.unsqueeze(1), lambda x: x[:, :1].squeeze(1), lambda x: x.narrow(1, 1, 2),
                                lambda x: x[1:, ::2, -1], lambda x: x[..., None, 1], lambda x: x[:1].expand(5, 3, 4),
                                lambda x: x.clone(), lambda x: x.contiguous(), lambda x: x.transpose(0, 1).contiguous(),
                                lambda x: x.to(torch.float64) if isinstance(x, torch.Tensor) else x.to(tkern.float64),
                                lambda x: x.select(2, 1), lambda x: x.unflatten(2, (2, 2))])
def test_views_and_copies(fn, device):
    check_grad([(2, 3, 4)], fn, device=device)


def test_advanced_indexing_adds_duplicates(device):
    idx = [0, 2, 0, 1]
    check_grad([(3, 4)], lambda x: x[torch.tensor(idx)] if isinstance(x, torch.Tensor)
               else x[tkern.tensor(idx, device=device)], device=device)
    check_grad([(3, 4)], lambda x: x[x > 0] if isinstance(x, torch.Tensor) else x[x > 0], device=device)
    check_grad([(3, 4)], lambda x: x[[1, 1, 2]], device=device)


def test_split_chunk_unbind_cat_stack(device):
    check_grad([(5, 3)], lambda x: x.split(2)[1] * 2, device=device)
    check_grad([(5, 3)], lambda x: x.chunk(3, 1)[2] + x.chunk(3, 1)[0], device=device)
    check_grad([(5, 3)], lambda x: x.unbind(1)[1] * 3, device=device)
    check_grad([(2, 3), (4, 3)], lambda a, b: torch.cat([a, b * 2]) if isinstance(a, torch.Tensor)
               else tkern.cat([a, b * 2]), device=device)
    check_grad([(2, 3), (2, 3)], lambda a, b: torch.stack([a, b], 1) if isinstance(a, torch.Tensor)
               else tkern.stack([a, b], 1), device=device)


def test_gradients_accumulate_and_graph_is_freed(device):
    x = tkern.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0, 12.0]
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ty = (tx * tx).sum()
    ty.backward()
    error = check_error(lambda: ty.backward(), lambda: y.backward())
    assert "backward through the graph a second time" in str(error)


def test_backward_errors(device):
    x = tkern.ones(3, device=device, requires_grad=True)
    error = check_error(lambda: (torch.ones(3, requires_grad=True) * 2).backward(), lambda: (x * 2).backward())
    assert str(error) == "grad can be implicitly created only for scalar outputs"
    check_error(lambda: torch.ones(3).sum().backward(), lambda: tkern.ones(3, device=device).sum().backward())
    check_error(lambda: torch.ones(3, dtype=torch.long).requires_grad_(),
                lambda: tkern.ones(3, dtype=tkern.long, device=device).requires_grad_())
    error = check_error(lambda: torch.ones(3, requires_grad=True).add_(1), lambda: x.add_(1))
    assert "leaf Variable that requires grad" in str(error)
    leaf = torch.ones(2, 3, requires_grad=True)
    for view in (lambda t: t[0], lambda t: t.view(-1), lambda t: t.t()):
        error = check_error(lambda: view(leaf).mul_(2), lambda: view(x.view(1, 3)).mul_(2))
        assert "view of a leaf Variable" in str(error)
    with tkern.no_grad():
        x.view(-1).mul_(2)
    assert x.tolist() == [2.0, 2.0, 2.0]


def test_inplace_on_saved_tensor_is_detected(device):
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ta = tx * 2
    tb = ta * ta
    ta.add_(1)
    x = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    a = x * 2
    b = a * a
    a.add_(1)
    error = check_error(lambda: tb.sum().backward(), lambda: b.sum().backward())
    assert "modified by an inplace operation" in str(error)


def test_inplace_ops_in_the_graph(device):
    check_grad([(3, 4)], lambda x: (x * 2).add_(1).mul_(x), device=device)
    check_grad([(3, 4), (4,)], lambda x, b: (x * 1).sub_(b).exp_(), device=device, low=-1, high=1)

    def assign(x, v):
        y = x * 1
        y[1] = v
        return y
    check_grad([(3, 4), (4,)], assign, device=device)
    with tkern.no_grad():
        w = tkern.ones(3, device=device, requires_grad=True)
        w -= 0.5
    assert w.is_leaf and w.grad_fn is None and w.tolist() == [0.5, 0.5, 0.5]


def test_grad_fn_names_and_leaves(device):
    x = tkern.ones(2, 2, device=device, requires_grad=True)
    t = torch.ones(2, 2, requires_grad=True)
    pairs = [(lambda a: a * 2, "MulBackward0"), (lambda a: a + a, "AddBackward0"), (lambda a: a.sum(), "SumBackward0"),
             (lambda a: a.mm(a), "MmBackward0"), (lambda a: a.exp(), "ExpBackward0"), (lambda a: a.t(), "TBackward0"),
             (lambda a: a.relu(), "ReluBackward0"), (lambda a: a.clamp(min=0), "ClampBackward1"),
             (lambda a: a.view(4), "ViewBackward0"), (lambda a: a ** 2, "PowBackward0"),
             (lambda a: a.mean(0), "MeanBackward1"), (lambda a: -a, "NegBackward0")]
    for fn, name in pairs:
        assert type(fn(t).grad_fn).__name__ == name
        assert fn(x).grad_fn.name() == name
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.requires_grad
    assert repr(y).endswith("grad_fn=<MulBackward0>)")
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    assert y.detach().grad_fn is None and not y.detach().requires_grad


def test_grad_modes(device):
    x = tkern.ones(2, device=device, requires_grad=True)
    with tkern.no_grad():
        assert not (x * 2).requires_grad
        with tkern.enable_grad():
            assert (x * 2).requires_grad
    with tkern.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with tkern.inference_mode():
        assert not (x * 2).requires_grad

    @tkern.no_grad()
    def doubled(v):
        return v * 2
    assert not doubled(x).requires_grad and (x * 2).requires_grad


def test_hooks_and_retain_grad(device):
    x = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 3
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    assert seen == [[6.0, 12.0]] and y.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [180.0, 360.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_autograd_grad_and_second_derivative(device):
    x = tkern.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = tkern.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0, 27.0] and x.grad is None
    (gg,) = tkern.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0, 18.0]
    z = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        tkern.autograd.grad(z, [x, tkern.ones(1, device=device, requires_grad=True)])


class _Cube(tkern.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function(device):
    x = tkern.tensor([1.0, -2.0], device=device, requires_grad=True)
    y = _Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "_CubeBackward" and y.tolist() == [2.0, -16.0]
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_gradcheck_in_float64(device):
    x = tkern.tensor(random_array((3,), tkern.float64, 1, 0.5, 2.0), device=device, requires_grad=True)
    w = tkern.tensor(random_array((3, 2), tkern.float64, 2), device=device, requires_grad=True)
    assert tkern.autograd.gradcheck(lambda a, b: (a.exp() @ b).sigmoid(), (x, w))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        tkern.autograd.gradcheck(_WrongSquare.apply, (x,))


class _WrongSquare(tkern.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


def test_deep_graph_needs_no_recursion(device):
    x = tkern.ones(1, device=device, requires_grad=True)
    y = x
    for _ in range(3000 if device == "cpu" else 200):
        y = y + x
    y.backward()
    assert x.grad.item() == (3001 if device == "cpu" else 201)


def test_saved_tensors_are_released(device):
    x = tkern.ones(4, device=device, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    assert ref() is not None  # the graph keeps it for backward
    loss.backward()
    gc.collect()
    assert ref() is None
    assert x.grad is not None


def test_training_steps_do_not_grow_memory():
    w = tkern.randn(8, 4, requires_grad=True)
    x = tkern.randn(16, 8)

    def live_nodes():
        gc.collect()
        return sum(1 for o in gc.get_objects() if issubclass(type(o), tkern.autograd.graph.Node))
    for step in range(1000):
        loss = (x @ w).relu().pow(2).mean()
        loss.backward()
        with tkern.no_grad():
            w -= 0.01 * w.grad
        w.grad = None
        if step == 10:
            before = live_nodes()
    assert live_nodes() <= before


def test_softmax_family(device):
    check_grad([(3, 5)], lambda x: x.softmax(1), device=device)
    check_grad([(3, 5)], lambda x: x.log_softmax(0), device=device)
    check_grad([(3, 5)], lambda x: torch.logsumexp(x, 1) if isinstance(x, torch.Tensor) else tkern.logsumexp(x, 1),
               device=device)
    check_grad([(2, 3, 4)], lambda x: torch.softmax(x, -1) if isinstance(x, torch.Tensor) else tkern.softmax(x, -1),
               device=device)


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


@pytest.mark.parametrize("fn", [
    lambda x: x.softmax(0),
    lambda x: _lib(x).nn.functional.log_softmax(x, dim=-1),
    lambda x: _lib(x).softmax(x, 1, dtype=_lib(x).float64),
    lambda x: x[0, 0].softmax(0),
    lambda x: x[:, :0].log_softmax(1),
    lambda x: _lib(x).nn.functional.mse_loss(x, x.detach().flip(0) if _lib(x) is torch else x.detach()[[2, 1, 0]]),
    lambda x: _lib(x).nn.functional.mse_loss(x, x[0], reduction="sum"),  # target broadcast, and a gradient
    lambda x: _lib(x).nn.functional.mse_loss(x[0], x, reduction="none"),
    lambda x: _lib(x).nn.functional.mse_loss(x[:, :0], x[:, :0] * 2),  # empty: nan, like torch
], ids=range(9))
def test_own_nodes_of_functional_ops(fn, device):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mse_loss's broadcast warning
        expected, actual = check_grad([(3, 4)], fn, device=device)
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__


@pytest.mark.parametrize("which", range(4))
def test_own_nodes_of_functional_ops_differentiate_twice(which, device):
    def fn(lib, x, t):
        F = lib.nn.functional
        return [lambda: F.softmax(x, 1) * t, lambda: F.log_softmax(x, 0) * t, lambda: F.mse_loss(x, t),
                lambda: F.mse_loss(x, t, reduction="none") * t][which]()

    results = []
    for lib, dev in ((torch, "cpu"), (tkern, device)):
        x, t = (lib.tensor(random_array((2, 3), tkern.float64, seed=seed), device=dev, requires_grad=True)
                for seed in (3, 4))
        gx, gt = lib.autograd.grad(fn(lib, x, t).sum(), (x, t), create_graph=True)
        ((gx * gx).sum() + (gt * gx).sum()).backward()
        results.append([gx.detach(), gt.detach(), x.grad, t.grad])
    assert_same(*results)


def test_uniform_and_normal_fill_in_place(device):
    w = tkern.empty(2000, device=device)
    assert w.uniform_(-1, 2) is w
    assert -1 <= w.min().item() and w.max().item() < 2 and abs(w.mean().item() - 0.5) < 0.1
    w.normal_(3, 2)
    assert abs(w.mean().item() - 3) < 0.2 and abs(w.std().item() - 2) < 0.2
    leaf = tkern.empty(3, device=device, requires_grad=True)
    check_error(lambda: torch.empty(3, requires_grad=True).uniform_(), lambda: leaf.uniform_())


def test_grad_assignment_is_checked_and_deepcopy_makes_a_leaf(device):
    import copy
    p = tkern.ones(3, device=device, requires_grad=True)
    tp = torch.ones(3, requires_grad=True)
    for bad, torch_bad in ((tkern.ones(2, device=device), torch.ones(2)),
                           (tkern.ones(3, dtype=tkern.float64, device=device), torch.ones(3, dtype=torch.float64))):
        def assign(t, g):
            t.grad = g
        check_error(assign, torch_args=(tp, torch_bad), tkern_args=(p, bad))
    check_error(copy.deepcopy, torch_args=(tp * 2,), tkern_args=(p * 2,))
    copied = copy.deepcopy(p)
    assert copied.is_leaf and copied.requires_grad and copied.grad_fn is None


def _both(device, values, fn):
    """fn(module, x) run on torch and tkern from the same leaf values; returns both gradients."""
    t = torch.tensor(values, requires_grad=True)
    k = tkern.tensor(values, device=device, requires_grad=True)
    fn(torch, t)
    fn(tkern, k)
    return t.grad, k.grad


@pytest.mark.parametrize("fn", [
    lambda lib, x: x[[0, 0], :].sum().backward(),
    lambda lib, x: x[:, [1, 1]].sum().backward(),
    lambda lib, x: x[..., [0, 0]].sum().backward(),
    lambda lib, x: x.where(x > 1.5, 0.0).sum().backward(),
    lambda lib, x: (x * np.float64(2)).sum().backward(),
    lambda lib, x: (np.float32(3) * x).sum().backward(),
    lambda lib, x: (x % 2).sum().backward(),
    lambda lib, x: lib.fmod(x, 1.5).sum().backward(),
    lambda lib, x: x.narrow(0, -1, 1).sum().backward(),
    lambda lib, x: lib.max(x, x.flip(0) if lib is torch else x[[1, 0]]).sum().backward(),
    lambda lib, x: (x ** lib.zeros_like(x)).sum().backward(),
])
def test_review_cases_match_torch(fn, device):
    expected, actual = _both(device, [[1.0, 2.0], [3.0, 4.0]], fn)
    assert_same(expected, actual)


def _zero_then_use(lib, x):
    y = x * 2
    y.zero_()
    (y + x).sum().backward()


def _fill_then_use(lib, x):
    y = x * 2
    y.fill_(1)
    (y * x).sum().backward()


def _clamp_in_place(lib, x):
    y = x - 2.5
    y.clamp_(min=0)
    y.sum().backward()


def _add_scaled(lib, x):
    y = x * 1
    y.add_(x, alpha=2)
    y.sum().backward()


def _copy_into_buffer(lib, x):
    buffer = lib.zeros(2, 2)
    buffer.copy_(x * 3)
    buffer.sum().backward()


def _untouched_saved_operand(lib, x):
    y = x * 2
    z = y * 3  # only y's gradient is needed: the constant 3 is all that is kept
    y.add_(1)
    z.sum().backward()


@pytest.mark.parametrize("fn", [_zero_then_use, _fill_then_use, _clamp_in_place, _add_scaled, _copy_into_buffer,
                                _untouched_saved_operand])
def test_in_place_ops_keep_the_graph_right(fn, device):
    expected, actual = _both(device, [[1.0, 2.0], [3.0, 4.0]], fn)
    assert_same(expected, actual)


def test_engine_review_cases(device):
    a = tkern.ones(3, device=device, requires_grad=True)
    b = tkern.ones(3, device=device, requires_grad=True)
    (a + b).backward(tkern.ones(3, device=device), create_graph=True)
    assert a.grad is not b.grad
    (a + b).backward(tkern.ones(3, device=device))
    assert a.grad.tolist() == [2.0, 2.0, 2.0] and b.grad.tolist() == [2.0, 2.0, 2.0]
    y = (a + 1).sum()
    y.backward()
    y.backward()  # nothing saved: a second pass is fine, as in torch
    assert a.grad.tolist() == [4.0, 4.0, 4.0]
    x = tkern.tensor([1.0], device=device, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = tkern.autograd.grad((x * 2).sum(), x)
    assert g.item() == 20.0
    e = b.exp()
    tkern.autograd.grad((a * e).sum(), a)
    e.sum().backward()  # autograd.grad ran only the part of the graph leading to a
    with pytest.raises(RuntimeError, match="can't be cast"):
        n = tkern.ones(2, dtype=tkern.int64, device=device)
        n += tkern.ones(2, device=device, requires_grad=True)

    @tkern.set_grad_enabled(False)
    def without_grad(v):
        return v * 2
    assert tkern.is_grad_enabled() and not without_grad(a).requires_grad
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(a)


def test_in_place_self_operand_leaves_no_cycle(device):
    # (torch refuses the backward of y.mul_(y); tkern computes it from the old y)
    x = tkern.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = x * 1
    y.mul_(y)
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    ref = weakref.ref(y)
    gc.disable()
    try:
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_writes_through_data_keep_saved_tensors_valid(device):
    x = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = tkern.tensor([3.0, 4.0], device=device, requires_grad=True)
    loss = (x * w).sum()
    x.data.add_(1)
    loss.backward()  # torch: .data has a version counter of its own
    assert w.grad.tolist() == [2.0, 3.0] and x.tolist() == [2.0, 3.0]


# ----- in-place writes through views (torch's CopySlices) -----

def _through_views(device, fn):
    """fn(lib, x, device) on torch and tkern from the same leaf (3 x 4, seeded) returns tensors whose
    values and grad_fn names must agree; then x.grad must agree."""
    values = random_array((3, 4), tkern.float32, seed=11, low=0.5, high=2.0)
    t, k = make_pair(values, device)
    t.requires_grad_()
    k.requires_grad_()
    expected, actual = fn(torch, t, "cpu"), fn(tkern, k, device)
    for e, a in zip(expected, actual):
        assert_same(e, a)
        assert a.requires_grad == e.requires_grad
        assert (type(a.grad_fn).__name__ if a.grad_fn else None) == (type(e.grad_fn).__name__ if e.grad_fn else None)
    assert_same(t.grad, k.grad)


def _weights(lib, device):
    return lib.arange(1.0, 13.0, device=device).reshape(3, 4)


def _write_and_use(write):
    def fn(lib, x, device):
        y = x * x
        write(lib, y)
        (y * _weights(lib, device)).sum().backward()
        return (y,)
    return fn


@pytest.mark.parametrize("write", [
    lambda lib, y: y[:, 1].mul_(3),
    lambda lib, y: y[1].add_(y[0]),
    lambda lib, y: y.t()[0].mul_(5),
    lambda lib, y: y.view(-1)[2:7].clamp_(max=2),
    lambda lib, y: y[0].zero_(),
    lambda lib, y: y[2].copy_(y[1] * 3),
    lambda lib, y: y[1:, ::2].sub_(y[:2, 1::2] * 2),
    lambda lib, y: y.t()[1][0:2].mul_(y[2, 2:].clone()),
    lambda lib, y: y.diagonal().mul_(10),
    lambda lib, y: y.narrow(1, 1, 2).exp_(),
    lambda lib, y: y[0].__setitem__(1, y[2, 3] * 7),
    lambda lib, y: y[1].fill_(4.0),
    lambda lib, y: y.as_strided((2, 2), (4, 1), 5).mul_(3),
], ids=range(13))
def test_in_place_through_a_view_moves_the_base_history_on(write, device):
    _through_views(device, _write_and_use(write))


def test_views_see_writes_through_other_views_and_the_base(device):
    def fn(lib, x, device):
        y = x * 2
        row, column, flat = y[0], y[:, 1], y.view(-1)
        column.mul_(3)  # row and flat share y[0, 1] with it: they must see the write
        y.add_(1)  # and a write to the base itself
        total = (row * 2).sum() + (flat * _weights(lib, device).view(-1)).sum() + column.sum()
        total.backward()
        return y, row, column, flat
    _through_views(device, fn)


def test_a_base_that_needs_no_gradient_gets_one_through_a_view(device):
    def fn(lib, x, device):
        z = lib.zeros(3, 4, device=device)
        r0, r1 = z[0], z[1]
        assert not r0.requires_grad
        r0.copy_(x[0] * 2)
        r1[1:3].mul_(x[2, :2])
        (z * _weights(lib, device)).sum().backward()
        return z, r0, r1
    _through_views(device, fn)


def test_second_derivatives_through_copy_slices(device):
    def fn(lib, x, device):
        y = x * 1
        y[1].mul_(x[0])
        (grad,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (grad * _weights(lib, device)).sum().backward()
        return y.detach(), grad.detach()
    _through_views(device, fn)


def test_as_strided_and_diagonal_gradients(device):
    def fn(lib, x, device):
        results = [
            x.as_strided((2, 2), (4, 1), 1),
            x.as_strided((3, 3), (1, 1)),  # overlapping: elements are read more than once
            x.as_strided((2, 3), (0, 2), 3),  # stride 0
            x.t().as_strided((2,), (5,)),
            lib.as_strided(x, (4,), (3,), 0),
            x.diagonal(),
            x.diagonal(1),
            lib.diagonal(x, -1),
            x.expand(2, 3, 4).as_strided((3, 2), (2, 3), 2),  # from an overlapping input
        ]
        sum(((r * lib.arange(1.0, r.numel() + 1, device=device).reshape(r.shape)).sum() for r in results)).backward()
        return results
    _through_views(device, fn)


def test_view_bases_and_view_errors(device):
    y = tkern.ones(2, 3, device=device, requires_grad=True) * 2
    assert y[0]._base is y and y.t()[0]._base is y and y.view(6)._base is y and y.unbind(1)[2]._base is y
    assert y._base is None and y.detach()._base is None and y[[0, 1]]._base is None
    ty = torch.ones(2, 3, requires_grad=True) * 2
    check_error(lambda v: v.detach_(), torch_args=(ty[0],), tkern_args=(y[0],))
    with torch.no_grad():
        torch_view = ty[0]
    with tkern.no_grad():
        view, piece = y[0], y.unbind(0)[1]
    check_error(lambda v: v.mul_(2), torch_args=(torch_view,), tkern_args=(view,))
    check_error(lambda v: v.add_(1), torch_args=(torch_view,), tkern_args=(piece,))
    # pieces of split/chunk/unbind (and views of them) may not be written where autograd records
    for take in (lambda v: v.unbind(0)[1], lambda v: v.split(2, 1)[1], lambda v: v.chunk(2, 1)[0][1:]):
        check_error(lambda v: take(v).mul_(2), torch_args=(ty,), tkern_args=(y,))
        check_error(lambda v: take(torch.ones(2, 3)).mul_(v[0, 0]), lambda v: take(tkern.ones(2, 3, device=device)).mul_(v[0, 0]),
                    torch_args=(ty,), tkern_args=(y,))
        with tkern.no_grad():
            take(y).mul_(1)  # allowed where nothing is recorded
    leaf = tkern.ones(2, 3, device=device, requires_grad=True)
    check_error(lambda v: v.mul_(2), torch_args=(torch.ones(2, 3, requires_grad=True)[0],), tkern_args=(leaf[0],))
    x = tkern.zeros(2, 3, device=device)
    check_error(lambda v: v.as_strided((2, 3), (3, 1), 1), torch_args=(torch.zeros(2, 3),), tkern_args=(x,))
    check_error(lambda v: v.as_strided((2,), (-1,)), torch_args=(torch.zeros(2, 3),), tkern_args=(x,))
    assert x.as_strided((0,), (1,), 100).shape == (0,)

    def overwrite_a_saved_operand(lib, x):
        y = x * 2
        y.t()[1][0:2].mul_(y[0, :2])  # mul keeps y[0, :2], which the write changes (y[0, 1])
        y.sum().backward()
    check_error(overwrite_a_saved_operand, torch_args=(torch, torch.ones(2, 3, requires_grad=True)),
                tkern_args=(tkern, tkern.ones(2, 3, device=device, requires_grad=True)))


def _outcome(lib, device, program):
    """What program(lib, device) returns (tensors, flags, names), or the class of what it raises."""
    try:
        return program(lib, device)
    except RuntimeError as error:
        return type(error)


def _same_outcome(program, device):
    expected, actual = _outcome(torch, "cpu", program), _outcome(tkern, device, program)
    if isinstance(expected, type):
        assert actual is expected, f"torch raised {expected.__name__}, tkern gave {actual}"
        return
    assert not isinstance(actual, type), f"tkern raised {actual.__name__}; torch gave {expected}"
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual):
        if isinstance(e, torch.Tensor) or e is None:
            assert_same(e, a)
        else:
            assert e == a


def _leaf(lib, device, values=(1.0, 2.0, 3.0, 4.0)):
    return lib.tensor(values, device=device, requires_grad=True)


def _diagonal_of_expanded(lib, device):
    x = lib.zeros(3, device=device).expand(3, 3)
    x.requires_grad_()
    (x.diagonal() * lib.tensor([1.0, 10.0, 100.0], device=device)).sum().backward()
    return [x.grad]


def _write_over_inf_and_nan(lib, device):
    a = _leaf(lib, device)
    b = a * lib.tensor([float("inf"), 1.0, float("nan"), 2.0], device=device)
    w = _leaf(lib, device, (5.0, 6.0))
    b[::2].copy_(w)
    c = a * lib.tensor([float("inf"), 1.0, 1.0, float("nan")], device=device)
    c[0].fill_(3.0)
    c[3:].zero_()
    (b.sum() + c.sum()).backward()
    return [b.detach(), c.detach(), a.grad, w.grad]


def _swapdims_and_t_in_place_through_views(lib, device):
    a = _leaf(lib, device, [float(i) for i in range(6)])
    b = a.reshape(2, 3) * 1
    b.swapdims(0, 1)[0].mul_(10)
    v = b[:, :2]
    v.t_()
    v[0].mul_(3)
    (b * lib.arange(6.0, device=device).reshape(2, 3)).sum().backward()
    return [b.detach(), a.grad, tuple(v.shape)]


def _out_into_a_view_that_requires_grad(lib, device):
    b = _leaf(lib, device) * 1
    lib.mul(lib.ones(2, device=device), lib.ones(2, device=device), out=b[:2])
    return [b]


def _retain_grad_and_hooks_on_a_written_view(lib, device):
    a = _leaf(lib, device)
    b = a * 1
    v = b[:2]
    v.retain_grad()
    fired = []
    v.register_hook(lambda g: fired.append(g.tolist()))
    v.mul_(3)
    (v * lib.tensor([1.0, 2.0], device=device)).sum().backward()
    return [v.grad, a.grad, fired]


def _as_strided_of_an_empty_view(lib, device):
    a = _leaf(lib, device)
    b = a * 1
    v = b[:0].as_strided((2,), (1,), 1)
    (v * lib.tensor([1.0, 2.0], device=device)).sum().backward()
    return [a.grad]


def _second_derivative_of_overlapping_as_strided(lib, device):
    a = _leaf(lib, device)
    v = a.as_strided((2, 2), (1, 1))
    (g,) = lib.autograd.grad((v * v).sum(), a, create_graph=True)
    g.sum().backward()
    return [g.detach(), a.grad, g.requires_grad]


def _no_grad_view_of_a_plain_tensor_written_with_a_gradient(lib, device):
    x = lib.zeros(3, device=device)
    with lib.no_grad():
        v = x[:2]
    v.copy_(_leaf(lib, device, (1.0, 2.0)))
    return [x]


def _view_of_a_no_grad_view(lib, device):
    b = _leaf(lib, device) * 1
    with lib.no_grad():
        v = b[:2]
    v[:1].mul_(2)
    return [b]


def _views_follow_requires_grad_of_their_base(lib, device):
    x = lib.zeros(3, device=device)
    v = x[:2]
    x.requires_grad_()
    return [v.requires_grad, v.is_leaf]


def _write_through_a_view_of_a_leaf_made_to_require_grad(lib, device):
    x = lib.zeros(3, device=device)
    v = x[:2]
    x.requires_grad_()
    v.add_(1)
    return [x]


def _pieces_after_their_base_is_written(lib, device):
    b = _leaf(lib, device) * 1
    p, q, r, s = b.unbind()
    b.mul_(2)
    (p * 3).backward()
    return [b]


def _views_as_another_dtype_and_integer_bases(lib, device):
    b = _leaf(lib, device) * 1
    h = b.view(lib.int32)
    x = lib.zeros(4, dtype=lib.int64, device=device)
    x[:2].copy_(_leaf(lib, device, (1.0, 2.0)))
    return [h.requires_grad, x.requires_grad, x]


@pytest.mark.parametrize("program", [
    _diagonal_of_expanded, _write_over_inf_and_nan, _swapdims_and_t_in_place_through_views,
    _out_into_a_view_that_requires_grad, _retain_grad_and_hooks_on_a_written_view, _as_strided_of_an_empty_view,
    _second_derivative_of_overlapping_as_strided, _no_grad_view_of_a_plain_tensor_written_with_a_gradient,
    _view_of_a_no_grad_view, _views_follow_requires_grad_of_their_base,
    _write_through_a_view_of_a_leaf_made_to_require_grad, _pieces_after_their_base_is_written,
    _views_as_another_dtype_and_integer_bases,
], ids=lambda f: f.__name__.strip("_"))
def test_view_and_in_place_corner_cases_match_torch(program, device):
    _same_outcome(program, device)


def test_grad_mode_is_per_thread():
    import threading
    seen = {}

    def look(name):
        seen[name] = (torch.is_grad_enabled(), tkern.is_grad_enabled())

    with torch.no_grad(), tkern.no_grad():
        other = threading.Thread(target=look, args=("other",))
        other.start()
        other.join()
        look("main")
    assert seen == {"other": (True, True), "main": (False, False)}


@pytest.mark.parametrize("fn", [lambda x: x.max(0)[0], lambda x: x.min(-1, keepdim=True).values,
                                lambda x: torch.max(x, dim=0).values * 2 if isinstance(x, torch.Tensor)
                                else tkern.max(x, dim=0).values * 2,
                                lambda x: torch.min(x, -1)[0] if isinstance(x, torch.Tensor) else tkern.min(x, -1)[0]])
def test_max_min_with_a_dim_of_a_0d_input(fn, device):
    check_grad([()], fn, device=device)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize("shapes", [((1,), (2, 3)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (5,)), ((5,), ())])
def test_rounding_division_gives_zero_gradients_of_each_input_shape(mode, shapes, device):
    check_grad(shapes, lambda a, b: a.div(b, rounding_mode=mode), device=device, low=0.5, high=3.0)
    a_t, a_k = make_pair(random_array((2, 1), seed=5), device)
    b_t, b_k = make_pair(random_array((3,), seed=6), device)
    upstream = np.full((2, 3), np.inf, np.float32)
    upstream[1] = np.nan
    for a, b, lib in ((a_t, b_t, torch), (a_k, b_k, tkern)):
        a.requires_grad_()
        b.requires_grad_()
        lib.div(a, b, rounding_mode=mode).backward(lib.tensor(upstream, device=None if lib is torch else device))
    assert_same((a_t.grad, b_t.grad), (a_k.grad, b_k.grad))  # zeros, whatever the upstream gradient holds


def test_backward_refuses_a_gradient_on_another_device(device):
    # torch's CPU build has no second device with data: 'meta' stands in for it
    x_t = torch.ones(3, requires_grad=True)
    calls = [(lambda lib, x, good, bad: (x * 2).backward(bad), 0),
             (lambda lib, x, good, bad: lib.autograd.grad(x * 2, x, bad), 0),
             (lambda lib, x, good, bad: lib.autograd.grad([x * 2], [x], [bad]), 0),
             (lambda lib, x, good, bad: lib.autograd.backward([x * 2, x * 3], [good, bad]), 1)]
    for call, index in calls:
        expected = f"^invalid gradient at index {index} - expected device cpu but got meta$"
        with pytest.raises(RuntimeError, match=expected):
            call(torch, x_t, torch.ones(3), torch.ones(3, device="meta"))
    (x_t * 2).sum().backward(torch.tensor(2.0))
    others = [d for d in ("cpu", "cuda") if d != device and (d == "cpu" or tkern.cuda.is_available())]
    for other in others:
        x_k = tkern.ones(3, device=device, requires_grad=True)
        good, bad = tkern.ones(3, device=device), tkern.ones(3, device=other)
        for call, index in calls:
            error = check_error(call, call, (torch, x_t, torch.ones(3), torch.ones(3, device="meta")),
                                (tkern, x_k, good, bad))
            assert str(error) == (f"invalid gradient at index {index} - expected device {x_k.device} "
                                  f"but got {bad.device}")
        assert x_k.grad is None
        # a 0-d gradient is moved to the output's device, as in torch
        (x_k * 2).sum().backward(tkern.tensor(2.0, device=other))
        assert x_k.grad.device == x_k.device
        assert_same(x_t.grad, x_k.grad)


# ----- regressions from the differential fuzz (issue 14) -----


def test_pow_half_gradient_at_signed_zero(device):
    t, k = make_pair(np.array([-0.0, 0.0, 0.5, 2.0]), device, tkern.float32)
    t.requires_grad_()
    k.requires_grad_()
    (t ** 0.5).sum().backward()
    (k ** 0.5).sum().backward()
    assert_same(t.grad, k.grad)
    assert_same(torch.signbit(t.grad), tkern.tensor(np.signbit(k.grad.cpu().numpy())))


@pytest.mark.parametrize("bound", ["min", "max"])
def test_clamp_gives_a_single_tensor_bound_its_gradient(bound, device):
    check_grad([(3, 4), (3, 4)], lambda x, b: torch.clamp(x, **{bound: b}),
               lambda x, b: tkern.clamp(x, **{bound: b}), device=device)
    check_grad([(3, 4), (4,)], lambda x, b: x.clamp(**{bound: b}), device=device)


def test_clamp_with_min_above_max_sends_the_gradient_to_max(device):
    def with_bounds(x, low, high):
        return torch.clamp(x, low + 2.0, high) if isinstance(x, torch.Tensor) else tkern.clamp(x, low + 2.0, high)
    check_grad([(5,), (5,), (5,)], with_bounds, device=device, low=-1.0, high=1.0)
    check_grad([(2, 3), (3,), (2, 1)], lambda x, lo, hi: x.clip(lo, hi), device=device)


def test_atan2_records_gradients(device):
    check_grad([(3, 4), (3, 4)], torch.atan2, tkern.atan2, device=device)
    check_grad([(3, 4), (4,)], torch.atan2, tkern.atan2, device=device, grad_inputs=[0])
    check_grad([(3, 4), (4,)], lambda a, b: a.atan2(b), device=device, grad_inputs=[1])


def _index_put_graph(indices, accumulate: bool):
    """y = x.clone(); y.index_put_(indices, v): indices made by the library of x, on x's device."""
    def fn(x, v):
        lib = torch if isinstance(x, torch.Tensor) else tkern
        made = tuple(lib.tensor(i, device=x.device) for i in indices)
        y = x.clone()
        y.index_put_(made, v, accumulate=accumulate)
        assert y.grad_fn.name() == "IndexPutBackward0"
        return y
    return fn


INDEX_PUT_GRADS = [((5,), ([1, 3, 1],), (3,)), ((5,), ([4, 0],), (1,)), ((5,), ([True, False, True, True, False],), ()),
                   ((5,), ([True, False, True, True, False],), (3,)), ((3, 4), ([0, 2, 0], [1, 1, 3]), (3,)),
                   ((3, 4), ([2, 0],), (4,)), ((3, 4), ([[True, False, True, False], [False] * 4, [True] * 4],), (6,))]


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("shape,indices,value_shape", INDEX_PUT_GRADS, ids=repr)
def test_index_put_records_its_gradient(shape, indices, value_shape, accumulate, device):
    check_grad([shape, value_shape], _index_put_graph(indices, accumulate), device=device)


def _setitem_graph(key_of):
    def fn(x, v):
        lib = torch if isinstance(x, torch.Tensor) else tkern
        y = x.clone()
        y[key_of(lambda values: lib.tensor(values, device=x.device))] = v
        return y
    return fn


SETITEM_GRADS = {
    "index_with_extra_leading_ones": ((4,), lambda t: t([0, 1]), (1, 1)),
    "rows_with_extra_leading_ones": ((3, 2), lambda t: t([0, 1]), (1, 1, 1)),
    "mask_with_one_value": ((4,), lambda t: t([True, False, True, False]), ()),
    "mask_with_extra_leading_ones": ((4,), lambda t: t([True, False, True, False]), (1, 1)),
    "mask_with_each_value": ((4,), lambda t: t([True, False, True, True]), (3,)),
    "mask_after_a_slice": ((2, 3), lambda t: (slice(None), t([True, False, True])), (2, 1)),
    "two_dim_mask": ((2, 3), lambda t: t([[True, False, True], [False, True, True]]), (4,)),
    "mask_and_index": ((2, 3), lambda t: (t([True, False]), t([2])), (1,)),
}


@pytest.mark.parametrize("case", list(SETITEM_GRADS))
def test_setitem_backward_with_broadcast_values_and_masks(case, device):
    shape, key_of, value_shape = SETITEM_GRADS[case]
    check_grad([shape, value_shape], _setitem_graph(key_of), device=device)


def test_setitem_through_a_lone_mask_gives_a_value_of_another_dtype_its_gradient(device):
    t, k = make_pair(random_array((4,), seed=1), device)
    v_t, v_k = make_pair(np.float64(2.5), device)
    for x, v, lib in ((t, v_t, torch), (k, v_k, tkern)):
        x.requires_grad_()
        v.requires_grad_()
        y = x.clone()
        y[lib.tensor([True, False, True, True], device=x.device)] = v
        (y * y).sum().backward()
    assert_same(t.grad, k.grad)
    assert_same(v_t.grad, v_k.grad)


# ----- issue 14, new fuzzer finds -----


@pytest.mark.parametrize("name", ["std", "var"])
@pytest.mark.parametrize("keepdim, correction", [(True, 2), (True, 0.5), (False, 2), (True, 0)])
def test_var_std_gradient_over_an_explicit_empty_dim_list(name, keepdim, correction, device):
    # torch's backward counts dim=() as one element while its forward reduces every dim
    check_grad([(2, 3, 4)], lambda x: getattr(x, name)(dim=(), keepdim=keepdim, correction=correction),
               device=device, seed=21)


def test_logical_not_in_place_on_a_view_of_a_leaf(device):
    values = random_array((6,), seed=22)
    values[1] = 0.0
    t, k = make_pair(values, device)
    t.requires_grad_()
    k.requires_grad_()
    view_t, view_k = t[1:4], k[1:4]
    assert_same(view_t.logical_not_(), view_k.logical_not_())
    assert_same(t, k)
    assert k.requires_grad and view_k.requires_grad and k.grad_fn is None
    (t * 2).sum().backward()
    (k * 2).sum().backward()
    assert_same(t.grad, k.grad)
    assert_same(t.logical_not_(), k.logical_not_())  # on the leaf itself too
    product_t, product_k = t * 3, k * 3
    product_t.logical_not_()
    product_k.logical_not_()
    assert product_k.requires_grad and type(product_k.grad_fn).__name__ == type(product_t.grad_fn).__name__
    assert_same(product_t, product_k)


def test_leaf_gradients_never_alias(device):
    """AccumulateGrad takes a gradient over without a copy only when nothing else holds it: two
    leaves fed the same gradient, a caller's gradient and one a hook kept each stay separate."""
    a = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    b = tkern.tensor([3.0, 4.0], device=device, requires_grad=True)
    (a + b).backward(tkern.tensor([0.5, 0.25], device=device))
    a.grad += 1
    assert b.grad.tolist() == [0.5, 0.25] and a.grad.tolist() == [1.5, 1.25]
    upstream = tkern.tensor([2.0, 3.0], device=device)
    x = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    x.clone().backward(upstream)
    x.grad.zero_()
    assert upstream.tolist() == [2.0, 3.0]
    kept = []
    w = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    w.register_hook(lambda g: kept.append(g))
    (w * 3).sum().backward()
    w.grad.zero_()
    assert kept[0].tolist() == [3.0, 3.0]
    v = tkern.tensor([1.0, 2.0], device=device, requires_grad=True)
    (v * 2).sum().backward()
    (v * 2).sum().backward()
    assert v.grad.tolist() == [4.0, 4.0]
