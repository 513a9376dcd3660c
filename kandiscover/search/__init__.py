"""The search: candidate generators and what they share.

============================  =========================================================
module                        holds
============================  =========================================================
``context``                   :class:`Context` of a (sub)problem, :data:`SOLVED_NMSE`
``closed_form``               monomials, offset and exponential monomials, the linear baseline
``rational``                  sparse polynomials and quotients ``P/Q`` by least squares
``terms``                     sparse sums of library terms (FFX / SINDy style)
``univariate``                one-variable ``c·f(a·g(x)+b)+d`` search
``surrogate``                 a KAN surrogate and its symmetry and separability tests
``decompose``                 splitting a problem into smaller ones with the surrogate
``kan_strategies``            additive, multiplicative and general KANs, edges composed
``solve``                     the recursive solver of (sub)problems
``plan``                      the registry of strategy names and their order
============================  =========================================================
"""

from .context import SOLVED_NMSE, Context
from .plan import DEFAULT, GROUPS, KAN_TRAINED, NAMES, REGISTRY, Strategy, build_plan, default_plan, resolve
from .solve import solve

__all__ = [
    "Context",
    "SOLVED_NMSE",
    "solve",
    "Strategy",
    "REGISTRY",
    "NAMES",
    "DEFAULT",
    "GROUPS",
    "KAN_TRAINED",
    "build_plan",
    "default_plan",
    "resolve",
]
