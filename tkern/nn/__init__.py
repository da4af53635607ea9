"""tkern.nn: modules, parameters, losses and functional ops with torch's API."""
from . import functional, init, utils
from .modules import (ELU, CrossEntropyLoss, Flatten, Identity, L1Loss, LeakyReLU, Linear, LogSoftmax, Module,
                      ModuleList, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, SiLU, Softmax, Softplus, Tanh)
from .parameter import Parameter

__all__ = ["ELU", "CrossEntropyLoss", "Flatten", "Identity", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss",
           "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "SiLU", "Softmax", "Softplus",
           "Tanh", "functional", "init", "utils"]
