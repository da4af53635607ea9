"""tkern.save / tkern.load against torch: safetensors files both ways, torch.save's zip checkpoints read by
tkern, state dicts of modules and optimizers, map_location, and damaged or hostile files refused."""
from __future__ import annotations

import io
import math
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from collections import OrderedDict

import pytest
import safetensors.torch
import torch

import tkern
from helpers import TORCH_DTYPES, assert_same, check_error, random_array

ALL_DTYPES = list(TORCH_DTYPES)

# (name, layout): each applied alike to a torch tensor and a tkern tensor of a (4, 6) base
LAYOUTS = [
    ("contiguous", lambda x: x),
    ("transposed", lambda x: x.t()),
    ("stepped", lambda x: x[::2, 1::3]),
    ("offset", lambda x: x[1:, 2:]),
    ("row", lambda x: x[2]),
    ("zero-d", lambda x: x[1, 3]),
    ("one element", lambda x: x[1:2, 4:5]),
    ("empty", lambda x: x[:0]),
    ("empty column", lambda x: x[:, 6:]),
]


def _pair(shape, dtype, device, seed):
    """The same seeded values as a torch CPU tensor and a tkern tensor on ``device``, both rounded to
    ``dtype`` on the host (the interpreter truncates float32 to bfloat16 instead of rounding)."""
    values = random_array(shape, dtype, seed)
    return torch.from_numpy(values).to(TORCH_DTYPES[dtype]), tkern.tensor(values.astype(dtype.numpy), device=device)


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    tkern.save(obj, buffer)
    return buffer.getvalue()


def _torch_saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _load(data: bytes, **kwargs):
    return tkern.load(io.BytesIO(data), **kwargs)


