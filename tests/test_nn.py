"""tkern.nn against torch.nn: modules and functional ops give torch's values on the same weights and
inputs, and Module's bookkeeping (names, state_dict, reprs, conversions, modes) behaves like torch's."""
import copy
import itertools
import math
import pickle
import re
import warnings
from collections import OrderedDict
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tkern
import tkern.nn.functional as KF
from helpers import assert_same, check_error, check_grad, make_pair, random_array, torch_index_error_pattern
from tkern import nn


def pair(shape, device, seed=0, low=-3.0, high=3.0, dtype=tkern.float32):
    """The same seeded random values as a torch tensor and a tkern tensor on ``device``."""
    return make_pair(random_array(shape, dtype, seed, low, high), device, dtype)


def warned(text: str, fn):
    """fn()'s result, asserting it warned with ``text`` (warnings Triton's interpreter raises on masked
    lanes are recorded here too, not shown)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    assert any(text in str(w.message) for w in caught), [str(w.message) for w in caught]
    return result


def class_targets(shape, classes, device, seed=1):
    values = np.random.default_rng(seed).integers(0, classes, shape)
    return make_pair(values, device, tkern.int64)


def load_from_torch(module: nn.Module, reference: torch.nn.Module, device) -> nn.Module:
    """Give a tkern module the torch module's weights, then move it to ``device``."""
    module.load_state_dict({k: tkern.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    return module.to(device)


def simple_nn(torch):
    """The seed program's model, written as the seed writes it, for torch or for tkern imported as torch."""
    nn = torch.nn

    class SimpleNN(nn.Module):
        def __init__(self):
            super(SimpleNN, self).__init__()
            self.fc1 = nn.Linear(2, 2)
            self.fc2 = nn.Linear(2, 1)

        def forward(self, x):
            x = torch.relu(self.fc1(x))
            return self.fc2(x)
    return SimpleNN()


def nested(lib):
    """A Sequential holding every kind of layer, a nested Sequential and a ModuleList."""
    n = lib.nn
    return n.Sequential(
        n.Linear(5, 4), n.ReLU(), n.Sequential(n.Linear(4, 3, bias=False), n.Tanh()), n.Sigmoid(),
        n.ModuleList([n.Identity(), n.Identity(), n.Flatten(0, 1)]), n.Softmax(dim=1), n.LogSoftmax(dim=-1),
        n.ReLU(inplace=True))


# ----- Parameter -----
def test_parameter_shares_storage_and_prints_like_torch(device):
    _, k = pair((2, 3), device)
    p = nn.Parameter(k)
    assert isinstance(p, tkern.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.shape == k.shape
    k.fill_(1.5)
    assert_same(torch.full((2, 3), 1.5), p.detach())
    expected = repr(torch.nn.Parameter(torch.full((2, 3), 1.5)))
    if device != "cpu":
        expected = expected.replace("requires_grad=True)", "device='cuda:0', requires_grad=True)")
    assert repr(p) == expected
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter())
    assert repr(nn.Parameter(tkern.tensor([1, 2]), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False))
    assert type(p * 2) is tkern.Tensor
    check_error(torch.nn.Parameter, nn.Parameter, (torch.tensor([1, 2]),), (tkern.tensor([1, 2]),))


def test_parameter_copies_stay_parameters():
    p = nn.Parameter(tkern.tensor([1.0, -2.0, 3.0]), requires_grad=False)
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and not q.requires_grad
        assert_same(torch.tensor([1.0, -2.0, 3.0]), q)
        q.data.fill_(0.5)
        assert p[0].item() == 1.0


# ----- layers -----
@pytest.mark.parametrize("in_features,out_features,bias,input_shape", [
    (3, 5, True, (1, 3)), (7, 1, False, (4, 7)), (4, 3, True, (2, 5, 4)), (2, 2, True, (2,)), (1, 3, True, (3, 1))])
def test_linear_matches_torch(in_features, out_features, bias, input_shape, device):
    reference = torch.nn.Linear(in_features, out_features, bias=bias)
    layer = load_from_torch(nn.Linear(in_features, out_features, bias=bias), reference, device)
    assert layer.weight.device.type == device and (layer.bias is None) == (not bias)
    t, k = pair(input_shape, device)
    assert_same(reference(t), layer(k))
    assert_same(TF.linear(t, reference.weight, reference.bias), KF.linear(k, layer.weight, layer.bias))


def test_linear_device_and_dtype_arguments(device):
    layer = nn.Linear(3, 2, device=device, dtype=tkern.float64)
    assert layer.weight.dtype is tkern.float64 and layer.bias.device.type == device
    reference = torch.nn.Linear(3, 2, dtype=torch.float64)
    load_from_torch(layer, reference, device)
    t, k = pair((4, 3), device, dtype=tkern.float64)
    assert_same(reference(t), layer(k))


def test_linear_initialisation_follows_torchs_distribution(device):
    tkern.manual_seed(0)
    layer = nn.Linear(50, 40, device=device)
    bound = 1 / math.sqrt(50)
    weight, bias = layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy()
    for values in (weight, bias):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
        assert abs(values.mean()) < 0.35 * bound and len(np.unique(values)) == values.size
    # uniform on (-b, b) has standard deviation b / sqrt(3)
    assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    tkern.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(50, 40, device=device).weight.detach().cpu().numpy(), weight)


def test_init_functions_write_in_place(device):
    tkern.manual_seed(1)
    p = nn.Parameter(tkern.empty(30, 20, device=device))
    kaiming, xavier = 1 / math.sqrt(20), 2 * math.sqrt(6 / 50)
    for fill, low, high in ((lambda t: nn.init.uniform_(t, -0.5, 2.0), -0.5, 2.0),
                            (lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)), -kaiming, kaiming),
                            (lambda t: nn.init.xavier_uniform_(t, gain=2.0), -xavier, xavier)):
        assert fill(p) is p and p.requires_grad and p.grad_fn is None
        values = p.detach().cpu().numpy()
        assert low <= values.min() < low + 0.1 * (high - low) and high - 0.1 * (high - low) < values.max() <= high
    assert nn.init.normal_(p, 3.0, 0.5) is p
    assert p.detach().cpu().numpy().mean() == pytest.approx(3.0, abs=0.1)
    assert p.detach().cpu().numpy().std() == pytest.approx(0.5, rel=0.1)
    for fill, value in ((nn.init.zeros_, 0.0), (nn.init.ones_, 1.0), (lambda t: nn.init.constant_(t, -0.25), -0.25)):
        assert fill(p) is p
        assert_same(torch.full((30, 20), value), p.detach())


