"""kandiscover: discover closed-form equations in data with Kolmogorov–Arnold networks."""
import logging

from .kan import KAN, KANLayer

__version__ = "0.1.0"
logging.getLogger("kandiscover").addHandler(logging.NullHandler())

__all__ = ["KAN", "KANLayer", "__version__"]
