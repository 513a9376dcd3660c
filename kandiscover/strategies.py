"""Candidate generators of the discovery pipeline.

Each strategy takes a :class:`Context` (training rows, names, seed, deadline) and returns raw
candidate formulas (sympy, constants not yet polished). They are ordered from cheap and specific to
expensive and general:

``monomial``
    The log-space pass: with positive inputs and a target of one sign, ``log|y|`` is fitted by a
    ``[d, 1]`` KAN whose edges are the identity on ``log x_i`` — a linear least-squares problem,
    solved in closed form. Monomials such as ``G·m1·m2/r²`` come out directly.
``additive``
    A ``[d, 1]`` KAN on the raw inputs: ``y = Σ g_i(x_i)``, edges matched to the library.
``multiplicative``
    A ``[d, 1]`` KAN on ``log|y|``: ``y = s·Π exp(φ_i(x_i))``; each factor ``exp(φ_i)`` is matched
    to the library (so ``x·sin(θ)`` is found as two factors).
``rational``
    Sparse polynomials and quotients of polynomials by linear least squares
    (:mod:`kandiscover.rational`): ``k·x²/2 + m·g·h``, ``(x − y)/(1 + x·y)``.
``kan``
    General KANs with a hidden layer and multiplication nodes, trained with sparsity, pruned,
    every composition of the top edge matches refitted (:mod:`kandiscover.symbolic.compose`).
"""
from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import sympy
import torch

from .kan import KAN
from .rational import rational
from .result import complexity
from .symbolic.assemble import affine_expression
from .symbolic.compose import compose_candidates
from .symbolic.fit import fit_affine
from .symbolic.library import Library, default_library
from .symbolic.refit import mse, refit_with_loss

log = logging.getLogger("kandiscover")

__all__ = ["Context", "STRATEGIES", "monomial", "additive", "multiplicative", "kan_strategy"]


@dataclass
class Context:
    """What a strategy works from.

    Attributes
    ----------
    X : ndarray, shape ``(n, d)``
        Training inputs.
    y : ndarray, shape ``(n,)``
        Training target.
    names : list of str
    seed : int
    deadline : float
        ``time.monotonic()`` value after which strategies stop.
    lib : Library
    models : list
        Trained KANs, kept for the report (name, model) — the last one drawn is shown.
    """

    X: np.ndarray
    y: np.ndarray
    names: list
    seed: int
    deadline: float
    lib: Library = field(default_factory=default_library)
    models: list = field(default_factory=list)
    floor: float = 1e-7
    """Relative MSE that counts as solved (raised for data read off a surrogate)."""
    _refits: dict = field(default_factory=dict, repr=False)

    @property
    def symbols(self) -> list:
        return [sympy.Symbol(n) for n in self.names]

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def sub(self, X: np.ndarray, y: np.ndarray, names: list, floor: Optional[float] = None,
            deadline: Optional[float] = None) -> "Context":
        """A smaller problem with the same seed and library (and deadline, unless an earlier one
        is given)."""
        end = self.deadline if deadline is None else min(deadline, self.deadline)
        return Context(X, y, list(names), self.seed, end, self.lib, self.models, self.floor if floor is None else floor)

    def refit(self, expr: sympy.Expr) -> tuple[sympy.Expr, float]:
        """``expr`` with its constants refitted on this context's rows, and its relative MSE.

        Past the deadline only the loss is computed (a refit of a large expression can take
        seconds). Results are remembered, for the input and the refitted expression alike: a
        candidate is scored by every level of the search that passes it on.
        """
        hit = self._refits.get(expr)
        if hit is not None:
            return hit
        cols = {n: self.X[:, k] for k, n in enumerate(self.names)}
        if self.remaining() > 0:
            refit, err = refit_with_loss(expr, cols, self.y, deadline=self.deadline + 1.0)
        else:
            refit, err = expr, mse(expr, cols, self.y)
        out = self._refits[expr] = self._refits[refit] = (refit, err / (float(np.var(self.y)) or 1e-300))
        return out

    def dataset(self, target: np.ndarray, x: Optional[np.ndarray] = None, val_frac: float = 0.2) -> dict:
        """A KAN dataset dict from training rows (a seeded slice serves as the KAN's test set)."""
        x = self.X if x is None else x
        n = len(x)
        order = np.random.default_rng(self.seed).permutation(n)
        cut = max(1, int(n * (1 - val_frac)))
        t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
        tr, te = order[:cut], order[cut:] if cut < n else order[:1]
        return dict(train_input=t(x[tr]), train_label=t(target[tr, None]), test_input=t(x[te]), test_label=t(target[te, None]))


