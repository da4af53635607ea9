"""tkern.backends: torch's float32 matmul precision switches (``tkern.backends.cuda.matmul.allow_tf32``).

One setting backs both spellings, as in torch: 'highest' (the default) computes float32 matmuls in
IEEE float32; 'high' and 'medium' let device 'cuda' use TF32 tensor cores. ``allow_tf32 = True``
means 'high' and ``allow_tf32 = False`` means 'highest'. The 'cpu' backend always computes in
float32, like torch's CPU. Importing this package imports neither torch nor triton.
"""
from __future__ import annotations

import warnings

_PRECISIONS = ("highest", "high", "medium")
_float32_matmul_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """torch.set_float32_matmul_precision: 'highest', 'high' or 'medium'."""
    global _float32_matmul_precision
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        # torch warns and keeps the current setting
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _float32_matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """torch.get_float32_matmul_precision: the current setting."""
    return _float32_matmul_precision


from . import cuda  # noqa: E402  (cuda reads the setting above)

__all__ = ["cuda", "get_float32_matmul_precision", "set_float32_matmul_precision"]
