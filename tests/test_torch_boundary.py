"""torch is tkern's allocator and reference, never its calculator: prove it for every device."""
import ast
import pathlib

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import tkern

ROOT = pathlib.Path(__file__).resolve().parent.parent

# what the allocator (and, under TRITON_INTERPRET=1, Triton's interpreter moving arguments to and
# from host memory) may ask of torch: allocate, copy bytes, and view or re-type memory
ALLOWED = {
    "aten.empty.memory_format", "aten.empty_strided.default", "aten.new_empty.default", "aten.view.dtype",
    "aten.slice.Tensor", "aten.copy_.default", "aten.set_.source_Storage_storage_offset",
    "aten.set_.source_Storage", "aten.lift_fresh.default", "aten.detach.default",
}


def _is_byte_run(t) -> bool:
    return t.dtype == torch.uint8 and t.dim() == 1 and t.stride() == (1,)


class _Recorder(TorchDispatchMode):
    """Records every torch operator; a copy_ must move plain bytes (a cast or a strided copy by torch
    would be torch computing a tkern result)."""

    def __init__(self):
        super().__init__()
        self.called = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        if name == "aten.copy_.default" and not (
                _is_byte_run(args[0]) and _is_byte_run(args[1]) and args[0].numel() == args[1].numel()):
            name += f" of {args[1].dtype} {tuple(args[1].stride())} into {args[0].dtype} {tuple(args[0].stride())}"
        self.called.append(name)
        return func(*args, **(kwargs or {}))


def _workload(device):
    """A bit of everything: creation, views, casts, elementwise, reductions, matmul, indexing, random."""
    tkern.manual_seed(0)
    x = tkern.randn(5, 7, device=device)
    y = tkern.arange(35, device=device, dtype=tkern.float32).reshape(7, 5).t()
    z = (x * y + 1.5).relu().sum(1) - x.mean()
    w = x @ y.t()[:7, :5].contiguous()
    m = x[x > 0]
    x[1:3, ::2] = 4.0
    x[tkern.tensor([0, 4], device=device)] += 1
    x[:, 1] = tkern.arange(5, device=device)  # int64 values cast into a float32 column
    x.index_put_((tkern.tensor([1, 1], device=device),), tkern.ones(7, device=device), accumulate=True)
    parts = tkern.cat([z, w.flatten(), m]).clamp(-2, 2)
    half = x.t().to(tkern.float16)
    ints = tkern.randint(-3, 9, (4, 6), device=device)
    values = (parts.max(), x.argmax(1), x.std(), x.t().var(0), tkern.where(x > 1, x, y), half.float(),
              half @ half.t(), x.to(tkern.bfloat16).t() @ y.to(tkern.bfloat16), x.double().t().prod(1),
              (x > 0).all(1), (x > 3).any(), ints ** 2, ints.t().contiguous(), (ints > 0).nonzero(),
              tkern.stack([ints, ints]).max(0).values, tkern.rand_like(x).sum())
    return [v.cpu().tolist() for v in values] + [parts.cpu().tolist()]


def test_no_torch_operator_computes_a_tkern_result(device):
    recorder = _Recorder()
    with recorder:
        _workload(device)
    computed = sorted(set(recorder.called) - ALLOWED)
    assert not computed, f"torch computed for tkern on {device}: {computed}"
    if device == "cpu":
        assert not recorder.called, "the numpy backend should not touch torch at all"
    else:
        assert "aten.empty.memory_format" in recorder.called


def test_only_the_allocator_imports_torch():
    importers = []
    for path in sorted((ROOT / "tkern").rglob("*.py")) + sorted((ROOT / "ops").rglob("*.py")) + \
            sorted((ROOT / "autograd").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "torch" or n.startswith("torch.") for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["ops/cuda_memory.py"]
