"""A trained KAN as a differentiable surrogate of the data, and the tests run on it (as AI Feynman
does with a neural network).

* **pair symmetries** (:func:`symmetries`): ``f`` unchanged when ``(x_i, x_j)`` moves to
  ``(x_i + δ, x_j + δ)`` → only ``x_i − x_j`` matters; ``(x_i + δ, x_j − δ)`` → ``x_i + x_j``;
  ``(λx_i, λx_j)`` → ``x_i / x_j``; ``(λx_i, x_j / λ)`` → ``x_i·x_j``. Every moved row stays inside
  the data's box (the surrogate is not trusted outside it): each row is moved up or down,
  whichever stays inside;
* **separability** (:func:`separability`): with ``D = T(f(a', b')) − T(f(a', b)) − T(f(a, b')) +
  T(f(a, b))`` near zero for every pair across two groups, ``T(f) = g(a) + h(b)``. ``T`` is the
  identity, ``log|f|`` (a product of one sign), ``1/f``, ``f²`` or ``artanh f``
  (``(x − y)/(1 + x·y)``); a product whose sign changes is tested as
  ``f(a', b')·f(a, b) = f(a', b)·f(a, b')``;
* **offsets** (:func:`offsets`): constants ``c`` for which ``f − c`` may be a product.

:mod:`kandiscover.search.decompose` turns what these tests find into smaller problems.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import numpy as np
import sympy
import torch

from ..kan import KANNetwork
from .context import Context, one_sign

log = logging.getLogger("kandiscover")

__all__ = [
    "Surrogate",
    "fit_surrogate",
    "cached_surrogate",
    "separability",
    "separable_groups",
    "symmetries",
    "offsets",
    "transforms",
    "mul_transform",
    "SYMMETRIES",
]

SYMMETRIES = ("minus", "plus", "div", "times")
"""Pair symmetries tested, by the new variable they imply: ``x_i − x_j``, ``x_i + x_j``,
``x_i / x_j``, ``x_i·x_j``."""


class Surrogate:
    """A trained KAN with the target scale, evaluated on numpy rows.

    Attributes
    ----------
    model : KANNetwork
    rel_rmse : float
        Held-out RMSE relative to the target's standard deviation.
    """

    def __init__(self, model: KANNetwork, scale: float, rel_rmse: float, offset: float = 0.0) -> None:
        self.model, self.scale, self.rel_rmse, self.offset = model, scale, rel_rmse, offset

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Predictions minus ``offset``, shape ``(n,)``, for rows ``X`` of shape ``(n, d)``."""
        with torch.no_grad():
            return self.scale * self.model(torch.tensor(X, dtype=torch.float64))[:, 0].numpy() - self.offset

    def shifted(self, offset: float) -> "Surrogate":
        """The same surrogate with ``offset`` subtracted from its predictions."""
        return Surrogate(self.model, self.scale, self.rel_rmse, self.offset + offset)


def fit_surrogate(ctx: Context, max_rows: int = 1000, steps: int = 50) -> Surrogate:
    """Fit a KAN surrogate (Levenberg–Marquardt) to the context's rows.

    A ``[d, d+1, 1]`` KAN first; when it misses by more than 1 % (relative RMSE) and time allows,
    a deeper ``[d, d, d, 1]`` one (a function of two sums such as ``sqrt((x1−x2)² + (y1−y2)²)``
    needs the second layer) — the better of the two is returned.
    """
    d = len(ctx.names)
    rows = np.random.default_rng(ctx.seed).permutation(len(ctx.y))[:max_rows]
    scale = float(np.std(ctx.y)) or 1.0
    ds = ctx.dataset(ctx.y[rows] / scale, x=ctx.X[rows])
    stop = [lambda step, m, logs: time.monotonic() > ctx.deadline]
    best = None
    for width in ([d, d + 1, 1], [d, d, d, 1]):
        if best is not None and (best.rel_rmse <= 0.01 or ctx.remaining() < 4 * d):
            break
        model = KANNetwork(width, grid=5, seed=ctx.seed)
        hist = model.fit(ds, opt="LM", steps=steps, progress=False, callbacks=stop)
        err = float(hist["test_loss"][-1]) if hist["test_loss"] else math.inf
        if best is None or err < best.rel_rmse:
            best = Surrogate(model, scale, err if math.isfinite(err) else math.inf)
    return best


def cached_surrogate(ctx: Context) -> Surrogate:
    """:func:`fit_surrogate` of the context, trained once and shared by the strategies that read
    it (the splits' tests and the argument search)."""
    if "surrogate" not in ctx.cache:
        ctx.cache["surrogate"] = fit_surrogate(ctx)
    return ctx.cache["surrogate"]


