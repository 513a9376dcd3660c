"""kandiscover: discover closed-form equations in data with Kolmogorov–Arnold networks."""
import logging

from . import problems
from .kan import KAN, KANLayer
from .symbolic import Library, Primitive, default_library, is_equivalent, parse_formula

__version__ = "0.1.0"
logging.getLogger("kandiscover").addHandler(logging.NullHandler())

__all__ = ["KAN", "KANLayer", "Library", "Primitive", "default_library", "is_equivalent", "parse_formula",
           "problems", "__version__"]
