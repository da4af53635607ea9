"""The seeds' hand-written training loops give torch's losses step for step from the same start."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import tkern


def _sin_fit(lib, device, start, steps=300):
    x = lib.linspace(-math.pi, math.pi, 2000, device=device, dtype=lib.float)
    y = lib.sin(x)
    a, b, c, d = (lib.tensor(v, device=device, dtype=lib.float) for v in start)
    losses = []
    for _ in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        losses.append((y_pred - y).pow(2).sum().item())
        grad_y_pred = 2.0 * (y_pred - y)
        grads = [grad_y_pred.sum(), (grad_y_pred * x).sum(), (grad_y_pred * x ** 2).sum(), (grad_y_pred * x ** 3).sum()]
        for p, g in zip((a, b, c, d), grads):
            p -= 1e-6 * g
    return losses, [p.item() for p in (a, b, c, d)]


def test_sin_fit_matches_torch(device):
    start = np.random.default_rng(0).standard_normal(4).tolist()
    expected_losses, expected = _sin_fit(torch, "cpu", start)
    losses, actual = _sin_fit(tkern, device, start)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-4)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


def _two_layer(lib, device, data, steps=50):
    x, y, w1, w2 = (lib.tensor(v, device=device, dtype=lib.float) for v in data)
    losses = []
    for _ in range(steps):
        h = x.mm(w1)
        h_relu = h.clamp(min=0)
        y_pred = h_relu.mm(w2)
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.t().mm(grad_y_pred)
        grad_h_relu = grad_y_pred.mm(w2.t())
        grad_h = grad_h_relu.clone()
        grad_h[h < 0] = 0
        grad_w1 = x.t().mm(grad_h)
        w1 -= 1e-6 * grad_w1
        w2 -= 1e-6 * grad_w2
    return losses


def test_two_layer_network_by_hand_matches_torch(device):
    rng = np.random.default_rng(1)
    data = [rng.standard_normal(s).astype(np.float32) for s in ((64, 100), (64, 10), (100, 50), (50, 10))]
    np.testing.assert_allclose(_two_layer(tkern, device, data), _two_layer(torch, "cpu", data), rtol=1e-4)


def _sin_fit_autograd(lib, device, start, steps=200):
    x = lib.linspace(-math.pi, math.pi, 2000, device=device, dtype=lib.float)
    y = lib.sin(x)
    a, b, c, d = (lib.tensor(v, device=device, dtype=lib.float, requires_grad=True) for v in start)
    losses = []
    for _ in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p -= 1e-6 * p.grad
                p.grad = None
    return losses, [p.item() for p in (a, b, c, d)]


def test_sin_fit_with_autograd_matches_torch(device):
    start = np.random.default_rng(2).standard_normal(4).tolist()
    steps = 200 if device == "cpu" else 30  # (the interpreter runs ~3 ms a launch)
    expected_losses, expected = _sin_fit_autograd(torch, "cpu", start, steps)
    losses, actual = _sin_fit_autograd(tkern, device, start, steps)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-4)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


def _two_layer_autograd(lib, device, data, steps=30):
    x, y = (lib.tensor(v, device=device, dtype=lib.float) for v in data[:2])
    w1, w2 = (lib.tensor(v, device=device, dtype=lib.float, requires_grad=True) for v in data[2:])
    losses = []
    for _ in range(steps):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            w1 -= 1e-6 * w1.grad
            w2 -= 1e-6 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return losses


def test_two_layer_network_with_autograd_matches_torch(device):
    rng = np.random.default_rng(3)
    data = [rng.standard_normal(s).astype(np.float32) for s in ((64, 100), (64, 10), (100, 50), (50, 10))]
    steps = 30 if device == "cpu" else 8
    np.testing.assert_allclose(_two_layer_autograd(tkern, device, data, steps),
                               _two_layer_autograd(torch, "cpu", data, steps), rtol=1e-4)


def _simple_nn(lib, device, weights, data, make_optimizer, steps):
    class SimpleNN(lib.nn.Module):
        def __init__(self):
            super(SimpleNN, self).__init__()
            self.fc1 = lib.nn.Linear(2, 2)
            self.fc2 = lib.nn.Linear(2, 1)

        def forward(self, x):
            x = lib.relu(self.fc1(x))
            return self.fc2(x)

    model = SimpleNN()
    model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    model.to(device)
    criterion = lib.nn.MSELoss()
    optimizer = make_optimizer(lib, model.parameters())
    X, Y = (lib.tensor(v).to(device) for v in data)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, str(model)


@pytest.mark.parametrize("make_optimizer", [lambda lib, p: lib.optim.Adam(p, lr=0.001),
                                            lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9)],
                         ids=["adam", "sgd-momentum"])
def test_simple_nn_trains_like_torch(make_optimizer, device):
    rng = np.random.default_rng(4)
    shapes = {"fc1.weight": (2, 2), "fc1.bias": (2,), "fc2.weight": (1, 2), "fc2.bias": (1,)}
    weights = {k: rng.uniform(-0.7, 0.7, s).astype(np.float32) for k, s in shapes.items()}
    data = [rng.standard_normal((10, 2)).astype(np.float32), rng.standard_normal((10, 1)).astype(np.float32)]
    steps = 100 if device == "cpu" else 15
    expected, torch_repr = _simple_nn(torch, "cpu", weights, data, make_optimizer, steps)
    actual, tkern_repr = _simple_nn(tkern, device, weights, data, make_optimizer, steps)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    assert tkern_repr == torch_repr


def test_main_job_runs():
    # the README's main job, as run on a machine without a GPU (the interpreter would take minutes)
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-m", "tkern"], capture_output=True, text=True, check=True, timeout=300,
                         env=env).stdout
    assert "devices: cpu" in out
    sections = out.split("\n\n")[1:]
    assert [s.splitlines()[0] for s in sections] == [
        "op by op, as the seed writes it:", "tkern.fused.poly_loss_grad at every step:",
        "tkern.fused.poly_fit, the whole fit in one call:"]
    results = []
    for section in sections:
        lines = section.splitlines()
        assert [line.split(":")[0] for line in lines[1:21]] == [f"step {t}" for t in range(100, 2001, 100)]
        assert lines[21].startswith("Result: y = ") and lines[22].startswith("time: ")
        final_loss = float(lines[20].split("loss")[1])
        assert final_loss < 50
        results.append([float(v) for v in lines[21][len("Result: y = "):].replace(" x^3", "").replace(" x^2", "")
                        .replace(" x", "").split(" + ")] + [final_loss])
    # the three ways reach the same fit
    np.testing.assert_allclose(results[1], results[0], rtol=1e-3)
    np.testing.assert_allclose(results[2], results[0], rtol=1e-3)
    assert "faster than op by op" in sections[1] and "faster than op by op" in sections[2]


def test_readme_quickstart_runs(capsys):
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"## Quickstart\n\n```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("Sequential(\n  (0): Linear(in_features=2, out_features=8, bias=True)")
    assert "grad_fn=<" in printed