def _stop_at(deadline: float) -> Callable:
    return lambda step, model, logs: time.monotonic() > deadline


def _one_sign(y: np.ndarray) -> int:
    if np.all(y > 0):
        return 1
    if np.all(y < 0):
        return -1
    return 0


def monomial(ctx: Context) -> list[sympy.Expr]:
    """``y = s·C·Π x_i^{p_i}`` from a linear fit of ``log|y|`` on ``log|x|`` (see module doc).

    Inputs of either sign are allowed (``k·x²/2`` with ``x`` in ``[-1, 1]``); a power that is not
    an integer then leaves a formula that is not real on part of the data and loses on validation.
    """
    sign = _one_sign(ctx.y)
    if not sign or np.any(ctx.X == 0):
        return []
    A = np.column_stack([np.log(np.abs(ctx.X)), np.ones(len(ctx.X))])
    coef, *_ = np.linalg.lstsq(A, np.log(np.abs(ctx.y)), rcond=None)
    out = []
    halves = np.round(2 * coef[:-1]) / 2
    tol = 0.05 if ctx.floor <= 1e-6 else 0.15  # data read off a surrogate is rougher
    if np.all(np.abs(coef[:-1] - halves) < tol) and np.any(np.abs(coef[:-1] - halves) > 1e-9):
        # exponents near half-integers: the rounded monomial, constant refitted (read-off parts
        # are only approximately monomials; the rounded one is what the real rows will confirm)
        c = float(np.mean(np.log(np.abs(ctx.y)) - np.log(np.abs(ctx.X)) @ halves))
        out.append(sign * sympy.Float(math.exp(c)) * sympy.Mul(
            *(s ** sympy.Rational(int(round(2 * p)), 2) for s, p in zip(ctx.symbols, halves))))
    expr = sign * sympy.Float(math.exp(coef[-1]))
    for k, (s, p) in enumerate(zip(ctx.symbols, coef[:-1])):
        if np.any(ctx.X[:, k] < 0):
            p = round(p) if abs(p - round(p)) < 0.05 else p
            expr *= s ** (sympy.Integer(p) if isinstance(p, int) else sympy.Float(p))
        else:
            expr *= s ** sympy.Float(p)
    return out + [expr]


def offset_monomial(ctx: Context) -> list[sympy.Expr]:
    """``y = c₀ + C·Π x_i^{p_i}``: the monomial pass with the offset ``c₀`` found by a 1-D search
    (the parts of an additive split carry such offsets)."""
    if np.any(ctx.X == 0):
        return []
    from scipy.optimize import minimize_scalar

    A = np.column_stack([np.log(np.abs(ctx.X)), np.ones(len(ctx.X))])
    span = float(np.ptp(ctx.y)) or 1.0
    best = None
    for sign, edge in ((1, float(ctx.y.min())), (-1, float(ctx.y.max()))):
        def loss(t):
            r = sign * (ctx.y - (edge - sign * span * math.exp(t)))
            coef, *_ = np.linalg.lstsq(A, np.log(r), rcond=None)
            return float(np.mean((A @ coef - np.log(r)) ** 2)), coef

        sol = minimize_scalar(lambda t: loss(t)[0], bounds=(-30, 4), method="bounded", options={"xatol": 1e-6})
        err, coef = loss(sol.x)
        if best is None or err < best[0]:
            best = (err, coef, edge - sign * span * math.exp(sol.x), sign)
    _, coef, c0, sign = best
    scale = sign * math.exp(coef[-1])
    if np.all(np.abs(coef[:-1]) < 0.02):  # C·Π x^p with p → 0 is c + C·Σ p·log x: say so
        return [sympy.Float(c0 + scale) + sum(sympy.Float(scale * p) * sympy.log(s) for s, p in zip(ctx.symbols, coef[:-1]))]
    expr = sympy.Float(c0) + sympy.Float(scale) * sympy.Mul(*(s ** sympy.Float(p) for s, p in zip(ctx.symbols, coef[:-1])))
    return [expr]


