"""tkern: a small GPU tensor runtime with torch's API: ``import tkern as torch``."""
from . import cuda, dtypes
from .cuda import OutOfMemoryError
from .backends import get_float32_matmul_precision, set_float32_matmul_precision
from .tensor import Tensor  # (first: its operations, Tensor.new_ones among them, are built from other modules)
from .creation import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                       HalfTensor, IntTensor, LongTensor, ShortTensor, arange, as_tensor, empty, empty_like,
                       eye, from_numpy, full, full_like, linspace, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .device import device, get_default_device, set_default_device
from .dlpack import from_dlpack
from .dtypes import (bfloat16, bool, double, dtype, float, float16, float32, float64, get_default_dtype, half,
                     int, int8, int16, int32, int64, long, promote_types, set_default_dtype, short, uint8)
from .math_ops import is_tensor, result_type
from .printing import set_printoptions
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .size import Size
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import accelerator, autograd, fused, linalg, nn, optim
from . import utils
from .serialization import load, save
from .front_end import FUNCTIONS as _FUNCTIONS

# the operations of the table (tkern/operations.py): sin, add, sum, cat, reshape, ...
globals().update(_FUNCTIONS)

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    # for mypy: the names put in by the update above. Unannotated on purpose: an annotated module
    # __getattr__ reads as "Any?" (not callable) in the modules of tkern's import cycle (mypy 2.4)
    def __getattr__(name): ...

__version__ = "0.1.0"
