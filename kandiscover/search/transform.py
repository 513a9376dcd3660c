"""Laws that are simple after an invertible function of the target: ``g(y) = R(x)``.

``log(x + 1.4) + log(x² + 1.3)`` is the logarithm of a polynomial, ``x₂/sqrt(x₁² + x₂² + x₃²)`` the
square root of a quotient, ``1/(1 + sin x)`` the reciprocal of a sum of terms. AI Feynman tries such
transformations of the target before anything else (``m/sqrt(1 − v²/c²)`` is ``1/y² = (1 − v²/c²)/m²``);
here each transform ``g`` of
:data:`TRANSFORMS` that is defined and well scaled on the rows maps ``y`` to ``g(y)``, the sparse
linear searches (:func:`kandiscover.search.rational.rational` and
:func:`kandiscover.search.terms.terms`; with one input also the one-variable search, so
``1/(exp(u/2π) − 1)`` is the inverse of ``1 + 1/y = exp(u/2π)``) run on it, and every fit they
return is mapped back through ``g``'s inverse. A law that is an input times a
simple function (``0.3·x·sin(2πx)``, ``t·exp(−t)``) is found the same way from ``y/x_i``. The
candidates are ranked by their error on ``y`` itself; the pipeline refits and judges them like any
other.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy

from ..symbolic.evaluate import formula_mse
from .closed_form import exp_offset_monomial, offset_monomial
from .context import Context, one_sign
from .rational import per_column, rational
from .terms import terms
from .univariate import univariate

log = logging.getLogger("kandiscover")

__all__ = ["Transform", "TRANSFORMS", "transformed", "relative_error", "ranking"]

MIN_DIVISOR = 0.05
"""``y/x_i`` is fitted on the rows where ``|x_i|`` is at least this part of its largest value."""

MAX_DIVIDED_INPUTS = 3
"""``y/x_i`` goes to the sum-of-terms search for problems of at most this many inputs (to the closed
forms for any number)."""

MAX_EXP_RANGE = 30.0
"""``exp(y)`` is used only where ``y`` spans at most this much (beyond it the rows' weights in a
least-squares fit of ``exp(y)`` differ by more than ``e³⁰``)."""


@dataclass(frozen=True)
class Transform:
    """An invertible map of the target: ``forward(y)`` (numpy, shape ``(n,)`` → ``(n,)``) where
    ``applies(y)``, and ``inverse(expr)`` (sympy) that maps a fit of ``forward(y)`` back to ``y``."""

    name: str
    applies: Callable[[np.ndarray], bool]
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[sympy.Expr, np.ndarray], sympy.Expr]


def _one_sign(y: np.ndarray) -> bool:
    return one_sign(y) != 0


def _log_of_scaled(expr: sympy.Expr, shift: float) -> sympy.Expr:
    """``log(expr) + shift`` written ``log(exp(shift)·expr)``, the factor multiplied into the
    numerator's terms (``log(x³ + 1.4x² + …)``, not ``log(0.056x³ + …) + 2.89``)."""
    num, den = sympy.fraction(sympy.together(expr))
    return sympy.log(sympy.expand(sympy.Float(float(np.exp(shift))) * num) / den)


def _signed_sqrt(expr: sympy.Expr, y: np.ndarray) -> sympy.Expr:
    return sympy.sqrt(expr) if np.all(y > 0) else -sympy.sqrt(expr)


TRANSFORMS: tuple[Transform, ...] = (
    Transform(
        "exp",
        lambda y: bool(np.ptp(y) <= MAX_EXP_RANGE),
        lambda y: np.exp(y - np.max(y)),
        lambda e, y: _log_of_scaled(e, float(np.max(y))),
    ),
    Transform("log", lambda y: bool(np.all(y > 0)), np.log, lambda e, y: sympy.exp(e)),
    Transform("square", _one_sign, np.square, _signed_sqrt),
    Transform("reciprocal", _one_sign, lambda y: 1.0 / y, lambda e, y: 1 / e),
    Transform("reciprocal-square", _one_sign, lambda y: 1.0 / np.square(y), lambda e, y: 1 / _signed_sqrt(e, y)),
)
"""The transforms tried, in order. ``exp`` is taken of ``y − max(y)`` (its inverse adds ``max(y)``
back)."""


