"""layer_norm / LayerNorm (one fused row kernel each way on 'cuda') and batch_norm / BatchNorm1d (running
statistics, train and eval modes, buffers), against torch."""
import json
import os
import pathlib
import subprocess
import sys

import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array
from tkern.ops import triton_norm


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


# ----- layer_norm -----

LAYER_NORM_CASES = [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((1, 1), (1,)), ((7, 33), (33,)), ((3,), (3,)),
                    ((0, 4), (4,)), ((2, 2, 1), (1,)), ((5, 130), (130,))]


@pytest.mark.parametrize("shape,normalized", LAYER_NORM_CASES, ids=[str(c) for c in LAYER_NORM_CASES])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm(shape, normalized, affine, device):
    shapes = [shape] + [normalized] * {"both": 2, "weight": 1, "none": 0}[affine]

    def call(x, *params):
        weight, bias = (list(params) + [None, None])[:2]
        return _lib(x).nn.functional.layer_norm(x, normalized, weight, bias, eps=1e-3)
    expected, actual = check_grad(shapes, call, device=device, atol=1e-4, rtol=1e-4)
    if expected.grad_fn is not None:
        assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__ == "NativeLayerNormBackward0"


@pytest.mark.parametrize("view", ["transposed", "stepped", "expanded", "offset"])
def test_layer_norm_of_views(view, device):
    make = {"transposed": lambda x: x.t(), "stepped": lambda x: x[::2, ::3], "expanded": lambda x: x[:1].expand(4, 6),
            "offset": lambda x: x[1:]}[view]

    def call(x, w, b):
        v = make(x)
        return _lib(x).nn.functional.layer_norm(v, v.shape[-1:], w[:v.shape[-1]], b[:v.shape[-1]])
    check_grad([(6, 6), (6,), (6,)], call, device=device, atol=1e-4, rtol=1e-4)


def test_layer_norm_of_long_rows_walks_them_in_chunks(device, monkeypatch):
    # (on 'cuda' rows longer than a program's block, and rows spread over more programs than one)
    monkeypatch.setattr(triton_norm, "MAX_BLOCK", 4)
    monkeypatch.setattr(triton_norm, "BACKWARD_PROGRAMS", 3)
    check_grad([(5, 2, 7), (2, 7), (2, 7)], lambda x, w, b: _lib(x).nn.functional.layer_norm(x, (2, 7), w, b),
               device=device, atol=1e-4, rtol=1e-4)
    check_grad([(5, 11)], lambda x: _lib(x).nn.functional.layer_norm(x.t(), (5,)), device=device, atol=1e-4, rtol=1e-4)


def test_layer_norm_gradient_of_weight_alone(device):
    check_grad([(4, 5), (5,), (5,)], lambda x, w, b: _lib(x).nn.functional.layer_norm(x, (5,), w, b), device=device,
               atol=1e-4, rtol=1e-4, grad_inputs=[1])


@pytest.mark.parametrize("dtype", [tkern.float64, tkern.float16, tkern.bfloat16])
def test_layer_norm_dtypes(dtype, device):
    tol = 1e-6 if dtype is tkern.float64 else 3e-2
    check_op([(3, 9), (9,), (9,)], lambda x, w, b: _lib(x).nn.functional.layer_norm(x, (9,), w, b), device=device,
             dtype=dtype, atol=tol, rtol=tol)


def test_layer_norm_second_derivative(device):
    def twice(x, w):
        y = _lib(x).nn.functional.layer_norm(x, (4,), w)
        grads = _lib(x).autograd.grad((y * y * y).sum(), (x, w), create_graph=True)
        return grads[0] * 2 + grads[1].sum()
    check_grad([(3, 4), (4,)], twice, device=device, atol=1e-3, rtol=1e-3)


LAYER_NORM_ERRORS = [([(3, 4)], (5,), {}), ([(3, 4)], (), {}), ([(3, 4)], (2, 3, 4), {}),
                     ([(3, 4), (5,)], (4,), {}), ([(3, 4), (4,), (5,)], (4,), {}), ([(3, 4)], 4, {})]


@pytest.mark.parametrize("shapes,normalized,_", LAYER_NORM_ERRORS, ids=[str(c[:2]) for c in LAYER_NORM_ERRORS])
def test_layer_norm_errors(shapes, normalized, _, device):
    pairs = [make_pair(random_array(s, seed=i), device) for i, s in enumerate(shapes)]
    check_error(lambda x, *p: _lib(x).nn.functional.layer_norm(x, normalized, *p), None, [t for t, _ in pairs],
                [k for _, k in pairs])