def _assert_same_object(expected, actual) -> None:
    """torch's object (from torch.load) and tkern's: same containers, types, order and values."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, tkern.Tensor)
        assert isinstance(actual, tkern.nn.Parameter) == isinstance(expected, torch.nn.Parameter)
        assert actual.requires_grad == expected.requires_grad
        assert_same(expected, actual, atol=0, rtol=0)
        return
    if isinstance(expected, torch.Size):
        assert isinstance(actual, tkern.Size) and tuple(actual) == tuple(expected)
        return
    if isinstance(expected, torch.dtype):
        assert TORCH_DTYPES[actual] is expected
        return
    assert type(actual) is type(expected), f"{type(actual)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            _assert_same_object(expected[key], actual[key])
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for e, a in zip(expected, actual):
            _assert_same_object(e, a)
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual)
    else:
        assert actual == expected


# ----- tkern -> tkern, tkern -> torch (safetensors) -----

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name, layout", LAYOUTS, ids=[name for name, _ in LAYOUTS])
def test_round_trip_dtypes_and_layouts(device, dtype, name, layout):
    t, k = _pair((4, 6), dtype, device, 3)
    expected, view = layout(t), layout(k)
    data = _saved({"x": view})
    loaded = _load(data)["x"]
    assert_same(expected, loaded, atol=0, rtol=0)
    assert loaded.device == view.device and loaded.is_contiguous()
    # a view stores its own values, which torch's safetensors reader sees as a tensor of the view's shape
    read = safetensors.torch.load(data)["x"]
    assert read.dtype is expected.dtype and read.shape == expected.shape and torch.equal(read, expected)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_torch_reads_tkern_safetensors(device, dtype):
    t, k = _pair((3, 5), dtype, device, 4)
    read = safetensors.torch.load(_saved({"w": k.t(), "b": k[1]}))
    assert set(read) == {"w", "b"}
    for key, expected in (("w", t.t()), ("b", t[1])):
        assert read[key].dtype is expected.dtype and read[key].shape == expected.shape
        assert torch.equal(read[key], expected)


def _nested(lib, device):
    """The same nested object in torch or tkern: containers, key order, number and string leaves."""
    t = lib.from_numpy(random_array((2, 3), tkern.float32, seed=5))
    i = lib.from_numpy(random_array((4,), tkern.int64, seed=6))
    if lib is tkern:
        t, i = t.to(device), i.to(device)
    return OrderedDict([
        ("zeta", t.t()), ("alpha", {3: i, 1: [t[0], 2.5, -7, True, None, "text"], (1, "k"): (i[1:], 0.1)}),
        ("numbers", [math.inf, -math.inf, math.nan, 1e300, -0.0, 10**30, complex(1.5, -2)]),
        ("meta", {"size": lib.Size([2, 3]), "dtype": lib.bfloat16, "empty": {}, "nothing": [], "unit": ()}),
        ("param", lib.nn.Parameter(t[1].clone())), ("grad", (t * 1.0).requires_grad_()),
    ])


def test_nested_round_trip_matches_torch(device):
    expected = torch.load(io.BytesIO(_torch_saved(_nested(torch, device))))
    actual = _load(_saved(_nested(tkern, device)))
    _assert_same_object(expected, actual)
    assert all(t.device.type == device for t in (actual["zeta"], actual["param"], actual["alpha"][3]))


def test_save_to_path_and_file(device, tmp_path):
    t, k = _pair((3, 2), tkern.float32, device, 7)
    path = tmp_path / "state.safetensors"
    tkern.save({"k": k}, path)
    tkern.save({"k": k}, str(tmp_path / "by_name"))
    with open(tmp_path / "by_file", "wb") as file:
        tkern.save({"k": k}, file)
    with open(tmp_path / "by_file", "rb") as file:
        from_file = tkern.load(file)
    for loaded in (tkern.load(path), tkern.load(str(tmp_path / "by_name")), from_file):
        assert_same(t, loaded["k"], atol=0, rtol=0)
    assert torch.equal(safetensors.torch.load_file(path)["k"], t)


def test_views_are_saved_as_copies(device):
    # unlike torch.save, which keeps views of one storage sharing it (safetensors cannot express that)
    t, k = _pair((4, 3), tkern.float32, device, 8)
    loaded = _load(_saved({"whole": k, "row": k[1], "same": k}))
    loaded["whole"].add_(1.0)
    assert_same(t[1], loaded["row"], atol=0, rtol=0)
    assert_same(t, loaded["same"], atol=0, rtol=0)


def test_save_refuses_unsupported_objects_before_writing(tmp_path):
    path = tmp_path / "refused"
    with pytest.raises(TypeError, match="cannot store an object of type builtins.function"):
        tkern.save({"w": tkern.ones(2), "f": lambda: 0}, path)
    with pytest.raises(TypeError, match="cannot store an object of type builtins.object"):
        tkern.save([tkern.ones(1), object()], path)
    assert not path.exists()


# ----- torch -> tkern -----

def _seed_model(lib):
    """The seeds' SimpleNN (tutorial 001), with a BatchNorm1d for buffers and an int64 count."""

    class SimpleNN(lib.nn.Module):
        def __init__(self):
            super(SimpleNN, self).__init__()
            self.fc1 = lib.nn.Linear(2, 2)
            self.fc2 = lib.nn.Linear(2, 1)
            self.norm = lib.nn.BatchNorm1d(2)

        def forward(self, x):
            x = lib.relu(self.norm(self.fc1(x)))
            return self.fc2(x)

    return SimpleNN()


def _trained_torch_model():
    torch.manual_seed(0)
    model = _seed_model(torch)
    model(torch.from_numpy(random_array((8, 2), tkern.float32, seed=9)))  # moves the running statistics
    return model.eval()


def _outputs_agree(torch_model, tkern_model, device):
    t, k = _pair((5, 2), tkern.float32, device, 10)
    with torch.no_grad():
        expected = torch_model.eval()(t)
    with tkern.no_grad():
        assert_same(expected, tkern_model.eval()(k), atol=1e-6, rtol=1e-6)