def test_init_gains_and_errors_match_torch():
    for name, param in (("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)):
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    check_error(torch.nn.init.calculate_gain, nn.init.calculate_gain, ("swish",), ("swish",))
    check_error(torch.nn.init.xavier_uniform_, nn.init.xavier_uniform_, (torch.empty(3),), (tkern.empty(3),))
    check_error(lambda t: torch.nn.init.kaiming_uniform_(t, mode="fan_avg"),
                lambda t: nn.init.kaiming_uniform_(t, mode="fan_avg"), (torch.empty(3, 2),), (tkern.empty(3, 2),))


@pytest.mark.parametrize("make", [
    lambda n: n.ReLU(), lambda n: n.Sigmoid(), lambda n: n.Tanh(), lambda n: n.Softmax(dim=1),
    lambda n: n.Softmax(dim=-1), lambda n: n.LogSoftmax(dim=0), lambda n: n.LogSoftmax(dim=2), lambda n: n.Flatten(),
    lambda n: n.Flatten(0, 1), lambda n: n.Identity(3, unused=True)])
def test_activation_and_shape_modules_match_torch(make, device):
    t, k = pair((3, 4, 5), device, seed=2)
    assert_same(make(torch.nn)(t), make(nn)(k), atol=1e-6)
    assert str(make(nn)) == str(make(torch.nn))


def test_softmax_is_stable_for_large_inputs(device):
    t, k = pair((2, 7), device, low=-500.0, high=500.0)
    assert_same(TF.softmax(t, 1), KF.softmax(k, 1), atol=1e-6)
    assert_same(TF.log_softmax(t, 1), KF.log_softmax(k, 1), atol=1e-4)
    assert_same(torch.nn.LogSoftmax(0)(t), nn.LogSoftmax(0)(k), atol=1e-4)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((1, 3), 1), ((3, 1), 1), ((2, 3, 4), 0), ((2, 3, 4), -2), ((), 0)])
def test_functional_softmax_family(shape, dim, device):
    t, k = pair(shape, device, seed=3)
    assert_same(TF.softmax(t, dim), KF.softmax(k, dim), atol=1e-6)
    assert_same(TF.log_softmax(t, dim), KF.log_softmax(k, dim), atol=1e-5)
    assert_same(TF.softmax(t, dim, dtype=torch.float64), KF.softmax(k, dim, dtype=tkern.float64), atol=1e-6)


def test_softmax_implicit_dim_warns_like_torch(device):
    for shape in ((4,), (2, 3), (2, 3, 4)):
        t, k = pair(shape, device, seed=4)
        message = "Implicit dimension choice for softmax has been deprecated"
        assert_same(warned(message, partial(TF.softmax, t)), warned(message, partial(KF.softmax, k)), atol=1e-6)
        message = "Implicit dimension choice for log_softmax"
        assert_same(warned(message, partial(torch.nn.LogSoftmax(), t)), warned(message, partial(nn.LogSoftmax(), k)),
                    atol=1e-5)
    check_error(TF.softmax, KF.softmax, (torch.tensor([1, 2]), 0), (tkern.tensor([1, 2]), 0))


def test_functional_activations(device):
    t, k = pair((3, 5), device, seed=5)
    for name in ("relu", "sigmoid", "tanh"):
        assert_same(getattr(TF, name)(t), getattr(KF, name)(k), atol=1e-6)
    assert KF.relu(k, inplace=True) is k
    assert_same(t.relu(), k)


# ----- losses -----
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
@pytest.mark.parametrize("shape", [(3, 5), (1,), (2, 1, 3)])
def test_regression_losses(name, reduction, shape, device):
    (ti, ki), (tt, kt) = pair(shape, device, seed=6), pair(shape, device, seed=7)
    expected = getattr(torch.nn, name)(reduction=reduction)(ti, tt)
    assert_same(expected, getattr(nn, name)(reduction=reduction)(ki, kt), atol=1e-5)
    functional = {"MSELoss": "mse_loss", "L1Loss": "l1_loss"}[name]
    assert_same(expected, getattr(KF, functional)(ki, kt, reduction=reduction), atol=1e-5)
    (tw, kw) = pair(shape, device, seed=8, low=0.5, high=2.0)
    assert_same(getattr(TF, functional)(ti, tt, reduction=reduction, weight=tw),
                getattr(KF, functional)(ki, kt, reduction=reduction, weight=kw), atol=1e-5)


def test_regression_losses_broadcast_with_torchs_warning_and_legacy_flags(device):
    (ti, ki), (tt, kt) = pair((3, 4), device, seed=9), pair((4,), device, seed=10)
    expected = warned("Using a target size", lambda: TF.mse_loss(ti, tt, reduction="none"))
    actual = warned("Using a target size (tkern.Size([4]))", lambda: KF.mse_loss(ki, kt, reduction="none"))
    assert_same(expected, actual)
    (tt, kt) = pair((3, 4), device, seed=10)
    loss = warned("size_average and reduce args will be deprecated", lambda: nn.MSELoss(size_average=False))
    assert loss.reduction == "sum"
    assert_same(TF.mse_loss(ti, tt, reduction="sum"), loss(ki, kt), atol=1e-4)
    actual = warned("reduction='none'", lambda: KF.l1_loss(ki, kt, reduce=False))
    assert_same(TF.l1_loss(ti, tt, reduction="none"), actual)
    check_error(TF.mse_loss, KF.mse_loss, (ti, tt, None, None, "avg"), (ki, kt, None, None, "avg"))
    warned("Using a target size", lambda: check_error(TF.l1_loss, KF.l1_loss, (ti, tt[:2], None, None, "sum"),
                                                      (ki, kt[:2], None, None, "sum")))


