"""F.embedding and nn.Embedding against torch: lookups of any index shape, gradients added up per row
(none for the padding row), max_norm's renormalisation in place, initialisation and from_pretrained."""
import pytest
import torch

import tkern
from helpers import assert_same, check_error, check_grad, make_pair, random_array


def _indices(values, device, dtype=tkern.int64):
    return torch.tensor(values).to(torch.int64 if dtype is tkern.int64 else torch.int32), \
        tkern.tensor(values, device=device).to(dtype)


INDEX_CASES = [[1, 4, 0], [[1, 2], [4, 4]], 3, [], [[0, 0, 0, 2]], [[[5], [1]], [[1], [5]]]]


@pytest.mark.parametrize("values", INDEX_CASES, ids=[str(v) for v in INDEX_CASES])
@pytest.mark.parametrize("padding_idx", [None, 1, -2])
@pytest.mark.parametrize("index_dtype", [tkern.int64, tkern.int32])
def test_embedding(values, padding_idx, index_dtype, device):
    t_index, k_index = _indices(values, device, index_dtype)

    def call(weight):
        index = t_index if isinstance(weight, torch.Tensor) else k_index
        lib = torch if isinstance(weight, torch.Tensor) else tkern
        return lib.nn.functional.embedding(index, weight, padding_idx)
    expected, actual = check_grad([(6, 3)], call, device=device)
    assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__ == "EmbeddingBackward0"


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_count(padding_idx, device):
    t_index, k_index = _indices([[0, 2, 2], [5, 2, 0]], device)

    def call(weight):
        index = t_index if isinstance(weight, torch.Tensor) else k_index
        lib = torch if isinstance(weight, torch.Tensor) else tkern
        return lib.nn.functional.embedding(index, weight, padding_idx, scale_grad_by_freq=True)
    check_grad([(6, 3)], call, device=device)


def test_sparse_gradients_are_refused(device):
    # (tkern has no sparse tensors)
    _, k_index = _indices([1], device)
    with pytest.raises(NotImplementedError):
        tkern.nn.functional.embedding(k_index, tkern.ones(3, 2, device=device), sparse=True)


@pytest.mark.parametrize("view", ["transposed", "stepped", "offset"])
def test_embedding_of_weight_views(view, device):
    make = {"transposed": lambda w: w.t(), "stepped": lambda w: w[::2, 1:], "offset": lambda w: w[2:]}[view]
    t_index, k_index = _indices([[0, 2], [1, 1]], device)

    def call(weight):
        index = t_index if isinstance(weight, torch.Tensor) else k_index
        lib = torch if isinstance(weight, torch.Tensor) else tkern
        return lib.nn.functional.embedding(index, make(weight), padding_idx=0)
    check_grad([(7, 4)], call, device=device)


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (0.5, 1.0), (100.0, 2.0)])
def test_max_norm_renormalises_the_looked_up_rows_in_place(max_norm, norm_type, device):
    tw, kw = make_pair(random_array((5, 3)), device)
    t_index, k_index = _indices([[1, 1], [3, 0]], device)
    expected = torch.nn.functional.embedding(t_index, tw, max_norm=max_norm, norm_type=norm_type)
    actual = tkern.nn.functional.embedding(k_index, kw, max_norm=max_norm, norm_type=norm_type)
    assert_same(expected, actual, atol=1e-6)
    assert_same(tw, kw, atol=1e-6)  # (rows 0, 1 and 3 shortened, the others as they were)


def test_max_norm_keeps_the_gradient_of_a_parameter(device):
    torch_module = torch.nn.Embedding(5, 3, max_norm=1.0)
    module = tkern.nn.Embedding(5, 3, max_norm=1.0, device=device)
    values = random_array((5, 3))
    with torch.no_grad(), tkern.no_grad():
        torch_module.weight.copy_(torch.from_numpy(values))
        module.weight.copy_(tkern.tensor(values, device=device))
    t_index, k_index = _indices([2, 4, 2], device)
    (torch_module(t_index) * 3).sum().backward()
    (module(k_index) * 3).sum().backward()
    assert_same(torch_module.weight, module.weight, atol=1e-6)
    assert_same(torch_module.weight.grad, module.weight.grad)


def test_embedding_errors(device):
    tw, kw = make_pair(random_array((5, 3)), device)
    for values, kwargs in (([1, 5], {}), ([1, -1], {}), ([1], {"padding_idx": 5}), ([1], {"padding_idx": -6})):
        t_index, k_index = _indices(values, device)

        def call(index, weight, _kwargs=kwargs):
            result = (torch if isinstance(index, torch.Tensor) else tkern).nn.functional.embedding(index, weight,
                                                                                               **_kwargs)
            if isinstance(result, tkern.Tensor):
                result.cpu()  # (an index out of range on a GPU surfaces at the next synchronisation)
            return result
        check_error(call, None, [t_index, tw], [k_index, kw])
    tf, kf = make_pair(random_array((2,)), device)
    check_error(torch.nn.functional.embedding, tkern.nn.functional.embedding, [tf, tw], [kf, kw])
    t_index, k_index = _indices([1], device)
    check_error(torch.nn.functional.embedding, tkern.nn.functional.embedding, [t_index, tw[0]], [k_index, kw[0]])


def test_module_initialisation_and_repr(device):
    module = tkern.nn.Embedding(400, 50, padding_idx=-1, device=device)
    weight = module.weight.detach().cpu().numpy()
    assert module.padding_idx == torch.nn.Embedding(400, 50, padding_idx=-1).padding_idx == 399
    assert not weight[399].any() and weight[:399].all()
    # N(0, 1): over 19950 draws the mean and std land within a few standard errors
    assert abs(weight[:399].mean()) < 0.05 and abs(weight[:399].std() - 1) < 0.05
    for args, kwargs in (((5, 3), {}), ((5, 3), {"padding_idx": 2, "max_norm": 1.0, "norm_type": 3.0,
                                                 "scale_grad_by_freq": True, "sparse": True})):
        assert repr(tkern.nn.Embedding(*args, **kwargs)) == repr(torch.nn.Embedding(*args, **kwargs))
    assert list(module.state_dict()) == ["weight"]


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained(freeze, device):
    values = random_array((4, 3))
    torch_module = torch.nn.Embedding.from_pretrained(torch.from_numpy(values), freeze=freeze, padding_idx=2)
    module = tkern.nn.Embedding.from_pretrained(tkern.tensor(values, device=device), freeze=freeze, padding_idx=2)
    assert repr(module) == repr(torch_module)
    assert module.weight.requires_grad is torch_module.weight.requires_grad is (not freeze)
    t_index, k_index = _indices([[2, 0], [3, 2]], device)
    assert_same(torch_module(t_index), module(k_index))
    if not freeze:
        torch_module(t_index).sum().backward()
        module(k_index).sum().backward()
        assert_same(torch_module.weight.grad, module.weight.grad)


def test_module_errors(device):
    for make in (lambda lib: lib.nn.Embedding(5, 3, padding_idx=5), lambda lib: lib.nn.Embedding(5, 3, padding_idx=-6),
                 lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(4)),
                 lambda lib: lib.nn.Embedding(5, 3, _weight=lib.ones(4, 3))):
        check_error(make, None, [torch], [tkern])
