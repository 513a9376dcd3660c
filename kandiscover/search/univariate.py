"""One-variable problems: a direct search over ``c·f(a·g(x) + b) + d``.

Sub-problems of a split often have a single variable (``1/sqrt(1 − u²)`` with ``u = v/c``,
``log(u)``, ``exp(−u)``). For them the KAN is not needed: the rows are the curve. Every library
primitive ``f`` is fitted affinely (:func:`kandiscover.symbolic.fit.fit_affine`) to ``y`` against
``x`` and against a few fixed inner functions ``g(x)`` (``x²``, ``1/x``, ``√x``, ``exp x``, …), which
covers the two-level compositions a ``[1, 1, 1]`` KAN would have to find through an ambiguous
split of one curve into two. A power of the input times a library function (``x²·exp(−x)``,
``sin(x)/x``) comes from the same fits of ``y / x^k`` (:data:`POWERS`), and a power over one
(``1/(exp(x) − 1)``, ``x/(exp(x/2π) − 1)``, ``1/(1 + x²)``) from the fits of ``x^k / y`` where ``y``
has no zero.
"""

from __future__ import annotations

import logging
import math
from functools import partial
from typing import Callable

import numpy as np
import sympy
import torch

from ..symbolic.assemble import affine_expression
from ..symbolic.fit import degenerate, fit_affine

log = logging.getLogger("kandiscover")

__all__ = ["univariate", "INNER"]

INNER = (
    ("x", lambda s: s, lambda x: x, 0),
    ("x^2", lambda s: s**2, lambda x: x**2, 1),
    ("x^3", lambda s: s**3, lambda x: x**3, 2),
    ("1/x", lambda s: 1 / s, lambda x: 1 / x, 1),
    ("1/x^2", lambda s: s**-2, lambda x: x**-2.0, 2),
    ("sqrt", sympy.sqrt, np.sqrt, 1),
    ("exp", sympy.exp, np.exp, 2),
    ("log", sympy.log, np.log, 2),
    ("sin", sympy.sin, np.sin, 2),
    ("cos", sympy.cos, np.cos, 2),
)
"""Inner functions ``(name, sympy form, numpy form, added complexity)``; a transcendental inner
function costs more than a power (``1/sqrt(1 − u²)`` and ``1/sqrt(a·cos u − b)`` fit a short range
equally well)."""

POWERS = (1, -1, 2, -2, 3, -3)
"""Powers ``k`` of the one-variable fits of ``y / x^k`` (:func:`_power_jobs`)."""

ROUND_OFF = 1e-12
"""``1 − R²`` at or below which a fit reproduces its rows to round-off and ranks before any other."""

COMPLEXITY_WEIGHT = 0.3
"""Decades of ``1 − R²`` one unit of complexity is worth when ranking candidates."""


def univariate(ctx, top: int = 12, max_rows: int = 200, powers: tuple = POWERS) -> list[sympy.Expr]:
    """Best ``c·f(a·g(x) + b) + d`` for a one-variable context (``[]`` otherwise).

    The fits run cheapest form first (:func:`_jobs`) until the context's deadline; once one
    reproduces the rows to round-off (:data:`ROUND_OFF`), the forms of higher added complexity are
    not tried.

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
        ``X`` of shape ``(n, 1)``.
    top : int
        Number of candidates returned, best first by ``log10(1 − R² + floor) + 0.3·complexity``.
    max_rows : int
        Rows used for the search (a seeded subset); the caller refits on all rows.
    powers : tuple of int
        Powers ``k`` of the fits of ``y / x^k`` (:func:`_power_jobs`); ``()`` for none.
    """
    if ctx.X.shape[1] != 1:
        return []
    rows = np.random.default_rng(ctx.seed).permutation(len(ctx.y))[:max_rows]
    x, y = ctx.X[rows, 0], ctx.y[rows]
    s = ctx.symbols[0]
    found: list = []
    exact_cost = math.inf
    for cost, job in _jobs(x, y, s, ctx.lib, powers):
        if (ctx.remaining() <= 0 and found) or cost > exact_cost:
            break  # out of time, or a fit to round-off came from a simpler form than the rest
        fits = job()
        found += fits
        if any(loss <= ROUND_OFF for loss, _, _ in fits):
            exact_cost = cost
    # within the context's floor (data read off a surrogate is only that exact) simplicity decides;
    # a fit to round-off comes first (a Gaussian bump within 1e-7 of u/(exp(u) − 1) is not the law)
    found.sort(key=lambda t: (t[0] > ROUND_OFF, float(np.log10(t[0] + ctx.floor)) + COMPLEXITY_WEIGHT * t[1]))
    log.debug("univariate %s: best 1-R2 %.3g", ctx.names, found[0][0] if found else float("nan"))
    return [e for _, _, e in found[:top]]


