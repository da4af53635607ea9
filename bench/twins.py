"""The same numbers in torch and in tkern, and the check that two results agree.

tkern's inputs are copied from torch's after torch has rounded them to the row's dtype, so both
libraries start from identical bits (bfloat16 crosses as float32, which holds it exactly and needs no
ml_dtypes on the host).
"""
from __future__ import annotations

import numpy as np
import torch

import tkern

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                "int64": torch.int64}


def twin(reference: torch.Tensor) -> tkern.Tensor:
    """A 'cuda' tkern tensor holding ``reference``'s values and dtype (contiguous)."""
    host = reference.detach().to("cpu")
    if host.dtype == torch.bfloat16:
        return tkern.tensor(host.float().numpy(), device="cuda").to(tkern.bfloat16)
    return tkern.tensor(host.contiguous().numpy(), device="cuda")


def random_pair(device: str, shape, dtype: str, seed: int) -> tuple[torch.Tensor, tkern.Tensor]:
    """Standard-normal values of ``dtype`` on torch's ``device`` and on tkern's 'cuda'."""
    generator = torch.Generator(device=device).manual_seed(seed)
    reference = torch.randn(shape, generator=generator, device=device, dtype=torch.float32).to(TORCH_DTYPES[dtype])
    return reference, twin(reference)


def to_numpy(value) -> np.ndarray:
    """A torch or tkern tensor's values on the host (16-bit floats widened exactly to float32)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dtype in (torch.bfloat16, torch.float16):
            value = value.float()
        return value.cpu().numpy()
    if value.dtype in (tkern.bfloat16, tkern.float16):
        value = value.float()
    return value.cpu().numpy()


def _dtype_name(value) -> str:
    return str(value.dtype).rsplit(".", 1)[-1]


def assert_agree(actual, expected, rtol: float, atol: float = 0.0, relative_atol: bool = False) -> None:
    """AssertionError unless tkern's ``actual`` has torch's ``expected`` shape, dtype and values within
    rtol/atol (``relative_atol``: atol is a fraction of the largest |expected|). Tuples compare item by item."""
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected), f"{len(actual)} results, torch gives {len(expected)}"
        for a, e in zip(actual, expected):
            assert_agree(a, e, rtol, atol, relative_atol)
        return
    assert tuple(actual.shape) == tuple(expected.shape), f"shape {tuple(actual.shape)}, torch {tuple(expected.shape)}"
    assert _dtype_name(actual) == _dtype_name(expected), f"dtype {actual.dtype}, torch {expected.dtype}"
    got, want = to_numpy(actual), to_numpy(expected)
    if relative_atol:
        atol *= float(np.abs(want).max()) if want.size else 0.0
    if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        difference = np.abs(got.astype(np.float64) - want.astype(np.float64))
        worst = np.unravel_index(np.argmax(difference), difference.shape)
        raise AssertionError(f"differs from torch by up to {difference.max():.3g} at {tuple(int(i) for i in worst)} "
                             f"(tkern {float(got[worst]):.7g}, torch {float(want[worst]):.7g}; rtol {rtol}, "
                             f"atol {atol:.3g})")