def test_layer_norm_dtype_errors(device):
    tx, kx = make_pair(random_array((3, 4), tkern.int64), device)
    check_error(lambda x: _lib(x).nn.functional.layer_norm(x, (4,)), None, [tx], [kx])
    tx, kx = make_pair(random_array((3, 4)), device)
    tw, kw = make_pair(random_array((4,), tkern.float64), device, tkern.float64)
    check_error(lambda x, w: _lib(x).nn.functional.layer_norm(x, (4,), w), None, [tx, tw], [kx, kw])


def _copy_parameters(torch_module, module, device):
    """Give both modules the same seeded parameter values."""
    with torch.no_grad(), tkern.no_grad():
        for i, ((name, t), (_, k)) in enumerate(zip(torch_module.named_parameters(), module.named_parameters())):
            values = random_array(tuple(t.shape), seed=20 + i)
            t.copy_(torch.from_numpy(values))
            k.copy_(tkern.tensor(values, device=device))


@pytest.mark.parametrize("args,kwargs", [((8,), {}), (((2, 3),), {"elementwise_affine": False}),
                                         ((4,), {"bias": False}), ((4,), {"eps": 1e-3})])
def test_layer_norm_module(args, kwargs, device):
    torch_module, module = torch.nn.LayerNorm(*args, **kwargs), tkern.nn.LayerNorm(*args, **kwargs, device=device)
    assert repr(module) == repr(torch_module)
    assert list(module.state_dict()) == list(torch_module.state_dict())
    for (_, t), (_, k) in zip(torch_module.named_parameters(), module.named_parameters()):
        assert_same(t, k)  # (ones and zeros)
    _copy_parameters(torch_module, module, device)
    shape = (3,) + torch_module.normalized_shape
    check_grad([shape], torch_module, module, device=device, atol=1e-4, rtol=1e-4)
    for (_, t), (_, k) in zip(torch_module.named_parameters(), module.named_parameters()):
        assert_same(t.grad, k.grad, atol=1e-4, rtol=1e-4)


# ----- batch_norm -----

def _running(device, channels: int, seed: int = 50):
    """(torch's, tkern's) running mean and variance, the same seeded values."""
    mean, var = random_array((channels,), seed=seed), random_array((channels,), seed=seed + 1, low=0.5, high=2.0)
    return {torch: (torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())),
            tkern: (tkern.tensor(mean, device=device), tkern.tensor(var, device=device))}


BATCH_SHAPES = [(4, 3), (2, 3, 5), (5, 2, 1), (1, 3, 4), (3, 1)]


@pytest.mark.parametrize("shape", BATCH_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(shape, training, affine, device):
    running = _running(device, shape[1])

    def call(x, *params):
        weight, bias = params if params else (None, None)
        mean, var = running[_lib(x)]
        return _lib(x).nn.functional.batch_norm(x, mean, var, weight, bias, training, 0.3, 1e-3)
    shapes = [shape] + ([(shape[1],)] * 2 if affine else [])
    expected, actual = check_grad(shapes, call, device=device, atol=1e-4, rtol=1e-4)
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__ == "NativeBatchNormBackward0"
    for t, k in zip(running[torch], running[tkern]):
        assert_same(t, k, atol=1e-5)  # (updated in training, untouched in eval)


def test_batch_norm_without_running_statistics_and_of_views(device):
    check_grad([(3, 4, 5)], lambda x: _lib(x).nn.functional.batch_norm(x.transpose(0, 2), None, None, training=True),
               device=device, atol=1e-4, rtol=1e-4)
    check_grad([(6, 3)], lambda x: _lib(x).nn.functional.batch_norm(x[::2], None, None, training=True), device=device,
               atol=1e-4, rtol=1e-4)
    check_op([(0, 3)], lambda x: _lib(x).nn.functional.batch_norm(x, None, None, training=True), device=device)


BATCH_NORM_ERRORS = [
    ((4, 3), dict(training=False, running=False)), ((4, 3), dict(running_mean=4)), ((4, 3), dict(running_var=4)),
    ((4, 3), dict(weight=4)), ((4, 3), dict(bias=4)), ((1, 3), dict(training=True)), ((1, 3, 1), dict(training=True)),
]


@pytest.mark.parametrize("shape,case", BATCH_NORM_ERRORS, ids=[str(c) for c in BATCH_NORM_ERRORS])
def test_batch_norm_errors(shape, case, device):
    def call(x):
        lib = _lib(x)
        size = lambda name: case.get(name, shape[1])  # noqa: E731
        mean, var = (None, None) if case.get("running") is False else (lib.zeros(size("running_mean")),
                                                                      lib.ones(size("running_var")))
        if lib is tkern and mean is not None:
            mean, var = mean.to(device), var.to(device)
        params = [lib.ones(size(name)) if name in case else None for name in ("weight", "bias")]
        params = [p.to(device) if p is not None and lib is tkern else p for p in params]
        return lib.nn.functional.batch_norm(x, mean, var, *params, training=case.get("training", False))
    tx, kx = make_pair(random_array(shape), device)
    check_error(call, None, [tx], [kx])


def test_batch_norm_dtype_errors(device):
    tx, kx = make_pair(random_array((4, 3), tkern.int64), device)
    running = _running(device, 3)
    check_error(lambda x: _lib(x).nn.functional.batch_norm(x, *running[_lib(x)]), None, [tx], [kx])
    tx, kx = make_pair(random_array((4, 3), tkern.float64), device, tkern.float64)
    check_error(lambda x: _lib(x).nn.functional.batch_norm(x, *running[_lib(x)]), None, [tx], [kx])


@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"bias": False, "eps": 1e-3, "momentum": 0.5}])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_module_trains_and_evaluates_like_torch(kwargs, shape, device):
    torch_module, module = torch.nn.BatchNorm1d(3, **kwargs), tkern.nn.BatchNorm1d(3, **kwargs, device=device)
    assert repr(module) == repr(torch_module)
    _copy_parameters(torch_module, module, device)
    for step in range(3):
        check_grad([shape], torch_module, module, device=device, atol=1e-4, rtol=1e-4, seed=step)
    for (name, t), (k_name, k) in zip(torch_module.state_dict().items(), module.state_dict().items()):
        assert name == k_name
        assert_same(t, k, atol=1e-5)
    for (_, t), (_, k) in zip(torch_module.named_parameters(), module.named_parameters()):
        assert_same(t.grad, k.grad, atol=1e-3, rtol=1e-3)
    torch_module.eval()
    module.eval()
    check_grad([shape], torch_module, module, device=device, atol=1e-4, rtol=1e-4, seed=9)
    assert_same(dict(torch_module.state_dict()).get("num_batches_tracked", torch.tensor(0)),
                dict(module.state_dict()).get("num_batches_tracked", tkern.tensor(0)))


