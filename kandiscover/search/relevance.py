"""Inputs the target does not depend on, found from the rows, and the problem solved without them.

A table often carries columns the law does not use (``0.13·sin(x₃) − 2.3`` among five inputs). They
hurt twice: every search is wider than it needs to be, and the neighbours of a row in input space
lie far apart along the input that matters, so a sparse table looks like noise. Which inputs matter
is read from the rows: :func:`kandiscover.symbolic.noise.noise_variance` predicts each row from its
neighbours; dropping an input the target does not depend on brings the neighbours closer in the
others and the estimate falls, dropping one it depends on makes the target unpredictable and the
estimate rises. Inputs are dropped greedily while the estimate does not rise by more than
:data:`RISE`; the problem on the inputs left is then solved by the linear searches and the recursive
solver (one variable: the one-variable search), and their candidates join the pool, judged on all
inputs like any other.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import sympy

from ..symbolic.noise import noise_variance
from .closed_form import divided_by_monomial, half_monomial, power_law_fit
from .context import Context
from .rational import rational
from .solve import solve
from .terms import terms
from .transform import relative_error, transformed

log = logging.getLogger("kandiscover")

__all__ = ["relevant_inputs", "relevant", "factored", "RISE", "MAX_ROWS", "INTEGER_TOLERANCE", "HALF_TOLERANCE"]

RISE = 1.5
"""An input is dropped when the neighbour estimate without it is at most this many times the one
with it (noise and the estimate's own spread move it by a few per cent)."""

INTEGER_TOLERANCE, HALF_TOLERANCE = 0.03, 0.005
"""An exponent of the power-law fit within this of an integer, or of a half, counts as one
(:func:`factored`); a factor such as ``sqrt(x² + y²)`` gives ``x`` and ``y`` exponents near but not at
one half."""

EXACT = 1e-20
"""Relative MSE of a fit of the reduced problem after which no further search runs on it."""

MAX_ROWS = 500
"""Rows the test uses (a seeded subset)."""


def relevant_inputs(X: np.ndarray, y: np.ndarray, seed: int = 0) -> list[int]:
    """Columns of ``X`` (shape ``(n, d)``) that ``y`` (shape ``(n,)``) depends on (module doc), in
    their order; all of them when none can be dropped."""
    n, d = X.shape
    if n > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False)
        X, y = X[rows], y[rows]
    floor = 1e-12 * (float(np.var(y)) or 1e-300)
    keep = list(range(d))
    current = noise_variance(X, y, seed=seed)
    while len(keep) > 1 and np.isfinite(current):
        trials = [(noise_variance(X[:, [k for k in keep if k != j]], y, seed=seed), j) for j in keep]
        value, j = min(trials)
        if not value <= RISE * current + floor:
            break
        keep.remove(j)
        current = value
    return keep


def relevant(ctx: Context, share: float = 1 / 3, per_search: int = 2) -> list[sympy.Expr]:
    """Candidates of the problem without the inputs the target does not depend on (module doc).

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
    share : float
        Part of the remaining time the reduced problem may take.
    per_search : int
        Candidates kept from each linear search (the recursive solver's are all kept).

    Returns
    -------
    list of sympy.Expr
        Empty when every input matters.
    """
    d = ctx.X.shape[1]
    if d < 2 or not np.all(np.isfinite(ctx.y)):
        return []
    keep = relevant_inputs(ctx.X, ctx.y, ctx.seed)
    if len(keep) == d:
        return []
    log.debug("relevance: the target depends on %s only", [ctx.names[k] for k in keep])
    return _solve_reduced(ctx, ctx.y, keep, share, per_search)


def _solve_reduced(ctx: Context, target: np.ndarray, keep: list, share: float, per_search: int) -> list[sympy.Expr]:
    """Fits of ``target`` (shape ``(n,)``) on the inputs ``keep`` alone: the linear searches, then
    the recursive solver, within ``share`` of the remaining time."""
    names = [ctx.names[k] for k in keep]
    sub = ctx.sub(ctx.X[:, keep], target, names, deadline=time.monotonic() + max(ctx.remaining(), 0) * share)
    out: list[sympy.Expr] = []
    for search in (rational, terms, transformed, solve):
        if sub.remaining() <= 0:
            break
        fits = search(sub)
        out += fits if search is solve else fits[:per_search]
        if any(relative_error(e, sub) <= EXACT for e in fits[:per_search]):
            break  # reproduced to round-off: the rest cannot do better
    return out


def factored(ctx: Context, share: float = 1 / 3, per_search: int = 2) -> list[sympy.Expr]:
    """``M(x)·g(x_S)``: a monomial factor of the inputs the power-law fit gives integer (or half)
    exponents, and the rest solved on the inputs it still depends on.

    ``log|y|`` is fitted on ``log|x_i|``; where some exponents come out near integers or halves and
    others do not (``3·p·z·sqrt(x² + y²)/(4π·ε·r⁵)``: ``p``, ``z``, ``ε``, ``r`` integers, ``x``
    and ``y`` about 0.5), the target divided by the monomial ``M`` of the first is a function of
    fewer inputs (:func:`relevant_inputs`), solved as its own problem; its fits times ``M`` are the
    candidates. Nothing when every exponent is near an integer (the monomial strategy covers it),
    none is, or the quotient still depends on every input.

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
        Rows ``X`` of shape ``(n, d)``, target ``y`` of shape ``(n,)``.
    share, per_search : see :func:`relevant`.
    """
    X, y = ctx.X, ctx.y
    if X.shape[1] < 2 or np.any(X == 0) or np.any(y == 0) or not np.all(np.isfinite(y)):
        return []
    p = power_law_fit(X, y)[:-1]
    halves = np.round(2 * p) / 2
    whole = (np.abs(p - np.round(p)) < INTEGER_TOLERANCE) | (np.abs(p - halves) < HALF_TOLERANCE)
    if whole.all() or not whole.any():
        return []
    powers = np.where(whole, halves, 0.0)
    target = divided_by_monomial(X, y, powers)
    keep = relevant_inputs(X, target, ctx.seed)
    if len(keep) == X.shape[1] or not np.all(np.isfinite(target)):
        return []
    factor = half_monomial(ctx.symbols, powers)
    log.debug("factored: y / %s depends on %s only", factor, [ctx.names[k] for k in keep])
    return [factor * e for e in _solve_reduced(ctx, target, keep, share, per_search)]
