"""tkern.utils: utilities with torch.utils' API (``tkern.utils.data``: datasets and their loaders)."""
from . import data, dlpack

__all__ = ["data", "dlpack"]
