"""tkern.optim against torch.optim: the same parameters and hand-set gradients (autograd plays no
part), five steps, then parameters and optimizer state compared; plus param groups, state dicts,
zero_grad, errors, and the fused step's single kernel launch on 'cuda'."""
import copy

import numpy as np
import pytest
import torch

import tkern
from tkern.ops import triton_launcher, triton_arguments

from helpers import TORCH_DTYPES, assert_same, check_error, random_array

# 0-d, one element, a matrix, and more elements than one block of the interpreter's kernel
SHAPES = [(), (1,), (3, 5), (1000,)]
HALF = (tkern.float16, tkern.bfloat16)
FLOAT_DTYPES = [tkern.float32, tkern.float64, *HALF]
# half types are compared with a float32 torch run rounded to them after each step (what the fused
# step does: float32 math, one rounding on store), to a few of their ulps where rounding boundaries
# differ; Triton's interpreter truncates to bfloat16, and the truncations add up over the steps
TOLERANCE = {tkern.float32: 1e-5, tkern.float64: 1e-10, tkern.float16: 4e-3, tkern.bfloat16: 4e-2}
INTERPRETED_BFLOAT16_TOLERANCE = 0.15

SGD_OPTIONS = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.3},
    {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.5, "weight_decay": 0.1},
    {"weight_decay": 0.1},
    {"momentum": 0.9, "maximize": True},
]
ADAM_OPTIONS = [
    {},
    {"amsgrad": True},
    {"weight_decay": 0.1},
    {"maximize": True},
    {"amsgrad": True, "weight_decay": 0.1, "maximize": True, "betas": (0.3, 0.9)},
]
OPTIMIZERS = ([("SGD", {"lr": 0.1, **o}) for o in SGD_OPTIONS] + [("Adam", {"lr": 0.1, **o}) for o in ADAM_OPTIONS]
              + [("AdamW", {"lr": 0.1, **o}) for o in ADAM_OPTIONS] + [("AdamW", {"lr": 0.1, "weight_decay": 0.5})])


def make_params(shapes, dtype, device, seed=0):
    """Leaf parameters of the same random values in torch (on the CPU; float32 for half types) and in
    tkern (on ``device``)."""
    torch_params, tkern_params = [], []
    for i, shape in enumerate(shapes):
        values = exact(random_array(shape, dtype, seed + i), dtype)
        torch_dtype = torch.float32 if dtype in HALF else TORCH_DTYPES[dtype]
        torch_params.append(torch.from_numpy(values).to(torch_dtype).requires_grad_())
        tkern_params.append(tkern.tensor(values, device=device).to(dtype).requires_grad_())
    return torch_params, tkern_params


def exact(values: np.ndarray, dtype) -> np.ndarray:
    """values rounded to ``dtype``, held in a dtype torch reads (float32 for half types): every
    conversion to ``dtype`` then agrees, the interpreter's truncating one included."""
    rounded = np.array(values).astype(dtype.numpy)
    return rounded.astype(np.float32) if dtype in HALF else rounded


def set_grads(rng, torch_params, tkern_params, device) -> None:
    """New random gradients, the same in both libraries (tkern's alone when torch_params is None),
    kept away from zero so that float16 squares don't underflow."""
    for i, q in enumerate(tkern_params):
        shape = tuple(q.shape)
        values = exact(rng.uniform(0.5, 3.0, shape) * rng.choice([-1.0, 1.0], shape), q.dtype)
        q.grad = tkern.tensor(values, device=device).to(q.dtype)
        if torch_params is not None:
            torch_params[i].grad = torch.from_numpy(values).to(torch_params[i].dtype)


def round_to(dtype, torch_opt, torch_params) -> None:
    """Round torch's float32 parameters and state to a half type, as tkern stores them."""
    def rounded(x):
        x.copy_(x.to(TORCH_DTYPES[dtype]).float())
    with torch.no_grad():
        for p in torch_params:
            rounded(p)
            for key, value in torch_opt.state.get(p, {}).items():
                if key != "step":
                    rounded(value)


