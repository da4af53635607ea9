"""tkern: a small GPU tensor runtime with torch's API: ``import tkern as torch``."""
from . import cuda, dtypes
from .cuda import OutOfMemoryError
from .backends import get_float32_matmul_precision, set_float32_matmul_precision
from .creation import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                       HalfTensor, IntTensor, LongTensor, ShortTensor, arange, as_tensor, empty, empty_like,
                       eye, from_numpy, full, full_like, linspace, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, tensor, zeros, zeros_like)
from .device import device
from .dtypes import (bfloat16, bool, double, dtype, float, float16, float32, float64, get_default_dtype, half,
                     int, int8, int16, int32, int64, long, promote_types, set_default_dtype, short, uint8)
from .math_ops import (abs, absolute, add, all, amax, amin, any, argmax, argmin, atan2, bitwise_and,
                       bitwise_or, bitwise_xor, bmm, cat, ceil, clamp, clip, concat, concatenate, cos, div,
                       divide, dot, eq, exp, floor, floor_divide, fmod, ge, greater, greater_equal, gt,
                       is_tensor, isfinite, isinf, isnan, le, less, less_equal, log, log_softmax, logical_and,
                       logical_not, logical_or, logical_xor, logsumexp, lt, matmul, max, maximum, mean, min,
                       minimum, mm, mul, multiply, ne, neg, negative, nonzero, not_equal, pow, prod, reciprocal,
                       relu, remainder, result_type, round, sigmoid, sign, sin, softmax, sqrt, square, stack, std,
                       sub, subtract, sum, tanh, true_divide, trunc, var, where)
from .printing import set_printoptions
from .random import Generator, initial_seed, manual_seed, seed
from .reshaping import (as_strided, chunk, diagonal, flatten, narrow, permute, reshape, split, squeeze, t,
                        transpose, unbind, unflatten, unsqueeze)
from .size import Size
from .tensor import Tensor
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import autograd, fused, nn, optim
from .autograd import recording as _recording

_recording.install()

__version__ = "0.1.0"