CLASS_CASES = [((4, 5), (4,)), ((1, 3), (1,)), ((5,), ()), ((2, 3, 4), (2, 4)), ((2, 3, 1, 2), (2, 1, 2))]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("input_shape,target_shape", CLASS_CASES)
def test_cross_entropy_with_class_indices(input_shape, target_shape, reduction, device):
    ti, ki = pair(input_shape, device, seed=11)
    classes = input_shape[0 if len(input_shape) == 1 else 1]
    tt, kt = class_targets(target_shape, classes, device)
    expected = torch.nn.CrossEntropyLoss(reduction=reduction)(ti, tt)
    assert_same(expected, nn.CrossEntropyLoss(reduction=reduction)(ki, kt), atol=1e-5)
    assert_same(expected, KF.cross_entropy(ki, kt, reduction=reduction), atol=1e-5)
    assert_same(TF.nll_loss(TF.log_softmax(ti, 1 if ti.dim() > 1 else 0), tt, reduction=reduction),
                nn.NLLLoss(reduction=reduction)(KF.log_softmax(ki, 1 if ki.dim() > 1 else 0), kt), atol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_weight_ignore_index_and_label_smoothing(reduction, ignore_index, label_smoothing, device):
    ti, ki = pair((6, 4), device, seed=12)
    tt, kt = make_pair(np.array([0, 2, 3, 2, -100, 1]) if ignore_index == -100 else np.array([0, 2, 3, 2, 1, 2]),
                       device, tkern.int64)
    tw, kw = pair((4,), device, seed=13, low=0.5, high=2.0)
    kwargs = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": label_smoothing}
    expected = torch.nn.CrossEntropyLoss(weight=tw, **kwargs)(ti, tt)
    assert_same(expected, nn.CrossEntropyLoss(weight=kw, **kwargs)(ki, kt), atol=1e-5)
    assert_same(TF.cross_entropy(ti, tt, **kwargs), KF.cross_entropy(ki, kt, **kwargs), atol=1e-5)
    if label_smoothing == 0.0:
        assert_same(TF.nll_loss(ti, tt, tw, ignore_index=ignore_index, reduction=reduction),
                    KF.nll_loss(ki, kt, kw, ignore_index=ignore_index, reduction=reduction), atol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(3, 5), (1, 2), (4,), (2, 3, 2)])
def test_cross_entropy_with_class_probabilities(shape, reduction, device):
    ti, ki = pair(shape, device, seed=14)
    tp, kp = pair(shape, device, seed=15, low=0.0, high=1.0)
    classes = shape[0 if len(shape) == 1 else 1]
    tw, kw = pair((classes,), device, seed=16, low=0.5, high=2.0)
    assert_same(torch.nn.CrossEntropyLoss(reduction=reduction)(ti, tp),
                nn.CrossEntropyLoss(reduction=reduction)(ki, kp), atol=1e-5)
    assert_same(TF.cross_entropy(ti, tp, tw, reduction=reduction, label_smoothing=0.3),
                KF.cross_entropy(ki, kp, kw, reduction=reduction, label_smoothing=0.3), atol=1e-5)


def test_cross_entropy_accepts_byte_targets_and_all_ignored_gives_nan(device):
    ti, ki = pair((3, 4), device, seed=17)
    tt, kt = make_pair(np.array([3, 0, 1], dtype=np.uint8), device)
    assert_same(TF.cross_entropy(ti, tt), KF.cross_entropy(ki, kt), atol=1e-6)
    tt, kt = make_pair(np.array([-100, -100, -100]), device)
    assert_same(TF.cross_entropy(ti, tt), KF.cross_entropy(ki, kt))


@pytest.mark.parametrize("input_shape,target,kwargs", [
    ((3, 4), [0, 1], {}),                       # batch sizes differ
    ((3, 4), [0, 1, 4], {}),                    # class out of range
    ((3, 4), [0, -1, 2], {}),                   # negative class
    ((3, 4), [[0, 1, 1]], {}),
    ((2, 3, 4), [[0, 1, 1, 2], [0, 0, 1, 2], [0, 0, 0, 0]], {}),
    ((2, 3, 4), [[0, 1, 1, 2, 0], [0, 0, 1, 2, 1]], {}),
    ((4,), [1, 2], {}),
    ((3, 4), [0, 1, 2], {"reduction": "avg"}),
    ((3, 4), [0, 1, 2], {"label_smoothing": 1.5}),
    ((3, 4), [0, 1, 2], {"weight": [1.0, 2.0, 3.0]}),
    ((3, 4), 1, {}),                            # 0-d target for a batch
    ((), 1, {}),                                # equal shapes mean probabilities, which must be floating
])
def test_cross_entropy_errors_match_torch(input_shape, target, kwargs, device):
    ti, ki = pair(input_shape, device, seed=18)
    tt, kt = make_pair(np.array(target), device)
    tkwargs, kkwargs = dict(kwargs), dict(kwargs)
    if "weight" in kwargs:
        tkwargs["weight"] = torch.tensor(kwargs["weight"])
        kkwargs["weight"] = tkern.tensor(kwargs["weight"], device=device)
    # (a target out of range on a GPU is found there and raised at the next synchronisation)
    check_error(lambda i, t: TF.cross_entropy(i, t, **tkwargs),
                lambda i, t: KF.cross_entropy(i, t, **kkwargs).cpu(), (ti, tt), (ki, kt))


TARGETS_OUT_OF_RANGE = [
    ((3, 4), [0, 4, 1], {}),
    ((3, 4), [0, -1, 2], {}),                            # negative, and not ignore_index
    ((3, 4), [-1, 9, 5], {"ignore_index": -1}),           # the first one not ignored
    ((2, 3, 2), [[0, 2], [3, 1]], {}),
    ((2, 3, 1, 2), [[[0, 2]], [[1, 7]]], {"weight": True}),
    ((4,), 4, {}),                                       # 1-D input, 0-d target
    ((4,), [-2], {}),
    ((3, 4), np.array([0, 7, 1], np.uint8), {}),
    ((1000, 3), np.r_[np.zeros(600, np.int64), 5, np.ones(398, np.int64), -7], {}),  # across blocks
]


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("input_shape,target,kwargs", TARGETS_OUT_OF_RANGE, ids=repr)
def test_targets_out_of_range_raise_torchs_error_by_the_next_synchronisation(loss, input_shape, target, kwargs,
                                                                               device):
    ti, ki = pair(input_shape, device, seed=21)
    tt, kt = make_pair(np.array(target), device)
    classes = input_shape[0 if len(input_shape) == 1 else 1]
    tkwargs, kkwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        tkwargs["weight"], kkwargs["weight"] = pair((classes,), device, seed=22, low=0.5, high=2.0)
    message = torch_index_error_pattern(lambda: getattr(TF, loss)(ti, tt, **tkwargs))
    with pytest.raises(IndexError, match=message):
        getattr(KF, loss)(ki, kt, **kkwargs).cpu()
    # raised once: the next loss works
    tt, kt = class_targets(tt.shape, classes, device)
    assert_same(getattr(TF, loss)(ti, tt, **tkwargs), getattr(KF, loss)(ki, kt, **kkwargs), atol=1e-5)


