"""The fused polynomial loss: poly_loss_grad, poly_fit and nn.functional.poly_mse_loss against torch in
float64 and against the seed's float32 loop, on every device (the 'cuda' kernels through the interpreter
in CI), including the kernels' several-program and 64-bit-offset paths."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern
import tkern.nn.functional as F
from tkern.ops import triton_arguments, triton_polynomial

from helpers import TORCH_DTYPES, random_array

SIZES = [1, 7, 2000, 4099, 100003]
DEGREES = [0, 1, 3, 5]


def _points(n: int, degree: int, dtype, device: str, strided: bool, seed: int = 0):
    """(x, y, coeffs) as tkern tensors and the same values as float64 torch tensors. Strided x is every
    third element of a longer buffer, from an offset; y is then a transposed column of a matrix."""
    x_values = random_array((3 * n + 2,) if strided else (n,), tkern.float32, seed, -1.5, 1.5)
    y_values = random_array((n, 2) if strided else (n,), tkern.float32, seed + 1, -2.0, 2.0)
    c_values = random_array((degree + 1,), tkern.float32, seed + 2, -1.0, 1.0)
    x = tkern.tensor(x_values, device=device).to(dtype)
    y = tkern.tensor(y_values, device=device).to(dtype)
    if strided:
        x, y = x[2::3], y.t()[1]
    coeffs = tkern.tensor(c_values, device=device).to(dtype)
    return (x, y, coeffs), tuple(torch.from_numpy(t.double().cpu().numpy()) for t in (x, y, coeffs))


def _reference(x, y, coeffs, reduction: str):
    """Loss, coefficient gradient and the scale of their terms (sum of |term|), torch float64."""
    coeffs = coeffs.clone().requires_grad_()
    powers = torch.stack([x ** k for k in range(coeffs.shape[0])])
    residual = coeffs @ powers - y
    loss = (residual ** 2).sum() if reduction == "sum" else (residual ** 2).mean()
    loss.backward()
    scale = 1.0 if reduction == "sum" else 1.0 / x.shape[0]
    terms = 2 * scale * (residual.abs().detach() * powers.abs()).sum(1)
    return loss.detach(), coeffs.grad, terms


# relative error of a sum allowed against the sum of its terms' magnitudes, by accumulation dtype
_SUM_RTOL = {tkern.float32: 1e-5, tkern.float64: 1e-12, tkern.float16: 1e-5, tkern.bfloat16: 1e-5}
# relative error of the rounded result
_ROUND_RTOL = {tkern.float32: 1e-6, tkern.float64: 1e-14, tkern.float16: 1e-3, tkern.bfloat16: 8e-3}


def _assert_close(actual, expected, terms, dtype):
    actual = actual.double().cpu().numpy()
    bound = _SUM_RTOL[dtype] * terms.numpy() + _ROUND_RTOL[dtype] * np.abs(expected.numpy())
    error = np.abs(actual - expected.numpy())
    assert np.all(error <= bound), f"error {error} above {bound}"


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_poly_loss_grad_matches_torch_float64(n, degree, reduction, dtype, strided, device):
    (x, y, coeffs), (tx, ty, tc) = _points(n, degree, dtype, device, strided, seed=n + degree)
    assert x.stride() == ((3,) if strided else (1,))
    loss, grad = tkern.fused.poly_loss_grad(x, y, coeffs, reduction=reduction)
    expected_loss, expected_grad, terms = _reference(tx, ty, tc, reduction)
    assert loss.shape == () and loss.dtype is dtype and loss.device == x.device
    assert grad.shape == coeffs.shape and grad.dtype is dtype and grad.device == x.device
    assert not loss.requires_grad and loss.grad_fn is None
    _assert_close(loss, expected_loss, expected_loss.abs(), dtype)
    _assert_close(grad, expected_grad, terms, dtype)


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("n", [7, 4099])
@pytest.mark.parametrize("degree", [1, 3])
def test_poly_loss_grad_half_types(dtype, n, degree, device):
    (x, y, coeffs), (tx, ty, tc) = _points(n, degree, dtype, device, strided=n == 7, seed=5)
    loss, grad = tkern.fused.poly_loss_grad(x, y, coeffs, reduction="mean")
    assert loss.dtype is dtype and grad.dtype is dtype
    expected_loss, expected_grad, terms = _reference(tx, ty, tc, "mean")
    _assert_close(loss, expected_loss, expected_loss.abs(), dtype)
    _assert_close(grad, expected_grad, terms, dtype)


def test_mixed_dtypes_promote_like_torch(device):
    (x, y, _), (tx, ty, _) = _points(300, 2, tkern.float16, device, strided=False)
    coeffs = tkern.tensor([0.5, -1.0, 0.25], device=device, dtype=tkern.float64)
    loss, grad = tkern.fused.poly_loss_grad(x, y, coeffs)
    # the loss has the dtype the three operands promote to, as torch.promote_types says; computed from the
    # float16 values in float64
    assert TORCH_DTYPES[loss.dtype] is torch.promote_types(torch.float16, torch.float64) and grad.dtype is tkern.float64
    expected_loss, expected_grad, _ = _reference(tx, ty, torch.tensor([0.5, -1.0, 0.25], dtype=torch.float64), "sum")
    np.testing.assert_allclose(loss.item(), expected_loss.item(), rtol=1e-12)
    np.testing.assert_allclose(grad.cpu().numpy(), expected_grad.numpy(), rtol=1e-10)
    half, _ = tkern.fused.poly_loss_grad(x, y, coeffs.float())
    assert half.dtype is tkern.float32


@pytest.mark.parametrize("types", [("bfloat16",) * 3, ("float64", "float32", "bfloat16"),
                                   ("bfloat16", "float16", "float64"), ("float16",) * 3])
def test_half_types_and_mixes_in_every_output(types, device):
    """Every output rounds into bfloat16/float16 from the accumulation dtype, float64 included: the
    loss and gradient, the fit's coefficients and losses, and the points' own gradients."""
    (x, y, coeffs), _ = _points(300, 2, tkern.float32, device, strided=False, seed=8)
    x, y, coeffs = (t.to(getattr(tkern, name)) for t, name in zip((x, y, coeffs), types))
    tx, ty, tc = (torch.from_numpy(t.double().cpu().numpy()) for t in (x, y, coeffs))
    loss_dtype = tkern.promote_types(tkern.promote_types(x.dtype, y.dtype), coeffs.dtype)
    loss, grad = tkern.fused.poly_loss_grad(x, y, coeffs)
    expected_loss, expected_grad, terms = _reference(tx, ty, tc, "sum")
    assert loss.dtype is loss_dtype and grad.dtype is coeffs.dtype
    _assert_close(loss, expected_loss, expected_loss.abs(), loss_dtype)
    _assert_close(grad, expected_grad, terms, coeffs.dtype)
    fitted, losses = tkern.fused.poly_fit(x, y, coeffs, 1e-4, 3)
    c = tc.clone()
    for step in range(3):
        step_loss, step_grad, _ = _reference(tx, ty, c, "sum")
        _assert_close(losses[step], step_loss, step_loss.abs(), loss_dtype)
        c = c - 1e-4 * step_grad
    assert fitted.dtype is coeffs.dtype and losses.dtype is loss_dtype
    _assert_close(fitted, c, c.abs(), coeffs.dtype)
    x.requires_grad_()
    y.requires_grad_()
    F.poly_mse_loss(x, y, coeffs).backward()
    tx.requires_grad_()
    ty.requires_grad_()
    ((tc @ torch.stack([tx ** k for k in range(3)]) - ty) ** 2).sum().backward()
    assert x.grad.dtype is x.dtype and y.grad.dtype is y.dtype
    _assert_close(x.grad, tx.grad, tx.grad.abs(), x.dtype)
    _assert_close(y.grad, ty.grad, ty.grad.abs(), y.dtype)


@pytest.mark.parametrize("dtype", [tkern.float16, tkern.bfloat16], ids=["float16", "bfloat16"])
def test_backward_scales_before_rounding_like_torch(dtype, device):
    """Loss scaling: the incoming gradient multiplies the gradients before they are rounded to a half
    type, so a scaled float16 gradient neither flushes to zero nor overflows where torch's does not."""
    for points, target, start, factor in ((1.0, 1e-8, [0.0], 65536.0), (10.0, 0.0, [1.0, 1.0], 1e-3)):
        x, y = tkern.full((1000,), points, device=device), tkern.full((1000,), target, device=device)
        coeffs = tkern.tensor(start, device=device, dtype=dtype).requires_grad_()
        (F.poly_mse_loss(x, y, coeffs, reduction="mean") * factor).backward()
        tx, ty = torch.full((1000,), points), torch.full((1000,), target)
        tc = torch.tensor(start, dtype=TORCH_DTYPES[dtype], requires_grad=True)
        ((torch.stack([tx ** k for k in range(len(start))]).t() @ tc.float() - ty) ** 2).mean().mul(factor).backward()
        assert coeffs.grad.dtype is dtype
        # one rounding from float32, the same as torch's; the interpreter truncates to bfloat16 (1 ulp)
        truncating = dtype is tkern.bfloat16 and device == "cuda" and triton_arguments.INTERPRETING
        np.testing.assert_allclose(coeffs.grad.float().cpu().numpy(), tc.grad.float().numpy(),
                                   rtol=2 ** -7 if truncating else 0, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_mixed_dtypes_in_the_composed_paths(reduction, device):
    """create_graph's recomputed gradients and reduction='none' evaluate p(x) in the promoted dtype
    (float16 points, float64 coefficients: float64), as the fused pass does."""
    (x, y, coeffs), (tx, ty, tc) = _points(200, 3, tkern.float16, device, strided=False, seed=12)
    coeffs, tc = coeffs.double().requires_grad_(), tc.requires_grad_()
    expected = (tc @ torch.stack([tx ** k for k in range(4)]) - ty) ** 2
    if reduction == "none":
        losses = F.poly_mse_loss(x, y, coeffs, reduction="none")
        assert losses.dtype is tkern.float64
        np.testing.assert_allclose(losses.detach().cpu().numpy(), expected.detach().numpy(), rtol=1e-12)
        return
    (grad,) = tkern.autograd.grad(F.poly_mse_loss(x, y, coeffs, reduction="mean"), [coeffs], create_graph=True)
    (expected_grad,) = torch.autograd.grad(expected.mean(), [tc], create_graph=True)
    np.testing.assert_allclose(grad.detach().cpu().numpy(), expected_grad.detach().numpy(), rtol=1e-12)
    fast = tkern.autograd.grad(F.poly_mse_loss(x, y, coeffs, reduction="mean"), [coeffs])[0]
    np.testing.assert_allclose(fast.cpu().numpy(), expected_grad.detach().numpy(), rtol=1e-12)


def test_inputs_written_before_backward_are_refused(device):
    (x, y, coeffs), _ = _points(20, 2, tkern.float32, device, strided=False)
    for written in (0, 1, 2):
        tensors = [x.clone(), y.clone(), coeffs.clone().requires_grad_()]
        loss = F.poly_mse_loss(*tensors)
        with tkern.no_grad():
            tensors[written].add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


@pytest.mark.parametrize("n", [2000, 100003])
def test_same_bits_on_every_run(n, device):
    (x, y, coeffs), _ = _points(n, 3, tkern.float32, device, strided=False)
    first = [t.cpu().numpy().tobytes() for t in tkern.fused.poly_loss_grad(x, y, coeffs)]
    fit = [t.cpu().numpy().tobytes() for t in tkern.fused.poly_fit(x, y, coeffs, 1e-6, 20)]
    for _ in range(2):
        assert [t.cpu().numpy().tobytes() for t in tkern.fused.poly_loss_grad(x, y, coeffs)] == first
        assert [t.cpu().numpy().tobytes() for t in tkern.fused.poly_fit(x, y, coeffs, 1e-6, 20)] == fit


def _seed_loop(n: int, start, lr: float, steps: int, mean: bool = False):
    """The seed's float32 loop, written with torch: losses before each step, final coefficients."""
    x = torch.linspace(-math.pi, math.pi, n)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, dtype=torch.float32) for v in start)
    losses = []
    for _ in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        losses.append(((y_pred - y).pow(2).mean() if mean else (y_pred - y).pow(2).sum()).item())
        grad_y_pred = (2.0 / n if mean else 2.0) * (y_pred - y)
        grads = [grad_y_pred.sum(), (grad_y_pred * x).sum(), (grad_y_pred * x ** 2).sum(),
                 (grad_y_pred * x ** 3).sum()]
        for p, g in zip((a, b, c, d), grads):
            p -= lr * g
    return np.array(losses), np.array([p.item() for p in (a, b, c, d)])


