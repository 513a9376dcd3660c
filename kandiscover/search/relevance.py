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
from .context import Context
from .rational import rational
from .solve import solve
from .terms import terms
from .transform import transformed

log = logging.getLogger("kandiscover")

__all__ = ["relevant_inputs", "relevant", "RISE", "MAX_ROWS"]

RISE = 1.5
"""An input is dropped when the neighbour estimate without it is at most this many times the one
with it (noise and the estimate's own spread move it by a few per cent)."""

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
    names = [ctx.names[k] for k in keep]
    log.debug("relevance: the target depends on %s only", names)
    sub = ctx.sub(ctx.X[:, keep], ctx.y, names, deadline=time.monotonic() + max(ctx.remaining(), 0) * share)
    out: list[sympy.Expr] = []
    for search in (rational, terms, transformed):
        if sub.remaining() > 0:
            out += search(sub)[:per_search]
    if sub.remaining() > 0:
        out += solve(sub)
    return out