def run_both(torch_opt, tkern_opt, torch_params, tkern_params, device, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        set_grads(rng, torch_params, tkern_params, device)
        torch_opt.step()
        tkern_opt.step()
        if tkern_params[0].dtype in HALF:
            round_to(tkern_params[0].dtype, torch_opt, torch_params)


def assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params, tolerance=1e-5) -> None:
    """Parameters, and each parameter's optimizer state entry by entry, agree with torch's (taken to
    tkern's dtype where torch ran half types in float32)."""
    def like(expected, actual):
        return expected.to(TORCH_DTYPES[actual.dtype]) if actual.dtype in HALF else expected
    for p, q in zip(torch_params, tkern_params):
        assert_same(like(p, q), q, tolerance, tolerance)
        expected, actual = torch_opt.state.get(p, {}), tkern_opt.state.get(q, {})
        assert list(actual) == list(expected)
        for key, value in expected.items():
            assert_same(like(value, actual[key]), actual[key], tolerance, tolerance)
    assert len(tkern_opt.state) == len(torch_opt.state)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name,options", OPTIMIZERS, ids=lambda x: x if isinstance(x, str) else
                         "-".join(f"{k}={v}" for k, v in x.items()))
def test_steps_match_torch(device, name, options, dtype):
    torch_params, tkern_params = make_params(SHAPES, dtype, device)
    torch_opt = getattr(torch.optim, name)(torch_params, **options)
    tkern_opt = getattr(tkern.optim, name)(tkern_params, **options)
    run_both(torch_opt, tkern_opt, torch_params, tkern_params, device)
    tolerance = TOLERANCE[dtype]
    if dtype is tkern.bfloat16 and device == "cuda" and triton_arguments.INTERPRETING:
        tolerance = INTERPRETED_BFLOAT16_TOLERANCE
    assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params, tolerance)


def _fit(lib, device, name, options, data):
    """Five steps of a linear least-squares fit whose gradients come from backward()."""
    x, y, w, b = (lib.tensor(v, device=device) for v in data)
    w.requires_grad_()
    b.requires_grad_()
    opt = getattr(lib.optim, name)([w, b], lr=0.05, **options)
    for _ in range(5):
        opt.zero_grad()
        ((x @ w + b - y) ** 2).mean().backward()
        opt.step()
    return w, b, opt.state[w]


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9, "nesterov": True}), ("Adam", {"amsgrad": True}),
                                          ("AdamW", {"weight_decay": 0.1})])
def test_training_with_autograd_matches_torch(device, name, options):
    data = [random_array(shape, tkern.float32, seed) for seed, shape in enumerate([(16, 3), (16,), (3,), ()])]
    expected, actual = _fit(torch, "cpu", name, options, data), _fit(tkern, device, name, options, data)
    assert_same(expected[:2], actual[:2])
    for key, value in expected[2].items():
        assert_same(value, actual[2][key])


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True}),
                                          ("AdamW", {})])
def test_param_groups_with_their_own_options(device, name, options):
    torch_params, tkern_params = make_params([(4,), (2, 3), (), (7,)], tkern.float32, device)
    torch_opt = getattr(torch.optim, name)(
        [{"params": torch_params[:2]}, {"params": torch_params[2:], "lr": 0.01, "weight_decay": 0.2}],
        lr=0.1, **options)
    tkern_opt = getattr(tkern.optim, name)(
        [{"params": tkern_params[:2]}, {"params": tkern_params[2:], "lr": 0.01, "weight_decay": 0.2}],
        lr=0.1, **options)
    assert [g["lr"] for g in tkern_opt.param_groups] == [0.1, 0.01]
    run_both(torch_opt, tkern_opt, torch_params, tkern_params, device)
    assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params)


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True})])
def test_parameters_without_grad_are_skipped(device, name, options):
    # the second parameter never gets a gradient, the third only from the third step: its step count
    # (Adam) or new momentum buffer (SGD) then differs from the others'
    torch_params, tkern_params = make_params([(5,), (3,), (2, 2)], tkern.float32, device)
    torch_opt = getattr(torch.optim, name)(torch_params, lr=0.1, **options)
    tkern_opt = getattr(tkern.optim, name)(tkern_params, lr=0.1, **options)
    rng = np.random.default_rng(1)
    for step in range(5):
        chosen = [0, 2] if step >= 2 else [0]
        set_grads(rng, [torch_params[i] for i in chosen], [tkern_params[i] for i in chosen], device)
        torch_opt.step()
        tkern_opt.step()
        if step == 0:
            assert tkern_params[2].grad is None and tkern_params[2] not in tkern_opt.state
    assert tkern_params[1] not in tkern_opt.state
    assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params)


