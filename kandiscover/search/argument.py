"""Laws that are a monomial times a function of one monomial: ``y = M(x)·F(u)``, ``u = Π x_i^{a_i}``.

Planck's and Bose–Einstein's laws (``h·ω³/(c²·(exp(h·ω/(k·T)) − 1))``), ``μ·n·tanh(μ·B/(k·T))``,
``I₀·(exp(q·V/(k·T)) − 1)`` and ``sin²(E·t/h)`` all have this shape: every input enters the
non-power part through one product of powers, the argument ``u``. Units would name ``u`` (a
dimensionless group); without them it is read from a KAN surrogate of the rows, as AI Feynman reads
symmetries from its network:

* with ``g_i = ∂ log|y| / ∂ log|x_i| = x_i·(∂y/∂x_i)/y`` (autograd on the surrogate),
  ``y = M·F(u)`` gives ``g = m + a·G(u)`` on every row, ``G = u·F'/F``: the rows' gradients lie on
  one line (read on the shared surrogate of ``y``, else on one of ``log|y|`` against ``log|x|``,
  where the law is a plane plus a function of one direction). The leading right singular vector
  of the centred gradients is ``a`` when it carries nearly all their spread (:data:`MIN_SHARE`);
  it is snapped to small integers;
* the mean gradient is ``m + a·mean(G)``; subtracting the multiple of ``a`` that zeroes one of
  its entries gives a prefactor ``M`` (rounded to halves) — one per input of the argument, the
  sparsest few kept (``F`` absorbs any power of ``u``, so they are equivalent laws);
* ``y/M`` against ``u`` is a one-variable problem, solved by the one-variable search, the
  transformed-target search and the enumeration; ``M(x)·F(u)`` are the candidates, refitted on all
  rows by the pipeline.

Nothing is returned when the surrogate is poor, the gradients do not lie on a line (the law has two
or more arguments, or none: a pure monomial), or ``a`` has no small-integer form.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Optional

import numpy as np
import sympy
import torch

from .context import Context, one_sign
from .enumerate import enumerate_strategy
from .closed_form import divided_by_monomial, half_monomial, power_law_fit
from .surrogate import Surrogate, cached_surrogate, fit_surrogate
from .transform import transformed
from .univariate import univariate

log = logging.getLogger("kandiscover")

__all__ = [
    "argument",
    "read_argument",
    "log_gradients",
    "argument_direction",
    "small_integers",
    "prefactors",
    "MIN_SHARE",
]

MIN_SHARE = 0.99
"""Part of the centred gradients' sum of squares the leading direction must carry."""

MAX_SURROGATE_ERROR = 0.05
"""Largest held-out relative RMSE of a surrogate whose gradients are used."""

SNAP = 0.1
"""An exponent of the argument (the largest scaled to 1, times a multiplier up to
:data:`MAX_MULTIPLIER`) within this of an integer counts as that integer."""

MAX_MULTIPLIER = 4
"""Largest factor tried to turn the argument's exponents into integers (``a = (1, 1/2)`` → ``(2, 1)``)."""

PREFACTORS = 4
"""Pairs of a prefactor ``M`` and an orientation of ``u`` (``u`` or ``1/u``: the gradients give
the line, not its sense) tried, the sparsest prefactors first."""

EXACT = 1e-20
"""Relative MSE of a one-variable fit on exact rows after which no other pair is tried."""

TRIM = 0.8
"""Part of the rows kept in each round of :func:`argument_direction`."""

MIN_ROWS = 50
"""Rows (with ``|y|`` not near zero) the gradients need."""


def log_gradients(sur: Surrogate, X: np.ndarray) -> np.ndarray:
    """``x_i·(∂f/∂x_i)/f`` of the surrogate ``f`` on rows ``X`` of shape ``(n, d)``, shape ``(n, d)``."""
    xt = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    out = sur.scale * sur.model(xt)[:, 0] - sur.offset
    (grad,) = torch.autograd.grad(out.sum(), xt)
    with torch.no_grad():
        return (xt * grad / out[:, None]).numpy()


