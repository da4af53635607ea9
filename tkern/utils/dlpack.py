"""tkern.utils.dlpack: torch.utils.dlpack's API (the protocol itself is tkern/dlpack.py)."""
from tkern.dlpack import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
