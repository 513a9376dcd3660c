"""Splitting a problem with a trained KAN as a differentiable surrogate (as AI Feynman does with a
neural network).

A general KAN is fitted to the data; on it we test

* **translational symmetry** of a pair: ``f(…, x_i + δ, …, x_j + δ, …) = f(x)`` → only
  ``x_i − x_j`` matters; **scaling symmetry**: ``f(…, λx_i, …, λx_j, …) = f(x)`` → only
  ``x_i / x_j``. The pair is replaced by one new variable computed from the *real* rows, and the
  smaller problem is solved;
* **additive / multiplicative separability**: with ``D = f(a', b') − f(a', b) − f(a, b') + f(a, b)``
  (or the same on ``log|f|``) near zero for every pair across two groups, ``f = g(a) + h(b)``
  (or ``g(a)·h(b)``). Each group's function is read off the surrogate with the other group held at
  a typical row, solved as its own problem, and the parts are recombined and refitted on the real
  rows.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Callable, Optional

import numpy as np
import sympy
import torch

from .kan import KAN
from .symbolic.export import to_numpy
from .symbolic.refit import refit_with_loss

log = logging.getLogger("kandiscover")

__all__ = ["Surrogate", "fit_surrogate", "separability", "symmetries", "split_strategy"]


class Surrogate:
    """A trained KAN with the target scale, evaluated on numpy rows.

    Attributes
    ----------
    model : KAN
    rel_rmse : float
        Held-out RMSE relative to the target's standard deviation.
    """

    def __init__(self, model: KAN, scale: float, rel_rmse: float) -> None:
        self.model, self.scale, self.rel_rmse = model, scale, rel_rmse

    def __call__(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.scale * self.model(torch.tensor(X, dtype=torch.float64))[:, 0].numpy()


def fit_surrogate(ctx, max_rows: int = 1000, steps: int = 50) -> Surrogate:
    """Fit a ``[d, d+1, 1]`` KAN (Levenberg–Marquardt) to the context's rows."""
    d = len(ctx.names)
    rows = np.random.default_rng(ctx.seed).permutation(len(ctx.y))[:max_rows]
    scale = float(np.std(ctx.y)) or 1.0
    ds = ctx.dataset(ctx.y[rows] / scale, x=ctx.X[rows])
    model = KAN([d, d + 1, 1], grid=5, seed=ctx.seed)
    stop = [lambda step, m, logs: time.monotonic() > ctx.deadline]
    hist = model.fit(ds, opt="LM", steps=steps, progress=False, callbacks=stop)
    return Surrogate(model, scale, float(hist["test_loss"][-1]) if hist["test_loss"] else math.inf)


def _pairs_stat(f: Callable, X: np.ndarray, transform, rng, m: int = 256) -> np.ndarray:
    """RMS of the mixed difference for every pair of columns, relative to the geometric mean of
    the two columns' own effects (so a weak pair is judged on its own scale, not the target's)."""
    n, d = X.shape
    a = X[rng.integers(0, n, m)]
    b = X[rng.integers(0, n, m)]
    base = transform(f(a))
    spread = float(np.std(base)) + 1e-300
    stat = np.zeros((d, d))
    single = []
    for i in range(d):
        ai = a.copy()
        ai[:, i] = b[:, i]
        single.append(transform(f(ai)))
    effect = [float(np.sqrt(np.nanmean((s - base) ** 2))) + 1e-12 * spread for s in single]
    for i in range(d):
        for j in range(i + 1, d):
            both = a.copy()
            both[:, [i, j]] = b[:, [i, j]]
            diff = transform(f(both)) - single[i] - single[j] + base
            stat[i, j] = stat[j, i] = float(np.sqrt(np.nanmean(diff**2))) / np.sqrt(effect[i] * effect[j])
    return stat


