"""tkern.optim.lr_scheduler against torch.optim.lr_scheduler: the same schedule on torch's and
tkern's optimizers gives bit-identical learning rates at every step."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, make_pair, random_array

SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.7}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 11], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.93}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 4}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95 ** epoch + 1 / (epoch + 3)}),
]


def _optimizers(device, optimizer: str = "SGD", seed: int = 0):
    """A torch and a tkern optimizer with two param groups (lrs 0.1 and 0.037) over the same values."""
    pairs = [make_pair(random_array(shape, seed=seed + i), device) for i, shape in enumerate([(3, 5), (7,)])]
    for t, k in pairs:
        t.requires_grad_()
        k.requires_grad_()
    make = lambda lib, params: getattr(lib.optim, optimizer)(
        [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.037}], lr=0.1)
    torch_params, tkern_params = [t for t, _ in pairs], [k for _, k in pairs]
    return make(torch, torch_params), make(tkern, tkern_params), torch_params, tkern_params


def _assert_same_lrs(torch_scheduler, tkern_scheduler) -> None:
    assert tkern_scheduler.get_last_lr() == torch_scheduler.get_last_lr()  # (exact: the same float operations)
    assert [g["lr"] for g in tkern_scheduler.optimizer.param_groups] == \
           [g["lr"] for g in torch_scheduler.optimizer.param_groups]


def _train(torch_opt, tkern_opt, torch_params, tkern_params, device, step, steps: int, seed: int = 0) -> None:
    """``steps`` rounds of gradients, an optimizer step on each side and ``step()`` (the schedulers)."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for t, k in zip(torch_params, tkern_params):
            values = rng.uniform(-1.0, 1.0, tuple(t.shape)).astype(np.float32)
            t.grad = torch.from_numpy(values)
            k.grad = tkern.tensor(values, device=device)
        torch_opt.step()
        tkern_opt.step()
        step()


@pytest.mark.parametrize("name, options", SCHEDULES)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_schedule_matches_torch_at_every_step(device, name, options, optimizer):
    torch_opt, tkern_opt, torch_params, tkern_params = _optimizers(device, optimizer)
    torch_scheduler = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    tkern_scheduler = getattr(tkern.optim.lr_scheduler, name)(tkern_opt, **options)
    _assert_same_lrs(torch_scheduler, tkern_scheduler)
    assert [g["initial_lr"] for g in tkern_opt.param_groups] == [0.1, 0.037]
    steps = 3 if device == "cuda" else 25  # (the interpreter is slow: the long run is the schedule's, below)
    _train(torch_opt, tkern_opt, torch_params, tkern_params, device,
           lambda: (torch_scheduler.step(), tkern_scheduler.step(), _assert_same_lrs(torch_scheduler, tkern_scheduler)),
           steps)
    assert tkern_scheduler.last_epoch == torch_scheduler.last_epoch == steps
    for t, k in zip(torch_params, tkern_params):
        assert_same(t, k, atol=1e-6)


@pytest.mark.parametrize("name, options", SCHEDULES)
def test_long_schedules_match_torch_to_the_last_bit(name, options):
    """Two hundred chained steps (no parameters to update: the rates alone)."""
    torch_opt, tkern_opt, _, _ = _optimizers("cpu")
    torch_scheduler = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    tkern_scheduler = getattr(tkern.optim.lr_scheduler, name)(tkern_opt, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (scheduler steps without optimizer steps)
        for _ in range(200):
            torch_scheduler.step()
            tkern_scheduler.step()
            _assert_same_lrs(torch_scheduler, tkern_scheduler)


@pytest.mark.parametrize("name, options", [s for s in SCHEDULES if s[0] != "LambdaLR"])
@pytest.mark.parametrize("epoch", [0, 4, 13])
def test_deprecated_step_with_an_epoch_takes_the_closed_form(name, options, epoch):
    torch_opt, tkern_opt, _, _ = _optimizers("cpu")
    torch_scheduler = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    tkern_scheduler = getattr(tkern.optim.lr_scheduler, name)(tkern_opt, **options)
    torch_opt.step()
    tkern_opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        torch_scheduler.step(epoch)
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        tkern_scheduler.step(epoch)
    _assert_same_lrs(torch_scheduler, tkern_scheduler)


@pytest.mark.parametrize("name, options", SCHEDULES[:5])
def test_resuming_from_a_state_dict_continues_the_same_schedule(name, options):
    torch_opt, tkern_opt, _, _ = _optimizers("cpu")
    torch_scheduler = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    tkern_scheduler = getattr(tkern.optim.lr_scheduler, name)(tkern_opt, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(6):
            torch_scheduler.step()
            tkern_scheduler.step()
        saved = tkern_scheduler.state_dict()
        assert "optimizer" not in saved
        assert sorted(saved) == sorted(torch_scheduler.state_dict())
        assert saved["last_epoch"] == 6 and saved["base_lrs"] == [0.1, 0.037]
        # a fresh optimizer and scheduler on each side resume from the two state dicts
        resumed = []
        for lib, opt, scheduler in ((torch, torch_opt, torch_scheduler), (tkern, tkern_opt, tkern_scheduler)):
            fresh = lib.optim.SGD([{"params": [lib.ones(15, requires_grad=True)]},
                                   {"params": [lib.ones(7, requires_grad=True)]}], lr=0.5)
            fresh.load_state_dict(opt.state_dict())
            again = getattr(lib.optim.lr_scheduler, name)(fresh, **options, last_epoch=5)
            again.load_state_dict(scheduler.state_dict())
            resumed.append(again)
        _assert_same_lrs(*resumed)
        for _ in range(9):
            for scheduler in (torch_scheduler, tkern_scheduler, *resumed):
                scheduler.step()
            _assert_same_lrs(torch_scheduler, tkern_scheduler)
            _assert_same_lrs(*resumed)


def test_lambda_state_dict_keeps_callable_objects_but_not_functions():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    for lib in (torch, tkern):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True), ], lr=0.5)
        opt.add_param_group({"params": [lib.ones(1, requires_grad=True)]})
        scheduler = lib.optim.lr_scheduler.LambdaLR(opt, [Decay(0.9), lambda epoch: 1.0])
        state = scheduler.state_dict()
        assert state["lr_lambdas"] == [{"rate": 0.9}, None]
        scheduler.lr_lambdas[0].rate = 0.5
        scheduler.load_state_dict(state)
        assert scheduler.lr_lambdas[0].rate == 0.9 and state["lr_lambdas"] == [{"rate": 0.9}, None]