def argument_direction(G: np.ndarray, keep: float = TRIM, rounds: int = 3) -> tuple[np.ndarray, float]:
    """The leading direction ``a`` (shape ``(d,)``, largest entry ``+1``) of the centred gradients
    ``G`` (shape ``(n, d)``) and the part of their sum of squares it carries, after ``rounds`` of
    dropping the rows farthest from the line (all but the ``keep`` part closest): a spline
    surrogate's gradients are off near its grid's ends and where it fits worst."""
    for _ in range(rounds + 1):
        C = G - G.mean(axis=0)
        _, s, vt = np.linalg.svd(C, full_matrices=False)
        total = float(np.sum(s**2))
        if total <= 0:
            return np.zeros(G.shape[1]), 0.0
        off = np.linalg.norm(C - np.outer(C @ vt[0], vt[0]), axis=1)
        G = G[off <= np.quantile(off, keep)]
    a = vt[0] / vt[0][np.argmax(np.abs(vt[0]))]
    return a, float(s[0] ** 2) / total


def small_integers(a: np.ndarray) -> Optional[np.ndarray]:
    """``a`` (largest entry 1) as the smallest integer vector it is a multiple of, within
    :data:`SNAP`; ``None`` when no multiplier up to :data:`MAX_MULTIPLIER` gives one."""
    for k in range(1, MAX_MULTIPLIER + 1):
        ka = k * a
        r = np.round(ka)
        if np.max(np.abs(ka - r)) <= SNAP:
            g = np.gcd.reduce(np.abs(r).astype(int))
            return r / max(int(g), 1)
    return None


def prefactors(mean: np.ndarray, a: np.ndarray, count: int = PREFACTORS) -> list[np.ndarray]:
    """Exponents of prefactors ``M`` for a mean gradient ``mean`` and argument ``a`` (both shape
    ``(d,)``): ``mean − t·a`` with ``t`` zeroing one entry of the argument's inputs, rounded to
    halves; the ``count`` sparsest distinct ones (fewest inputs, then smallest exponents)."""
    found = {}
    for i in np.flatnonzero(a):
        m = np.round(2 * (mean - mean[i] / a[i] * a)) / 2
        found[tuple(m)] = m
    ranked = sorted(found.values(), key=lambda m: (int(np.count_nonzero(m)), float(np.sum(np.abs(m)))))
    return ranked[:count]


def log_log_gradients(sur: Surrogate, Z: np.ndarray) -> np.ndarray:
    """``∂f/∂z_i`` of a surrogate ``f`` of ``log|y|`` on rows ``Z = log|X|`` of shape ``(n, d)``,
    shape ``(n, d)``: the same log-gradients as :func:`log_gradients`, read without a division."""
    zt = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad((sur.scale * sur.model(zt)[:, 0]).sum(), zt)
    return grad.numpy()


def _gradient_rows(ctx: Context, sur: Surrogate, log_log: bool = False) -> Optional[np.ndarray]:
    """The log-gradients on the rows where the surrogate is not near zero and all are finite
    (``log_log``: ``ctx`` holds ``log|x|`` and ``log|y|``, every row counts)."""
    rows = np.random.default_rng(ctx.seed).permutation(len(ctx.y))[:500]
    X = ctx.X[rows]
    if log_log:
        G = log_log_gradients(sur, X)
    else:
        vals = sur(X)
        keep = np.abs(vals) > 0.05 * float(np.median(np.abs(vals)))
        G = log_gradients(sur, X[keep])
    G = G[np.all(np.isfinite(G), axis=1)]
    return G if len(G) >= MIN_ROWS else None


def _surrogates(ctx: Context):
    """``(surrogate, its context, powers, log_log)``: the shared surrogate of ``y`` (powers zero);
    then one of ``log|y|`` against ``log|x|``, in which ``y = M·F(u)`` is a plane plus a function
    of one direction, whatever decades ``y`` spans (``log_log``); then one of ``y / Π|x_i|^{p_i}``
    with ``p`` the power-law fit (powers ``p``), whose values span far less when a power factor
    dominates (``ω³`` in Planck's law). Each is trained only when needed."""
    d = ctx.X.shape[1]
    yield cached_surrogate(ctx), ctx, np.zeros(d), False
    if ctx.remaining() > 2:
        with np.errstate(all="ignore"):
            sub = ctx.sub(np.log(np.abs(ctx.X)), np.log(np.abs(ctx.y)), ctx.names)
        yield fit_surrogate(sub), sub, np.zeros(d), True
    p = power_law_fit(ctx.X, ctx.y)[:-1]
    ratio = ctx.y / np.prod(np.abs(ctx.X) ** p, axis=1)
    if np.all(np.isfinite(ratio)) and ctx.remaining() > 2:
        sub = ctx.sub(ctx.X, ratio, ctx.names)
        yield fit_surrogate(sub), sub, p, False