def test_parameters_of_several_dtypes_in_one_group(device):
    torch32, tkern32 = make_params([(6,), (2, 2)], tkern.float32, device)
    torch64, tkern64 = make_params([(3,)], tkern.float64, device, seed=5)
    torch_opt = torch.optim.Adam(torch32 + torch64, lr=0.1)
    tkern_opt = tkern.optim.Adam(tkern32 + tkern64, lr=0.1)
    run_both(torch_opt, tkern_opt, torch32 + torch64, tkern32 + tkern64, device)
    assert_same_state(torch_opt, tkern_opt, torch32 + torch64, tkern32 + tkern64)


def test_non_contiguous_parameters_and_gradients(device):
    # a transposed leaf parameter, and a transposed gradient for a contiguous one
    torch_params, tkern_params = make_params([(4, 3), (3, 4)], tkern.float32, device)
    torch_params[0] = torch_params[0].detach().t().requires_grad_()
    tkern_params[0] = tkern_params[0].detach().t().requires_grad_()
    assert not tkern_params[0].is_contiguous()
    torch_opt = torch.optim.SGD(torch_params, lr=0.1, momentum=0.9)
    tkern_opt = tkern.optim.SGD(tkern_params, lr=0.1, momentum=0.9)
    rng = np.random.default_rng(2)
    for _ in range(3):
        set_grads(rng, torch_params, tkern_params, device)
        torch_params[1].grad = torch_params[1].grad.t().contiguous().t()
        tkern_params[1].grad = tkern_params[1].grad.t().contiguous().t()
        assert not tkern_params[1].grad.is_contiguous()
        torch_opt.step()
        tkern_opt.step()
    assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params)


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True})])
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "offset1"])
def test_full_and_partial_blocks_aligned_or_not(device, monkeypatch, name, options, offset):
    """16-element blocks on 'cuda', so parameters of 37, 16 and 5 elements mix full blocks (run
    unmasked, vector accesses when every place is 16-byte aligned) with partial ones; with a parameter
    viewed at offset 1 no place is known aligned and the same steps take the scalar path."""
    monkeypatch.setattr(triton_arguments, "INTERPRETER_MAX_BLOCK", 16)
    torch_params, tkern_params = make_params([(37 + offset,), (16,), (5,)], tkern.float32, device)
    torch_params[0] = torch_params[0].detach()[offset:].requires_grad_()
    tkern_params[0] = tkern_params[0].detach()[offset:].requires_grad_()
    torch_opt = getattr(torch.optim, name)(torch_params, lr=0.1, **options)
    tkern_opt = getattr(tkern.optim, name)(tkern_params, lr=0.1, **options)
    run_both(torch_opt, tkern_opt, torch_params, tkern_params, device, steps=3)
    assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params)