def transformed(ctx: Context, per_transform: int = 2, top: int = 4) -> list[sympy.Expr]:
    """Candidates ``g⁻¹(R(x))`` for the transforms ``g`` of :data:`TRANSFORMS` (module doc).

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
        Rows ``X`` of shape ``(n, d)`` and target ``y`` of shape ``(n,)``.
    per_transform : int
        Fits kept from each linear search on each transformed target.
    top : int
        Candidates returned, the lowest error on ``y`` first (on noisy rows, the best by
        :func:`ranking`).

    Returns
    -------
    list of sympy.Expr
    """
    y = ctx.y
    if not np.all(np.isfinite(y)) or np.ptp(y) <= 0:
        return []
    found: list[tuple[float, sympy.Expr]] = []
    for t in TRANSFORMS:
        if ctx.remaining() <= 0 or not t.applies(y):
            continue
        with np.errstate(all="ignore"):
            gy = t.forward(y)
        if not np.all(np.isfinite(gy)) or np.ptp(gy) <= 1e-12 * (np.max(np.abs(gy)) + 1e-300):
            continue
        sub = ctx.sub(ctx.X, gy, ctx.names, deadline=time.monotonic() + max(ctx.remaining(), 0) / 3)
        for search in (rational, terms, _plain_univariate) if ctx.X.shape[1] == 1 else (rational, terms):
            for fit in search(sub)[:per_transform]:
                expr = t.inverse(fit, y)
                err = relative_error(expr, ctx)
                if math.isfinite(err):
                    found.append((err, expr))
    found += _over_inputs(ctx, per_transform)
    found.sort(key=lambda p: ranking(p[0], p[1], ctx))
    log.debug("transformed: %d candidates, best relative MSE %s", len(found), found[0][0] if found else None)
    return [e for _, e in found[:top]]


def _over_inputs(ctx: Context, per_search: int) -> list[tuple[float, sympy.Expr]]:
    """Candidates ``x_i·R(x)`` from fits of ``y/x_i`` (``0.3·x·sin(2πx)``, ``t·exp(−t)``): for each
    input, on the rows where ``|x_i|`` is at least :data:`MIN_DIVISOR` of its largest value (near
    zero the quotient magnifies the noise), by the sum-of-terms search and, for one input, the
    one-variable search, for at most :data:`MAX_DIVIDED_INPUTS` inputs, and for any number by the
    closed forms ``c₀ + C·Π x^p`` and ``±exp(c₀ + C·Π x^p)`` (``n₀·exp(−m·g·x/(k·T))``);
    ``(relative MSE on all rows, expression)`` pairs."""
    out = []
    d = len(ctx.names)
    searches = (terms, _plain_univariate) if d == 1 else (terms,) if d <= MAX_DIVIDED_INPUTS else ()
    searches += (offset_monomial, exp_offset_monomial)
    for i, s in enumerate(ctx.symbols):
        if ctx.remaining() <= 0:
            break
        x = ctx.X[:, i]
        rows = np.abs(x) >= MIN_DIVISOR * np.max(np.abs(x))
        if rows.sum() < max(20, len(x) // 2):
            continue
        sub = ctx.sub(
            ctx.X[rows], ctx.y[rows] / x[rows], ctx.names, deadline=time.monotonic() + max(ctx.remaining(), 0) / 4
        )
        for search in searches:
            for fit in search(sub)[:per_search]:
                err = relative_error(s * fit, ctx)
                if math.isfinite(err):
                    out.append((err, s * fit))
    return out


def ranking(error: float, expr: sympy.Expr, ctx: Context) -> float:
    """A candidate's rank among others (lower first): its relative error, on noisy rows raised by
    :func:`kandiscover.search.rational.per_column` per fitted constant (a float) of the expression,
    the Bayesian information criterion's price — within the noise, fits differ by what their
    constants fit of it."""
    if not ctx.noisy:
        return error
    return error * (1 + per_column(len(ctx.y)) * len(expr.atoms(sympy.Float)))


def relative_error(expr: sympy.Expr, ctx: Context) -> float:
    """MSE of ``expr`` on the context's rows over ``Var(y)``; ``inf`` where it is not finite."""
    return formula_mse(expr, ctx.X, ctx.y, ctx.names) / (float(np.var(ctx.y)) or 1e-300)


def _plain_univariate(ctx: Context) -> list:
    """:func:`univariate` without its power-weighted fits (four transforms would pay for them four times)."""
    return univariate(ctx, powers=())
