"""The plan on the dimensionless problem: ``y = M(x) · f(π₁, …, π_k)``.

With units, :func:`kandiscover.discover` runs its strategies on the reduced problem — the groups
``π_j`` as inputs, ``y / M`` as the target — and every candidate ``f`` comes back lifted to the
original inputs, ``M · f(π(x))`` (:meth:`kandiscover.units.Reduction.lift`). The pool, the
refits, the choice and the test metrics then work on the user's own variables and rows, as
without units. Lifted candidates are dimensionally consistent by construction: the groups and
``f``'s constants are dimensionless and ``M`` carries the target's unit.

Each strategy of the plan runs on the reduced problem and then on the original inputs
(``direct-…``), in plan order, so that cheap strategies come first in both. A reduction can hide
structure as well as reveal it: when every input has the same dimension
(``A = x₁y₁ + x₂y₂ + x₃y₃``), ``A / (x₁y₁)`` as a function of length ratios is harder than ``A``
itself, which a rational fit of the original inputs finds at once. A reduction that changes
nothing (every input dimensionless, a dimensionless target) is skipped.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import sympy

from ..units import Reduction, reduce_dimensions
from .context import Context
from .plan import NAMES

log = logging.getLogger("kandiscover")

__all__ = ["dimensional_steps", "reduced_context", "units_plan"]


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


def _lifted(name: str, strategy: Callable, reduction: Reduction, sub: Context) -> Callable[[Context], list]:
    """``strategy`` run on the reduced context ``sub`` (one for the whole plan, so that its refits
    are shared), its candidates lifted; the search's own context it is called with is not used."""

    def run(ctx: Context) -> list:
        return [reduction.lift(e) for e in strategy(sub)]

    run.__name__ = f"dimensional-{name}"
    return run


def _prefactor_only(reduction: Reduction) -> Callable[[Context], list]:
    """No group: ``y = C · M``, ``C`` by least squares."""

    def run(ctx: Context) -> list:
        M = reduction.prefactor_values(ctx.X)
        C = float(np.dot(M, ctx.y) / np.dot(M, M))
        return [sympy.Float(C) * reduction.prefactor_expr()]

    return run


def dimensional_steps(reduction: Reduction, steps: list, sub: Context) -> list:
    """The plan's ``(name, strategy)`` steps, built for the reduced problem's ``k`` inputs, each
    run on the reduced context ``sub`` and lifted; with no group, one step fits ``y = C · M``."""
    if not reduction.groups:
        return [("dimensional", _prefactor_only(reduction))]
    return [(name, _lifted(name, strategy, reduction, sub)) for name, strategy in steps]


def units_plan(steps_for: Callable[[int], list], ctx: Context, target: str, dims: dict, notes: list) -> list:
    """The plan of a search with units: the reduced plan (lifted) interleaved with the plan on the
    original inputs.

    Parameters
    ----------
    steps_for : callable
        ``steps_for(d)`` gives the plan's ``(name, strategy)`` steps for ``d`` inputs.
    ctx : Context
        The search's context (its rows choose the prefactor).
    target : str
    dims : dict
        ``name -> Dimension`` of the inputs and the target.
    notes : list of str
        The reduction is noted here.

    Raises
    ------
    UnitError
        When no product of the inputs has the target's dimension.
    """
    direct = steps_for(len(ctx.names))
    reduction = reduce_dimensions(ctx.names, target, dims, ctx.X, ctx.y)
    if reduction.trivial:
        notes.append("units: every input and the target are dimensionless; no reduction")
        return direct
    try:
        sub = reduced_context(ctx, reduction)
    except ValueError as exc:
        notes.append(f"units: {exc}; searched without the dimensional reduction")
        return direct
    notes.append("units: " + ", ".join(reduction.describe()))
    reduced = dimensional_steps(reduction, steps_for(len(reduction.groups)) if reduction.groups else [], sub)
    return _interleaved(reduced, [(f"direct-{name}", strategy) for name, strategy in direct])


def _interleaved(reduced: list, direct: list) -> list:
    """Reduced and direct steps merged in plan order, each reduced step before its direct twin
    (the prefactor-only step first)."""
    order = {name: k for k, name in enumerate(NAMES)}

    def key(item):
        k, (name, _) = item
        base = name[len("direct-") :] if name.startswith("direct-") else name
        return (order.get(base, -1), name.startswith("direct-"), k)

    return [step for _, step in sorted(enumerate(reduced + direct), key=key)]
