"""kandiscover: discover closed-form equations in data with Kolmogorov–Arnold networks.

>>> import kandiscover as kd
>>> res = kd.discover(df, target="y")        # a law, its accuracy, a Pareto front
>>> chk = kd.verify("m*c**2", df, target="E")
>>> kd.run_suite("feynman", out="results/feynman", jobs=2)
"""

import logging

from . import problems
from .data import DataError
from .discover import discover
from .kan import KANLayer
from .model import KAN
from .result import Discovery
from .support.params import ParameterError
from .symbolic import Library, Primitive, default_library, is_equivalent, parse_formula
from .verify import verify

__version__ = "0.1.0"
logging.getLogger("kandiscover").addHandler(logging.NullHandler())

__all__ = [
    "KAN",
    "KANLayer",
    "KANRegressor",
    "DataError",
    "Discovery",
    "Library",
    "ParameterError",
    "Primitive",
    "default_library",
    "discover",
    "is_equivalent",
    "parse_formula",
    "problems",
    "run_suite",
    "verify",
    "__version__",
]


def __getattr__(name):
    # modules with optional dependencies (scikit-learn, dask) load on first use
    if name == "KANRegressor":
        from .estimator import KANRegressor

        return KANRegressor
    if name == "run_suite":
        from .suite import run_suite

        return run_suite
    raise AttributeError(f"module 'kandiscover' has no attribute {name!r}")
