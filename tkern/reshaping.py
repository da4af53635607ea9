"""Function forms of the view methods (``tkern.reshape(x, (2, 3))``)."""
from __future__ import annotations

from .tensor import Tensor


def reshape(input: Tensor, shape) -> Tensor:
    return input.reshape(shape)


def permute(input: Tensor, dims) -> Tensor:
    return input.permute(dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def t(input: Tensor) -> Tensor:
    return input.t()


def squeeze(input: Tensor, dim=None) -> Tensor:
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return input.unsqueeze(dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    return input.unflatten(dim, sizes)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return input.narrow(dim, start, length)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    return tensor.split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    return input.chunk(chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    return input.unbind(dim)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    return input.diagonal(offset, dim1, dim2)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    return input.as_strided(size, stride, storage_offset)
