"""Splitting a problem with a trained KAN as a differentiable surrogate (as AI Feynman does with a
neural network).

A general KAN is fitted to the data; on it we test

* **pair symmetries**: ``f`` unchanged when ``(x_i, x_j)`` moves to ``(x_i + δ, x_j + δ)`` → only
  ``x_i − x_j`` matters; ``(x_i + δ, x_j − δ)`` → ``x_i + x_j``; ``(λx_i, λx_j)`` → ``x_i / x_j``;
  ``(λx_i, x_j / λ)`` → ``x_i·x_j``. Every moved row stays inside the data's box (the surrogate is
  not trusted outside it): each row is moved up or down, whichever stays inside. The pair is
  replaced by one new variable computed from the *real* rows and the smaller problem is solved;
* **separability**: with ``D = T(f(a', b')) − T(f(a', b)) − T(f(a, b')) + T(f(a, b))`` near zero for
  every pair across two groups, ``T(f) = g(a) + h(b)``. ``T`` is the identity, ``log|f|`` (a
  product of one sign), ``1/f``, ``f²`` or ``artanh f`` (``(x − y)/(1 + x·y)``); a product whose sign changes is tested as
  ``f(a', b')·f(a, b) = f(a', b)·f(a, b')``. Each group's function is read off the surrogate with
  the other group held at an anchor row (one where ``|f|`` is large, so a factor that crosses zero
  at the centre of the box does not wipe out the others), solved as its own problem, and the parts
  are recombined and refitted on the real rows.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Callable

import numpy as np
import sympy
import torch

from .kan import KAN
from .strategies import _one_sign
from .symbolic.export import to_numpy

log = logging.getLogger("kandiscover")

__all__ = ["Surrogate", "fit_surrogate", "separability", "symmetries", "split_strategy", "SYMMETRIES"]

SYMMETRIES = ("minus", "plus", "div", "times")
"""Pair symmetries tested, by the new variable they imply: ``x_i − x_j``, ``x_i + x_j``,
``x_i / x_j``, ``x_i·x_j``."""


class Surrogate:
    """A trained KAN with the target scale, evaluated on numpy rows.

    Attributes
    ----------
    model : KAN
    rel_rmse : float
        Held-out RMSE relative to the target's standard deviation.
    """

    def __init__(self, model: KAN, scale: float, rel_rmse: float, offset: float = 0.0) -> None:
        self.model, self.scale, self.rel_rmse, self.offset = model, scale, rel_rmse, offset

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Predictions minus ``offset``, shape ``(n,)``, for rows ``X`` of shape ``(n, d)``."""
        with torch.no_grad():
            return self.scale * self.model(torch.tensor(X, dtype=torch.float64))[:, 0].numpy() - self.offset

    def shifted(self, offset: float) -> "Surrogate":
        """The same surrogate with ``offset`` subtracted from its predictions."""
        return Surrogate(self.model, self.scale, self.rel_rmse, self.offset + offset)


def fit_surrogate(ctx, max_rows: int = 1000, steps: int = 50) -> Surrogate:
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
        model = KAN(width, grid=5, seed=ctx.seed)
        hist = model.fit(ds, opt="LM", steps=steps, progress=False, callbacks=stop)
        err = float(hist["test_loss"][-1]) if hist["test_loss"] else math.inf
        if best is None or err < best.rel_rmse:
            best = Surrogate(model, scale, err if math.isfinite(err) else math.inf)
    return best


# ------------------------------------------------------------------------------------ separability
def _mul_transform(vals: np.ndarray):
    """How a product is tested: on ``log|f|`` when ``f`` keeps one sign, else in ratio form
    (``None``, see :func:`_pairs_stat`)."""
    return (lambda v: np.log(np.abs(v))) if _one_sign(vals) else None  # noqa: E731


def _transforms(vals: np.ndarray) -> list[tuple[str, Callable, Callable]]:
    """``(kind, T, inverse)`` worth testing on surrogate values ``vals``: additive separability of
    ``T(f)``; ``inverse`` maps a sympy sum back to ``f``. ``"mul"`` marks a product."""
    sign = _one_sign(vals)
    out = [("mul", _mul_transform(vals), None), ("add", lambda v: v, lambda e: e)]
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


