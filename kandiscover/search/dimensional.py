"""The plan on the dimensionless problem: ``y = M(x) · f(π₁, …, π_k)``.

With units, :func:`kandiscover.discover` runs its strategies on the reduced problem — the groups
``π_j`` as inputs, ``y / M`` as the target — and every candidate ``f`` comes back lifted to the
original inputs, ``M · f(π(x))`` (:meth:`kandiscover.units.Reduction.lift`). The pool, the
refits, the choice and the test metrics then work on the user's own variables and rows, as
without units. Lifted candidates are dimensionally consistent by construction: the groups and
``f``'s constants are dimensionless and ``M`` carries the target's unit.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import sympy

from ..units import Reduction
from .context import Context

log = logging.getLogger("kandiscover")

__all__ = ["dimensional_steps", "reduced_context"]


def reduced_context(ctx: Context, reduction: Reduction) -> Context:
    """The context of ``f``: the groups' values as inputs and ``y / M`` as the target.

    Raises
    ------
    ValueError
        When a group or ``y / M`` is not finite on some training row (a negative input under a
        fractional exponent, a zero in a denominator).
    """
    P, ratio = reduction.transform(ctx.X, ctx.y)
    if not (np.all(np.isfinite(P)) and np.all(np.isfinite(ratio))):
        raise ValueError("the dimensionless groups are not finite on every training row")
    return ctx.sub(P, ratio, list(reduction.names))


def _lifted(name: str, strategy: Callable, reduction: Reduction) -> Callable[[Context], list]:
    def run(ctx: Context) -> list:
        sub = reduced_context(ctx, reduction)
        return [reduction.lift(e) for e in strategy(sub)]

    run.__name__ = f"dimensional-{name}"
    return run


def _prefactor_only(reduction: Reduction) -> Callable[[Context], list]:
    """No group: ``y = C · M``, ``C`` by least squares."""

    def run(ctx: Context) -> list:
        M = sympy.lambdify([sympy.Symbol(n) for n in ctx.names], reduction.prefactor_expr(), "numpy")(*ctx.X.T)
        M = np.broadcast_to(np.asarray(M, dtype=float), ctx.y.shape)
        C = float(np.dot(M, ctx.y) / np.dot(M, M))
        return [sympy.Float(C) * reduction.prefactor_expr()]

    return run


def dimensional_steps(reduction: Reduction, steps: list) -> list:
    """The plan's ``(name, strategy)`` steps, built for the reduced problem's ``k`` inputs, each
    run on the reduced problem and lifted; with no group, one step fits ``y = C · M``."""
    if not reduction.groups:
        return [("dimensional", _prefactor_only(reduction))]
    return [(name, _lifted(name, strategy, reduction)) for name, strategy in steps]
