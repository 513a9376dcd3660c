"""Benchmark problems: the Feynman equations, the KAN paper's special functions and knot invariants.

>>> from kandiscover import problems
>>> pack = problems.load("feynman")          # also "special", "knots"
>>> p = pack["I.6.2a"]
>>> df = p.sample(n=1000, seed=0, noise=0.0)  # columns: the variables, then p.target
"""

from .packs import Pack, available, data_dir, load
from .problem import Problem

__all__ = ["Problem", "Pack", "load", "available", "data_dir"]