def test_replaced_parameter_storage_is_followed(device):
    # the fused step caches the parameters' addresses: new storage behind a parameter must be seen
    torch_params, tkern_params = make_params([(8,), (3,)], tkern.float32, device)
    torch_opt = torch.optim.SGD(torch_params, lr=0.1, momentum=0.9)
    tkern_opt = tkern.optim.SGD(tkern_params, lr=0.1, momentum=0.9)
    run_both(torch_opt, tkern_opt, torch_params, tkern_params, device, steps=2)
    values = random_array((8,), tkern.float32, seed=9)
    torch_params[0].data = torch.from_numpy(np.array(values))
    tkern_params[0].data = tkern.tensor(values, device=device)
    run_both(torch_opt, tkern_opt, torch_params, tkern_params, device, steps=2, seed=3)
    assert_same_state(torch_opt, tkern_opt, torch_params, tkern_params)


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9, "nesterov": True}),
                                          ("Adam", {"amsgrad": True, "weight_decay": 0.1}), ("AdamW", {})])
def test_state_dict_round_trip_continues_torch_trajectory(device, name, options):
    torch_params, tkern_params = make_params(SHAPES, tkern.float32, device)
    torch_opt = getattr(torch.optim, name)(torch_params, lr=0.1, **options)
    tkern_opt = getattr(tkern.optim, name)(tkern_params, lr=0.1, **options)
    run_both(torch_opt, tkern_opt, torch_params, tkern_params, device, steps=3)
    torch_saved, tkern_saved = torch_opt.state_dict(), tkern_opt.state_dict()
    assert tkern_saved["param_groups"] == torch_saved["param_groups"]
    assert list(tkern_saved["state"]) == list(torch_saved["state"])
    for key, state in torch_saved["state"].items():
        assert list(tkern_saved["state"][key]) == list(state)
        for entry, value in state.items():
            assert_same(value, tkern_saved["state"][key][entry])
    # a new optimizer over copies of the parameters, loaded from a deep copy (as from a file)
    torch_copies = [p.detach().clone().requires_grad_() for p in torch_params]
    tkern_copies = [p.detach().clone().requires_grad_() for p in tkern_params]
    torch_loaded = getattr(torch.optim, name)(torch_copies, lr=0.5)
    tkern_loaded = getattr(tkern.optim, name)(tkern_copies, lr=0.5)
    torch_loaded.load_state_dict(copy.deepcopy(torch_saved))
    tkern_loaded.load_state_dict(copy.deepcopy(tkern_saved))
    assert tkern_loaded.param_groups[0]["lr"] == 0.1
    assert tkern_loaded.param_groups[0]["params"][0] is tkern_copies[0]
    run_both(torch_loaded, tkern_loaded, torch_copies, tkern_copies, device, steps=2, seed=4)
    assert_same_state(torch_loaded, tkern_loaded, torch_copies, tkern_copies)


def test_load_state_dict_moves_state_to_the_parameters_dtype(device):
    tkern_params = make_params([(3,)], tkern.float32, device)[1]
    opt = tkern.optim.SGD(tkern_params, lr=0.1, momentum=0.9)
    set_grads(np.random.default_rng(0), None, tkern_params, device)
    opt.step()
    saved = opt.state_dict()
    doubles = [tkern_params[0].detach().double().requires_grad_()]
    loaded = tkern.optim.SGD(doubles, lr=0.1, momentum=0.9)
    loaded.load_state_dict(saved)
    buffer = loaded.state[doubles[0]]["momentum_buffer"]
    assert buffer.dtype is tkern.float64 and str(buffer.device) == str(doubles[0].device)
    np.testing.assert_allclose(buffer.cpu().numpy(), saved["state"][0]["momentum_buffer"].cpu().numpy())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(device, set_to_none):
    torch_params, tkern_params = make_params([(3,), (2, 2), ()], tkern.float32, device)
    torch_opt, tkern_opt = torch.optim.SGD(torch_params), tkern.optim.SGD(tkern_params)
    set_grads(np.random.default_rng(0), torch_params[:2], tkern_params[:2], device)
    grads = [q.grad for q in tkern_params]
    torch_opt.zero_grad(set_to_none=set_to_none)
    tkern_opt.zero_grad(set_to_none=set_to_none)
    for p, q, old in zip(torch_params, tkern_params, grads):
        if p.grad is None:
            assert q.grad is None
        else:
            assert q.grad is old  # zeroed in place, as torch does
            assert_same(p.grad, q.grad)
            assert not q.grad.requires_grad


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss(device):
    tkern_params = make_params([(3,)], tkern.float32, device)[1]
    opt = tkern.optim.Adam(tkern_params, lr=0.1)
    seen = []

    def closure():
        seen.append(tkern.is_grad_enabled())
        tkern_params[0].grad = tkern.ones(3, device=device)
        return 1.5

    with tkern.no_grad():
        assert opt.step(closure) == 1.5
    assert seen == [True]
    assert opt.step() is None
    assert opt.state[tkern_params[0]]["step"].item() == 2.0


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9, "lr": 0.1}), ("Adam", {"amsgrad": True}),
                                          ("AdamW", {"betas": [0.8, 0.99]})])
