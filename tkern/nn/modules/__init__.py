"""The layers of tkern.nn, one module per family as in torch.nn.modules."""
from .activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .container import ModuleList, Sequential
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module

__all__ = ["CrossEntropyLoss", "Flatten", "Identity", "L1Loss", "Linear", "LogSoftmax", "MSELoss", "Module",
           "ModuleList", "NLLLoss", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh"]