def linear(ctx: Context) -> list[sympy.Expr]:
    """``y = a + Σ b_i·x_i`` by least squares (parts such as ``T₂ − T₁`` read off a surrogate)."""
    A = np.column_stack([ctx.X, np.ones(len(ctx.X))])
    coef, *_ = np.linalg.lstsq(A, ctx.y, rcond=None)
    return [sympy.Float(coef[-1]) + sum(sympy.Float(c) * s for c, s in zip(coef[:-1], ctx.symbols))]


def exp_offset_monomial(ctx: Context) -> list[sympy.Expr]:
    """``y = ±exp(c₀ + C·Π x_i^{p_i})``: :func:`offset_monomial` on ``log|y|`` (Boltzmann factors
    such as ``n₀·exp(−m·g·x/(k·T))``, decays ``a·exp(−b·t)``)."""
    sign = _one_sign(ctx.y)
    if not sign:
        return []
    inner = offset_monomial(ctx.sub(ctx.X, np.log(np.abs(ctx.y)), ctx.names))
    return [sign * sympy.exp(e) for e in inner]


def _sum_expr(model: KAN, ctx: Context, target: np.ndarray, topk: int = 3, max_combos: int = 32) -> list[sympy.Expr]:
    comps = compose_candidates(model, ctx.X, target, ctx.names, lib=ctx.lib, topk=topk,
                               max_combos=max_combos, deadline=ctx.deadline)
    return [c.expr for c in comps[:4]]


def _fit_kan(ctx: Context, width, target: np.ndarray, *, steps: int = 40, lamb: float = 0.0, grid: int = 5,
             mult_arity=2, seed: Optional[int] = None) -> KAN:
    ds = ctx.dataset(target)
    model = KAN(width, grid=grid, seed=ctx.seed if seed is None else seed, mult_arity=mult_arity)
    stop = [_stop_at(ctx.deadline)]
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
    model = _fit_kan(ctx, [len(ctx.names), 1], ctx.y / scale, grid=10)
    if not model.rel_rmse_ <= STRUCTURE_RTOL:
        return []
    ctx.models.append(("additive", model))
    return [scale * e for e in _sum_expr(model, ctx, ctx.y / scale)]


def multiplicative(ctx: Context, topk: int = 2, max_combos: int = 8) -> list[sympy.Expr]:
    """``y = s·Π g_i(x_i)``: a ``[d, 1]`` KAN on ``log|y|``; each factor matched to the library."""
    sign = _one_sign(ctx.y)
    if not sign or len(ctx.names) < 2:
        return []
    logy = np.log(np.abs(ctx.y))
    model = _fit_kan(ctx, [len(ctx.names), 1], logy, grid=10)
    if not model.rel_rmse_ <= STRUCTURE_RTOL:
        return []
    ctx.models.append(("multiplicative", model))
    x = torch.tensor(ctx.X, dtype=torch.float64)
    with torch.no_grad():
        edges = model.edge_activations(x)[0][:, 0, :]  # (n, d)
    per_factor = []
    for i in range(len(ctx.names)):
        fits = fit_affine(x[:, i], torch.exp(edges[:, i] - edges[:, i].mean()), ctx.lib)
        per_factor.append([f for f in fits[:topk] if f.r2 > 0.99] or fits[:1])
    out = []
    for combo in itertools.islice(itertools.product(*per_factor), max_combos):
        expr = sympy.Float(sign * math.exp(float(edges.mean(0).sum() + model.layers[0].bias[0].detach())))
        for s, f in zip(ctx.symbols, combo):
            expr *= affine_expression(ctx.lib[f.name], f.affine, s)
        out.append(expr)
        if time.monotonic() > ctx.deadline:
            break
    return out