def _relative_loss(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean squared error of ``pred`` over ``Var(y)`` (both shape ``(n,)``); ``nan`` or ``inf``
    where ``pred`` is not finite."""
    return float(np.mean((y - pred) ** 2)) / (float(np.var(y)) or 1e-300)


def _leading(fits: list) -> list:
    """The two best-scored fits and the one of highest R² if it is not among them: the ranking's
    floor on ``1 − R²`` lets a simpler near-fit (``exp``) outrank an exact one (``cosh``)."""
    out = fits[:2]
    exact = max(fits, key=lambda f: f.r2 if np.isfinite(f.r2) else -np.inf, default=None)
    return out + [exact] if exact is not None and exact not in out else out


def _jobs(x: np.ndarray, y: np.ndarray, s: sympy.Symbol, lib, powers: tuple) -> list[tuple[int, Callable]]:
    """The fits of the search as ``(added complexity, job)`` pairs, cheapest first, each ``job()``
    returning ``(1 − R², complexity, sympy.Expr)`` triples: ``c·f(a·g(x) + b) + d`` for the inner
    functions of :data:`INNER` and the power forms of :func:`_power_jobs`. Under a deadline the
    simplest forms are the ones tried (``1/(c·exp(a·x + b) + d)`` before ``c·f(a·x³ + b) + d``); at
    equal cost the power forms come first."""
    yt = torch.tensor(y, dtype=torch.float64)  # shared by the inner functions' fits
    inner = [(extra, partial(_inner_fits, x, y, yt, s, lib, g_sym, g_np, extra)) for _, g_sym, g_np, extra in INNER]
    return sorted(_power_jobs(x, y, s, lib, powers) + inner, key=lambda job: job[0])


def _inner_fits(x, y, yt: torch.Tensor, s, lib, g_sym, g_np, extra: int) -> list[tuple]:
    """``c·f(a·g(x) + b) + d`` for every library primitive ``f`` and one inner function ``g``:
    the best three non-degenerate fits (``yt`` is ``y`` as a float64 tensor, shape ``(n,)``)."""
    with np.errstate(all="ignore"):
        z = g_np(x)
    if not np.all(np.isfinite(z)) or np.ptp(z) <= 1e-12 * (np.abs(z).max() + 1e-300):
        return []
    zt = torch.tensor(z, dtype=torch.float64)
    # stricter than rank()'s max deviation: here a degenerate fit is dropped, not just pushed back
    # (with rank()'s measure G·m1·m2·(1/r2 − 1/r1) loses its exact 1/r parts to Taylor-regime fits)
    spread = float(np.std(y)) or 1.0
    out = []
    for f in fit_affine(zt, yt, lib)[:3]:
        prim = lib[f.name]
        if not np.isfinite(f.r2) or (f.name != "0" and degenerate(f, prim, zt, yt, spread)):
            continue  # sin(0.02·x) posing as a line fits noise, not the law
        with np.errstate(all="ignore"):  # the fit's own R² is not exact where f underflows
            loss = _relative_loss(y, f.c * prim.numpy_fn(f.a * z + f.b) + f.d)
        if np.isfinite(loss):
            out.append((max(loss, 1e-14), f.complexity + extra, affine_expression(prim, f.affine, g_sym(s))))
    return out


def _power_jobs(x: np.ndarray, y: np.ndarray, s: sympy.Symbol, lib, powers: tuple) -> list[tuple[int, Callable]]:
    """``x^k · (c·f(a·x + b) + d)`` for ``k`` in ``powers``: a power of the input times a
    library function (``x²·exp(−x)``, ``x·sin(2πx)``), fitted to ``y / x^k`` where the input has
    no zero on the rows; and ``x^k / (c·f(a·x + b) + d)`` for ``k`` in ``(0,) + powers``
    (``1/(exp(x) − 1)``, ``x/(exp(x/2π) − 1)``), fitted to ``x^k / y`` where ``y`` has no zero.
    All are ranked by ``1 − R²`` on ``y`` itself; a form's added complexity is ``1 + |k|``, one
    more over ``y``.

    Returns
    -------
    list of (int, callable)
        As :func:`_jobs`.
    """
    if not powers or not np.all(np.abs(x) > 1e-9 * (np.abs(x).max() + 1e-300)):
        return []
    forms = [(k, False) for k in powers]
    if np.all(np.abs(y) > 1e-9 * (np.abs(y).max() + 1e-300)):
        forms += [(k, True) for k in (0,) + tuple(powers)]
    return [(1 + abs(k) + int(over), partial(_power_fits, x, y, s, lib, k, over)) for k, over in forms]


def _power_fits(x: np.ndarray, y: np.ndarray, s: sympy.Symbol, lib, k: int, over: bool) -> list[tuple]:
    """The fits of one power form of :func:`_power_jobs`."""
    w = x ** float(k)
    with np.errstate(all="ignore"):
        target = w / y if over else y / w
    if not np.all(np.isfinite(target)):
        return []
    xt, tt = torch.tensor(x, dtype=torch.float64), torch.tensor(target, dtype=torch.float64)
    out = []
    for f in _leading(fit_affine(xt, tt, lib)):
        prim = lib[f.name]
        if f.name in ("0", "x") or not np.isfinite(f.r2):
            continue  # x^k times or over a constant or a line: the monomial and rational fits
        if degenerate(f, prim, xt, tt, float(np.std(target)) or 1.0):
            continue
        with np.errstate(all="ignore"):
            inner = f.c * prim.numpy_fn(f.a * x + f.b) + f.d
            pred = w / inner if over else w * inner
        if not np.all(np.isfinite(pred)):
            continue
        loss = _relative_loss(y, pred)
        fitted = affine_expression(prim, f.affine, s)
        expr = s**k / fitted if over else s**k * fitted
        out.append((max(loss, 1e-14), f.complexity + 1 + abs(k) + int(over), expr))
    return out