def test_a_target_out_of_range_surfaces_at_synchronize(device):
    ti, ki = pair((3, 4), device, seed=23)
    kt = tkern.tensor([1, 4, 0], device=device)
    with pytest.raises(IndexError, match=re.escape("Target 4 is out of bounds.")):
        KF.cross_entropy(ki, kt, reduction="none")
        if device == "cuda":
            tkern.cuda.synchronize()
    if device == "cuda":
        tkern.cuda.synchronize()  # raised once, then cleared
    tt, kt = make_pair(np.array([1, 3, 0]), device)
    assert_same(TF.cross_entropy(ti, tt), KF.cross_entropy(ki, kt))


def _loss_inputs(target_shape, classes, kwargs, device):
    """Random class targets (some ignored), and the weight kwargs asks for, for torch and tkern."""
    ignore_index = kwargs.get("ignore_index", -100)
    values = np.random.default_rng(24).integers(0, classes, target_shape)
    if ignore_index == -100 and values.size > 1:
        values.reshape(-1)[1] = ignore_index
    tt, kt = make_pair(values, device, tkern.int64)
    tkwargs, kkwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        tkwargs["weight"], kkwargs["weight"] = pair((classes,), device, seed=25, low=0.5, high=2.0)
    return tt, kt, tkwargs, kkwargs


CLASS_GRAD_SHAPES = [((5,), ()), ((6, 4), (6,)), ((1, 3), (1,)), ((0, 3), (0,)), ((2, 3, 4, 5), (2, 4, 5)),
                     ((3, 2, 1), (3, 1))]
CLASS_GRAD_KWARGS = [{}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.3},
                     {"weight": True, "ignore_index": 1, "label_smoothing": 0.2}]
# every (kwargs, reduction) pair on two of the shapes, so each shape meets most kwargs and every reduction
CLASS_GRAD_CASES = [(*CLASS_GRAD_SHAPES[(i + shift) % len(CLASS_GRAD_SHAPES)], kwargs, reduction)
                    for i, (kwargs, reduction) in enumerate(itertools.product(CLASS_GRAD_KWARGS, REDUCTIONS))
                    for shift in (0, 3)]


@pytest.mark.parametrize("input_shape,target_shape,kwargs,reduction", CLASS_GRAD_CASES, ids=repr)
def test_class_index_losses_and_gradients_match_torch(input_shape, target_shape, kwargs, reduction, device):
    classes = input_shape[0 if len(input_shape) == 1 else 1]
    tt, kt, tkwargs, kkwargs = _loss_inputs(target_shape, classes, dict(kwargs, reduction=reduction), device)
    check_grad([input_shape], lambda x: TF.cross_entropy(x, tt, **tkwargs),
               lambda x: KF.cross_entropy(x, kt, **kkwargs), device=device, atol=1e-5)
    if "label_smoothing" not in kwargs:
        class_dim = 0 if len(input_shape) == 1 else 1
        check_grad([input_shape], lambda x: TF.nll_loss(TF.log_softmax(x, class_dim), tt, **tkwargs),
                   lambda x: KF.nll_loss(KF.log_softmax(x, class_dim), kt, **kkwargs), device=device, atol=1e-5)


LOGIT_LAYOUTS = {
    "transposed": ((5, 4), lambda x: x.t()),
    "offset": ((5, 5), lambda x: x[1:, 1:]),
    "stepped": ((4, 9), lambda x: x[:, ::2]),
    "expanded": ((1, 5), lambda x: x.expand(4, 5)),
    "classes_last": ((2, 3, 5), lambda x: x.permute(0, 2, 1)),
}


@pytest.mark.parametrize("layout", list(LOGIT_LAYOUTS))
def test_class_index_losses_of_strided_logits(layout, device):
    shape, view = LOGIT_LAYOUTS[layout]
    picked = view(torch.empty(shape))
    tt, kt, tkwargs, kkwargs = _loss_inputs(picked.shape[:1] + picked.shape[2:], picked.shape[1],
                                            {"weight": True, "label_smoothing": 0.1}, device)
    check_grad([shape], lambda x: TF.cross_entropy(view(x), tt, **tkwargs),
               lambda x: KF.cross_entropy(view(x), kt, **kkwargs), device=device, atol=1e-5)
    # a strided target too
    wide_t, wide_k = make_pair(np.stack([tt.numpy(), tt.numpy()], -1), device)
    check_grad([shape], lambda x: TF.cross_entropy(view(x), wide_t[..., 1], **tkwargs),
               lambda x: KF.cross_entropy(view(x), wide_k[..., 1], **kkwargs), device=device, atol=1e-5)


def test_nll_loss_ignores_infinite_log_probs_of_ignored_samples(device):
    """An ignored sample picks class 0 internally: a -inf there must give neither a NaN loss nor a
    NaN gradient."""
    values = random_array((3, 4), seed=26)
    values[1, 0] = -np.inf
    tt, kt = make_pair(np.array([2, -100, 3]), device)
    for reduction in REDUCTIONS:
        for weight in (None, random_array((4,), seed=27, low=0.5, high=2.0)):
            ti, ki = make_pair(values, device)
            ti.requires_grad_()
            ki.requires_grad_()
            tw, kw = (None, None) if weight is None else make_pair(weight, device)
            expected = TF.nll_loss(ti, tt, tw, reduction=reduction)
            actual = KF.nll_loss(ki, kt, kw, reduction=reduction)
            assert_same(expected, actual)
            expected.sum().backward()
            actual.sum().backward()
            assert_same(ti.grad, ki.grad)


@pytest.mark.skipif(not tkern.cuda.is_available(), reason="device 'cuda' is not available")
def test_cross_entropy_on_cuda_never_reads_targets_back(monkeypatch):
    """Forward and backward run without a host read: targets are checked on the device; and no
    N x C one-hot mask is made (the target classes are gathered)."""
    from tkern.ops import cuda_memory, triton_backend
    ti, ki = pair((6, 5), "cuda", seed=28)
    ti.requires_grad_()
    ki.requires_grad_()
    tt, kt, tkwargs, kkwargs = _loss_inputs((6,), 5, {"weight": True, "label_smoothing": 0.1}, "cuda")
    kt.cpu()  # (nothing pending before the patch)

    def host_read(*args):
        raise AssertionError("a host read")
    monkeypatch.setattr(triton_backend.TritonBackend, "to_numpy", host_read)
    monkeypatch.setattr(cuda_memory, "to_host", host_read)
    allocated = []
    empty = triton_backend.TritonBackend.empty
    monkeypatch.setattr(triton_backend.TritonBackend, "empty",
                        lambda self, shape, dtype, device: allocated.append((shape, dtype)) or empty(self, shape, dtype,
                                                                                                    device))
    actual = KF.cross_entropy(ki, kt, **kkwargs)
    actual.backward()
    assert ((6, 5), tkern.bool) not in allocated and ((6, 5), tkern.float32) in allocated
    refused = KF.cross_entropy(ki.detach(), tkern.tensor([0, 1, 2, 3, 4, 5], device="cuda"))
    monkeypatch.undo()
    with pytest.raises(IndexError, match=re.escape("Target 5 is out of bounds.")):
        refused.item()
    expected = TF.cross_entropy(ti, tt, **tkwargs)
    expected.backward()
    assert_same(expected, actual, atol=1e-5)
    assert_same(ti.grad, ki.grad, atol=1e-5)


