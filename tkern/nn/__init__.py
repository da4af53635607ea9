"""tkern.nn: modules, parameters, losses and functional ops with torch's API."""
from . import functional, init, utils
from .modules import (ELU, CrossEntropyLoss, Flatten, Identity, L1Loss, LeakyReLU, Linear, LogSoftmax, Module,
                      ModuleList, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, SiLU, Softmax, Softplus, Tanh)
from .modules.loss import BCELoss, BCEWithLogitsLoss, HuberLoss, KLDivLoss, SmoothL1Loss
from .modules.activation import GELU
from .modules.batchnorm import BatchNorm1d
from .modules.dropout import Dropout
from .modules.normalization import LayerNorm
from .modules.sparse import Embedding
from .parameter import Parameter

__all__ = ["BatchNorm1d", "Dropout", "Embedding", "LayerNorm", "BCELoss", "BCEWithLogitsLoss", "ELU", "CrossEntropyLoss", "Flatten", "GELU", "HuberLoss", "Identity", "KLDivLoss",
           "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter",
           "ReLU", "Sequential", "Sigmoid", "SiLU", "SmoothL1Loss", "Softmax", "Softplus", "Tanh", "functional", "init",
           "utils"]
