"""KAN strategies: a KAN trained on the rows, its edges matched to the library and composed.

``additive``
    A ``[d, 1]`` KAN on the raw inputs: ``y = Σ g_i(x_i)``, edges matched to the library.
``multiplicative``
    A ``[d, 1]`` KAN on ``log|y|``: ``y = s·Π exp(φ_i(x_i))``; each factor ``exp(φ_i)`` is matched
    to the library (so ``x·sin(θ)`` is found as two factors).
``kan_strategy``
    General KANs with a hidden layer and multiplication nodes, trained with sparsity, pruned,
    every composition of the top edge matches refitted (:mod:`kandiscover.symbolic.compose`).
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Optional

import numpy as np
import sympy
import torch

from ..model import KAN
from ..symbolic.assemble import affine_expression
from ..symbolic.compose import compose_candidates
from ..symbolic.fit import fit_affine
from ..symbolic.export import to_numpy
from .context import Context, one_sign, stop_at
from .univariate import COMPLEXITY_WEIGHT, univariate

__all__ = ["additive", "multiplicative", "kan_strategy", "fit_kan", "composed_edges", "STRUCTURE_RTOL"]


def composed_edges(
    model: KAN, ctx: Context, target: np.ndarray, topk: int = 3, max_combos: int = 32
) -> list[sympy.Expr]:
    """The four best compositions of every edge's ``topk`` library matches, refitted on the rows
    (:func:`kandiscover.symbolic.compose.compose_candidates`); ``target`` has shape ``(n,)``."""
    comps = compose_candidates(
        model, ctx.X, target, ctx.names, lib=ctx.lib, topk=topk, max_combos=max_combos, deadline=ctx.deadline
    )
    return [c.expr for c in comps[:4]]


def fit_kan(
    ctx: Context,
    width,
    target: np.ndarray,
    *,
    steps: int = 40,
    lamb: float = 0.0,
    grid: int = 5,
    mult_arity=2,
    seed: Optional[int] = None,
) -> KAN:
    """A KAN of ``width`` trained on the context's rows against ``target`` (shape ``(n,)``): with
    ``lamb > 0`` a sparse LBFGS fit and pruning first, then Levenberg–Marquardt, both stopped at
    the deadline. The model carries ``train_input_`` and ``rel_rmse_`` (held-out RMSE relative to
    the target's standard deviation)."""
    ds = ctx.dataset(target)
    model = KAN(width, grid=grid, seed=ctx.seed if seed is None else seed, mult_arity=mult_arity)
    stop = [stop_at(ctx.deadline)]
    if lamb > 0:
        model.fit(ds, opt="LBFGS", steps=max(10, steps // 2), lamb=lamb, progress=False, callbacks=stop)
        model = model.prune()
    hist = model.fit(ds, opt="LM", steps=steps, progress=False, callbacks=stop)
    model.train_input_ = torch.tensor(ctx.X, dtype=torch.float64)
    model.rel_rmse_ = hist["test_loss"][-1] / (float(np.std(target)) or 1.0) if hist["test_loss"] else math.inf
    return model


STRUCTURE_RTOL = 0.05
"""A ``[d, 1]`` KAN that misses the target by more than this (relative RMSE) means the assumed
structure (sum or product of one-variable functions) does not hold; the strategy gives up."""


def additive(ctx: Context) -> list[sympy.Expr]:
    """``y = Σ g_i(x_i)``: a ``[d, 1]`` KAN, edges matched to the library."""
    scale = float(np.sqrt(np.mean(ctx.y**2))) or 1.0
    model = fit_kan(ctx, [len(ctx.names), 1], ctx.y / scale, grid=10)
    if not model.rel_rmse_ <= STRUCTURE_RTOL:
        return []
    ctx.models.append(("additive", model))
    return [scale * e for e in composed_edges(model, ctx, ctx.y / scale)]


def multiplicative(ctx: Context, topk: int = 2, max_combos: int = 8) -> list[sympy.Expr]:
    """``y = s·Π g_i(x_i)``: a ``[d, 1]`` KAN on ``log|y|``; each factor matched to the library.
    On noisy rows the KAN learns from the rows clear of the noise (:meth:`Context.clear_of_noise`)."""
    ctx = ctx.clear_of_noise()
    sign = one_sign(ctx.y)
    if not sign or len(ctx.names) < 2:
        return []
    logy = np.log(np.abs(ctx.y))
    model = fit_kan(ctx, [len(ctx.names), 1], logy, grid=10)
    if not model.rel_rmse_ <= STRUCTURE_RTOL:
        return []
    ctx.models.append(("multiplicative", model))
    x = torch.tensor(ctx.X, dtype=torch.float64)
    with torch.no_grad():
        edges = model.edge_activations(x)[0][:, 0, :]  # (n, d)
    rows = np.random.default_rng(ctx.seed).permutation(len(ctx.y))[:FACTOR_ROWS]
    budget = [SEARCH_SECONDS]  # seconds for the one-variable searches of all factors together
    per_factor = [
        factor_matches(x[:, i], torch.exp(edges[:, i] - edges[:, i].mean()), ctx, s, rows, topk, budget)
        for i, s in enumerate(ctx.symbols)
    ]
    out = []
    for combo in itertools.islice(itertools.product(*per_factor), max_combos):
        expr = sympy.Float(sign * math.exp(float(edges.mean(0).sum() + model.layers[0].bias[0].detach())))
        for factor in combo:
            expr *= factor
        out.append(expr)
        if time.monotonic() > ctx.deadline:
            break
    return out


FACTOR_POWERS = (-1, 2, -2, 3, -3, 4, -4)
"""Powers ``p`` of a factor ``(c·f(a·x + b) + d)^p`` tried when no plain library match reproduces
it (Rutherford's ``1/sin⁴(θ/2)``)."""

FACTOR_ROWS = 300
"""Rows (a seeded subset) on which the powered matches are fitted."""

POWERED_ERROR = 1e-7
"""Largest mean squared relative error on the factor of a powered match: the law's power
reproduces the KAN's factor to ``1e-10`` on exact rows, while a power of the wrong function merely
bends the factor closer (``1e-5``) — in a law that is not a product, such fits lead the refit
astray."""

PLAIN_ENOUGH = 1e-5
"""``1 − R²`` of a factor's best plain match below which no power is tried. On noisy rows
(:attr:`Context.noisy`) no power is tried at all: no plain match reaches this there, so the seven
powers were fitted for every factor of every product KAN (about 2 s a factor: 6.4 s of I.10.7's
30 s at 1 % noise), and the KAN's factor of a noisy law is not close enough to the law's for
:data:`POWERED_ERROR` to tell a law's power from a wrong function bent closer."""


def factor_matches(
    x: torch.Tensor,
    g: torch.Tensor,
    ctx: Context,
    s: sympy.Symbol,
    rows,
    topk: int,
    search_budget: Optional[list] = None,
) -> list:
    """Library matches of one positive factor ``g(x)`` (both of shape ``(n,)``): the plain fits
    ``c·f(a·x + b) + d`` and, when none reproduces ``g`` to :data:`PLAIN_ENOUGH` on exact rows,
    powers of a match fitted to ``g^(1/p)`` on ``rows`` that reproduce ``g`` to :data:`POWERED_ERROR`; at most
    ``topk`` of them, best first by relative error on ``g`` plus
    :data:`kandiscover.search.univariate.COMPLEXITY_WEIGHT` decades per unit of complexity (a
    power costs one). Where neither reproduces ``g`` so on exact rows (a plain match within
    :data:`PLAIN_ENOUGH` whose error is above :data:`STAND_IN_ERROR` is a stand-in, ``cosh`` for
    ``1/√(1 − u²)``), the one-variable search's fits that do (:func:`_searched_matches`, for the
    seconds left in ``search_budget``, a one-element list the search draws on; a budget of
    :data:`SEARCH_SECONDS` by default) come first."""
    budget = [SEARCH_SECONDS] if search_budget is None else search_budget
    fits = fit_affine(x, g, ctx.lib)
    plain = [f for f in fits[:topk] if f.r2 > 0.99] or fits[:1]
    plain_matches = [affine_expression(ctx.lib[f.name], f.affine, s) for f in plain]
    if not plain or ctx.noisy:
        return plain_matches
    xs, gs = x[rows], g[rows]
    if 1 - plain[0].r2 <= PLAIN_ENOUGH:
        if _factor_error(ctx, plain[0], 1, xs, gs) <= STAND_IN_ERROR:
            return plain_matches
        return (_searched_matches(ctx, xs, gs, s, budget) + plain_matches)[:topk]  # a stand-in (cosh for 1/√(1 − u²))
    scored = [(_factor_error(ctx, f, 1, xs, gs), f.complexity, f, 1) for f in plain]
    for p in FACTOR_POWERS:
        if ctx.remaining() <= 0:
            break
        for f in fit_affine(xs, gs ** (1.0 / p), ctx.lib, refine_top=3)[:2]:
            err = _factor_error(ctx, f, p, xs, gs) if f.name not in ("0", "x") and np.isfinite(f.r2) else math.inf
            if err <= POWERED_ERROR:
                scored.append((err, f.complexity + 1, f, p))
    scored.sort(key=lambda t: float(np.log10(t[0] + ctx.floor)) + COMPLEXITY_WEIGHT * t[1])
    matches = [affine_expression(ctx.lib[f.name], f.affine, s) ** p for _, _, f, p in scored[:topk]]
    if scored[0][0] > STAND_IN_ERROR:  # no library function nor power of one: the one-variable search
        matches = (_searched_matches(ctx, xs, gs, s, budget) + matches)[:topk]
    return matches


STAND_IN_ERROR = 1e-8
"""Largest mean squared relative error of a factor's best match (plain, or powered where no plain
one is within :data:`PLAIN_ENOUGH`) that is taken for the law's function without asking the
one-variable search: the law's function
reproduces a product KAN's factor to about ``1e-10`` and better (``1e-13`` for ``1 − a``; ``2e-9``
for ``1 − t·u/x`` in I.15.3x with units), while ``0.058·cosh(3.69·b + 0.081) + 0.872`` stands in
for ``1/√(1 − b²)`` on ``[0.05, 0.6]`` to ``3.5e-8``."""

SEARCH_SECONDS = 1.5
"""Most seconds the one-variable searches may take on the factors of one product KAN together
(:func:`_searched_matches`): 2 s for each factor made ``multiplicative`` take 8 s and
``direct-multiplicative`` 14 s of test_9's budget with units, and the strategies after them found
nothing in the time left."""


def _searched_matches(ctx: Context, x: torch.Tensor, g: torch.Tensor, s: sympy.Symbol, budget: list) -> list:
    """The one-variable search's fits of a factor ``g(x)`` (both of shape ``(m,)``) that reproduce
    it to :data:`POWERED_ERROR`, best first: forms with an inner function under a library function
    or a power, which no affine match has (``1/√(1 − u²)`` of ``(x − u·t)/√(1 − u²/c²)`` with units),
    for the seconds left in ``budget`` (a one-element list, reduced by the time taken)."""
    if ctx.remaining() <= 0.5 or budget[0] < 0.2:
        return []
    start = time.monotonic()
    xv, gv = x.numpy(), g.numpy()
    sub = ctx.sub(xv[:, None], gv, [s.name], deadline=start + budget[0])
    fits = univariate(sub, top=4)
    budget[0] -= time.monotonic() - start
    out = []
    for expr in fits:
        with np.errstate(all="ignore"):
            pred = np.broadcast_to(np.asarray(to_numpy(expr, [s.name])(xv[:, None]), dtype=float), gv.shape)
            err = float(np.mean((pred / gv - 1.0) ** 2))
        if np.isfinite(err) and err <= POWERED_ERROR:
            out.append(expr)
    return out


def _factor_error(ctx: Context, f, p: int, x: torch.Tensor, g: torch.Tensor) -> float:
    """Mean squared relative error of the match ``(c·f(a·x + b) + d)^p`` on ``g`` (``inf`` where
    it is not finite)."""
    prim = ctx.lib[f.name]
    with np.errstate(all="ignore"):
        pred = (f.c * prim.numpy_fn(f.a * x.numpy() + f.b) + f.d) ** float(p)
        err = float(np.mean((pred / g.numpy() - 1.0) ** 2))
    return err if np.isfinite(err) else math.inf


def kan_strategy(
    ctx: Context, width, *, lamb: float = 0.002, seed: Optional[int] = None, mult_arity=2
) -> list[sympy.Expr]:
    """General KAN of the given ``width``: sparse fit, prune, LM, composed edge matches."""
    scale = float(np.sqrt(np.mean(ctx.y**2))) or 1.0
    model = fit_kan(ctx, width, ctx.y / scale, lamb=lamb, seed=seed, mult_arity=mult_arity)
    ctx.models.append((f"kan{width}", model))
    return [scale * e for e in composed_edges(model, ctx, ctx.y / scale)]