def test_cross_entropy_target_dtype_errors_match_torch(device):
    ti, ki = pair((3, 4), device, seed=19)
    for values in (np.array([0, 1, 2], dtype=np.int32), np.array([0.0, 1.0, 2.0], dtype=np.float32)):
        tt, kt = make_pair(values, device)
        check_error(TF.cross_entropy, KF.cross_entropy, (ti, tt), (ki, kt))
    tt, kt = make_pair(np.zeros((3, 4), dtype=np.int64), device)
    check_error(TF.cross_entropy, KF.cross_entropy, (ti, tt), (ki, kt))
    tp, kp = pair((3, 4), device, seed=20, low=0.0, high=1.0)
    check_error(lambda i, t: TF.cross_entropy(i, t, ignore_index=1),
                lambda i, t: KF.cross_entropy(i, t, ignore_index=1), (ti, tp), (ki, kp))
    check_error(TF.nll_loss, KF.nll_loss, (torch.tensor(1.0), torch.tensor(0)),
                (tkern.tensor(1.0, device=device), tkern.tensor(0, device=device)))
    tw, kw = make_pair(np.ones(4), device)
    check_error(lambda i, t, w: TF.cross_entropy(i, t, w), lambda i, t, w: KF.cross_entropy(i, t, w),
                (ti, torch.tensor([0, 1, 2]), tw), (ki, tkern.tensor([0, 1, 2], device=device), kw))


# ----- Module: structure, names, printing -----
def test_seed_program_prints_and_runs_like_torch(device):
    reference, model = simple_nn(torch), simple_nn(tkern)
    assert str(model) == str(reference) and repr(model) == repr(reference)
    load_from_torch(model, reference, device)
    criterion, reference_criterion = nn.MSELoss(), torch.nn.MSELoss()
    assert str(criterion) == str(reference_criterion)
    (tx, kx), (ty, ky) = pair((5, 2), device, seed=21), pair((5, 1), device, seed=22)
    assert_same(reference(tx), model(kx), atol=1e-6)
    assert_same(reference_criterion(reference(tx), ty), criterion(model(kx), ky), atol=1e-5)