def kan_strategy(ctx: Context, width, *, lamb: float = 0.002, seed: Optional[int] = None, mult_arity=2) -> list[sympy.Expr]:
    """General KAN of the given ``width``: sparse fit, prune, LM, composed edge matches."""
    scale = float(np.sqrt(np.mean(ctx.y**2))) or 1.0
    model = _fit_kan(ctx, width, ctx.y / scale, lamb=lamb, seed=seed, mult_arity=mult_arity)
    ctx.models.append((f"kan{width}", model))
    return [scale * e for e in _sum_expr(model, ctx, ctx.y / scale)]


def solve(ctx: Context, depth: int = 0, keep: int = 8) -> list[sympy.Expr]:
    """Best candidates for a (sub)problem: cheap strategies, then splitting, then a general KAN.

    Returns up to ``keep`` refitted expressions, best first; stops at the first stage whose best
    candidate reaches the context's ``floor`` (relative MSE).
    """
    from .decompose import split_strategy
    from .univariate import univariate

    d = len(ctx.names)
    if d == 1:  # the one-variable search covers what a small KAN would find
        stages = [monomial, univariate, offset_monomial]
    else:
        stages = [monomial, linear, offset_monomial, exp_offset_monomial, multiplicative, additive]
        if depth < 4:
            stages.append(lambda c: split_strategy(c, solve, depth))
        if d <= 3:
            stages.append(lambda c: kan_strategy(c, [d, 1, 1]))
        stages.append(lambda c: kan_strategy(c, [d, [min(d, 2), 1], 1]))
    found: list[tuple[float, sympy.Expr]] = []
    for stage in stages:
        if ctx.remaining() <= 0:
            break
        t0 = time.monotonic()
        try:
            raw = stage(ctx)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            log.debug("sub-strategy failed: %s", exc)
            continue
        log.debug("depth %d %s: %d candidates in %.1f s (%.1f s left)", depth, getattr(stage, "__name__", "stage"),
                  len(raw), time.monotonic() - t0, ctx.remaining())
        for e in raw:
            if not e.has(sympy.zoo, sympy.nan):
                refit, loss = ctx.refit(e)
                if math.isfinite(loss):
                    found.append((loss, refit))
        # below the floor the data cannot tell candidates apart: the simpler one ranks first
        found.sort(key=lambda t: (max(t[0], ctx.floor), complexity(t[1])))
        if found and found[0][0] <= ctx.floor:
            break
    return [e for _, e in found[:keep]]


def split(ctx: Context) -> list[sympy.Expr]:
    """Symmetry reduction and separation on a surrogate KAN (:mod:`kandiscover.decompose`)."""
    from .decompose import split_strategy

    return split_strategy(ctx, solve, 0)


def default_plan(d: int) -> list[tuple[str, Callable[[Context], list]]]:
    """Strategies tried in order for ``d`` inputs."""
    plan = [("monomial", monomial), ("exp-monomial", exp_offset_monomial), ("multiplicative", multiplicative),
            ("additive", additive), ("rational", rational)]
    if d >= 2:
        plan.append(("split", split))
    plan.append(("kan-1", lambda ctx: kan_strategy(ctx, [d, 1, 1])))
    plan.append(("kan-mult", lambda ctx: kan_strategy(ctx, [d, [min(d, 2), 1], 1] if d > 1 else [1, 2, 1])))
    plan.append(("kan-sum", lambda ctx: kan_strategy(ctx, [d, d + 1, 1])))
    for s in (1, 2):
        plan.append((f"kan-mult-s{s}", lambda ctx, s=s: kan_strategy(ctx, [d, [min(d, 2), 2], 1], seed=ctx.seed + s)))
        plan.append((f"kan-deep-s{s}", lambda ctx, s=s: kan_strategy(ctx, [d, d + 1, 2, 1], seed=ctx.seed + s)))
    return plan


STRATEGIES = ("monomial", "multiplicative", "additive", "rational", "split", "kan-mult", "kan-sum")