def _offsets(sur: Surrogate, X: np.ndarray, rng, m: int = 256) -> list[float]:
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
    found = {k: t for k, t, _ in _transforms(sur(X))}
    if kind not in found:
        return [list(range(X.shape[1]))]
    return _separable(sur, X, found[kind], seed)


def _separable(sur: Surrogate, X: np.ndarray, transform, seed: int) -> list[list[int]]:
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
    if not (_one_sign(f0) and _one_sign(f1)):
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


# ------------------------------------------------------------------------------------- the strategy
def _anchor(sur: Surrogate, X: np.ndarray, seed: int) -> np.ndarray:
    """A real row where ``|f|`` is large (its 90th percentile) — the other groups are held there."""
    rows = X[np.random.default_rng(seed).integers(0, len(X), 256)]
    mag = np.abs(sur(rows))
    return rows[int(np.argmin(np.abs(mag - np.quantile(mag, 0.9))))]


def _reduce(ctx, sur: Surrogate, solve: Callable, depth: int) -> list[sympy.Expr]:
    """Replace the best pair symmetry by its new variable and solve the smaller problem (for a
    homogeneous pair, both quotients are tried)."""
    d = len(ctx.names)
    out: list[sympy.Expr] = []
    for stat, i, j, kind, p in symmetries(sur, ctx.X, ctx.seed)[:2]:
        if out and (not p or ctx.remaining() < 1 or ctx.refit(out[0])[1] <= max(ctx.floor, 1e-8)):
            break
        a, b = ctx.X[:, i], ctx.X[:, j]
        col = {"minus": a - b, "plus": a + b, "div": a / b, "times": a * b}[kind]
        si, sj = ctx.symbols[i], ctx.symbols[j]
        value = {"minus": si - sj, "plus": si + sj, "div": si / sj, "times": si * sj}[kind]
        new = sympy.Symbol(f"u{depth}_{i}_{j}")
        keep = [k for k in range(d) if k not in (i, j)]
        target = ctx.y / b**p if p else ctx.y
        sub = ctx.sub(np.column_stack([ctx.X[:, keep], col]), target, [ctx.names[k] for k in keep] + [str(new)])
        factor = sj ** sympy.Rational(p).limit_denominator(2) if p else sympy.Integer(1)
        log.info("symmetry: only %s matters%s (statistic %.2g)", value, f" times {factor}" if p else "", stat)
        out += [factor * e.xreplace({new: value}) for e in solve(sub, depth + 1)]
    return out


def _at_anchor(X: np.ndarray, g: list, anchor: np.ndarray) -> np.ndarray:
    """Rows of ``X`` with every column outside group ``g`` set to the anchor row's value."""
    Xs = np.tile(anchor, (len(X), 1))
    Xs[:, g] = X[:, g]
    return Xs


def _read_off(ctx, sur: Surrogate, solve: Callable, depth: int, kind: str, g: list, transform, anchor, end: float):
    """Candidates for group ``g``'s part read off the surrogate with the other columns at ``anchor``."""
    Xs = _at_anchor(ctx.X, g, anchor)
    ys = sur(Xs) if kind == "mul" else transform(sur(Xs))
    if not np.all(np.isfinite(ys)):
        return []
    # the part is only as exact as the surrogate: its error is rel_rmse·scale in absolute
    # terms, which is large relative to a part that varies little (1/sqrt(1 − v²/c²) beside m₀)
    noise = (5 * sur.rel_rmse * sur.scale) ** 2 / (float(np.var(ys)) or 1e-300)
    sub = ctx.sub(ctx.X[:, g], ys, [ctx.names[k] for k in g], floor=max(ctx.floor, min(noise, 0.01)), deadline=end)
    return solve(sub, depth + 1)


