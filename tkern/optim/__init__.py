"""tkern.optim: optimizers with torch's API; a step updates each param group with one fused kernel
launch per device and dtype on 'cuda'."""
from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "SGD", "lr_scheduler"]
