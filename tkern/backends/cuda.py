"""tkern.backends.cuda: ``matmul.allow_tf32``, the bool spelling of the float32 matmul precision."""
from __future__ import annotations

import tkern.backends as _backends


class _MatmulSettings:
    """torch.backends.cuda.matmul: attributes only, an unknown one is an AttributeError."""

    __slots__ = ()

    def __getattr__(self, name: str):
        if name == "allow_tf32":
            return _backends.get_float32_matmul_precision() != "highest"
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name: str, value) -> None:
        if name == "allow_tf32":
            if not isinstance(value, bool):
                raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got {type(value).__name__}")
            _backends.set_float32_matmul_precision("high" if value else "highest")
            return
        raise AttributeError("Unknown attribute " + name)

    def __repr__(self) -> str:
        return f"tkern.backends.cuda.matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulSettings()

__all__ = ["matmul"]
