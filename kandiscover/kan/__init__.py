"""The KAN engine: splines, layers, the network, training, pruning and checkpoints."""
from .layer import KANLayer
from .network import KAN
from .training import History, fit

__all__ = ["KAN", "KANLayer", "History", "fit"]
