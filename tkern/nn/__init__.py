"""tkern.nn: modules, parameters, losses and functional ops with torch's API."""
from . import functional, init
from .modules import (CrossEntropyLoss, Flatten, Identity, L1Loss, Linear, LogSoftmax, Module, ModuleList, MSELoss,
                      NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .parameter import Parameter

__all__ = ["CrossEntropyLoss", "Flatten", "Identity", "L1Loss", "Linear", "LogSoftmax", "MSELoss", "Module",
           "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional",
           "init"]
