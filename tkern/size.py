"""tkern.Size: the tuple subclass that tensor.shape returns."""
from __future__ import annotations


class Size(tuple):
    """A shape; prints like torch's ``torch.Size([2, 3])``."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __repr__(self) -> str:
        return f"tkern.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__
