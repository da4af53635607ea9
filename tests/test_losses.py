"""Binary cross entropies, smooth L1, Huber and KL divergence losses (functions and modules) against torch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tkern
import tkern.nn.functional as KF
from helpers import assert_same, check_error, check_grad, check_op, make_pair, random_array

SHAPES = [(7,), (3, 5), (2, 3, 4), ()]
REDUCTIONS = ["mean", "sum", "none"]


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


def _probabilities(x):
    return x.sigmoid()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(shape, reduction, device):
    call = lambda p, t, w: _lib(p).nn.functional.binary_cross_entropy(p.sigmoid(), t.sigmoid(), reduction=reduction)
    check_grad([shape, shape, shape], call, device=device, grad_inputs=[0, 1])
    weighted = lambda p, t, w: _lib(p).nn.functional.binary_cross_entropy(p.sigmoid(), t.sigmoid(), w.abs(),
                                                                          reduction=reduction)
    check_grad([shape, shape, shape], weighted, device=device, grad_inputs=[0, 1])


def test_binary_cross_entropy_clamps_its_logs_at_minus_100(device):
    values = np.array([0.0, 1.0, 0.0, 1.0, 0.3], dtype=np.float32)
    targets = np.array([1.0, 0.0, 0.0, 1.0, 0.6], dtype=np.float32)
    (tp, kp), (tt, kt) = make_pair(values, device), make_pair(targets, device)
    for reduction in REDUCTIONS:
        assert_same(TF.binary_cross_entropy(tp, tt, reduction=reduction),
                    KF.binary_cross_entropy(kp, kt, reduction=reduction))
    tp.requires_grad_()
    kp.requires_grad_()
    TF.binary_cross_entropy(tp, tt, reduction="sum").backward()
    KF.binary_cross_entropy(kp, kt, reduction="sum").backward()
    assert_same(tp.grad, kp.grad, rtol=1e-4)


def test_binary_cross_entropy_weight_broadcasts_against_the_target(device):
    (tp, kp), (tt, kt) = (make_pair(random_array((4, 3), seed=s, low=0.05, high=0.95), device) for s in (1, 2))
    tw, kw = make_pair(random_array((3,), seed=3, low=0.5, high=2.0), device)
    assert_same(TF.binary_cross_entropy(tp, tt, tw), KF.binary_cross_entropy(kp, kt, kw))
    assert_same(torch.nn.BCELoss(tw, reduction="sum")(tp, tt), tkern.nn.BCELoss(kw, reduction="sum")(kp, kt),
                rtol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(shape, reduction, device):
    call = lambda x, t: _lib(x).nn.functional.binary_cross_entropy_with_logits(x, t.sigmoid(), reduction=reduction)
    check_grad([shape, shape], call, device=device, low=-6.0, high=6.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_weight_and_pos_weight(reduction, device):
    call = lambda x, t, w, pw: _lib(x).nn.functional.binary_cross_entropy_with_logits(
        x, t.sigmoid(), w.abs(), reduction=reduction, pos_weight=pw.abs())
    check_grad([(4, 5), (4, 5), (5,), (5,)], call, device=device, grad_inputs=[0, 1])
    only_positive = lambda x, t, pw: _lib(x).nn.functional.binary_cross_entropy_with_logits(
        x, t.sigmoid(), reduction=reduction, pos_weight=pw.abs())
    check_grad([(2, 3, 4), (2, 3, 4), (3, 1)], only_positive, device=device, grad_inputs=[0, 1])


def test_binary_cross_entropy_with_logits_is_stable_for_large_logits(device):
    logits = np.array([-200.0, -40.0, 0.0, 40.0, 200.0], dtype=np.float32)
    targets = np.array([1.0, 0.0, 0.5, 1.0, 0.0], dtype=np.float32)
    (tx, kx), (tt, kt) = make_pair(logits, device), make_pair(targets, device)
    expected = TF.binary_cross_entropy_with_logits(tx, tt, reduction="none")
    actual = KF.binary_cross_entropy_with_logits(kx, kt, reduction="none")
    assert_same(expected, actual)
    assert np.isfinite(actual.cpu().numpy()).all()


@pytest.mark.parametrize("shapes", [[(7,), (7,)], [(3, 5), (3, 5)], [(2, 3, 4), (2, 3, 4)], [(), ()],
                                    [(3, 1), (3, 4)]])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss, option", [("smooth_l1_loss", "beta"), ("huber_loss", "delta")])
@pytest.mark.parametrize("bound", [1.0, 0.6, 2.5])
def test_smooth_l1_and_huber(shapes, reduction, loss, option, bound, device):
    call = lambda x, y: getattr(_lib(x).nn.functional, loss)(x, y, reduction=reduction, **{option: bound})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the broadcast case warns; tested below)
        check_grad(shapes, call, device=device)


def test_smooth_l1_with_beta_zero_is_the_l1_loss(device):
    call = lambda x, y: _lib(x).nn.functional.smooth_l1_loss(x, y, beta=0.0)
    _, actual = check_grad([(3, 5), (3, 5)], call, device=device)
    assert type(actual.grad_fn).__name__ == "MeanBackward0"


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_huber(reduction, device):
    call = lambda x, y, w: _lib(x).nn.functional.huber_loss(x, y, reduction=reduction, delta=0.8, weight=w.abs())
    check_grad([(3, 5), (3, 5), (3, 5)], call, device=device, grad_inputs=[0, 1])


@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 4), (6,)])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(shape, reduction, log_target, device):
    def call(x, t):
        lib = _lib(x)
        target = lib.nn.functional.log_softmax(t, -1) if log_target else lib.nn.functional.softmax(t, -1)
        return lib.nn.functional.kl_div(lib.nn.functional.log_softmax(x, -1), target, reduction=reduction,
                                        log_target=log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, actual = check_grad([shape, shape], call, device=device)
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__


def test_kl_div_zero_targets_add_nothing_and_zero_dim_batchmean(device):
    (tx, kx), (tt, kt) = make_pair(random_array((5,), seed=1), device), make_pair(
        np.array([0.0, 0.5, 0.0, 0.25, 0.25], dtype=np.float32), device)
    assert_same(TF.kl_div(tx, tt, reduction="sum"), KF.kl_div(kx, kt, reduction="sum"))
    assert_same(TF.kl_div(tx[0], tt[1], reduction="batchmean"), KF.kl_div(kx[0], kt[1], reduction="batchmean"))


def test_kl_div_warnings_and_legacy_flags(device):
    (tx, kx), (tt, kt) = (make_pair(random_array((3, 4), seed=s, low=0.1, high=1.0), device) for s in (1, 2))
    message = "reduction: 'mean' divides the total loss by both the batch size and the support size"
    with pytest.warns(UserWarning, match=message):
        expected = TF.kl_div(tx, tt)
    with pytest.warns(UserWarning, match=message):
        actual = KF.kl_div(kx, kt)
    assert_same(expected, actual)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        actual = KF.kl_div(kx, kt, size_average=False, reduction="batchmean")
    assert_same(TF.kl_div(tx, tt, reduction="sum"), actual, rtol=1e-4)


def test_broadcast_targets_warn_like_torch(device):
    (tx, kx), (ty, ky) = make_pair(random_array((3, 4)), device), make_pair(random_array((4,), seed=1), device)
    for loss in ("smooth_l1_loss", "huber_loss"):
        with pytest.warns(UserWarning, match="Using a target size"):
            expected = getattr(TF, loss)(tx, ty)
        with pytest.warns(UserWarning, match=r"Using a target size \(tkern.Size\(\[4\]\)\)"):
            actual = getattr(KF, loss)(kx, ky)
        assert_same(expected, actual)


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("float32", "float64"), ("float64", "float32"),
                                    ("float32", "int64"), ("int64", "float32")])
@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "smooth_l1_loss",
                                  "huber_loss", "kl_div"])
def test_dtypes_like_torch(loss, dtypes, device):
    (tx, kx), (ty, ky) = (make_pair(np.array([0.25, 0.5, 0.75]), device, getattr(tkern, d)) for d in dtypes)
    call = lambda lib, x, y: getattr(lib.nn.functional, loss)(x, y, reduction="sum")
    try:
        expected = call(torch, tx, ty)
    except Exception:  # noqa: BLE001 (the class must be torch's)
        check_error(lambda: call(torch, tx, ty), lambda: call(tkern, kx, ky))
        return
    assert_same(expected, call(tkern, kx, ky))


def _pair(shape, device, seed=0, low=0.1, high=0.9):
    return make_pair(random_array(shape, seed=seed, low=low, high=high), device)


@pytest.mark.parametrize("call, shapes", [
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y), [(3,), (4,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x * 2, y), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y + 1), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x - 1, y), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y, y.sum(0, keepdim=True).expand(2, 3)),
     [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y, reduction="avg"), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y), [(2, 3), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=y[:2]), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y, y[:2]), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y, beta=-1.0), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y), [(3,), (2,)]),
    (lambda lib, x, y: lib.nn.functional.huber_loss(x, y, delta=0.0), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.huber_loss(x, y, delta=-2.0), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.huber_loss(x, y, weight=y[:2]), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.huber_loss(x, y, reduction="avg"), [(3,), (3,)]),
    (lambda lib, x, y: lib.nn.functional.kl_div(x, y, reduction="batch"), [(3,), (3,)]),
])
def test_errors_like_torch(call, shapes, device):
    (tx, kx), (ty, ky) = (_pair(shape, device, seed) for seed, shape in enumerate(shapes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        error = check_error(lambda: call(torch, tx, ty), lambda: call(tkern, kx, ky))
        with pytest.raises(Exception) as caught:
            call(torch, tx, ty)
    assert str(error).replace("tkern.Size", "torch.Size") == str(caught.value)


@pytest.mark.parametrize("loss, argument", [("binary_cross_entropy", "weight"),
                                            ("binary_cross_entropy_with_logits", "weight"),
                                            ("binary_cross_entropy_with_logits", "pos_weight")])
def test_weights_may_not_require_grad(loss, argument, device):
    (tx, kx), (ty, ky), (tw, kw) = (_pair((3,), device, seed) for seed in range(3))
    tw.requires_grad_()
    kw.requires_grad_()
    with pytest.raises(RuntimeError) as caught:
        getattr(TF, loss)(tx, ty, **{argument: tw})
    with pytest.raises(RuntimeError, match=f"is not differentiable with respect to argument '{argument}'") as ours:
        getattr(KF, loss)(kx, ky, **{argument: kw})
    assert str(ours.value) == str(caught.value)


@pytest.mark.parametrize("name, options, prepare", [
    ("BCELoss", {}, _probabilities),
    ("BCELoss", {"reduction": "sum"}, _probabilities),
    ("BCEWithLogitsLoss", {"reduction": "none"}, lambda x: x),
    ("SmoothL1Loss", {"beta": 0.5}, lambda x: x),
    ("HuberLoss", {"delta": 2.0, "reduction": "sum"}, lambda x: x),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, lambda x: x),
])
def test_modules(name, options, prepare, device):
    torch_loss, tkern_loss = getattr(torch.nn, name)(**options), getattr(tkern.nn, name)(**options)
    assert repr(tkern_loss) == repr(torch_loss)
    for key, value in options.items():
        assert getattr(tkern_loss, key) == getattr(torch_loss, key) == value
    check_grad([(4, 3), (4, 3)], lambda x, y: (torch_loss if _lib(x) is torch else tkern_loss)(prepare(x), prepare(y)),
               device=device)


def test_module_weights_are_buffers(device):
    (tw, kw), (tp, kp) = _pair((3,), device), _pair((3,), device, 1, 0.5, 2.0)
    torch_loss = torch.nn.BCEWithLogitsLoss(tw, pos_weight=tp)
    tkern_loss = tkern.nn.BCEWithLogitsLoss(kw, pos_weight=kp)
    assert [n for n, _ in tkern_loss.named_buffers()] == [n for n, _ in torch_loss.named_buffers()]
    check_op([(2, 3), (2, 3)], lambda x, y: (torch_loss if _lib(x) is torch else tkern_loss)(x, y.sigmoid()),
             device=device)
    assert [n for n, _ in tkern.nn.BCELoss(kw).named_buffers()] == ["weight"]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert tkern.nn.SmoothL1Loss(reduce=False).reduction == "none"