def test_reprs_match_torch():
    assert str(nested(tkern)) == str(nested(torch))
    for make in (lambda n: n.Sequential(), lambda n: n.ModuleList(), lambda n: n.CrossEntropyLoss(),
                 lambda n: n.L1Loss(), lambda n: n.NLLLoss(), lambda n: n.Linear(3, 2, bias=False),
                 lambda n: n.ModuleList([n.Linear(2, 2), n.Linear(2, 2), n.Linear(2, 3), n.ReLU()]),
                 lambda n: n.Sequential(OrderedDict([("inner", n.Sequential(n.ReLU())), ("out", n.Linear(1, 1))]))):
        assert repr(make(nn)) == repr(make(torch.nn))

    class Custom(nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    class TorchCustom(torch.nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    outer, torch_outer = nn.Sequential(Custom()), torch.nn.Sequential(TorchCustom())
    assert repr(outer).replace("Custom", "TorchCustom") == repr(torch_outer)


def test_parameter_and_module_names_match_torch():
    reference, model = nested(torch), nested(tkern)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert [n for n, _ in model.named_children()] == [n for n, _ in reference.named_children()]
    assert [type(m).__name__ for m in model.modules()] == [type(m).__name__ for m in reference.modules()]
    assert [p.shape for p in model.parameters()] == [tkern.Size(p.shape) for p in reference.parameters()]
    assert list(model.parameters(recurse=False)) == [] and len(list(model[0].parameters(recurse=False))) == 2
    assert [n for n, _ in model.named_parameters(prefix="net")][0] == "net.0.weight"
    assert list(simple_nn(tkern).children())[0].out_features == 2
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


def test_shared_modules_and_parameters_are_listed_once_like_torch():
    def build(n):
        shared = n.Linear(2, 2)
        model = n.Sequential(shared, n.ReLU(), shared)
        model.extra = n.Linear(2, 3)
        model.extra.weight = model[0].weight
        return model
    reference, model = build(torch.nn), build(nn)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert list(model.state_dict()) == list(reference.state_dict())
    assert len(list(model.named_parameters(remove_duplicate=False))) == \
        len(list(reference.named_parameters(remove_duplicate=False)))


def test_attribute_registration_follows_torch():
    def build(n, tensor):
        m = n.Module()
        m.w = n.Parameter(tensor([1.0, 2.0]))
        m.child = n.Linear(1, 1)
        m.plain = tensor([3.0])
        m.register_buffer("running", tensor([0.5]))
        m.register_buffer("scratch", tensor([0.0]), persistent=False)
        m.register_parameter("unset", None)
        return m
    reference, m = build(torch.nn, torch.tensor), build(nn, tkern.tensor)
    assert list(m.state_dict()) == list(reference.state_dict()) == ["w", "running", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in reference.named_buffers()]
    assert m.unset is None and "w" in dir(m) and "child" in dir(m)
    m.w = nn.Parameter(tkern.tensor([4.0]))
    assert m._parameters["w"] is m.w
    del m.w
    assert "w" not in m._parameters

    def same_error(fn):
        return check_error(fn, None, (reference,), (m,))
    same_error(lambda mod: setattr(mod, "running", 3))
    for name in ("child", "unset"):
        same_error(lambda mod, name=name: setattr(mod, name, 1.0))
    assert str(same_error(lambda mod: mod.missing)) == "'Module' object has no attribute 'missing'"
    for name in ("a.b", "", "plain"):
        same_error(lambda mod, name=name: mod.register_parameter(name, None))
        same_error(lambda mod, name=name: mod.add_module(name, None))
    same_error(lambda mod: mod.register_parameter("x", mod.plain))
    same_error(lambda mod: mod.add_module("x", 3))
    same_error(lambda mod: mod.register_buffer("y", 3))
    same_error(lambda mod: mod(1))


def test_assigning_before_init_fails_like_torch():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    class TorchBroken(torch.nn.Module):
        def __init__(self):
            self.fc = torch.nn.Linear(1, 1)
    check_error(TorchBroken, Broken)


# ----- state_dict -----
def test_state_dict_holds_detached_tensors_sharing_storage(device):
    model = simple_nn(tkern).to(device)
    state = model.state_dict()
    assert isinstance(state, OrderedDict) and list(state) == list(simple_nn(torch).state_dict())
    for value in state.values():
        assert type(value) is tkern.Tensor and not value.requires_grad and value.device.type == device
    state["fc1.weight"].fill_(0.25)
    assert_same(torch.full((2, 2), 0.25), model.fc1.weight.detach())
    kept = model.state_dict(keep_vars=True)
    assert kept["fc2.bias"] is model.fc2.bias
    assert list(model.state_dict(prefix="net.")) == ["net." + k for k in state]


def test_buffers_of_losses_are_state_like_torch():
    weights = [1.0, 2.0, 0.5]
    reference, loss = torch.nn.CrossEntropyLoss(torch.tensor(weights)), nn.CrossEntropyLoss(tkern.tensor(weights))
    assert list(loss.state_dict()) == list(reference.state_dict()) == ["weight"]
    assert_same(reference.weight, loss.weight)
    assert list(nn.CrossEntropyLoss().state_dict()) == [] and nn.CrossEntropyLoss().weight is None


def test_load_state_dict_copies_in_place_and_reports_keys_like_torch(device):
    reference, model = simple_nn(torch), simple_nn(tkern).to(device)
    weight = model.fc1.weight
    result = load_from_torch(model, reference, device).load_state_dict(model.state_dict())
    assert repr(result) == "<All keys matched successfully>" and result.missing_keys == []
    assert model.fc1.weight is weight and weight.device.type == device and weight.requires_grad
    assert_same(reference.fc1.weight, weight)
    partial = {"fc1.weight": tkern.tensor(reference.fc1.weight.detach().numpy() * 2), "extra.x": tkern.ones(1)}
    expected = reference.load_state_dict({"fc1.weight": reference.fc1.weight * 2, "extra.x": torch.ones(1)},
                                         strict=False)
    result = model.load_state_dict(partial, strict=False)
    assert result == expected and repr(result) == repr(expected)
    assert result.missing_keys == ["fc1.bias", "fc2.weight", "fc2.bias"]
    assert_same(reference.fc1.weight, weight)


@pytest.mark.parametrize("change", ["missing", "unexpected", "size", "nested_unexpected", "not_tensor"])
def test_load_state_dict_strict_errors_match_torch(change):
    reference, model = simple_nn(torch), simple_nn(tkern)
    torch_state, state = reference.state_dict(), model.state_dict()
    if change == "missing":
        del torch_state["fc2.bias"], state["fc2.bias"]
    elif change == "unexpected":
        torch_state["scale"], state["scale"] = torch.ones(1), tkern.ones(1)
    elif change == "size":
        torch_state["fc1.weight"], state["fc1.weight"] = torch.ones(3, 2), tkern.ones(3, 2)
    elif change == "nested_unexpected":
        torch_state["fc1.weight.x"], state["fc1.weight.x"] = torch.ones(1), tkern.ones(1)
    else:
        torch_state["fc1.bias"], state["fc1.bias"] = [1.0, 2.0], [1.0, 2.0]
    error = check_error(reference.load_state_dict, model.load_state_dict, (torch_state,), (state,))
    try:
        reference.load_state_dict(torch_state)
    except RuntimeError as torch_error:
        expected = str(torch_error).replace("torch.", "tkern.")
    assert str(error) == expected
    check_error(reference.load_state_dict, model.load_state_dict, ([1],), ([1],))


def test_load_state_dict_with_assign_replaces_parameters():
    model = simple_nn(tkern)
    state = {k: v.clone() + 1 for k, v in model.state_dict().items()}
    old = model.fc1.weight
    model.load_state_dict(state, assign=True)
    assert model.fc1.weight is not old and isinstance(model.fc1.weight, nn.Parameter)
    assert model.fc1.weight.requires_grad
    assert_same(torch.from_numpy(state["fc1.weight"].numpy()), model.fc1.weight.detach())


# ----- conversions, modes, gradients -----
def test_to_dtype_and_device_keep_parameter_objects(device):
    model = nested(tkern)
    params = list(model.parameters())
    model[0].weight.grad = tkern.ones(4, 5)
    assert model.to(tkern.float64) is model
    assert [p is q for p, q in zip(model.parameters(), params)] == [True] * len(params)
    assert all(p.dtype is tkern.float64 for p in model.parameters()) and model[0].weight.grad.dtype is tkern.float64
    assert model.to(device).double().float() is model
    for p, q in zip(model.parameters(), params):
        assert p is q and p.dtype is tkern.float32 and p.device.type == device and p.requires_grad
    assert model[0].weight.grad.device.type == device
    assert model.to(device, tkern.float64).cpu() is model
    assert all(p.device == tkern.device("cpu") and p.dtype is tkern.float64 for p in model.parameters())
    model.to(tkern.ones(1, device=device, dtype=tkern.float32))
    assert all(p.device.type == device and p.dtype is tkern.float32 for p in model.parameters())
    check_error(lambda m: m.to(torch.int64), lambda m: m.to(tkern.int64), (nested(torch),), (model,))


def test_to_moves_buffers_and_forward_still_matches(device):
    weights = [1.0, 2.0, 0.5]
    loss = nn.CrossEntropyLoss(tkern.tensor(weights)).to(device)
    assert loss.weight.device.type == device
    ti, ki = pair((2, 3), device, seed=23)
    tt, kt = class_targets((2,), 3, device)
    assert_same(torch.nn.CrossEntropyLoss(torch.tensor(weights))(ti, tt), loss(ki, kt), atol=1e-6)


def test_cuda_and_cpu_methods_keep_parameter_objects():
    model = simple_nn(tkern)
    weight = model.fc1.weight
    if not tkern.cuda.is_available():
        with pytest.raises(RuntimeError):
            model.cuda()
        assert model.cpu() is model and model.fc1.weight is weight
        return
    assert model.cuda() is model and weight.device == tkern.device("cuda:0") and model.fc1.weight is weight
    assert model.cpu().fc1.weight.device == tkern.device("cpu") and model.fc1.weight is weight


def test_train_eval_flags_reach_every_module():
    model = nested(tkern)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[2].train(False)
    assert model.training and not model[2][0].training
    check_error(lambda m: m.train("yes"), lambda m: m.train("yes"), (nested(torch),), (model,))


def test_zero_grad_requires_grad_and_apply(device):
    model = simple_nn(tkern).to(device)
    for p in model.parameters():
        p.grad = tkern.full(p.shape, 3.0, device=device)
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.abs().sum().item() == 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model and not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Linear", "SimpleNN"]
    model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
    assert model.fc1.bias.abs().sum().item() == 0 and model.fc1.bias.requires_grad


def test_deepcopy_of_a_module_is_independent():
    model = simple_nn(tkern)
    clone = copy.deepcopy(model)
    assert str(clone) == str(model) and clone.fc1.weight is not model.fc1.weight
    assert isinstance(clone.fc1.weight, nn.Parameter) and clone.fc1.weight.requires_grad
    clone.fc1.weight.data.fill_(0.0)
    assert model.fc1.weight.abs().sum().item() > 0


# ----- containers -----
def test_sequential_matches_torch(device):
    reference = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3),
                                    torch.nn.Softmax(dim=-1))
    model = load_from_torch(nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 3), nn.Softmax(dim=-1)),
                            reference, device)
    t, k = pair((2, 4, 5), device, seed=24)
    assert_same(reference(t), model(k), atol=1e-6)
    assert len(model) == 4 and isinstance(model[-1], nn.Softmax) and isinstance(model[1], nn.Tanh)
    assert [type(m).__name__ for m in model] == [type(m).__name__ for m in reference]
    assert str(model[1:3]) == str(reference[1:3]) and isinstance(model[1:3], nn.Sequential)
    check_error(lambda s: s[4], lambda s: s[4], (reference,), (model,))
    check_error(lambda s: s[-5], lambda s: s[-5], (reference,), (model,))
    check_error(lambda s: s["0"], lambda s: s["0"], (reference,), (model,))