def test_batch_norm_module_buffers_move_and_load(device):
    module = tkern.nn.BatchNorm1d(3, device=device)
    assert [name for name, _ in module.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    module.to(tkern.float64)
    assert module.running_mean.dtype is tkern.float64 and module.num_batches_tracked.dtype is tkern.int64
    torch_module = torch.nn.BatchNorm1d(3)
    torch_module(torch.from_numpy(random_array((5, 3))))
    module.float().load_state_dict({k: tkern.tensor(v.numpy(), device=device)
                                    for k, v in torch_module.state_dict().items()})
    for (_, t), (_, k) in zip(torch_module.state_dict().items(), module.state_dict().items()):
        assert_same(t, k)
    check_error(torch_module, module, [torch.zeros(2, 3, 4, 5)], [tkern.zeros(2, 3, 4, 5, device=device)])
    check_error(torch_module, module, [torch.zeros(3)], [tkern.zeros(3, device=device)])


_SM90_NORM_CODE = r'''
import json
import sys

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()
compile_only_driver.keep_kernels()
from tkern import dtypes
from tkern.device import device
from tkern.ops import triton_arguments
from tkern.ops.triton_backend import TritonBackend

triton_arguments.INTERPRETING = False  # GPU blocks and warps, as on the machine
backend, cuda = TritonBackend(), device("cuda", 0)
facts = []
for cols in (768, 20000):  # a row held whole, and one walked in chunks
    for dtype in (dtypes.float32, dtypes.bfloat16, dtypes.float64):
        x, out, w, b = (backend.empty(shape, dtype, cuda) for shape in ((64, cols), (64, cols), (cols,), (cols,)))
        compile_only_driver.kernels.clear()
        backend.layer_norm(out, x, w, b, 1e-5)
        backend.layer_norm_backward(out, w, b, x, x, w, 1e-5)
        backend.layer_norm_backward(out, None, None, x, x, None, 1e-5)
        facts += [dict(compile_only_driver.code_facts(kernel), kernel=name, case=f"{cols}_{dtype.name}")
                  for name, kernel in compile_only_driver.kernels if name in ("_forward_kernel", "_backward_kernel")]
print(json.dumps(facts))
'''


def test_layer_norm_kernels_compile_for_sm90_without_spilling():
    """The interpreter accepts what Triton's compiler may refuse: every variant is compiled for an H100
    (bench/compile_only_driver.py, nothing runs), and ptxas reports no register spills."""
    bench = pathlib.Path(__file__).resolve().parent.parent / "bench"
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", f"BENCH = {str(bench)!r}\n" + _SM90_NORM_CODE], capture_output=True,
                         text=True, env=env, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    facts = json.loads(out.stdout.splitlines()[-1])
    assert len(facts) == 18, [(f["case"], f["kernel"]) for f in facts]
    assert all(f["spills"] == [0] for f in facts), [(f["case"], f["kernel"], f["spills"]) for f in facts]