def test_torch_save_state_dict_into_tkern_module(device):
    torch_model = _trained_torch_model()
    state = tkern.load(io.BytesIO(_torch_saved(torch_model.state_dict())), map_location=device)
    _assert_same_object(torch.load(io.BytesIO(_torch_saved(torch_model.state_dict()))), state)
    model = _seed_model(tkern).to(device)
    assert str(model.load_state_dict(state, strict=True)) == "<All keys matched successfully>"
    _outputs_agree(torch_model, model, device)
    # a partial checkpoint with a stray key: strict=False reports the same keys as torch
    partial = torch_model.state_dict()
    partial["extra"] = partial.pop("fc2.bias")
    expected = _seed_model(torch).load_state_dict(partial, strict=False)
    actual = model.load_state_dict(_load(_torch_saved(partial), map_location=device), strict=False)
    assert (actual.missing_keys, actual.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)
    check_error(lambda: _seed_model(torch).load_state_dict(partial),
                lambda: model.load_state_dict(_load(_torch_saved(partial))))


def test_tkern_state_dict_into_torch_through_safetensors(device, tmp_path):
    tkern.manual_seed(1)
    model = _seed_model(tkern).to(device)
    model(tkern.tensor(random_array((8, 2), tkern.float32, seed=11), device=device))
    path = tmp_path / "model.safetensors"
    tkern.save(model.state_dict(), path)
    torch_model = _seed_model(torch)
    read = safetensors.torch.load_file(path)
    assert sorted(read) == sorted(torch_model.state_dict())
    torch_model.load_state_dict(read, strict=True)
    _outputs_agree(torch_model, model, device)
    # and back into tkern: the same keys, in state_dict's order
    again = tkern.load(path)
    assert list(again) == list(model.state_dict())
    fresh = _seed_model(tkern).to(device)
    fresh.load_state_dict(again, strict=True)
    _outputs_agree(torch_model, fresh, device)


def test_torch_safetensors_file_into_tkern(device, tmp_path):
    torch_model = _trained_torch_model()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(torch_model.state_dict(), path)
    state = tkern.load(path, map_location=device)
    assert sorted(state) == sorted(torch_model.state_dict())
    model = _seed_model(tkern).to(device)
    model.load_state_dict(state, strict=True)
    _outputs_agree(torch_model, model, device)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_torch_checkpoint_dtypes_and_views(device, dtype):
    t = torch.from_numpy(random_array((4, 6), dtype, seed=12)).to(TORCH_DTYPES[dtype])
    saved = {name: layout(t) for name, layout in LAYOUTS}
    data = _torch_saved(saved)
    expected, actual = torch.load(io.BytesIO(data)), _load(data, map_location=device)
    _assert_same_object(expected, actual)
    assert all(v.device.type == device for v in actual.values())
    # views of one storage load as views of one storage, as with torch.load
    expected["contiguous"].fill_(1)
    actual["contiguous"].fill_(1)
    _assert_same_object(expected, actual)


def test_torch_checkpoint_safetensors_file_dtypes(device):
    tensors = {str(d): torch.from_numpy(random_array((2, 3), d, seed=13)).to(TORCH_DTYPES[d]) for d in ALL_DTYPES}
    loaded = _load(safetensors.torch.save(tensors), map_location=device)
    assert sorted(loaded) == sorted(tensors)  # (the file's order: safetensors sorts tensors by alignment)
    _assert_same_object({key: tensors[key] for key in loaded}, loaded)


def test_torch_parameters_and_requires_grad():
    torch.manual_seed(2)
    saved = [torch.nn.Parameter(torch.randn(2, 2)), torch.nn.Parameter(torch.randn(3), requires_grad=False),
             torch.randn(2).requires_grad_(), torch.Size([1, 2]), torch.float16, {"lr": 0.1, "ids": {1, 2}}]
    data = _torch_saved(saved)
    expected, actual = torch.load(io.BytesIO(data)), _load(data)
    _assert_same_object(expected[:5], actual[:5])
    assert actual[5] == expected[5]


