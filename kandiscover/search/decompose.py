"""Splitting a problem with the surrogate's help (AI Feynman's recursion, on a KAN).

A pair symmetry found by :func:`kandiscover.search.surrogate.symmetries` replaces the pair by one
new variable computed from the *real* rows, and the smaller problem is solved. A separation found by
:func:`kandiscover.search.surrogate.separability` is solved part by part: each group's function is
read off the surrogate with the other group held at an anchor row (one where ``|f|`` is large, so a
factor that crosses zero at the centre of the box does not wipe out the others), solved as its own
problem, and the parts are recombined and refitted on the real rows.

The solver of the smaller problems is an argument (``solve(sub_context, depth)``), not an import:
:func:`kandiscover.search.solve.solve` passes itself.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import numpy as np
import sympy

from ..symbolic.export import to_numpy
from .context import Context
from .surrogate import Surrogate, cached_surrogate, mul_transform, offsets, separable_groups, symmetries, transforms

log = logging.getLogger("kandiscover")

__all__ = ["split_strategy"]


def _anchor(sur: Surrogate, X: np.ndarray, seed: int) -> np.ndarray:
    """A real row where ``|f|`` is large (its 90th percentile) — the other groups are held there."""
    rows = X[np.random.default_rng(seed).integers(0, len(X), 256)]
    mag = np.abs(sur(rows))
    return rows[int(np.argmin(np.abs(mag - np.quantile(mag, 0.9))))]


def _reduce(ctx: Context, sur: Surrogate, solve: Callable, depth: int) -> list[sympy.Expr]:
    """Replace the best pair symmetry by its new variable and solve the smaller problem (for a
    homogeneous pair, both quotients are tried)."""
    d = len(ctx.names)
    out: list[sympy.Expr] = []
    for stat, i, j, kind, p in symmetries(sur, ctx.X, ctx.seed)[:2]:
        if out and (not p or ctx.remaining() < 1 or ctx.solved(ctx.refit(out[0])[1])):
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


def _read_off(
    ctx: Context, sur: Surrogate, solve: Callable, depth: int, kind: str, g: list, transform, anchor, end: float
):
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


def _on_rows(
    ctx: Context,
    solve: Callable,
    depth: int,
    kind: str,
    groups,
    k: int,
    parts: list,
    transform,
    offset: float,
    end: float,
) -> list:
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


def _separate(ctx: Context, sur: Surrogate, solve: Callable, depth: int, kind: str, groups, transform, inverse):
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
        return ctx.solved(ctx.refit(combine([p[0] for p in parts]))[1])

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
    parts[last] = _on_rows(
        ctx, solve, depth, kind, groups, last, parts, transform, sur.offset, time.monotonic() + ctx.remaining() / 2
    )[:4]
    if not parts[last] or not exact():
        parts[last] += _read_off(ctx, sur, solve, depth, kind, groups[last], transform, anchor, ctx.deadline)[:8]
        if not parts[last]:
            return []
        rank(last)
        for k in reversed(order[:-1]):
            if ctx.remaining() < 1 or exact():
                break
            parts[k] = (
                _on_rows(ctx, solve, depth, kind, groups, k, parts, transform, sur.offset, until(k, order + [k]))[:4]
                + parts[k]
            )
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


def split_strategy(ctx: Context, solve: Callable, depth: int = 0) -> list[sympy.Expr]:
    """Symmetry reduction or separation of the context's problem; ``solve(sub_ctx, depth)`` returns
    candidate expressions for a smaller problem.

    Tried in order: a product; the best pair symmetry; a sum of ``T(f)`` for the transforms of
    :func:`kandiscover.search.surrogate.transforms`; a product plus a constant. Stops once a candidate explains
    the rows.
    """
    d = len(ctx.names)
    if d < 2 or ctx.remaining() < 2:
        return []
    sur = cached_surrogate(ctx)
    log.info("surrogate for %s: relative RMSE %.2g", ctx.names, sur.rel_rmse)
    if not math.isfinite(sur.rel_rmse) or sur.rel_rmse > 0.05:
        return []
    vals = sur(ctx.X)
    kinds = [(kind, t, inv, sur) for kind, t, inv in transforms(vals)]
    kinds += [
        ("mul", mul_transform(vals - c), None, sur.shifted(c))
        for c in offsets(sur, ctx.X, np.random.default_rng(ctx.seed))
    ]
    out: list[sympy.Expr] = []
    for n, (kind, transform, inverse, s) in enumerate(kinds):
        if n == 1:  # after the plain product: the best pair symmetry
            out = _best_first(out + _reduce(ctx, sur, solve, depth), ctx)
            if out and ctx.solved(ctx.refit(out[0])[1]):
                break
        if ctx.remaining() < 1:
            break
        groups = separable_groups(s, ctx.X, transform, ctx.seed)
        if len(groups) < 2:
            continue
        log.info(
            "%s-separable groups%s: %s",
            kind,
            f" (offset {s.offset:.4g})" if s.offset else "",
            [[ctx.names[k] for k in g] for g in groups],
        )
        scored = _separate(ctx, s, solve, depth, kind, groups, transform, inverse)
        out += [e for _, e in scored[:2]]
        if scored and ctx.solved(scored[0][0]):
            break
    return _best_first(out, ctx)


def _best_first(exprs: list, ctx: Context) -> list[sympy.Expr]:
    """Refitted on the real rows and sorted by loss (unrefitted and unsorted past the deadline)."""
    scored = []
    for e in exprs:
        if ctx.remaining() <= 0:
            return [x for _, x in sorted(scored, key=lambda t: t[0])] + exprs[len(scored) :]
        refit, loss = ctx.refit(e)
        scored.append((loss if math.isfinite(loss) else math.inf, refit))
    return [x for _, x in sorted(scored, key=lambda t: t[0])]