def read_argument(ctx: Context) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """The argument's integer exponents (shape ``(d,)``) and the mean log-gradient of ``y`` (shape
    ``(d,)``), from the first surrogate of :func:`_surrogates` whose gradients lie on a line;
    ``None`` when neither's do."""
    for sur, sub, powers, log_log in _surrogates(ctx):
        log.debug("argument: surrogate%s error %.2g", " of log|y|" if log_log else "", sur.rel_rmse)
        if not math.isfinite(sur.rel_rmse) or sur.rel_rmse > MAX_SURROGATE_ERROR:
            continue
        G = _gradient_rows(sub, sur, log_log)
        if G is None:
            continue
        G = G + powers
        a, carried = argument_direction(G)
        ints = small_integers(a) if carried >= MIN_SHARE else None
        log.debug(
            "argument: direction %s carries %.4f of the gradients' spread",
            np.round(a, 3),
            carried,
        )
        if ints is not None and np.count_nonzero(ints) >= 2:  # one input alone: the splits' business
            return ints, G.mean(axis=0)
    return None


def argument(ctx: Context, share: float = 0.5) -> list[sympy.Expr]:
    """Candidates ``M(x)·F(u)`` (module doc) for the context's rows, within ``share`` of the time
    left, or, where the surrogates took most of that, within :data:`AFTER_SURROGATES` of
    ``share`` of the time left after them.

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
        Rows ``X`` of shape ``(n, d)`` (no input zero), target ``y`` of shape ``(n,)`` of one sign.

    Returns
    -------
    list of sympy.Expr
    """
    X, y = ctx.X, ctx.y
    if X.shape[1] < 2 or np.any(X == 0) or not one_sign(y) or ctx.remaining() < 2:
        return []
    end = time.monotonic() + share * ctx.remaining()
    found = read_argument(ctx)
    if found is None:
        return []
    end = max(end, time.monotonic() + AFTER_SURROGATES * share * ctx.remaining())
    ints, mean = found
    problems = []
    for powers, sense in _pairs(mean, ints):
        target = divided_by_monomial(X, y, powers)
        u = np.prod(X ** (sense * ints), axis=1)
        if np.all(np.isfinite(target)) and np.all(np.isfinite(u)):
            problems.append((half_monomial(ctx.symbols, powers), half_monomial(ctx.symbols, sense * ints), u, target))
    out = []
    # every pair gets the cheap search before any gets the dearer ones
    for search in ONE_VARIABLE:
        for k, (M_sym, u_sym, u, target) in enumerate(problems):
            left = end - time.monotonic()
            if left <= 0:
                return out
            sub = ctx.sub(u[:, None], target, ["u"], deadline=time.monotonic() + left / (len(problems) - k))
            log.debug("argument: %s of y / %s as a function of %s", search.__name__, M_sym, u_sym)
            fits = search(sub)[:4]
            out += [M_sym * f.subs(sympy.Symbol("u"), u_sym) for f in fits]
            if any(_exact(sub, f) for f in fits[:2]):
                return out
    return out


AFTER_SURROGATES = 0.5
"""The share of :func:`argument`'s own share of the time left after the surrogates are read that
its one-variable problems get at least. Its surrogates (shared with the other strategies) can take
most of the share: 13 s of Planck's law's 30 s on a slow machine, which left the one-variable
problems about 1 s."""


def _pairs(mean: np.ndarray, ints: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """``(prefactor exponents, sense)`` pairs in the order tried: the sparsest prefactors of
    :func:`prefactors`, each with ``u`` and with ``1/u``, the first :data:`PREFACTORS`."""
    return [(m, sense) for m in prefactors(mean, ints) for sense in (1, -1)][:PREFACTORS]


def _enumerated(sub: Context) -> list[sympy.Expr]:
    return enumerate_strategy(sub, share=0.5)


ONE_VARIABLE = (univariate, transformed, _enumerated)
"""The searches run on each one-variable problem, in order: every pair gets the cheap search before
any gets a dearer one, and the first fit that reproduces its rows (:func:`_exact`) ends it."""


def _exact(sub: Context, fit: sympy.Expr) -> bool:
    """Whether ``fit`` reproduces the rows to round-off (on noisy rows: to the noise)."""
    return sub.refit(fit)[1] <= (sub.floor if sub.noisy else EXACT)