def test_adam_state_dict_tkern_to_tkern(device):
    def trained(steps):
        tkern.manual_seed(3)
        model = _seed_model(tkern).to(device)
        opt = tkern.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9), amsgrad=True)
        x = tkern.tensor(random_array((6, 2), tkern.float32, seed=14), device=device)
        for _ in range(steps):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
        return model, opt, x

    model, opt, x = trained(3)
    loaded = _load(_saved(opt.state_dict()))
    _, reference, _ = trained(3)
    _compare_optimizer_states(reference.state_dict(), loaded)
    fresh = tkern.optim.Adam(model.parameters(), lr=0.5)
    fresh.load_state_dict(loaded)
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9) and fresh.param_groups[0]["lr"] == 0.01
    model_b, _, _ = trained(4)
    fresh.zero_grad()
    model(x).square().mean().backward()
    fresh.step()
    for p, q in zip(model.parameters(), model_b.parameters()):
        assert_same(torch.from_numpy(q.detach().cpu().numpy()), p, atol=0, rtol=0)


def _compare_optimizer_states(expected: dict, actual: dict) -> None:
    assert list(actual) == ["state", "param_groups"] == list(expected)
    assert list(actual["state"]) == list(expected["state"])
    for key, state in expected["state"].items():
        assert list(actual["state"][key]) == list(state)
        for name, value in state.items():
            e = torch.from_numpy(value.detach().cpu().numpy()) if isinstance(value, tkern.Tensor) else value
            assert_same(e, actual["state"][key][name], atol=0, rtol=0)
    assert actual["param_groups"] == expected["param_groups"]


def test_torch_adam_checkpoint_into_tkern_adam(device):
    torch_model = _trained_torch_model().train()
    torch_opt = torch.optim.Adam(torch_model.parameters(), lr=0.02, weight_decay=0.1)
    x = torch.from_numpy(random_array((6, 2), tkern.float32, seed=15))
    for _ in range(3):
        torch_opt.zero_grad()
        torch_model(x).square().mean().backward()
        torch_opt.step()
    model = _seed_model(tkern).to(device)
    model.load_state_dict(tkern.load(io.BytesIO(_torch_saved(torch_model.state_dict()))))
    opt = tkern.optim.Adam(model.parameters())
    state = _load(_torch_saved(torch_opt.state_dict()), map_location=device)
    # torch's layout is tkern's: the same group options and the same per-parameter entries
    ours = _trained_tkern_adam_state(device)
    assert sorted(state["param_groups"][0]) == sorted(ours["param_groups"][0])
    assert list(state["state"][0]) == list(ours["state"][0])
    assert state["state"][0]["step"].dtype is ours["state"][0]["step"].dtype
    opt.load_state_dict(state)
    torch_opt.zero_grad()
    torch_model(x).square().mean().backward()
    torch_opt.step()
    opt.zero_grad()
    model.train()(tkern.tensor(x.numpy(), device=device)).square().mean().backward()
    opt.step()
    for expected, actual in zip(torch_model.parameters(), model.parameters()):
        assert_same(expected, actual, atol=1e-6, rtol=1e-5)


def _trained_tkern_adam_state(device) -> dict:
    w = tkern.tensor(random_array((2,), tkern.float32, seed=16), device=device, requires_grad=True)
    opt = tkern.optim.Adam([w])
    w.square().sum().backward()
    opt.step()
    return opt.state_dict()


# ----- map_location -----

@pytest.mark.parametrize("fmt", ["tkern", "torch"])
def test_map_location_forms(device, fmt):
    t, k = _pair((3, 4), tkern.float32, device, 17)
    data = _saved({"w": k, "v": k[1]}) if fmt == "tkern" else _torch_saved({"w": t, "v": t[1]})
    saved_at = device if fmt == "tkern" else "cpu"
    location = str(k.device) if fmt == "tkern" else "cpu"
    seen = []

    def keep(storage, where):
        seen.append(where)
        return storage

    forms = {None: saved_at, "cpu": "cpu", tkern.device(device): device, device: device,
             "{}": saved_at, "map": device, "keep": "cpu", "none": saved_at,
             "moving": device}
    for form, target in forms.items():
        map_location = {"{}": {}, "map": {location: device}, "keep": keep, "none": lambda s, where: None,
                        "moving": lambda s, where: s.to(device)}.get(form, form)
        loaded = _load(data, map_location=map_location)
        assert all(v.device.type == tkern.device(target).type for v in loaded.values()), form
        assert_same(t, loaded["w"], atol=0, rtol=0)
        assert_same(t[1], loaded["v"], atol=0, rtol=0)
    assert seen and set(seen) == {location}