def test_sequential_editing_matches_torch():
    def edit(n):
        seq = n.Sequential(n.Linear(2, 3), n.ReLU())
        seq.append(n.Linear(3, 1))
        seq[1] = n.Tanh()
        seq.insert(1, n.Identity())
        seq.insert(-1, n.ReLU())
        seq.extend([n.Sigmoid(), n.Flatten()])
        popped = seq.pop(0)
        del seq[-1]
        del seq[0:1]
        named = n.Sequential(OrderedDict([("first", n.Linear(2, 3)), ("act", n.ReLU())]))
        named[-1] = n.Tanh()
        named.append(n.Linear(3, 1))
        return seq, popped, named
    expected, actual = edit(torch.nn), edit(nn)
    assert [str(m) for m in actual] == [str(m) for m in expected]
    assert [n for n, _ in actual[2].named_parameters()] == [n for n, _ in expected[2].named_parameters()]
    check_error(lambda s: s.insert(9, s[0]), lambda s: s.insert(9, s[0]), (expected[0],), (actual[0],))


def test_module_list_registers_and_indexes_like_torch():
    def build(n):
        layers = n.ModuleList([n.Linear(2, 2) for _ in range(3)])
        layers.append(n.ReLU())
        layers += [n.Tanh()]
        layers.insert(0, n.Sigmoid())
        del layers[1]
        return layers
    reference, layers = build(torch.nn), build(nn)
    assert str(layers) == str(reference) and len(layers) == len(reference) == 5
    assert [n for n, _ in layers.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert str(layers[1:3]) == str(reference[1:3]) and isinstance(layers[-1], nn.Tanh)
    assert str(layers + [nn.ReLU()]) == str(reference + [torch.nn.ReLU()])
    check_error(lambda m: m[7], lambda m: m[7], (reference,), (layers,))
    check_error(lambda m: m.extend(3), lambda m: m.extend(3), (reference,), (layers,))


def test_functional_and_init_are_reachable_like_torch():
    assert tkern.nn.functional is KF and tkern.nn.init.uniform_ is nn.init.uniform_
    warned("Initializing zero-element tensors is a no-op", lambda: torch.nn.Linear(0, 3))
    layer = warned("Initializing zero-element tensors is a no-op", lambda: nn.Linear(0, 3))
    assert_same(torch.zeros(3), layer.bias.detach())


# ----- issue 14, new fuzzer finds -----


@pytest.mark.parametrize("dtype", [tkern.int64, tkern.int32, tkern.uint8, tkern.bool])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_losses_refuse_integer_inputs(dtype, reduction, device):
    input_t, input_k = make_pair(random_array((2, 3), dtype, seed=31, low=0, high=5), device)
    target_t, target_k = make_pair(random_array((2, 3), dtype, seed=32, low=0, high=5), device)
    error = check_error(lambda: TF.mse_loss(input_t, target_t, reduction=reduction),
                        lambda: KF.mse_loss(input_k, target_k, reduction=reduction))
    assert str(error) == f"\"mse_cpu\" not implemented for '{tkern.ops.TORCH_TYPE_NAMES[dtype]}'"
    classes_t, classes_k = make_pair(np.array([0, 2]), device)
    error = check_error(lambda: TF.nll_loss(input_t, classes_t, reduction=reduction),
                        lambda: KF.nll_loss(input_k, classes_k, reduction=reduction))
    assert str(error) == f"\"nll_loss_out_frame\" not implemented for '{tkern.ops.TORCH_TYPE_NAMES[dtype]}'"
    # an integer or bool operand beside a float one is promoted, as in torch
    float_t, float_k = make_pair(random_array((2, 3), seed=33), device)
    float_t.requires_grad_()
    float_k.requires_grad_()
    expected, actual = TF.mse_loss(input_t, float_t, reduction=reduction), KF.mse_loss(input_k, float_k, reduction=reduction)
    assert_same(expected, actual)
    expected.sum().backward()
    actual.sum().backward()
    assert_same(float_t.grad, float_k.grad)
    for name in ("softmax", "log_softmax"):
        check_error(lambda: getattr(TF, name)(input_t, 1), lambda: getattr(KF, name)(input_k, 1))
        assert_same(getattr(TF, name)(input_t, 1, dtype=torch.float64),
                    getattr(KF, name)(input_k, 1, dtype=tkern.float64))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((), 1), ((2, 3), 2), ((2, 3), 0), ((2, 3), -1), ((), 0), ((4,), -2)])
