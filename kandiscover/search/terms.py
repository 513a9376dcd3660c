"""Sums of terms: sparse linear regression over a dictionary of library terms (FFX / SINDy style).

A law such as ``4x⁴ + 3x³ + 2x² + x``, ``1/3 + x + sin(x²)`` or ``x₁³/5 + x₂³/2 − x₂ − x₁`` is a
linear combination of a few *terms*. The dictionary holds, for the context's inputs:

* monomials ``Π x_i^{k_i}`` of total degree up to :func:`max_degree` (the highest degree that keeps
  the dictionary within :data:`MAX_COLUMNS` columns);
* the library's functions of each input and of simple inner arguments: ``f(g(x_i))`` with ``g`` in
  :data:`INNER` (``x``, ``x²``; ``|x|`` too for an input of both signs) and ``f`` in
  :data:`FUNCTIONS` (``sin``, ``cos``, ``sin²``, ``exp``, ``exp(−·)``,
  ``log``, ``sqrt``, ``1/·``, ``1/·²``) wherever it is finite and well scaled on the rows;
* with several inputs, the same functions of products ``x_i·x_j`` and sums ``x_i + x_j`` of pairs
  (those of :data:`PAIR_FUNCTIONS`), the periodic ones of differences ``x_i − x_j``
  (:data:`DIFFERENCE_FUNCTIONS`: a phase difference), and the quotients ``x_i/x_j`` with their
  squares (:data:`RATIO_POWERS`);
* one input, its inverse, its root or the root's inverse times a function of another, ``x_j^k·f(x_i)`` with ``k`` in
  :data:`PRODUCT_POWERS` and ``f`` in :data:`PRODUCT_FUNCTIONS` (``u·sin θ``, ``cos(θ)/u``,
  ``√r·cos δ``, ``x₂·exp(−x₁)``: FFX's products of one-variable bases), where all of them fit in
  :data:`MAX_COLUMNS` (two inputs, in practice);
* a third input or its inverse times a periodic function of the sum or difference of two others,
  ``x_k^{±1}·cos(x_i − x_j)`` (the cross term of the law of cosines, ``1 + u² − 2u·cos(θ₁ − θ₂)``),
  where they fit in :data:`MAX_COLUMNS` (three inputs, in practice).

Columns that repeat another one (to round-off, after scaling) are dropped. The coefficients come from
one least-squares fit of all columns, then columns are eliminated backward
(:func:`kandiscover.search.rational.backward_select`), the most complex first among those the data
cannot tell apart (within :data:`TIE` residual variances); the smallest subset that predicts about as
well as the best (:func:`kandiscover.search.rational.sparsest`: ``3/n`` of the error per column fewer
on exact rows, ``log(n)/n`` on noisy ones, about what fitting noise with the best of many columns
buys) is the candidate, with its neighbours on the path. The pipeline then refits and snaps their
constants on the rows.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import sympy

from ..symbolic.complexity import complexity
from .context import Context
from .rational import acceptable_error, backward_select, monomial_exponents, per_column, sparsest

log = logging.getLogger("kandiscover")

__all__ = [
    "Term",
    "dictionary",
    "distinct",
    "functions_of",
    "monomials",
    "nonzero",
    "sampled",
    "usable",
    "terms",
    "max_degree",
    "MAX_COLUMNS",
    "INNER",
    "FUNCTIONS",
    "PAIR_FUNCTIONS",
    "PRODUCT_FUNCTIONS",
]

MAX_COLUMNS = 190
"""Most columns of a dictionary (three positive inputs take 181 with the law of cosines' cross
terms)."""

MAX_MONOMIALS = 80
"""Most monomial columns of a dictionary (:func:`max_degree`)."""

MAX_CANCELLATION = 30.0
"""A candidate whose terms, added in magnitude, exceed the target by more than this factor (medians
over the rows) cancel to fit it and are left out."""

EXACT_SUBSET = 1e-20
"""Relative MSE (over ``Var(y)``) an exhaustively found subset must reach to be a candidate."""

MAX_TRIPLES_COLUMNS = 130
"""Dictionaries of at most this many columns have all their three-term subsets searched
(:func:`best_subsets`); larger ones only pairs."""

MAX_MONOMIAL_DEGREE = 8
"""Highest total degree of a monomial term."""

TIE = 2.0
"""Columns whose removal costs at most this many residual variances more than the cheapest removal
count as equal, and the most complex of them goes first (see
:func:`kandiscover.search.rational.backward_select`)."""

MAX_RANGE = 1e8
"""A column whose largest magnitude exceeds this many times its median is left out (``exp(x)`` on
``[−50, 50]``): least squares cannot weigh it against the others."""


def _positive(v: np.ndarray) -> bool:
    return bool(np.all(v > 0))


def sampled(ctx: Context, rows: Optional[int]) -> tuple:
    """``(X, y)`` of the context, a seeded subset of ``rows`` of them where there are more;
    ``(None, None)`` when a value is not finite."""
    X, y = ctx.X, ctx.y
    if rows is not None and len(y) > rows:
        idx = np.random.default_rng(ctx.seed).choice(len(y), rows, replace=False)
        X, y = X[idx], y[idx]
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        return None, None
    return X, y


def nonzero(v: np.ndarray) -> bool:
    """Whether no value of ``v`` (shape ``(n,)``) is within ``1e-6`` of its largest magnitude of zero."""
    scale = float(np.max(np.abs(v))) or 1.0
    return bool(np.all(np.abs(v) > 1e-6 * scale))


FUNCTIONS: tuple[tuple[str, Callable, Callable, Optional[Callable]], ...] = (
    ("sin", sympy.sin, np.sin, None),
    ("cos", sympy.cos, np.cos, None),
    ("sin2", lambda u: sympy.sin(u) ** 2, lambda u: np.sin(u) ** 2, None),
    ("exp", sympy.exp, np.exp, None),
    ("exp-", lambda u: sympy.exp(-u), lambda u: np.exp(-u), None),
    ("log", sympy.log, np.log, _positive),
    ("sqrt", sympy.sqrt, np.sqrt, _positive),
    ("inv", lambda u: 1 / u, lambda u: 1 / u, nonzero),
    ("inv2", lambda u: u**-2, lambda u: u**-2.0, nonzero),
)
"""``(name, sympy form, numpy form, domain check or None)`` of the functions applied to inner
arguments; a term is kept only where the check holds on every row. ``sin2`` is ``sin²``
(``α·cos²(ωt)`` is ``α − α·sin²(ωt)``; ``cos²`` would only repeat ``sin²`` and the constant), of
an input itself only (not of its square)."""

PAIR_FUNCTIONS = ("sin", "cos", "exp", "exp-", "log", "sqrt", "inv")
"""Functions also applied to products and sums of two inputs."""

DIFFERENCE_FUNCTIONS = ("sin", "cos")
"""Functions applied to differences of two inputs, and in the products ``x_k·f(x_i ± x_j)``."""

INNER: tuple[tuple[str, Callable, Callable], ...] = (
    ("x", lambda s: s, lambda x: x),
    ("x^2", lambda s: s**2, lambda x: x**2),
)
"""Inner arguments ``g(x_i)`` of the one-input terms."""

PRODUCT_FUNCTIONS = ("sin", "cos", "sin2", "exp", "exp-", "log", "sqrt")
"""Functions ``f`` of the products ``x_j^k·f(x_i)`` of two inputs."""

PRODUCT_POWERS = (sympy.Integer(1), sympy.Integer(-1), sympy.Rational(1, 2), sympy.Rational(-1, 2))
"""Powers ``k`` of the products ``x_j^k·f(x_i)`` (``1/x_j`` where ``x_j`` has no zero, ``√x_j``
and ``1/√x_j`` where it is positive): ``r + 1 + 2√r·cos δ``, and ``1 + 1/s + 2·cos(δ)/√s`` for the
same law in ``s = 1/r`` (which of a ratio and its inverse a dimensionless group is depends on the
units' basis)."""

RATIO_POWERS = (1, 2)
"""Powers of the quotients of pairs of inputs in the dictionary."""

ABS: tuple[str, Callable, Callable] = ("|x|", sympy.Abs, np.abs)
"""The inner argument added first for an input that takes both signs: ``log|x|`` and ``sqrt|x|``
(``log(x²)`` and ``sqrt(x²)``, which only repeat them, are then dropped as repeats), under the
functions of :data:`ABS_FUNCTIONS` only (``cos|x|`` is ``cos x``)."""

ABS_FUNCTIONS = ("log", "sqrt")
"""Functions applied to ``|x|``."""


@dataclass(frozen=True)
class Term:
    """One column of the dictionary: its sympy form and its values on the rows, shape ``(n,)``."""

    expr: sympy.Expr
    values: np.ndarray


def max_degree(d: int) -> int:
    """The highest total degree of monomials in ``d`` variables that fits :data:`MAX_MONOMIALS`."""
    degree = 1
    while degree < MAX_MONOMIAL_DEGREE and len(monomial_exponents(d, degree + 1, constant=False)) <= MAX_MONOMIALS:
        degree += 1
    return degree


def usable(v: np.ndarray) -> bool:
    """Whether a column ``v`` (shape ``(n,)``) can enter a least-squares design: finite, not
    constant, and no value more than :data:`MAX_RANGE` times its median magnitude."""
    if not np.all(np.isfinite(v)) or np.ptp(v) <= 1e-12 * (float(np.max(np.abs(v))) + 1e-300):
        return False
    mag = np.abs(v)
    return float(mag.max()) <= MAX_RANGE * (float(np.median(mag)) + 1e-300)


def functions_of(arg_sym: sympy.Expr, arg: np.ndarray, names) -> list[Term]:
    """The terms ``f(arg)`` for the :data:`FUNCTIONS` named in ``names`` that are defined and
    :func:`usable` on the rows (``arg`` of shape ``(n,)``, ``arg_sym`` its sympy form)."""
    out = []
    for name, f_sym, f_np, check in FUNCTIONS:
        if name not in names or (check is not None and not check(arg)):
            continue
        with np.errstate(all="ignore"):
            v = f_np(arg)
        if usable(v):
            out.append(Term(f_sym(arg_sym), v))
    return out


def monomials(X: np.ndarray, symbols: list, degree: int) -> list[Term]:
    """The usable monomial terms ``Π x_i^{k_i}`` of total degree 1 to ``degree`` (``X`` of shape
    ``(n, d)``)."""
    out = []
    for e in monomial_exponents(X.shape[1], degree, constant=False):
        v = np.prod(X ** np.asarray(e, dtype=float), axis=1)
        if usable(v):
            out.append(Term(sympy.Mul(*(s**k for s, k in zip(symbols, e) if k)), v))
    return out


def dictionary(X: np.ndarray, symbols: list) -> list[Term]:
    """The terms of the module doc for inputs ``X`` of shape ``(n, d)`` named by ``symbols``."""
    n, d = X.shape
    out = monomials(X, symbols, max_degree(d))
    every = {f[0] for f in FUNCTIONS}
    for i, s in enumerate(symbols):
        if np.any(X[:, i] > 0) and np.any(X[:, i] < 0):
            out += functions_of(ABS[1](s), ABS[2](X[:, i]), ABS_FUNCTIONS)
        for name, g_sym, g_np in INNER:
            out += functions_of(g_sym(s), g_np(X[:, i]), every if name == "x" else every - {"sin2"})
    for i, j in itertools.combinations(range(d), 2):
        out += functions_of(symbols[i] * symbols[j], X[:, i] * X[:, j], PAIR_FUNCTIONS)
        out += functions_of(symbols[i] + symbols[j], X[:, i] + X[:, j], PAIR_FUNCTIONS)
        out += functions_of(symbols[i] - symbols[j], X[:, i] - X[:, j], DIFFERENCE_FUNCTIONS)
    out = distinct(out + _ratios(X, symbols))
    for extra in (_products(X, symbols), _pair_products(X, symbols)):
        if len(out) + len(extra) <= MAX_COLUMNS:
            out = distinct(out + extra)
    return out[:MAX_COLUMNS]


def _products(X: np.ndarray, symbols: list) -> list[Term]:
    """``x_j^k·f(x_i)`` for every ordered pair of inputs, ``k`` in :data:`PRODUCT_POWERS` and ``f``
    in :data:`PRODUCT_FUNCTIONS`."""
    out = []
    for i, j in itertools.permutations(range(X.shape[1]), 2):
        powers = [k for k in PRODUCT_POWERS if (k > 0 or nonzero(X[:, j])) and (k.q == 1 or _positive(X[:, j]))]
        for t in functions_of(symbols[i], X[:, i], PRODUCT_FUNCTIONS):
            for k in powers:
                with np.errstate(all="ignore"):
                    v = X[:, j] ** float(k) * t.values
                if usable(v):
                    out.append(Term(symbols[j] ** k * t.expr, v))
    return out


def _pair_products(X: np.ndarray, symbols: list) -> list[Term]:
    """``x_k^p·f(x_i ± x_j)`` for every pair ``i < j``, every other input ``k``, ``p = ±1`` (``−1``
    where ``x_k`` has no zero) and ``f`` in :data:`DIFFERENCE_FUNCTIONS`."""
    out = []
    for i, j in itertools.combinations(range(X.shape[1]), 2):
        inner = functions_of(symbols[i] + symbols[j], X[:, i] + X[:, j], DIFFERENCE_FUNCTIONS)
        inner += functions_of(symbols[i] - symbols[j], X[:, i] - X[:, j], DIFFERENCE_FUNCTIONS)
        for k in (k for k in range(X.shape[1]) if k not in (i, j)):
            for p in (1, -1) if nonzero(X[:, k]) else (1,):
                with np.errstate(all="ignore"):
                    scale = X[:, k] ** float(p)
                out += [Term(symbols[k] ** p * t.expr, scale * t.values) for t in inner if usable(scale * t.values)]
    return out


def _ratios(X: np.ndarray, symbols: list) -> list[Term]:
    """The quotients ``x_i/x_j`` of pairs of inputs and their squares, both ways (``1 − v²/c²``,
    ``u·v/c²``'s neighbour ``v/c``): monomials with a negative exponent, which the dictionary's
    polynomial part lacks, wherever the divisor has no zero on the rows."""
    out = []
    for i, j in itertools.permutations(range(X.shape[1]), 2):
        if not nonzero(X[:, j]):
            continue
        q = X[:, i] / X[:, j]
        for k in RATIO_POWERS:
            if usable(q**k):
                out.append(Term((symbols[i] / symbols[j]) ** k, q**k))
    return out


def distinct(found: list[Term]) -> list[Term]:
    """The terms whose scaled values differ from every earlier one's (``log(x²)`` repeats
    ``log x``, ``sqrt(x²)`` repeats ``x`` on positive rows)."""
    seen, out = set(), []
    for t in found:
        v = t.values / np.linalg.norm(t.values)
        key = tuple(np.round(v[:64] * np.sign(v[0] or 1.0), 9))
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def terms(ctx: Context, max_terms: int = 6, rows: Optional[int] = 1000) -> list[sympy.Expr]:
    """Sparse sums of dictionary terms for the context's rows (see module doc), best fitting first.

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
    max_terms : int
        Most terms of a candidate (the constant aside).
    rows : int, optional
        Rows used (a seeded subset); the caller refits on all rows.

    Returns
    -------
    list of sympy.Expr
        The sparsest subset that predicts as well as the best, then the subsets one term larger and
        one smaller; empty when no subset of at most ``max_terms`` leaves at most the unexplained part
        :func:`kandiscover.search.rational.acceptable_error` allows (1 % of the variance, or on noisy rows
        three times their noise variance where that is more).
    """
    X, y = sampled(ctx, rows)
    if X is None:
        return []
    library = dictionary(X, ctx.symbols)
    if not library or len(library) + 1 > len(y) // 2:
        return []
    A = np.column_stack([np.ones(len(y))] + [t.values for t in library])
    cost = np.array([0] + [complexity(t.expr) for t in library], dtype=float)
    path = backward_select(A, y, cost=cost, tie=TIE)
    mean_sq = float(np.mean(y**2)) or 1e-300
    # the exhaustive small subsets join where they reproduce the rows to round-off
    round_off = EXACT_SUBSET * float(np.var(y)) / mean_sq
    # (on noisy rows all of them: there the greedy path drops a column of the law that a few
    # others stand in for to the noise, 1 − v²/c² for log c and log(c + v))
    path += [e for e in best_subsets(A, y) if ctx.noisy or e[2] <= round_off]
    path += [swapped(A, y, cols) for cols, _, _ in path if 3 <= len(cols) <= max_terms + 1]
    errors = {  # a fit above round-off whose terms cancel is a series, not a law; an exact one may cancel
        k: (err if err <= round_off or _well_conditioned(A, y, cols, coef) else np.inf)
        for k, (cols, coef, err) in enumerate(path)
        if len(cols) <= 3 * max_terms
    }
    k = sparsest(path, errors, len(y), max_terms + 1, ctx.noisy, cost)
    if k < 0 or errors[k] > acceptable_error(X, y, ctx.seed, ctx.noisy):
        return []
    log.debug("terms: %d columns, %d kept, relative MSE %.2g", len(library), len(path[k][0]), errors[k])
    exprs = [terms_expression(library, *path[j][:2]) for j in (k, k - 1, k + 1) if 0 <= j < len(path)]
    if ctx.noisy:  # the same fit with simpler columns, where the noise cannot tell them apart
        limit = errors[k] * (1 + per_column(len(y), True))
        power = np.array([True] + [_is_power(t.expr) for t in library])
        cols, coef, _ = cheapened(A, y, path[k][0], cost, limit, power)
        if cols != list(path[k][0]):
            exprs.insert(0, terms_expression(library, cols, coef))
    return exprs


def _well_conditioned(A: np.ndarray, y: np.ndarray, cols: list, coef: np.ndarray) -> bool:
    """Whether the terms of the fit, added in magnitude, are at most :data:`MAX_CANCELLATION` times
    the target (medians over the rows, which a pole such as ``1/x`` does not dominate):
    ``3152·x − 3151·sin x`` for a small remainder is a series fitted to round-off, not a law."""
    size = float(np.median(np.abs(y))) or 1e-300
    parts = float(np.median(np.sum(np.abs(A[:, cols] * coef), axis=1)))
    return parts <= MAX_CANCELLATION * size


def best_subsets(A: np.ndarray, b: np.ndarray, max_k: int = 3, top: int = 4) -> list[tuple[list, np.ndarray, float]]:
    """The best subsets of one to ``max_k`` columns of ``A[:, 1:]`` (column 0, the constant, always
    in), searched exhaustively: backward elimination is greedy, and in a dictionary of nearly
    collinear columns (``exp x``, ``exp(−x)`` and powers of ``x`` on ``[−1, 1]``) it can drop a column
    of the exact sparse law early. Subsets are ranked by their residual from the normal equations of
    the centred columns, and the ``top`` of each size refitted by least squares.

    Parameters
    ----------
    A : ndarray, shape ``(n, m)``
        Column 0 constant.
    b : ndarray, shape ``(n,)``

    Returns
    -------
    list of (columns, coefficients, relative MSE)
        As :func:`kandiscover.search.rational.backward_select` gives them (columns into ``A``).
    """
    m = A.shape[1] - 1
    Z = A[:, 1:] - A[:, 1:].mean(axis=0)
    norms = np.linalg.norm(Z, axis=0)
    norms[norms == 0] = 1.0
    Z /= norms
    G, g = Z.T @ Z, Z.T @ (b - b.mean())
    scale = float(b @ b) or 1e-300
    out = []
    for k in range(1, max_k + 1):
        if k == 3 and m > MAX_TRIPLES_COLUMNS:
            break
        subsets = np.array(list(itertools.combinations(range(m), k)))
        if not len(subsets):
            break
        Gs = G[subsets[:, :, None], subsets[:, None, :]]
        gs = g[subsets]
        with np.errstate(all="ignore"):
            explained = _solve_each(Gs, gs)
        for s in subsets[np.argsort(-np.nan_to_num(explained, nan=-np.inf))[:top]]:
            cols = [0] + [int(j) + 1 for j in s]
            coef, *_ = np.linalg.lstsq(A[:, cols], b, rcond=None)
            out.append((cols, coef, float(np.sum((b - A[:, cols] @ coef) ** 2)) / scale))
    # in the order of a backward path (largest subsets first), the best of a size last
    return sorted(out, key=lambda e: (-len(e[0]), -e[2]))


def swapped(A: np.ndarray, b: np.ndarray, cols: list, rounds: int = 6) -> tuple[list, np.ndarray, float]:
    """``cols`` improved by swaps: repeatedly, the one exchange of a kept column (the constant,
    column 0, stays) for another column of ``A`` that lowers the residual most, while one does.

    Backward elimination keeps a Taylor series of ``sin(x₂²)`` in ``x₂², x₂⁴, …`` once it has dropped
    the column itself; a swap puts it back. Each exchange is scored for every outside column at once
    from the residual of the others and the outside columns projected off them.

    Parameters
    ----------
    A : ndarray, shape ``(n, m)``
    b : ndarray, shape ``(n,)``
    cols : list of int

    Returns
    -------
    (columns, coefficients, relative MSE)
        As :func:`kandiscover.search.rational.backward_select` gives them.
    """
    norms = np.linalg.norm(A, axis=0)
    An = A / np.where(norms > 0, norms, 1.0)
    cols = list(cols)
    ssr = _ssr(An, b, cols)
    for _ in range(rounds):
        best = (ssr * (1 - 1e-9), None, None)
        for pos in range(1 if cols and cols[0] == 0 else 0, len(cols)):
            ssr_with, size = _exchanged(An, b, cols, pos)
            ssr_with[cols] = np.inf
            j = int(np.argmin(ssr_with))
            if ssr_with[j] < best[0]:
                best = (float(ssr_with[j]), pos, j)
        if best[1] is None:
            break
        ssr, cols[best[1]] = best[0], best[2]
    coef, *_ = np.linalg.lstsq(A[:, cols], b, rcond=None)
    return cols, coef, float(np.sum((b - A[:, cols] @ coef) ** 2)) / (float(b @ b) or 1e-300)


def cheapened(
    A: np.ndarray,
    b: np.ndarray,
    cols: list,
    cost: np.ndarray,
    limit: float,
    power: np.ndarray,
    rounds: int = 1,
) -> tuple[list, np.ndarray, float]:
    """``cols`` with a function column exchanged for a cheaper power (by ``cost``) while the
    relative MSE stays at most ``limit``: each round makes the one exchange that saves the most
    cost (then fits best). One round by default: a second exchange within the same limit trades
    the law's own columns for stand-ins of about its cost.

    On noisy rows a selection by fit alone keeps a function that stands in for a power to the
    noise, in its Taylor regime: ``1 − exp(−x)`` for ``x`` beside ``x²``, ``x³`` and ``x⁴`` fits
    1 % noise a hair better than the law's own term. Only that direction is taken, a function
    out and a power in (``power``): the other way round, ``sin x`` counts fewer nodes than ``x³``
    and would replace it just as well. Every exchange is scored for all outside columns at once,
    as in :func:`swapped`.

    Parameters
    ----------
    A : ndarray, shape ``(n, m)``
        Column 0 constant (it stays).
    b : ndarray, shape ``(n,)``
    cols : list of int
    cost : ndarray, shape ``(m,)``
        Complexity of each column.
    limit : float
        Largest relative MSE (over ``b·b``) allowed.
    power : ndarray of bool, shape ``(m,)``
        Which columns are powers or products of powers of the inputs (the constant included).

    Returns
    -------
    (columns, coefficients, relative MSE)
        As :func:`swapped` gives them.
    """
    norms = np.linalg.norm(A, axis=0)
    An = A / np.where(norms > 0, norms, 1.0)
    scale = float(b @ b) or 1e-300
    cols = list(cols)
    for _ in range(rounds):
        best = (0.0, np.inf, None, None)  # (cost saved, ssr, position, column)
        for pos in range(1 if cols and cols[0] == 0 else 0, len(cols)):
            if power[cols[pos]]:
                continue
            ssr, size = _exchanged(An, b, cols, pos)
            saved = cost[cols[pos]] - cost
            ok = power & (ssr <= limit * scale) & (saved > 0) & (size > 1e-12)
            ok[cols] = False
            for j in np.flatnonzero(ok):
                if (saved[j], -ssr[j]) > (best[0], -best[1]):
                    best = (float(saved[j]), float(ssr[j]), pos, int(j))
        if best[2] is None:
            break
        cols[best[2]] = best[3]
    coef, *_ = np.linalg.lstsq(A[:, cols], b, rcond=None)
    return cols, coef, float(np.sum((b - A[:, cols] @ coef) ** 2)) / scale


def _exchanged(An: np.ndarray, b: np.ndarray, cols: list, pos: int) -> tuple[np.ndarray, np.ndarray]:
    """The residual sum of squares of ``cols`` with ``cols[pos]`` exchanged for each column of the
    normalised design ``An`` (shape ``(m,)``; a column inside the others' span keeps their
    residual), and each column's squared norm once projected off the others (shape ``(m,)``)."""
    rest = cols[:pos] + cols[pos + 1 :]
    Q, _ = np.linalg.qr(An[:, rest])
    r = b - Q @ (Q.T @ b)
    C = An - Q @ (Q.T @ An)
    size = np.einsum("ij,ij->j", C, C)
    gain = np.where(size > 1e-12, (r @ C) ** 2 / np.where(size > 1e-12, size, 1.0), 0.0)
    return float(r @ r) - gain, size


def _is_power(expr: sympy.Expr) -> bool:
    """Whether a term is a product of integer powers of the inputs (``x``, ``x₁x₂``, ``1/x²``)."""
    return all(f.is_Symbol or (f.is_Pow and f.base.is_Symbol and f.exp.is_Integer) for f in sympy.Mul.make_args(expr))


def _ssr(An: np.ndarray, b: np.ndarray, cols: list) -> float:
    coef, *_ = np.linalg.lstsq(An[:, cols], b, rcond=None)
    return float(np.sum((b - An[:, cols] @ coef) ** 2))


def _solve_each(Gs: np.ndarray, gs: np.ndarray) -> np.ndarray:
    """``g_sᵀ G_s⁻¹ g_s`` for every subset ``s`` (shapes ``(S, k, k)`` and ``(S, k)`` → ``(S,)``);
    a singular ``G_s`` gives ``nan``."""
    det_ok = np.abs(np.linalg.det(Gs)) > 1e-12
    out = np.full(len(Gs), np.nan)
    if det_ok.any():
        sol = np.linalg.solve(Gs[det_ok], gs[det_ok][..., None])[..., 0]
        out[det_ok] = np.einsum("si,si->s", gs[det_ok], sol)
    return out


def terms_expression(library: list[Term], cols: list, coef: np.ndarray) -> sympy.Expr:
    """``Σ c_j·term_j`` for columns ``cols`` of ``[1, library…]`` and their coefficients."""
    parts = [sympy.Float(c) * (sympy.Integer(1) if j == 0 else library[j - 1].expr) for j, c in zip(cols, coef)]
    return sympy.Add(*parts)