@pytest.mark.parametrize("n", [2000, 50000])
def test_poly_fit_matches_the_seeds_float32_loop(n, device):
    start = np.random.default_rng(n).standard_normal(4).astype(np.float32)
    lr, steps = 1e-6 * 2000 / n, 2000
    expected_losses, expected = _seed_loop(n, start.tolist(), lr, steps)
    x = tkern.linspace(-math.pi, math.pi, n, device=device)
    coeffs, losses = tkern.fused.poly_fit(x, tkern.sin(x), tkern.tensor(start, device=device), lr, steps)
    assert coeffs.dtype is tkern.float32 and coeffs.shape == (4,) and losses.shape == (steps,)
    assert losses.dtype is tkern.float32 and coeffs.device == x.device == losses.device
    np.testing.assert_allclose(losses.cpu().numpy(), expected_losses, rtol=2e-3)
    np.testing.assert_allclose(coeffs.cpu().numpy(), expected, rtol=2e-3)


def test_poly_fit_mean_reduction_matches_the_loop(device):
    start = [0.3, -0.2, 0.1, 0.05]
    expected_losses, expected = _seed_loop(3000, start, 0.005, 300, mean=True)
    x = tkern.linspace(-math.pi, math.pi, 3000, device=device)
    coeffs, losses = tkern.fused.poly_fit(x, tkern.sin(x), tkern.tensor(start, device=device), 0.005, 300,
                                          reduction="mean")
    np.testing.assert_allclose(losses.cpu().numpy(), expected_losses, rtol=2e-3)
    np.testing.assert_allclose(coeffs.cpu().numpy(), expected, rtol=2e-3)