def test_map_location_to_a_missing_device(device):
    data = _torch_saved({"w": torch.ones(2)})
    check_error(lambda: torch.load(io.BytesIO(data), map_location="cuda:7"),
                lambda: _load(data, map_location="cuda:7"))
    with pytest.raises(RuntimeError, match="device_count|is_available"):
        _load(_saved({"w": tkern.ones(2, device=device)}), map_location="cuda:7")
    with pytest.raises(TypeError, match="map_location"):
        _load(data, map_location=3.5)


# ----- damaged and hostile files -----

class _Payload:
    """Pickles as a call of ``function(argument)``, which would create the marker file."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


def _zip_checkpoint(payload: bytes, protocol_records=True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        if protocol_records:
            archive.writestr("archive/byteorder", "little")
            archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _hostile_checkpoint(name: str, marker, protocol: int) -> bytes:
    """A zip checkpoint whose pickle would create ``marker`` when loaded by an unrestricted unpickler."""
    command = f"touch {marker}"
    if name == "os.system in a state dict":
        buffer = io.BytesIO()
        torch.save(OrderedDict(w=torch.ones(2), hook=_Payload(os.system, command)), buffer, pickle_protocol=protocol)
        return buffer.getvalue()
    payload = {
        "os.system": _Payload(os.system, command),
        "subprocess.call": _Payload(subprocess.call, ["touch", str(marker)]),
        "builtins.exec": _Payload(exec, f"open({str(marker)!r}, 'w').close()"),
        "builtins.eval": _Payload(eval, f"open({str(marker)!r}, 'w')"),
    }[name]
    return _zip_checkpoint(pickle.dumps(payload, protocol=protocol))


@pytest.mark.parametrize("name", ["os.system", "subprocess.call", "builtins.exec", "builtins.eval",
                                  "os.system in a state dict"])
@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.filterwarnings("ignore:Detected pickle protocol 4:UserWarning")
def test_malicious_checkpoint_refused(tmp_path, name, protocol):
    marker = tmp_path / "marker"
    data = _hostile_checkpoint(name, marker, protocol)
    error = check_error(lambda: torch.load(io.BytesIO(data)), lambda: _load(data))
    function = name.split(" ")[0].split(".")[-1]
    assert "Unsupported global" in str(error) and f".{function} " in str(error)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        _load(data, weights_only=False)  # tkern's loader is restricted whatever this says
    assert not marker.exists()


class _PersistentIds(pickle.Pickler):
    """Pickles each _Pid as the persistent id it carries (as torch.save pickles its storages)."""

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Pid) else None


class _Pid:
    def __init__(self, pid):
        self.pid = pid


def test_hostile_persistent_ids_and_calls_refused():
    # a storage record that is missing
    renamed = _torch_saved({"w": torch.ones(3)}).replace(b"archive/data/0", b"archive/data/9")
    with pytest.raises(RuntimeError, match="missing"):
        _load(renamed)
    # persistent ids that are not storages torch would write
    for pid in (("storage", "torch.FloatStorage", "0", "cpu", 3), ("module", "os"), "storage", ("storage",) * 5):
        buffer = io.BytesIO()
        _PersistentIds(buffer, protocol=2).dump([_Pid(pid)])
        with pytest.raises(pickle.UnpicklingError, match="persistent id"):
            _load(_zip_checkpoint(buffer.getvalue()))
    # allowed names that are not functions, called
    for source in ("torch\nTensor", "torch\nfloat32", "torch\nFloatStorage", "torch.nn.parameter\nParameter"):
        payload = b"\x80\x02c" + source.encode() + b"\n)R."
        with pytest.raises(pickle.UnpicklingError):
            _load(_zip_checkpoint(payload))


def _relocated(data: bytes, location: str) -> bytes:
    """A torch.save checkpoint of 'cpu' storages rewritten as saved on ``location``."""
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            record = source.read(name)
            if name.endswith("data.pkl"):
                record = record.replace(b"X\x03\x00\x00\x00cpu", b"X" + struct.pack("<I", len(location))
                                        + location.encode())
            target.writestr(name, record)
    return buffer.getvalue()


def test_torch_checkpoint_restored_where_it_was_saved():
    t = torch.from_numpy(random_array((2, 3), tkern.float32, seed=21))
    data = _relocated(_torch_saved({"w": t, "v": t[1]}), "cuda:0")
    assert_same(t, _load(data, map_location="cpu")["w"], atol=0, rtol=0)
    if tkern.cuda.is_available():
        loaded = _load(data)
        assert loaded["w"].device == tkern.device("cuda", 0) and loaded["v"].device == tkern.device("cuda", 0)
        assert_same(t[1], loaded["v"], atol=0, rtol=0)
    else:
        check_error(lambda: torch.load(io.BytesIO(data)), lambda: _load(data))


def test_load_does_not_import_torch(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    safetensors.torch.save_file({"w": torch.ones(2)}, tmp_path / "torch.safetensors")
    script = ("import sys, tkern; tkern.load(sys.argv[1]); tkern.load(sys.argv[2]); "
              "assert 'torch' not in sys.modules, 'torch imported'")
    environment = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "torch.pt"), str(tmp_path / "torch.safetensors")],
                   check=True, env=environment)


def test_unrecognised_legacy_and_empty_files():
    legacy = io.BytesIO()
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="legacy"):
        _load(legacy.getvalue())
    for data in (b"", b"not a checkpoint at all"):
        check_error(lambda: torch.load(io.BytesIO(data)), lambda: _load(data))


def test_truncated_torch_checkpoints_refused_as_torch_refuses():
    data = _torch_saved(OrderedDict(w=torch.arange(12.0).reshape(3, 4), b=torch.ones(2, dtype=torch.int64)))
    for cut in sorted({*range(0, 12), *range(12, len(data), 37), len(data) - 1}):
        part = data[:cut]
        check_error(lambda: torch.load(io.BytesIO(part)), lambda: _load(part))


@pytest.mark.parametrize("writer", ["tkern", "safetensors.torch"])
def test_truncated_safetensors_refused(writer):
    state = {"w": torch.from_numpy(random_array((2, 3), tkern.float32, seed=18)), "n": torch.tensor(7)}
    if writer == "tkern":
        data = _saved({key: tkern.from_numpy(value.numpy()) for key, value in state.items()})
    else:
        data = safetensors.torch.save(state)
    for cut in range(len(data)):
        with pytest.raises((RuntimeError, pickle.UnpicklingError, EOFError)) as caught:
            _load(data[:cut])
        assert cut < 9 or caught.type is RuntimeError
        with pytest.raises(Exception):
            safetensors.torch.load(data[:cut])


def test_every_bit_flip_of_a_tkern_file_refused():
    state = {"w": tkern.from_numpy(random_array((2, 3), tkern.float32, seed=19)), "step": tkern.tensor(3.0),
             "lr": 0.1, "betas": (0.9, 0.99)}
    data = bytearray(_saved(state))
    for byte in range(len(data)):
        for bit in range(8):
            data[byte] ^= 1 << bit
            with pytest.raises((RuntimeError, pickle.UnpicklingError)):
                _load(bytes(data))
            data[byte] ^= 1 << bit
    _assert_same_object({"w": torch.from_numpy(state["w"].numpy()), "step": torch.tensor(3.0), "lr": 0.1,
                         "betas": (0.9, 0.99)}, _load(bytes(data)))


def test_bit_flips_in_torch_checkpoint_records_refused():
    # torch itself does not check its records' CRC-32, and loads a flipped storage byte as a wrong value
    data = _torch_saved(OrderedDict(w=torch.from_numpy(random_array((2, 2), tkern.float32, seed=20)),
                                    n=torch.tensor([5, 6])))
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in archive.infolist():
        if not (info.filename.endswith("data.pkl") or "/data/" in info.filename):
            continue
        name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
        start = info.header_offset + 30 + name_length + extra_length
        for byte in range(start, start + info.compress_size):
            flipped = bytearray(data)
            flipped[byte] ^= 1 << (byte % 8)
            with pytest.raises(RuntimeError, match="CRC|corrupted"):
                _load(bytes(flipped))