# ------------------------------------------------------------------------------------ separability
def mul_transform(vals: np.ndarray):
    """How a product is tested: on ``log|f|`` when ``f`` keeps one sign, else in ratio form
    (``None``, see :func:`_pairs_stat`)."""
    return (lambda v: np.log(np.abs(v))) if one_sign(vals) else None  # noqa: E731


def transforms(vals: np.ndarray) -> list[tuple[str, Callable, Callable]]:
    """``(kind, T, inverse)`` worth testing on surrogate values ``vals``: additive separability of
    ``T(f)``; ``inverse`` maps a sympy sum back to ``f``. ``"mul"`` marks a product."""
    sign = one_sign(vals)
    out = [("mul", mul_transform(vals), None), ("add", lambda v: v, lambda e: e)]
    if sign:
        out.append(("add-inv", lambda v: 1 / v, lambda e: 1 / e))
        out.append(("add-sq", lambda v: v**2, lambda e: sign * sympy.sqrt(e)))
    if np.all(np.abs(vals) < 0.999):  # velocity addition: tanh(atanh(x) − atanh(y))
        out.append(("add-atanh", np.arctanh, sympy.tanh))
    return out


def _pairs_stat(f: Callable, X: np.ndarray, transform, rng, m: int = 256) -> np.ndarray:
    """RMS of the mixed difference of ``transform(f)`` for every pair of columns, relative to the
    geometric mean of the two columns' own effects (so a weak pair is judged on its own scale,
    not the target's). ``transform=None`` tests a product whose sign may change:
    ``f(a', b')/f(a, b) − (f(a', b)/f(a, b))·(f(a, b')/f(a, b))`` on rows where ``|f(a, b)|`` is
    not small."""
    n, d = X.shape
    a = X[rng.integers(0, n, 4 * m)]
    b = X[rng.integers(0, n, 4 * m)]
    base = f(a)
    if transform is None:  # signed product: use rows away from the zeros of f
        big = np.abs(base) >= 0.5 * np.sqrt(np.mean(base**2))
        a, b, base = a[big][:m], b[big][:m], base[big][:m]
        ratio = lambda v: v / base  # noqa: E731
        base_t = np.ones_like(base)
    else:
        a, b, base = a[:m], b[:m], base[:m]
        ratio = transform
        base_t = transform(base)
    spread = float(np.std(base_t)) + 1e-300
    single = []
    for i in range(d):
        ai = a.copy()
        ai[:, i] = b[:, i]
        single.append(ratio(f(ai)))
    effect = [float(np.sqrt(np.nanmean((s - base_t) ** 2))) + 1e-12 * spread for s in single]
    stat = np.zeros((d, d))
    for i in range(d):
        for j in range(i + 1, d):
            both = a.copy()
            both[:, [i, j]] = b[:, [i, j]]
            if transform is None:
                diff = ratio(f(both)) - single[i] * single[j]
            else:
                diff = ratio(f(both)) - single[i] - single[j] + base_t
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


def offsets(sur: Surrogate, X: np.ndarray, rng, m: int = 256) -> list[float]:
    """Constants ``c`` for which ``f − c`` may be a product across some pair of columns.

    For ``f = c + g(a)·h(b)``, ``(f₁₁ − c)(f₀₀ − c) = (f₁₀ − c)(f₀₁ − c)`` gives
    ``c = (f₁₁f₀₀ − f₁₀f₀₁) / (f₁₁ + f₀₀ − f₁₀ − f₀₁)``; one robust (median) value per pair.
    """
    n, d = X.shape
    a, b = X[rng.integers(0, n, m)], X[rng.integers(0, n, m)]
    f00 = sur(a)
    spread = float(np.std(f00)) + 1e-300
    out = []
    for i in range(d):
        for j in range(i + 1, d):
            a10, a01, a11 = a.copy(), a.copy(), a.copy()
            a10[:, i], a01[:, j] = b[:, i], b[:, j]
            a11[:, [i, j]] = b[:, [i, j]]
            f10, f01, f11 = sur(a10), sur(a01), sur(a11)
            den = f11 + f00 - f10 - f01
            ok = np.abs(den) > 0.1 * spread
            if ok.sum() >= 16:
                c = float(np.median((f11 * f00 - f10 * f01)[ok] / den[ok]))
                if abs(c) > 1e-3 * spread and all(abs(c - o) > 1e-3 * spread for o in out):
                    out.append(c)
    return out


