"""tkern.utils.data: datasets, samplers and the DataLoader, like torch.utils.data.

The samplers draw their random numbers as torch's do (a seed from ``tkern.empty((), dtype=int64)
.random_()``, then ``tkern.randperm``), so with the same seeds tkern's and torch's 'cpu' streams
give the same batches.
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["BatchSampler", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "TensorDataset", "default_collate", "default_convert", "random_split"]