def _on_rows(ctx, solve: Callable, depth: int, kind: str, groups, k: int, parts: list, transform, offset: float,
             end: float) -> list:
    """Candidates for group ``k``'s part solved on the *real* rows with the other parts (their first
    candidates) divided out (``kind="mul"``) or subtracted from ``T(y)``.

    A part read off the surrogate carries the surrogate's error, which hides the difference
    between ``1/sqrt(1 − u²)`` and ``1/(1 − u²)`` on a short range, or drowns ``exp(−m·g·x/(k·T))``
    where it is tiny; ``y / n₀`` computed from the rows does not.
    """
    values = []
    for m, (g, cands) in enumerate(zip(groups, parts)):
        if m == k:
            continue
        try:
            values.append(np.asarray(to_numpy(cands[0], [ctx.names[c] for c in g])(ctx.X[:, g]), dtype=float))
        except (ValueError, TypeError, ZeroDivisionError, IndexError):
            return []
    with np.errstate(all="ignore"):
        if kind == "mul":
            resid = (ctx.y - offset) / np.prod(values, axis=0)
        else:
            resid = transform(ctx.y) - np.sum(values, axis=0)
    if not np.all(np.isfinite(resid)) or np.ptp(resid) <= 0:
        return []
    g = groups[k]
    sub = ctx.sub(ctx.X[:, g], resid, [ctx.names[c] for c in g], floor=max(ctx.floor, 1e-9), deadline=end)
    return solve(sub, depth + 1)


def _spread(sur: Surrogate, X: np.ndarray, g: list, anchor: np.ndarray, kind: str, transform) -> float:
    """How much group ``g``'s part varies (std of ``T(f)``, or of ``log|f|`` for a product) with
    the other columns at ``anchor``: the surrogate's error matters least for the widest part."""
    Xs = _at_anchor(X[:256], g, anchor)
    with np.errstate(all="ignore"):
        v = np.log(np.abs(sur(Xs))) if kind == "mul" else transform(sur(Xs))
    s = float(np.std(v))
    return s if math.isfinite(s) else 0.0


def _separate(ctx, sur: Surrogate, solve: Callable, depth: int, kind: str, groups, transform, inverse):
    """Solve every group's part and recombine (see module doc).

    The parts that vary most are read off the surrogate (its error matters least for them); the
    one that varies least is then solved on the real rows with the others divided (or subtracted)
    out, and read off the surrogate as well only when that is not exact. If the combination is
    still not exact, the other parts are solved again on the real rows the same way, each part's
    candidates ranked by how the combination fits the real rows before the next part is solved
    against them. A part's share of the remaining time grows with the square of its number of
    columns. Returns ``(relative MSE, expression)`` on the real rows, best first, for the
    combination of every part's first candidate and those with one part's runner-up instead.
    """
    anchor = _anchor(sur, ctx.X, ctx.seed)
    order = sorted(range(len(groups)), key=lambda k: -_spread(sur, ctx.X, groups[k], anchor, kind, transform))
    parts: list = [[] for _ in groups]

    def combine(chosen):
        if kind == "mul":
            return sympy.Float(sur.offset) + sympy.Float(1.0) * sympy.Mul(*chosen)
        return inverse(sympy.Add(*chosen) + sympy.Float(0.0))

    def exact() -> bool:
        return ctx.refit(combine([p[0] for p in parts]))[1] <= max(ctx.floor, 1e-8)

    def rank(k: int) -> None:
        """Put first the candidate of part ``k`` that, with the others' first ones, fits the real
        rows best: a part solved on rows divided by another part's near-zero values is garbage,
        and it must not be what the next part is solved against."""
        def loss(c):
            return ctx.refit(combine([c if m == k else p[0] for m, p in enumerate(parts)]))[1]

        parts[k] = sorted(parts[k][:8], key=loss) if ctx.remaining() > 1 else parts[k]

    weight = [len(g) ** 2 for g in groups]  # a part's share of the time grows with its size

    def until(k: int, todo: list) -> float:
        return time.monotonic() + ctx.remaining() * weight[k] / sum(weight[m] for m in todo)

    for n, k in enumerate(order[:-1]):
        parts[k] = _read_off(ctx, sur, solve, depth, kind, groups[k], transform, anchor, until(k, order[n:]))[:8]
        if not parts[k]:
            return []
    last = order[-1]
    parts[last] = _on_rows(ctx, solve, depth, kind, groups, last, parts, transform, sur.offset,
                           time.monotonic() + ctx.remaining() / 2)[:4]
    if not parts[last] or not exact():
        parts[last] += _read_off(ctx, sur, solve, depth, kind, groups[last], transform, anchor, ctx.deadline)[:8]
        if not parts[last]:
            return []
        rank(last)
        for k in reversed(order[:-1]):
            if ctx.remaining() < 1 or exact():
                break
            parts[k] = _on_rows(ctx, solve, depth, kind, groups, k, parts, transform, sur.offset,
                                until(k, order + [k]))[:4] + parts[k]
            rank(k)

    # the surrogate proposes, the real rows decide: the parts' runners-up are tried too
    combos = [tuple(p[0] for p in parts)]
    for n, p in enumerate(parts):
        combos += [tuple(q[0] if m != n else alt for m, q in enumerate(parts)) for alt in p[1:]]
    scored = []
    for combo in combos[:16]:
        if scored and (ctx.remaining() <= 0 or scored[-1][0] <= 1e-20):
            break  # out of time, or the previous combination is exact to rounding already
        refit, loss = ctx.refit(combine(combo))
        scored.append((loss, refit))
    scored.sort(key=lambda t: t[0])
    return scored