def test_repr_and_groups_match_torch(name, options):
    torch_opt = getattr(torch.optim, name)([{"params": [torch.zeros(2, requires_grad=True)]},
                                            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}], **options)
    tkern_opt = getattr(tkern.optim, name)([{"params": [tkern.zeros(2, requires_grad=True)]},
                                            {"params": [tkern.zeros(1, requires_grad=True)], "lr": 0.5}], **options)
    assert repr(tkern_opt) == repr(torch_opt)
    assert tkern_opt.defaults == torch_opt.defaults


def test_named_parameters_and_add_param_group():
    w, b = tkern.zeros(2, requires_grad=True), tkern.zeros(1, requires_grad=True)
    opt = tkern.optim.SGD([("weight", w), ("bias", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"][1] is b
    extra = tkern.zeros(3, requires_grad=True)
    opt.add_param_group({"params": [("extra", extra)], "lr": 0.2})
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is extra
    assert opt.param_groups[1]["momentum"] == 0 and opt.param_groups[1]["lr"] == 0.2
    assert opt.state_dict()["param_groups"][1]["params"] == [2]


def _error_cases():
    def params(lib):
        return [lib.zeros(2, requires_grad=True)]

    def twice(lib):
        p = lib.zeros(2, requires_grad=True)
        return [{"params": [p]}, {"params": [p]}]

    def wrong_groups(lib):
        opt = lib.optim.SGD(params(lib), lr=0.1)
        saved = opt.state_dict()
        saved["param_groups"].append({"params": [], **saved["param_groups"][0]})
        return opt.load_state_dict(saved)

    def wrong_group_size(lib):
        opt = lib.optim.SGD(params(lib), lr=0.1)
        saved = opt.state_dict()
        saved["param_groups"][0]["params"] = [0, 1]
        return opt.load_state_dict(saved)

    def non_leaf(lib):
        return lib.optim.SGD([_non_leaf(lib.zeros(2, requires_grad=True) * 2)])

    return {
        "empty": lambda lib: lib.optim.SGD([], lr=0.1),
        "negative lr": lambda lib: lib.optim.SGD(params(lib), lr=-1),
        "negative momentum": lambda lib: lib.optim.SGD(params(lib), momentum=-0.5),
        "negative sgd weight_decay": lambda lib: lib.optim.SGD(params(lib), weight_decay=-0.5),
        "nesterov without momentum": lambda lib: lib.optim.SGD(params(lib), nesterov=True),
        "nesterov with dampening": lambda lib: lib.optim.SGD(params(lib), momentum=0.9, dampening=0.1,
                                                             nesterov=True),
        "negative adam lr": lambda lib: lib.optim.Adam(params(lib), lr=-1e-3),
        "negative eps": lambda lib: lib.optim.Adam(params(lib), eps=-1.0),
        "beta1 of 1": lambda lib: lib.optim.Adam(params(lib), betas=(1.0, 0.999)),
        "negative beta2": lambda lib: lib.optim.AdamW(params(lib), betas=(0.9, -0.1)),
        "integer beta": lambda lib: lib.optim.Adam(params(lib), betas=(0, 0.999)),
        "negative adam weight_decay": lambda lib: lib.optim.AdamW(params(lib), weight_decay=-1e-2),
        "a tensor as params": lambda lib: lib.optim.SGD(lib.zeros(2, requires_grad=True)),
        "a set as params": lambda lib: lib.optim.SGD([{"params": set(params(lib))}]),
        "a number as a param": lambda lib: lib.optim.SGD([1.0]),
        "a param in two groups": lambda lib: lib.optim.SGD(twice(lib), lr=0.1),
        "a group that is not a dict": lambda lib: lib.optim.SGD(params(lib)).add_param_group([1]),
        "names for some params": lambda lib: lib.optim.SGD([("w", lib.zeros(1, requires_grad=True)),
                                                            lib.zeros(1, requires_grad=True)]),
        "non-leaf param": non_leaf,
        "state dict of other groups": wrong_groups,
        "state dict of another group size": wrong_group_size,
    }


def _non_leaf(x):
    """x, the result of an op on a tensor that requires grad; given a stand-in grad_fn while tkern's
    autograd engine does not record one yet."""
    if x.is_leaf:
        x.grad_fn = object()
    return x


@pytest.mark.parametrize("case", list(_error_cases()))
def test_errors_match_torch(case):
    make = _error_cases()[case]
    check_error(lambda: make(torch), lambda: make(tkern))


def test_error_messages():
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        tkern.optim.Adam([])
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        tkern.optim.SGD([tkern.zeros(1, requires_grad=True)], lr=-1)
    with pytest.raises(RuntimeError, match="grad"):
        p = tkern.ones(3, requires_grad=True)
        p.grad = tkern.ones(2)
        tkern.optim.SGD([p]).step()


def test_duplicate_parameters_warn_like_torch():
    p = tkern.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        tkern.optim.SGD([p, p])


def _counting_launches(monkeypatch) -> list:
    """Every Triton kernel launch of tkern goes through a Launcher: record each one's kernel."""
    launched = []
    call = triton_launcher.Launcher.__call__

    def counted(self, grid, *args, **kwargs):
        launched.append(self.kernel.__name__)
        return call(self, grid, *args, **kwargs)
    monkeypatch.setattr(triton_launcher.Launcher, "__call__", counted)
    return launched


@pytest.mark.parametrize("name,options", [("SGD", {"momentum": 0.9, "weight_decay": 0.1}),
                                          ("Adam", {"amsgrad": True}), ("AdamW", {"maximize": True})])
def test_one_kernel_launch_per_step_for_all_parameters(device, monkeypatch, name, options):
    shapes = [(), (1,), (3, 5), (40,), (2, 3, 4), (1000,)]
    tkern_params = make_params(shapes, tkern.float32, device)[1]
    opt = getattr(tkern.optim, name)(tkern_params, lr=0.1, **options)
    rng = np.random.default_rng(0)
    launched = _counting_launches(monkeypatch)
    per_step = []
    for _ in range(3):
        set_grads(rng, None, tkern_params, device)
        launched.clear()
        opt.step()
        per_step.append(list(launched))
    # 'cpu' runs numpy, no kernel; 'cuda' one fused kernel per step, the first (new state) included
    kernel = "sgd_kernel" if name == "SGD" else "adam_kernel"
    assert per_step == [[kernel]] * 3 if device == "cuda" else per_step == [[]] * 3


def test_one_kernel_launch_per_dtype(device, monkeypatch):
    tkern32 = make_params([(5,), (3, 3)], tkern.float32, device)[1]
    tkern64 = make_params([(4,), ()], tkern.float64, device, seed=7)[1]
    opt = tkern.optim.SGD(tkern32 + tkern64, lr=0.1, momentum=0.9)
    set_grads(np.random.default_rng(0), None, tkern32 + tkern64, device)
    launched = _counting_launches(monkeypatch)
    opt.step()
    assert launched == (["sgd_kernel"] * 2 if device == "cuda" else [])