PLATEAU = [
    {},
    {"mode": "max", "factor": 0.5, "patience": 1},
    {"patience": 2, "threshold": 0.1, "threshold_mode": "abs", "cooldown": 2, "min_lr": 0.004},
    {"mode": "max", "patience": 0, "threshold_mode": "abs", "min_lr": [0.01, 0.0], "eps": 1e-3},
    {"factor": 0.3, "patience": 1, "cooldown": 1},
]


@pytest.mark.parametrize("options", PLATEAU)
def test_reduce_on_plateau_matches_torch(options):
    torch_opt, tkern_opt, _, _ = _optimizers("cpu")
    torch_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **options)
    tkern_scheduler = tkern.optim.lr_scheduler.ReduceLROnPlateau(tkern_opt, **options)
    _assert_same_lrs(torch_scheduler, tkern_scheduler)
    # a metric that improves, stalls, wobbles and improves again
    metrics = [3.0, 2.0, 2.0, 1.99, 2.5, 1.9, 1.95, 1.95, 1.96, 1.2, 1.3, 1.3, 1.3, 1.3, 1.1, 1.1] * 3
    for i, metric in enumerate(metrics):
        # (a metric may be a 0-d tensor, read as a float)
        torch_scheduler.step(torch.tensor(metric) if i % 2 else metric)
        tkern_scheduler.step(tkern.tensor(metric) if i % 2 else metric)
        _assert_same_lrs(torch_scheduler, tkern_scheduler)
        for key in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
            assert getattr(tkern_scheduler, key) == getattr(torch_scheduler, key), key
    state = tkern_scheduler.state_dict()
    assert sorted(state) == sorted(torch_scheduler.state_dict())
    other = tkern.optim.lr_scheduler.ReduceLROnPlateau(tkern_opt)
    other.load_state_dict(state)
    assert (other.mode, other.patience, other.best, other.mode_worse) == \
           (torch_scheduler.mode, torch_scheduler.patience, torch_scheduler.best, torch_scheduler.mode_worse)


def test_stepping_the_scheduler_before_the_optimizer_warns():
    for lib in (torch, tkern):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.5)
        scheduler = lib.optim.lr_scheduler.StepLR(opt, 2)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
            scheduler.step()
    for lib in (torch, tkern):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.5)
        scheduler = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step = lambda: None  # (replaced after the scheduler wrapped it)
        with pytest.warns(UserWarning, match="Seems like `optimizer.step\\(\\)` has been overridden"):
            scheduler.step()


def test_no_warning_in_the_right_order_and_get_lr_outside_step_warns():
    for lib in (torch, tkern):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.5)
        scheduler = lib.optim.lr_scheduler.StepLR(opt, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step()
            scheduler.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            scheduler.get_lr()


def test_base_class_and_its_old_name():
    assert tkern.optim.lr_scheduler._LRScheduler is tkern.optim.lr_scheduler.LRScheduler or \
        issubclass(tkern.optim.lr_scheduler._LRScheduler, tkern.optim.lr_scheduler.LRScheduler)
    assert issubclass(tkern.optim.lr_scheduler.StepLR, tkern.optim.lr_scheduler.LRScheduler)
    opt = tkern.optim.SGD([tkern.ones(2, requires_grad=True)], lr=0.5)
    with pytest.raises(NotImplementedError):
        tkern.optim.lr_scheduler.LRScheduler(opt)


@pytest.mark.parametrize("call", [
    lambda lib, opt: lib.optim.lr_scheduler.StepLR(object(), 2),
    lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(object()),
    lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, 0.5, last_epoch=3),
    lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 2.0]),
    lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0),
    lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="middle"),
    lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="log"),
    lambda lib, opt: lib.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]),
])
def test_errors_match_torch(call):
    torch_opt = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.5)
    tkern_opt = tkern.optim.SGD([tkern.ones(2, requires_grad=True)], lr=0.5)
    torch_error = check_error(lambda: call(torch, torch_opt), lambda: call(tkern, tkern_opt))
    with pytest.raises(Exception) as caught:
        call(torch, torch_opt)
    assert str(torch_error) == str(caught.value)


def test_reduce_on_plateau_refuses_groups_added_with_per_group_min_lrs():
    for lib in (torch, tkern):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.5)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
        opt.add_param_group({"params": [lib.ones(1, requires_grad=True)]})
        scheduler.step(1.0)
        with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau` was initialized \\(1\\)"):
            scheduler.step(2.0)


def test_cosine_resumed_at_a_later_epoch_continues_from_the_groups_lr():
    schedulers = []
    for lib in (torch, tkern):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.5)
        opt.param_groups[0]["initial_lr"] = 0.8
        schedulers.append(lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=9, eta_min=0.01, last_epoch=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(12):
            _assert_same_lrs(*schedulers)
            for scheduler in schedulers:
                scheduler.step()