def _groups(stat: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected components of the graph linking non-separable pairs."""
    d = len(stat)
    parent = list(range(d))

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i in range(d):
        for j in range(i + 1, d):
            if stat[i, j] > threshold:
                parent[find(i)] = find(j)
    comps: dict[int, list[int]] = {}
    for k in range(d):
        comps.setdefault(find(k), []).append(k)
    return sorted(comps.values())


def separability(sur: Surrogate, X: np.ndarray, kind: str, seed: int = 0) -> list[list[int]]:
    """Groups of columns that separate additively (``kind="add"``) or multiplicatively."""
    vals = sur(X)
    if kind == "mul":
        if not (np.all(vals > 0) or np.all(vals < 0)):
            return [list(range(X.shape[1]))]
        transform = lambda v: np.log(np.abs(v))  # noqa: E731
    else:
        transform = lambda v: v  # noqa: E731
    stat = _pairs_stat(sur, X, transform, np.random.default_rng(seed))
    threshold = max(0.02, 8 * sur.rel_rmse)
    return _groups(stat, threshold)


def symmetries(sur: Surrogate, X: np.ndarray, seed: int = 0) -> list[tuple[float, int, int, str]]:
    """Candidate pair symmetries ``(statistic, i, j, "minus" | "div")``, most convincing first."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    lo, hi = X.min(0), X.max(0)
    rows = X[rng.integers(0, n, 256)]
    base = sur(rows)
    spread = float(np.std(sur(X))) + 1e-300
    found = []
    for i in range(d):
        for j in range(d):
            if i == j:
                continue
            delta = 0.2 * min(hi[i] - lo[i], hi[j] - lo[j])
            moved = rows.copy()
            moved[:, [i, j]] += delta
            only = rows.copy()
            only[:, i] += delta
            sens = float(np.sqrt(np.mean((sur(only) - base) ** 2))) / spread
            stat = float(np.sqrt(np.mean((sur(moved) - base) ** 2))) / spread
            if i < j and sens > 0.05 and stat < max(0.01, 4 * sur.rel_rmse):
                found.append((stat / sens, i, j, "minus"))
            if np.all(X[:, [i, j]] > 0):
                lam = 1.15
                scaled = rows.copy()
                scaled[:, [i, j]] *= lam
                only = rows.copy()
                only[:, i] *= lam
                sens = float(np.sqrt(np.mean((sur(only) - base) ** 2))) / spread
                stat = float(np.sqrt(np.mean((sur(scaled) - base) ** 2))) / spread
                if i < j and sens > 0.05 and stat < max(0.01, 4 * sur.rel_rmse):
                    found.append((stat / sens, i, j, "div"))
    return sorted(found)


def _refit(expr: sympy.Expr, ctx) -> sympy.Expr:
    return refit_with_loss(expr, {n: ctx.X[:, k] for k, n in enumerate(ctx.names)}, ctx.y)[0]


def split_strategy(ctx, solve: Callable, depth: int = 0) -> list[sympy.Expr]:
    """Symmetry reduction or separation of the context's problem; ``solve(sub_ctx, depth)`` returns
    candidate expressions for a smaller problem."""
    d = len(ctx.names)
    if d < 2 or ctx.remaining() < 2:
        return []
    sur = fit_surrogate(ctx)
    log.info("surrogate for %s: relative RMSE %.2g", ctx.names, sur.rel_rmse)
    if not math.isfinite(sur.rel_rmse) or sur.rel_rmse > 0.05:
        return []
    out = []
    for stat, i, j, kind in symmetries(sur, ctx.X, ctx.seed)[:1]:
        new = sympy.Symbol(f"u{depth}_{i}_{j}")
        col = ctx.X[:, i] - ctx.X[:, j] if kind == "minus" else ctx.X[:, i] / ctx.X[:, j]
        keep = [k for k in range(d) if k not in (i, j)]
        sub = ctx.sub(np.column_stack([ctx.X[:, keep], col]), ctx.y, [ctx.names[k] for k in keep] + [str(new)])
        value = ctx.symbols[i] - ctx.symbols[j] if kind == "minus" else ctx.symbols[i] / ctx.symbols[j]
        log.info("symmetry: only %s matters (statistic %.2g)", value, stat)
        out += [e.xreplace({new: value}) for e in solve(sub, depth + 1)]
    for kind in ("mul", "add"):
        groups = separability(sur, ctx.X, kind, ctx.seed)
        if len(groups) < 2 or ctx.remaining() < 1:
            continue
        log.info("%s-separable groups: %s", kind, [[ctx.names[k] for k in g] for g in groups])
        anchor = np.median(ctx.X, axis=0)
        parts = []
        for g in groups:
            Xs = np.tile(anchor, (len(ctx.X), 1))
            Xs[:, g] = ctx.X[:, g]
            ys = sur(Xs)
            sub = ctx.sub(ctx.X[:, g], ys, [ctx.names[k] for k in g], floor=max(ctx.floor, (5 * sur.rel_rmse) ** 2))
            cands = solve(sub, depth + 1)
            if not cands:
                break
            parts.append(cands[0])
        else:
            c0 = sympy.Float(1.0) if kind == "mul" else sympy.Float(0.0)
            expr = sympy.Float(1.0) * sympy.Mul(*parts) if kind == "mul" else sympy.Add(*parts) + c0
            out.append(_refit(expr, ctx))
    return out