def separability(sur: Surrogate, X: np.ndarray, kind: str, seed: int = 0, offset: float = 0.0) -> list[list[int]]:
    """Groups of columns that separate: ``kind`` is ``"add"``, ``"mul"`` (``f − offset`` a product
    of either sign), ``"add-inv"`` (``1/f`` additive) or ``"add-sq"`` (``f²`` additive)."""
    sur = sur.shifted(offset) if offset else sur
    found = {k: t for k, t, _ in transforms(sur(X))}
    if kind not in found:
        return [list(range(X.shape[1]))]
    return separable_groups(sur, X, found[kind], seed)


def separable_groups(sur: Surrogate, X: np.ndarray, transform, seed: int) -> list[list[int]]:
    """Groups for one transform (``None``: a product of either sign), see :func:`_pairs_stat`."""
    stat = _pairs_stat(sur, X, transform, np.random.default_rng(seed))
    return _groups(stat, max(0.04, 8 * sur.rel_rmse))


# -------------------------------------------------------------------------------------- symmetries
def _moved(rows: np.ndarray, i: int, j: int, kind: str, lo: np.ndarray, hi: np.ndarray):
    """Rows with ``(x_i, x_j)`` moved along symmetry ``kind``, each in the direction that keeps it
    inside the box ``[lo, hi]``; returns ``(base rows, moved rows, rows with only x_i moved)``."""
    delta = 0.2 * min(hi[i] - lo[i], hi[j] - lo[j])
    lam = 1.15

    def apply(sign):
        m = rows.copy()
        if kind == "minus":
            m[:, i] += sign * delta
            m[:, j] += sign * delta
        elif kind == "plus":
            m[:, i] += sign * delta
            m[:, j] -= sign * delta
        elif kind == "div":
            m[:, i] *= lam**sign
            m[:, j] *= lam**sign
        else:  # times
            m[:, i] *= lam**sign
            m[:, j] /= lam**sign
        return m

    def inside(m):
        return np.all((m[:, [i, j]] >= lo[[i, j]]) & (m[:, [i, j]] <= hi[[i, j]]), axis=1)

    up, down = apply(1), apply(-1)
    use_up = inside(up)
    keep = use_up | inside(down)
    moved = np.where(use_up[:, None], up, down)[keep]
    base = rows[keep]
    only = base.copy()
    only[:, i] = moved[:, i]
    return base, moved, only


def _degree(f0: np.ndarray, f1: np.ndarray, base: np.ndarray, moved: np.ndarray, i: int) -> float:
    """Degree ``p`` with ``f(λx_i, λx_j) ≈ λ^p f(x)`` (half-integers only), or 0."""
    if not (one_sign(f0) and one_sign(f1)):
        return 0.0
    q = np.log(f1 / f0) / np.log(moved[:, i] / base[:, i])
    p = float(np.median(q))
    p_r = round(2 * p) / 2
    return p_r if abs(p - p_r) < 0.05 else 0.0


def symmetries(sur: Surrogate, X: np.ndarray, seed: int = 0) -> list[tuple[float, int, int, str, float]]:
    """Candidate pair symmetries ``(statistic, i, j, kind, p)`` with ``kind`` in
    :data:`SYMMETRIES`, most convincing first. ``statistic`` is the change of ``f`` under the joint
    move relative to its change when ``x_i`` alone moves. ``p`` is non-zero only for ``"div"``
    when ``f`` is homogeneous of degree ``p`` in the pair, ``f(λx_i, λx_j) = λ^p f(x)`` (a Gaussian
    ``exp(−θ²/2σ²)/σ``), so ``f = x_j^p·g(x_i/x_j, …)``."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    lo, hi = X.min(0), X.max(0)
    rows = X[rng.integers(0, n, 512)]
    spread = float(np.std(sur(X))) + 1e-300
    tol = max(0.01, 4 * sur.rel_rmse)
    found = []
    for i in range(d):
        for j in range(i + 1, d):
            for kind in SYMMETRIES:
                if kind in ("div", "times") and not np.all(X[:, [i, j]] > 0):
                    continue
                base, moved, only = _moved(rows, i, j, kind, lo, hi)
                if len(base) < 32:
                    continue
                f0, f1 = sur(base), sur(moved)
                sens = float(np.sqrt(np.mean((sur(only) - f0) ** 2))) / spread
                p = _degree(f0, f1, base, moved, i) if kind == "div" else 0.0
                expected = f0 * (moved[:, i] / base[:, i]) ** p if p else f0
                stat = float(np.sqrt(np.mean((f1 - expected) ** 2))) / spread
                if sens > 0.05 and stat < tol:
                    found.append((stat / sens, i, j, kind, p))
                    if p:  # f = x_i^(−p)·h(x_j/x_i) as well: which quotient is simpler is unknown
                        found.append((stat / sens, j, i, kind, p))
    return sorted(found, key=lambda t: (t[4] != 0, t[0]))