@pytest.mark.parametrize("degree", [0, 1, 5])
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64], ids=["float32", "float64"])
def test_poly_fit_any_degree_matches_float64_steps(degree, dtype, device):
    """Against gradient descent stepped in float64 with the fused loss itself as the reference
    gradient: strided points, 300 steps."""
    (x, y, coeffs), (tx, ty, tc) = _points(4099, degree, dtype, device, strided=True, seed=11)
    lr = 0.3 / (4099 * 2.0 ** degree)
    coeffs_out, losses = tkern.fused.poly_fit(x, y, coeffs, lr, 300)
    c, expected_losses = tc.clone(), []
    for _ in range(300):
        loss, grad, _ = _reference(tx, ty, c, "sum")
        expected_losses.append(loss.item())
        c = c - lr * grad
    rtol = 1e-4 if dtype is tkern.float32 else 1e-10
    assert coeffs_out.dtype is dtype and losses.dtype is dtype
    np.testing.assert_allclose(losses.cpu().numpy(), expected_losses, rtol=rtol)
    np.testing.assert_allclose(coeffs_out.double().cpu().numpy(), c.numpy(), rtol=rtol, atol=rtol * 1e-2)


def test_poly_fit_takes_numpy_numbers_and_a_tensor_learning_rate(device):
    (x, y, coeffs), _ = _points(100, 2, tkern.float64, device, strided=False)
    for lr, steps in ((np.float64(0.001), np.int64(4)), (np.float32(0.001), 4), (tkern.tensor(0.001), 4)):
        got = tkern.fused.poly_fit(x, y, coeffs, lr, steps)
        expected = tkern.fused.poly_fit(x, y, coeffs, float(lr), int(steps))
        assert [t.tolist() for t in got] == [t.tolist() for t in expected]


