"""The KAN engine: grids, splines, layers, the network, training, pruning and checkpoints.

It imports nothing of kandiscover but :mod:`kandiscover.support`; the full :class:`kandiscover.KAN`
(symbolic edges, figures, checkpoints with a library) is :mod:`kandiscover.model`.
"""

from .layer import KANLayer
from .network import KANNetwork
from .topology import Topology
from .training import History, fit

__all__ = ["KANNetwork", "KANLayer", "Topology", "History", "fit"]
