"""tkern.nn.init's orthogonal_, trunc_normal_, eye_, dirac_, sparse_ and the deprecated names against torch:
on 'cpu', whose random streams are torch's, the same seed gives torch's values; on every device the
distributions have their properties."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tkern
from helpers import assert_same, check_error, to_numpy

nn = tkern.nn


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 2, 2), (1, 7)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal_is_orthogonal(shape, gain, device):
    tensor = tkern.empty(shape, device=device)
    assert nn.init.orthogonal_(tensor, gain) is tensor
    flat = to_numpy(tensor).reshape(shape[0], -1).astype(np.float64) / gain
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal_matches_torch_from_the_same_seed(shape):
    torch.manual_seed(3)
    tkern.manual_seed(3)
    assert_same(torch.nn.init.orthogonal_(torch.empty(shape), 2.0), nn.init.orthogonal_(tkern.empty(shape), 2.0),
                atol=1e-5)
    expected = torch.nn.init.orthogonal_(torch.empty(shape), generator=torch.Generator().manual_seed(8))
    assert_same(expected, nn.init.orthogonal_(tkern.empty(shape), generator=tkern.Generator().manual_seed(8)),
                atol=1e-5)


@pytest.mark.parametrize("options", [{}, {"mean": 0.5, "std": 0.2, "a": 0.0, "b": 1.0},
                                     {"a": 1.5, "b": 3.0}, {"mean": -1.0, "std": 3.0, "a": -0.5, "b": 0.25}])
def test_trunc_normal_matches_torch_from_the_same_seed(options):
    torch.manual_seed(5)
    tkern.manual_seed(5)
    expected = torch.nn.init.trunc_normal_(torch.empty(7, 9), **options)
    actual = nn.init.trunc_normal_(tkern.empty(7, 9), **options)
    assert_same(expected, actual, atol=0, rtol=0)
    expected = torch.nn.init.trunc_normal_(torch.empty(40), generator=torch.Generator().manual_seed(2), **options)
    actual = nn.init.trunc_normal_(tkern.empty(40), generator=tkern.Generator().manual_seed(2), **options)
    assert_same(expected, actual, atol=0, rtol=0)


@pytest.mark.parametrize("options", [{}, {"mean": 0.5, "std": 0.2, "a": 0.0, "b": 1.0}, {"a": 1.5, "b": 3.0}])
def test_trunc_normal_has_the_truncated_distribution(options, device):
    n = 3000 if device == "cuda" else 20000
    values = to_numpy(nn.init.trunc_normal_(tkern.empty(n, device=device), **options)).astype(np.float64)
    mean, std, a, b = (options.get(k, d) for k, d in (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)))
    assert values.min() >= a and values.max() <= b
    # the truncated normal's mean: mu + sigma * (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha))
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2
    expected_mean = mean + std * (phi(alpha) - phi(beta)) / (cdf(beta) - cdf(alpha))
    assert abs(values.mean() - expected_mean) < 5 * values.std() / math.sqrt(n)


def test_trunc_normal_warns_of_a_mean_far_from_the_interval():
    for lib in (torch, tkern):
        with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\] in nn.init.trunc_normal_"):
            lib.nn.init.trunc_normal_(lib.empty(5), mean=5.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (6, 2)])
def test_eye(shape, device):
    tensor = tkern.empty(shape, device=device, requires_grad=True)
    result = nn.init.eye_(tensor)
    assert result is tensor and tensor.requires_grad
    assert_same(torch.nn.init.eye_(torch.empty(shape)), tensor.detach())


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((4, 2, 3), 2), ((6, 3, 3, 4), 3), ((2, 4, 3, 3, 2), 1),
                                           ((3, 1, 5), 3)])
def test_dirac(shape, groups, device):
    tensor = tkern.full(shape, 7.0, device=device)
    assert nn.init.dirac_(tensor, groups) is tensor
    assert_same(torch.nn.init.dirac_(torch.empty(shape), groups), tensor)


@pytest.mark.parametrize("shape, sparsity", [((10, 4), 0.3), ((5, 3), 0.9), ((6, 2), 0.0)])
def test_sparse_matches_torch_from_the_same_seed(shape, sparsity):
    torch.manual_seed(9)
    tkern.manual_seed(9)
    assert_same(torch.nn.init.sparse_(torch.empty(shape), sparsity, std=0.5),
                nn.init.sparse_(tkern.empty(shape), sparsity, std=0.5), atol=0, rtol=0)


def test_sparse_zeroes_a_fraction_of_each_column(device):
    values = to_numpy(nn.init.sparse_(tkern.empty(10, 3, device=device), 0.35, std=2.0))
    assert ((values == 0).sum(0) == math.ceil(0.35 * 10)).all()


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    lambda lib: lib.nn.init.eye_(lib.empty(2, 3, 4)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 3)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 3, 3), 2),
    lambda lib: lib.nn.init.sparse_(lib.empty(3), 0.1),
])
def test_errors_like_torch(call):
    error = check_error(lambda: call(torch), lambda: call(tkern))
    with pytest.raises(Exception) as caught:
        call(torch)
    assert str(error) == str(caught.value)


def test_zero_element_orthogonal_is_a_no_op():
    assert nn.init.orthogonal_(tkern.empty(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("old, arguments", [("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()),
                                            ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
                                            ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.5,))])
def test_deprecated_names_warn_and_fill(old, arguments):
    message = f"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`."
    with pytest.warns(FutureWarning, match=message.replace(".", "\\.").replace("`", "`")):
        getattr(torch.nn.init, old)(torch.empty(4, 3), *arguments)
    tensor = tkern.full((4, 3), math.nan)
    with pytest.warns(FutureWarning, match=message.replace(".", "\\.")):
        assert getattr(nn.init, old)(tensor, *arguments) is tensor
    assert not np.isnan(to_numpy(tensor)).any()
    with pytest.warns(FutureWarning, match="`nn.init.dirac` is now deprecated"):
        nn.init.dirac(tkern.empty(2, 2, 3))