def test_softmax_of_integers_checks_the_dim_first(name, shape, dim, device):
    """torch checks the dim (IndexError) before the dtype, and names the kernel it would run by whether
    dim is the last: "softmax_kernel_impl" or "softmax_lastdim_kernel_impl"."""
    values = random_array(shape, tkern.int16, seed=3)
    t, k = make_pair(values, device)
    error = check_error(lambda: getattr(torch.nn.functional, name)(t, dim=dim),
                        lambda: getattr(tkern.nn.functional, name)(k, dim=dim))
    with pytest.raises(type(error)) as expected:
        getattr(torch.nn.functional, name)(t, dim=dim)
    assert str(error) == str(expected.value)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8"])
@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((0,), 0), ((3, 0), 1), ((3, 0), 0)])
def test_softmax_of_an_empty_integer_tensor(name, dtype, shape, dim, device):
    """Issue 14 (long profile): torch's kernel is not reached for an empty input, so an empty integer
    tensor comes back empty in its dtype; a non-empty one is still refused."""
    for fn in (getattr(torch, name), getattr(TF, name)):
        kfn = getattr(tkern, name) if fn is getattr(torch, name) else getattr(KF, name)
        assert_same(fn(torch.zeros(shape, dtype=getattr(torch, dtype)), dim),
                    kfn(tkern.zeros(shape, dtype=getattr(tkern, dtype), device=device), dim))
    check_error(lambda: getattr(torch, name)(torch.ones(2, dtype=getattr(torch, dtype)), 0),
                lambda: getattr(tkern, name)(tkern.ones(2, dtype=getattr(tkern, dtype), device=device), 0))


ACTIVATIONS = [("silu", {}, "SiLU"), ("softplus", {"beta": 2.0, "threshold": 3.0}, "Softplus"),
               ("leaky_relu", {"negative_slope": 0.2}, "LeakyReLU"), ("elu", {"alpha": 0.7}, "ELU")]


@pytest.mark.parametrize("name,options,module", ACTIVATIONS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("dtype", [tkern.float32, tkern.float64], ids=lambda d: d.name)
def test_activations_match_torch(name, options, module, dtype, device):
    check_grad([(4, 5)], lambda x: getattr(_nn(x).functional, name)(x, **options), device=device, dtype=dtype,
               low=-25.0, high=25.0)
    check_grad([(3, 7)], lambda x: getattr(_nn(x), module)(**options)(x.t()), device=device, dtype=dtype)
    assert repr(getattr(tkern.nn, module)(**options)) == repr(getattr(torch.nn, module)(**options))


@pytest.mark.parametrize("name,options,module", [a for a in ACTIVATIONS if a[0] != "softplus"],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_activations_in_place(name, options, module, device):
    def run(lib, x):
        y = x * 1
        out = getattr(lib.nn.functional, name)(y, inplace=True, **options)
        assert out is y
        return y
    check_grad([(3, 4)], lambda x: run(_nn_lib(x), x), device=device)
    plain_t, plain_k = make_pair(random_array((5,), seed=3), device)
    getattr(torch.nn, module)(inplace=True, **options)(plain_t)
    getattr(tkern.nn, module)(inplace=True, **options)(plain_k)
    assert_same(plain_t, plain_k)
    assert repr(getattr(tkern.nn, module)(inplace=True, **options)) == repr(getattr(torch.nn, module)(inplace=True, **options))


def _nn(x):
    return torch.nn if isinstance(x, torch.Tensor) else tkern.nn


def _nn_lib(x):
    return torch if isinstance(x, torch.Tensor) else tkern


@pytest.mark.parametrize("values,classes", [([0, 2, 1], -1), ([[1], [0]], 4), ([], 3), ([5], 6)], ids=str)
def test_one_hot(values, classes, device):
    t = torch.tensor(values, dtype=torch.long)
    k = tkern.tensor(values, dtype=tkern.long, device=device)
    assert_same(torch.nn.functional.one_hot(t, classes), tkern.nn.functional.one_hot(k, classes))


def test_one_hot_refusals(device):
    for values, classes, dtype in (([0, 3], 2, "long"), ([-1], -1, "long"), ([1.0], -1, "float32"), ([], -1, "long"),
                                   ([1, 2], -1, "int32")):
        t = torch.tensor(values, dtype=getattr(torch, dtype))
        k = tkern.tensor(values, dtype=getattr(tkern, dtype), device=device)
        check_error(lambda: torch.nn.functional.one_hot(t, classes), lambda: tkern.nn.functional.one_hot(k, classes))


@pytest.mark.parametrize("norm_type", [2.0, 1, "inf", 3.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm, device):
    torch_model, tkern_model = torch.nn.Linear(4, 3), tkern.nn.Linear(4, 3).to(device)
    for i, (tp, kp) in enumerate(zip(torch_model.parameters(), tkern_model.parameters())):
        values = random_array(tuple(tp.shape), seed=60 + i)
        tp.grad, kp.grad = torch.tensor(values), tkern.tensor(values, device=device)
    expected = torch.nn.utils.clip_grad_norm_(torch_model.parameters(), max_norm, norm_type)
    actual = tkern.nn.utils.clip_grad_norm_(tkern_model.parameters(), max_norm, norm_type)
    assert_same(expected, actual)
    for tp, kp in zip(torch_model.parameters(), tkern_model.parameters()):
        assert_same(tp.grad, kp.grad)
    assert tkern.nn.utils.clip_grad_value_(tkern_model.parameters(), 0.05) is None
    torch.nn.utils.clip_grad_value_(torch_model.parameters(), 0.05)
    for tp, kp in zip(torch_model.parameters(), tkern_model.parameters()):
        assert_same(tp.grad, kp.grad)


def test_clip_grad_norm_edges(device):
    assert_same(torch.nn.utils.clip_grad_norm_([], 1.0), tkern.nn.utils.clip_grad_norm_([], 1.0))
    t, k = torch.tensor([float("inf"), 1.0]), tkern.tensor([float("inf"), 1.0], device=device)
    tp, kp = torch.zeros(2, requires_grad=True), tkern.zeros(2, device=device, requires_grad=True)
    tp.grad, kp.grad = t, k
    check_error(lambda: torch.nn.utils.clip_grad_norm_(tp, 1.0, error_if_nonfinite=True),
                lambda: tkern.nn.utils.clip_grad_norm_(kp, 1.0, error_if_nonfinite=True))
    assert_same(torch.nn.utils.clip_grad_norm_(tp, 1.0), tkern.nn.utils.clip_grad_norm_(kp, 1.0))
    assert_same(tp.grad, kp.grad)