def split_strategy(ctx, solve: Callable, depth: int = 0) -> list[sympy.Expr]:
    """Symmetry reduction or separation of the context's problem; ``solve(sub_ctx, depth)`` returns
    candidate expressions for a smaller problem.

    Tried in order: a product; the best pair symmetry; a sum of ``T(f)`` for the transforms of
    :func:`_transforms`; a product plus a constant. Stops once a candidate explains the rows.
    """
    d = len(ctx.names)
    if d < 2 or ctx.remaining() < 2:
        return []
    sur = fit_surrogate(ctx)
    log.info("surrogate for %s: relative RMSE %.2g", ctx.names, sur.rel_rmse)
    if not math.isfinite(sur.rel_rmse) or sur.rel_rmse > 0.05:
        return []
    vals = sur(ctx.X)
    kinds = [(kind, t, inv, sur) for kind, t, inv in _transforms(vals)]
    kinds += [("mul", _mul_transform(vals - c), None, sur.shifted(c))
              for c in _offsets(sur, ctx.X, np.random.default_rng(ctx.seed))]
    out: list[sympy.Expr] = []
    for n, (kind, transform, inverse, s) in enumerate(kinds):
        if n == 1:  # after the plain product: the best pair symmetry
            out = _best_first(out + _reduce(ctx, sur, solve, depth), ctx)
            if out and ctx.refit(out[0])[1] <= max(ctx.floor, 1e-8):
                break
        if ctx.remaining() < 1:
            break
        groups = _separable(s, ctx.X, transform, ctx.seed)
        if len(groups) < 2:
            continue
        log.info("%s-separable groups%s: %s", kind, f" (offset {s.offset:.4g})" if s.offset else "",
                 [[ctx.names[k] for k in g] for g in groups])
        scored = _separate(ctx, s, solve, depth, kind, groups, transform, inverse)
        out += [e for _, e in scored[:2]]
        if scored and scored[0][0] <= max(ctx.floor, 1e-8):
            break
    return _best_first(out, ctx)


def _best_first(exprs: list, ctx) -> list[sympy.Expr]:
    """Refitted on the real rows and sorted by loss (unrefitted and unsorted past the deadline)."""
    scored = []
    for e in exprs:
        if ctx.remaining() <= 0:
            return [x for _, x in sorted(scored, key=lambda t: t[0])] + exprs[len(scored):]
        refit, loss = ctx.refit(e)
        scored.append((loss if math.isfinite(loss) else math.inf, refit))
    return [x for _, x in sorted(scored, key=lambda t: t[0])]