def test_poly_fit_zero_steps_and_exact_fits(device):
    x = tkern.linspace(-1.0, 1.0, 501, device=device, dtype=tkern.float64)
    coeffs = tkern.tensor([0.5, -1.0, 2.0], device=device, dtype=tkern.float64)
    same, losses = tkern.fused.poly_fit(x, 1.0 + x, coeffs, 0.01, 0)
    assert losses.shape == (0,) and same.tolist() == coeffs.tolist() and same.data_ptr() != coeffs.data_ptr()
    # data a polynomial of the fitted degree: the loss falls to (rounding above) zero, never below
    exact = 0.5 - x + 2.0 * x * x
    _, losses = tkern.fused.poly_fit(x, exact + 1e-3, coeffs, 1e-3, 50)
    assert (losses.cpu().numpy() >= 0).all() and losses[-1].item() < losses[0].item()


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("wants", ["coeffs", "x", "y", "all"])
def test_poly_mse_loss_backward_equals_torch_autograd(reduction, wants, device):
    (x, y, coeffs), (tx, ty, tc) = _points(4099, 3, tkern.float64, device, strided=True, seed=3)
    leaves = {"coeffs": [2], "x": [0], "y": [1], "all": [0, 1, 2]}[wants]
    tensors, torch_tensors = [x, y, coeffs], [tx, ty, tc]
    for i in leaves:
        tensors[i] = tensors[i].detach().requires_grad_()
        torch_tensors[i] = torch_tensors[i].clone().requires_grad_()
    loss = F.poly_mse_loss(*tensors, reduction=reduction)
    assert type(loss.grad_fn).__name__ == "PolyMseLossBackward0" and loss.requires_grad
    tx, ty, tc = torch_tensors
    residual = tc @ torch.stack([tx ** k for k in range(4)]) - ty
    expected = (residual ** 2).sum() if reduction == "sum" else (residual ** 2).mean()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    (loss * 0.75).backward()
    (expected * 0.75).backward()
    for i, (k, t) in enumerate(zip(tensors, torch_tensors)):
        if i in leaves:
            np.testing.assert_allclose(k.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
            assert k.grad.dtype is tkern.float64 and k.grad.shape == k.shape
        else:
            assert k.grad is None


def test_poly_mse_loss_computes_only_the_gradients_needed(monkeypatch, device):
    (x, y, coeffs), _ = _points(50, 2, tkern.float32, device, strided=False)
    asked = []
    real = tkern.fused.loss_and_gradients

    def spy(*args, **kwargs):
        asked.append(args[4:6])
        return real(*args, **kwargs)
    monkeypatch.setattr("tkern.fused.loss_and_gradients", spy)
    monkeypatch.setattr("tkern.nn.functional.loss_and_gradients", spy)
    F.poly_mse_loss(x, y, coeffs.requires_grad_()).backward()
    F.poly_mse_loss(x.requires_grad_(), y, coeffs).backward()
    with tkern.no_grad():
        assert not F.poly_mse_loss(x, y, coeffs).requires_grad
    assert asked == [(False, False), (True, False), (False, False)]


def test_poly_mse_loss_double_backward(device):
    (x, y, coeffs), (tx, ty, tc) = _points(300, 3, tkern.float64, device, strided=False, seed=9)
    c, x = coeffs.requires_grad_(), x.requires_grad_()
    tc, tx = tc.requires_grad_(), tx.requires_grad_()
    (grad_c,) = tkern.autograd.grad(F.poly_mse_loss(x, y, c, reduction="mean"), [c], create_graph=True)
    residual = tc @ torch.stack([tx ** k for k in range(4)]) - ty
    (expected_c,) = torch.autograd.grad((residual ** 2).mean(), [tc], create_graph=True)
    np.testing.assert_allclose(grad_c.detach().cpu().numpy(), expected_c.detach().numpy(), rtol=1e-10)
    weights = torch.tensor([1.0, -0.5, 0.25, 2.0], dtype=torch.float64)
    (grad_c * tkern.tensor(weights.numpy(), device=device)).sum().backward()
    (expected_c * weights).sum().backward()
    np.testing.assert_allclose(c.grad.cpu().numpy(), tc.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_poly_mse_loss_none_reduction_is_each_squared_error(device):
    (x, y, coeffs), (tx, ty, tc) = _points(40, 2, tkern.float32, device, strided=True)
    coeffs.requires_grad_()
    losses = F.poly_mse_loss(x, y, coeffs, reduction="none")
    tc.requires_grad_()
    expected = (tc @ torch.stack([tx ** k for k in range(3)]) - ty) ** 2
    np.testing.assert_allclose(losses.detach().cpu().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    losses.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(coeffs.grad.cpu().numpy(), tc.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("programs,block", [(3, 16), (8, 64)])
def test_several_programs_and_wide_offsets(monkeypatch, programs, block, device):
    """The 'cuda' pass split over several programs (partial-sum rows and the one-program finish),
    and with 64-bit offsets; on 'cpu', the chunked numpy path with small chunks."""
    monkeypatch.setattr(triton_polynomial, "INTERPRETER_PROGRAMS", programs)
    monkeypatch.setattr(triton_polynomial, "INTERPRETER_BLOCK", block)
    monkeypatch.setattr(triton_polynomial, "needs_int64", lambda *args: True)
    monkeypatch.setattr(triton_polynomial, "_INT32_MAX", 0)  # coefficients through a contiguous copy
    monkeypatch.setattr("tkern.ops.numpy_polynomial.CHUNK", block)
    monkeypatch.setattr("tkern.ops.numpy_polynomial.FIT_BLOCK", 7)
    (x, y, coeffs), (tx, ty, tc) = _points(1001, 3, tkern.float64, device, strided=True, seed=4)
    loss, grad = tkern.fused.poly_loss_grad(x, y, coeffs)
    expected_loss, expected_grad, terms = _reference(tx, ty, tc, "sum")
    _assert_close(loss, expected_loss, expected_loss.abs(), tkern.float64)
    _assert_close(grad, expected_grad, terms, tkern.float64)
    x.requires_grad_()
    F.poly_mse_loss(x, y, coeffs).backward()
    tx.requires_grad_()
    ((tc @ torch.stack([tx ** k for k in range(4)]) - ty) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    coeffs_out, losses = tkern.fused.poly_fit(x.detach(), y, coeffs, 1e-5, 30)
    c = tc.clone()
    for step in range(30):
        step_loss, step_grad, _ = _reference(tx.detach(), ty, c, "sum")
        np.testing.assert_allclose(losses[step].item(), step_loss.item(), rtol=1e-10)
        c = c - 1e-5 * step_grad
    np.testing.assert_allclose(coeffs_out.cpu().numpy(), c.numpy(), rtol=1e-10)


# ----- bad input: torch's exception classes, messages naming the argument, raised before any work -----


@pytest.fixture
def no_work(monkeypatch, device):
    """Fails the test if a backend primitive runs."""
    backend = tkern.ops.backend.backend_for(tkern.device(device))

    def refuse(*args):
        raise AssertionError("a kernel ran before the arguments were checked")
    monkeypatch.setattr(backend, "poly_loss_grad", refuse)
    monkeypatch.setattr(backend, "poly_fit", refuse)


def _calls(x, y, coeffs, lr=1e-3, steps=5):
    return [lambda: tkern.fused.poly_loss_grad(x, y, coeffs), lambda: tkern.fused.poly_fit(x, y, coeffs, lr, steps),
            lambda: F.poly_mse_loss(x, y, coeffs.detach().requires_grad_()
                                    if isinstance(coeffs, tkern.Tensor) and coeffs.is_floating_point() else coeffs)]


def _raises(error, match: str, calls):
    for call in calls:
        with pytest.raises(error, match=match):
            call()


def test_bad_shapes(no_work, device):
    x, three = tkern.rand(10, device=device), tkern.rand(3, device=device)
    _raises(RuntimeError, "'x' and 'y' must have the same length, but got 10 and 9",
            _calls(x, tkern.rand(9, device=device), three))
    _raises(RuntimeError, "argument 'x' must be a 1-D tensor", _calls(x.reshape(2, 5), x, three))
    _raises(RuntimeError, "argument 'y' must be a 1-D tensor", _calls(x, x.reshape(10, 1), three))
    _raises(RuntimeError, "argument 'coeffs' must be a 1-D tensor", _calls(x, x, tkern.tensor(1.0, device=device)))
    empty = tkern.rand(0, device=device)
    _raises(RuntimeError, "argument 'x' must hold at least one point", _calls(empty, empty, three))
    _raises(RuntimeError, "argument 'coeffs' must hold at least one coefficient", _calls(x, x, empty))


def test_bad_dtypes_and_types(no_work, device):
    x = tkern.rand(10, device=device)
    for bad in (tkern.arange(10, device=device), tkern.ones(10, dtype=tkern.bool, device=device)):
        _raises(RuntimeError, "argument 'x' must have a floating point dtype", _calls(bad, x, x[:3]))
        _raises(RuntimeError, "argument 'y' must have a floating point dtype", _calls(x, bad, x[:3]))
        _raises(RuntimeError, "argument 'coeffs' must have a floating point dtype", _calls(x, x, bad[:3]))
    _raises(TypeError, "argument 'y' must be Tensor, not list", _calls(x, [1.0] * 10, x[:3]))
    _raises(TypeError, "argument 'x' must be Tensor, not ndarray", _calls(np.ones(10), x, x[:3]))


def test_bad_fit_arguments_and_reduction(no_work, device):
    x = tkern.rand(10, device=device)
    with pytest.raises(RuntimeError, match="argument 'steps' must be non-negative, but got -1"):
        tkern.fused.poly_fit(x, x, x[:2], 0.1, -1)
    with pytest.raises(TypeError, match="argument 'steps' must be int, not float"):
        tkern.fused.poly_fit(x, x, x[:2], 0.1, 2.0)
    for lr in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="argument 'lr' must be finite"):
            tkern.fused.poly_fit(x, x, x[:2], lr, 3)
    with pytest.raises(TypeError, match="argument 'lr' must be a real number, not str"):
        tkern.fused.poly_fit(x, x, x[:2], "0.1", 3)
    with pytest.raises(ValueError, match="argument 'lr' must be finite"):
        tkern.fused.poly_fit(x, x, x[:2], 10 ** 400, 3)
    with pytest.raises(TypeError, match="argument 'steps' must be int, not bool"):
        tkern.fused.poly_fit(x, x, x[:2], 0.1, True)
    for call in (lambda: tkern.fused.poly_loss_grad(x, x, x[:2], reduction="max"),
                 lambda: tkern.fused.poly_fit(x, x, x[:2], 0.1, 3, reduction="none"),
                 lambda: F.poly_mse_loss(x, x, x[:2], reduction="elementwise")):
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            call()


_MIXED_DEVICES_PROBE = """
import tkern
from tkern import cuda
cuda.device_count = lambda: 2  # a second GPU, as far as device checks go
x, first, second = tkern.rand(10), tkern.rand(10, device="cuda:0"), tkern.rand(10, device="cuda:1")
cases = [((x, first, x[:3]), "argument 'y' is on cuda:0 and argument 'x' on cpu"),
         ((first, first, x[:3]), "argument 'coeffs' is on cpu and argument 'x' on cuda:0"),
         ((second, first, second[:3]), "argument 'y' is on cuda:0 and argument 'x' on cuda:1")]
for (a, b, c), message in cases:
    for call in (lambda: tkern.fused.poly_loss_grad(a, b, c), lambda: tkern.fused.poly_fit(a, b, c, 0.1, 3),
                 lambda: tkern.nn.functional.poly_mse_loss(a, b, c.requires_grad_())):
        try:
            call()
        except RuntimeError as error:
            assert "expected all tensors to be on the same device" in str(error) and message in str(error), error
        else:
            raise AssertionError("no error")
print("ok")
"""


def test_mixed_devices():
    # (in a child process with the interpreter's 'cuda', so that both CI runs check it)
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    out = subprocess.run([sys.executable, "-c", _MIXED_DEVICES_PROBE], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.split() == ["ok"], out.stderr[-3000:]


def test_speed_comparison_script_runs_end_to_end(tmp_path):
    """bench/poly_fit.py at tiny sizes with the interpreter's 'cuda': every variant agrees, every row and
    the plot are written (so the script a GPU session runs first never rots)."""
    import json
    import pathlib
    script = pathlib.Path(__file__).resolve().parent.parent / "bench" / "poly_fit.py"
    results, picture = tmp_path / "poly_fit.json", tmp_path / "poly_fit.png"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    out = subprocess.run([sys.executable, str(script), "--sizes", "64", "1000", "--steps", "3", "--repeats", "1",
                          "--json", str(results), "--png", str(picture)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(results.read_text())
    assert record["mismatches"] == [] and record["failures"] == [] and record["triton_interpreter"]
    assert record["commit"]
    seen = {(row["device"], row["n"], row["variant"]) for row in record["rows"]}
    for n in (64, 1000):
        for variant in ("torch eager, .item() each step", "numpy seed program", "tkern op by op",
                        "tkern poly_loss_grad per step", "tkern poly_fit"):
            assert ("cpu", n, variant) in seen
        for variant in ("tkern op by op", "tkern poly_loss_grad per step", "tkern poly_fit"):
            assert ("cuda", n, variant) in seen
    assert all(row["us_per_step"] > 0 for row in record["rows"])
    assert set(record["copy_gbps"]) == {"cpu", "cuda"} and picture.stat().st_size > 10000
