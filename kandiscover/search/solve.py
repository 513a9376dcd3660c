"""The recursive solver of (sub)problems: cheap closed forms first (for two inputs the sparse linear
searches too), then splitting, then general KANs.

:func:`solve` is what a split hands its smaller problems to (it passes itself to
:func:`kandiscover.search.decompose.split_strategy`), so the recursion has one entry point and no
import cycle.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import numpy as np
import sympy

from ..symbolic.complexity import complexity
from .closed_form import exp_offset_monomial, linear, monomial, offset_monomial
from .context import Context
from .decompose import split_strategy
from .enumerate import enumerate_strategy
from .kan_strategies import additive, kan_strategy, multiplicative
from .quotient import MAX_INPUTS as QUOTIENT_INPUTS
from .quotient import quotient
from .rational import rational
from .terms import terms
from .univariate import univariate

log = logging.getLogger("kandiscover")

__all__ = ["solve", "split", "MAX_DEPTH"]

MAX_DEPTH = 4
"""Splits deeper than this are not tried (a sub-problem of a sub-problem of …)."""


def _stages(ctx: Context, depth: int) -> list[Callable[[Context], list]]:
    """The generators tried for a (sub)problem, in order."""
    d = len(ctx.names)
    if d == 1:  # the one-variable search covers what a small KAN would find
        # no polynomial searches here: on rows read off a surrogate a polynomial fits any smooth
        # curve better than its law does
        return [monomial, univariate, offset_monomial, lambda c: enumerate_strategy(c, share=0.3)]
    stages = [monomial, linear, offset_monomial, exp_offset_monomial, multiplicative, additive]
    if d == 2:  # both (they are cheap): the simplest candidate within the floor is then chosen
        stages.append(_together(rational, terms, quotient))
    elif d <= QUOTIENT_INPUTS:
        stages.append(quotient)
    if depth < MAX_DEPTH:
        stages.append(lambda c: split_strategy(c, solve, depth))
    if d <= 3:
        stages.append(lambda c: kan_strategy(c, [d, 1, 1]))
    stages.append(lambda c: kan_strategy(c, [d, [min(d, 2), 1], 1]))
    return stages


_FAILURES = (ValueError, RuntimeError, np.linalg.LinAlgError)


def _together(*stages: Callable[[Context], list]) -> Callable[[Context], list]:
    """One stage of several: a polynomial quotient read off a surrogate fits within the floor as
    well as the law's two terms do, and must not end the search before the sum of terms runs."""

    def run(ctx: Context) -> list:
        out = []
        for stage in stages:
            try:
                out += stage(ctx)
            except _FAILURES as exc:
                log.debug("sub-strategy failed: %s", exc)
        return out

    run.__name__ = "+".join(getattr(s, "__name__", "stage") for s in stages)
    return run


def _scored(ctx: Context, raw: list) -> list[tuple[float, sympy.Expr]]:
    """``(relative MSE, refitted expression)`` of the finite candidates of ``raw``."""
    out = []
    for e in raw:
        if not e.has(sympy.zoo, sympy.nan):
            refit, loss = ctx.refit(e)
            if math.isfinite(loss):
                out.append((loss, refit))
    return out


def solve(ctx: Context, depth: int = 0, keep: int = 8) -> list[sympy.Expr]:
    """Best candidates for a (sub)problem: cheap strategies, then splitting, then a general KAN.

    Returns up to ``keep`` refitted expressions, best first; stops at the first stage whose best
    candidate reaches the context's ``floor`` (relative MSE).
    """
    found: list[tuple[float, sympy.Expr]] = []
    for stage in _stages(ctx, depth):
        if ctx.remaining() <= 0:
            break
        t0 = time.monotonic()
        try:
            raw = stage(ctx)
        except _FAILURES as exc:
            log.debug("sub-strategy failed: %s", exc)
            continue
        log.debug(
            "depth %d %s: %d candidates in %.1f s (%.1f s left)",
            depth,
            getattr(stage, "__name__", "stage"),
            len(raw),
            time.monotonic() - t0,
            ctx.remaining(),
        )
        found += _scored(ctx, raw)
        # below the floor the data cannot tell candidates apart: the simpler one ranks first
        found.sort(key=lambda t: (max(t[0], ctx.floor), complexity(t[1])))
        if found and found[0][0] <= ctx.floor:
            break
    return [e for _, e in found[:keep]]


def split(ctx: Context) -> list[sympy.Expr]:
    """Symmetry reduction and separation on a surrogate KAN (:mod:`kandiscover.search.decompose`),
    the parts solved by :func:`solve`."""
    return split_strategy(ctx, solve, 0)
