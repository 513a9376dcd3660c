"""Sparse polynomials and rational functions by linear least squares.

A law ``y = P(x)/Q(x)`` with low-degree polynomials ``P`` and ``Q`` satisfies the linear equations
``P(x) − Q(x)·y = 0`` row by row. The columns are the monomials ``m(x)`` of ``P`` and ``−y·m(x)``
of ``Q``; one monomial of ``Q`` (the constant, as in ``1 + x·y``, or another, as in ``c² + u·v``)
carries the coefficient 1 and its column becomes the right-hand side. A few columns are kept by
backward elimination from the full least-squares fit, and the subset is judged on the real
residual ``y − P/Q``. Sums of monomials such as ``k·x²/2 + m·g·h`` and quotients such as
``(x − y)/(1 + x·y)`` come out in milliseconds; the pipeline then refits their constants on the
rows and snaps them.
"""

from __future__ import annotations

import itertools
import logging
import math
from typing import Optional

import numpy as np
import sympy
from scipy.linalg import solve_triangular

from ..symbolic.noise import noise_variance

log = logging.getLogger("kandiscover")

__all__ = [
    "monomial_exponents",
    "backward_select",
    "sparsest",
    "rational",
    "integer_scale",
    "acceptable_error",
    "MAX_COLUMNS",
]

MAX_COLUMNS = 120
"""Degrees are lowered until the design matrix has at most this many columns."""


def monomial_exponents(d: int, degree: int, constant: bool = True) -> list[tuple[int, ...]]:
    """Exponent tuples of the monomials in ``d`` variables of total degree at most ``degree``
    (lowest degree first; the constant monomial only when ``constant``)."""
    out = []
    for total in range(0 if constant else 1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), total):
            e = [0] * d
            for k in combo:
                e[k] += 1
            out.append(tuple(e))
    return out


def _evaluate(X: np.ndarray, exps: list) -> np.ndarray:
    """Monomial columns, shape ``(n, len(exps))``."""
    return (
        np.column_stack([np.prod(X ** np.asarray(e, dtype=float), axis=1) for e in exps])
        if exps
        else np.empty((len(X), 0))
    )


def backward_select(
    A: np.ndarray, b: np.ndarray, cost: Optional[np.ndarray] = None, tie: float = 0.0
) -> list[tuple[list[int], np.ndarray, float]]:
    """Backward elimination: from the least-squares fit on every column of ``A``, drop one column at
    a time — the one whose removal raises the residual sum of squares least.

    With ``cost`` (one per column), every column whose removal raises the SSR by at most ``tie``
    residual variances (``SSR / (n − columns)``) more than the least counts as a tie, and the
    costliest of them goes: on noisy rows ``sin x`` and ``x − x³/6`` are as good, and the
    plainer one should stay. Exact rows have no residual variance, so no ties.

    Starting from the full fit (rather than adding columns greedily) keeps an exact sparse solution
    in view: a quotient's columns ``m(x)`` and ``−y·m(x)`` are strongly correlated with ``y`` and
    with each other, and forward selection is led astray by them.

    Parameters
    ----------
    A : ndarray, shape ``(n, m)``
    b : ndarray, shape ``(n,)``
    cost : ndarray, shape ``(m,)``, optional
    tie : float

    Returns
    -------
    list of (columns, coefficients, relative MSE)
        One entry per subset size, from all (independent) columns down to one; coefficients of a
        least-squares fit on ``columns``; relative MSE is ``mean(r²)/mean(b²)``.
    """
    n, m = A.shape
    norms = np.linalg.norm(A, axis=0)
    keep = [j for j in range(m) if norms[j] > 0]
    An = A / np.where(norms > 0, norms, 1.0)
    scale = float(b @ b) or 1e-300
    out = []
    while keep:
        Q, R = np.linalg.qr(An[:, keep])
        diag = np.abs(np.diag(R))
        if not np.all(diag > 1e-10 * diag.max()):  # dependent columns: the first one dependent on those before it goes
            keep.pop(int(np.flatnonzero(diag <= 1e-10 * diag.max())[0]))
            continue
        rinv = solve_triangular(R, np.eye(len(keep)))
        coef = rinv @ (Q.T @ b)
        ssr = float(np.sum((b - An[:, keep] @ coef) ** 2))
        ginv = rinv @ rinv.T  # (AᵀA)⁻¹ on the kept columns
        # a few eliminations by rank-one downdates, then a fresh QR (every step near the end,
        # where the coefficients reported matter most)
        for _ in range(8 if len(keep) > 16 else 1):
            out.append((list(keep), coef / norms[keep], ssr / scale))
            # removing column j raises the SSR by coef_j² / [(AᵀA)⁻¹]_jj
            gain = coef**2 / np.diag(ginv)
            j = _eliminated(gain, keep, cost, tie * ssr / max(n - len(keep), 1))
            ssr += float(gain[j])
            coef = np.delete(coef - coef[j] * ginv[:, j] / ginv[j, j], j)
            ginv = np.delete(np.delete(ginv - np.outer(ginv[:, j], ginv[j]) / ginv[j, j], j, 0), j, 1)
            keep.pop(j)
            if len(keep) <= 16 or not keep:
                break
    return out


def _eliminated(gain: np.ndarray, keep: list, cost: Optional[np.ndarray], tolerance: float) -> int:
    """Position in ``keep`` of the column to drop: the least ``gain``, or with costs the costliest
    of those within ``tolerance`` of it."""
    j = int(np.argmin(gain))
    if cost is None or tolerance <= 0:
        return j
    ties = np.flatnonzero(gain <= gain[j] + tolerance)
    return int(ties[np.argmax(np.asarray(cost)[np.asarray(keep)[ties]])])


DESIGNS = ((3, 0), (2, 1), (2, 2), (3, 2), (2, 3))
"""``(numerator degree, denominator degree)`` pairs tried in order (lowered for many inputs so that
a design has at most :data:`MAX_COLUMNS` columns)."""


EXACT_DESIGNS = ((9, 0), (4, 2), (3, 3), (5, 2), (4, 4), (6, 4))
"""Larger designs tried for one or two inputs once :data:`DESIGNS` find nothing; a candidate from
them must reproduce the rows to round-off (:data:`EXACT_ERROR`) with any number of terms, since
high-degree quotients approximate smooth non-rational laws (a Padé approximant of ``exp``) to
``1e-10`` and better; true quotients reach about ``1e-30``."""

DENSE_DESIGNS = ((2, 0), (3, 0), (2, 2))
"""For three inputs or more: the low designs again with any number of terms, also accepted only at
round-off (``(x₂ − x₁)² + (y₂ − y₁)² + (z₂ − z₁)²`` has nine)."""

LOW_LEADS = 6
"""Leading denominator monomials tried in the low designs besides the constant (each with the rows
weighted by it); the larger designs, accepted only at round-off, try two."""

EXACT_ERROR = 1e-26
"""Residual MSE / Var(y) an :data:`EXACT_DESIGNS` candidate must reach."""


def _degrees(d: int, p_degree: int, q_degree: int) -> tuple[int, int]:
    """The largest degrees not above the requested ones whose design fits :data:`MAX_COLUMNS`."""
    while p_degree > 1 or q_degree > 0:
        if len(monomial_exponents(d, p_degree)) + len(monomial_exponents(d, q_degree)) <= MAX_COLUMNS:
            break
        if q_degree >= p_degree and q_degree > 0:
            q_degree -= 1
        else:
            p_degree -= 1
    return p_degree, q_degree


class _Design:
    """The linear equations ``P(x) − Q(x)·y = 0`` for one pair of degrees, with the columns
    ``m(x)`` of the numerator's and ``−y·m(x)`` of the denominator's monomials, in units ``unit``
    of the inputs.

    One QR decomposition of all columns serves every choice of the denominator's leading monomial
    (the one whose coefficient is fixed to 1, its column moved to the right-hand side): the
    right-hand side then lies in the span of the columns, and each fit is an ``m × m`` problem.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, unit: np.ndarray, p_degree: int, q_degree: int) -> None:
        d = X.shape[1]
        self.unit, self.y = unit, y
        self.p_exps = monomial_exponents(d, p_degree)
        self.q_exps = monomial_exponents(d, q_degree) if q_degree else [(0,) * d]
        Xu = X / unit
        self.P, self.M = _evaluate(Xu, self.p_exps), _evaluate(Xu, self.q_exps)
        A = np.column_stack([self.P, -y[:, None] * self.M])
        self.norms = np.linalg.norm(A, axis=0)
        self.norms[self.norms == 0] = 1.0
        self.A = A / self.norms
        self.R = np.linalg.qr(self.A, mode="r")

    @property
    def size(self) -> int:
        return len(self.p_exps) + len(self.q_exps)

    def leads(self, extra: int = 2) -> list[tuple[int, ...]]:
        """Denominator monomials to fix to 1: the constant (``1 + x·y``), then the ``extra``
        largest of the denominator in the design's near-null vector — the total-least-squares
        solution of ``P − Q·y = 0``, which does not need to know which coefficient is nonzero
        (``c² + u·v``, ``m·ω₀² − m·ω²``, ``m1 + m2``)."""
        const = (0,) * len(self.unit)
        out = [const] if const in self.q_exps else []
        if len(self.q_exps) > 1:
            v = np.linalg.svd(self.R)[2][-1][len(self.p_exps) :]
            out += [self.q_exps[j] for j in np.argsort(-np.abs(v)) if self.q_exps[j] != const][:extra]
        return out

    def path(self, lead: tuple, weighted: bool = False) -> tuple[list, list]:
        """:func:`backward_select` path with ``lead``'s coefficient fixed to 1, and the indices
        (into numerator then denominator monomials) its column numbers stand for; ``weighted``:
        the rows divided by the leading monomial (:meth:`_weighted`)."""
        at = len(self.p_exps) + self.q_exps.index(lead)
        others = [j for j in range(self.size) if j != at]
        R = self._weighted(self.M[:, self.q_exps.index(lead)]) if weighted and any(lead) else self.R
        rhs = -self.norms[at] * R[:, at]
        return backward_select(R[:, others] * self.norms[others], rhs), others

    def _weighted(self, lead_values: np.ndarray) -> np.ndarray:
        """The R factor of the rows divided by the leading monomial's values (shape ``(n,)``): the
        equations ``P − Q·y = 0`` weigh each row by ``|Q|``, and with ``Q ≈ c²`` the rows of large
        ``c`` would decide alone — where ``1 − v²/c²`` hardly depends on ``v`` (the first step of
        Sanathanan and Koerner's iteration, with ``Q`` taken as its leading monomial)."""
        size = np.abs(lead_values)
        w = 1.0 / np.maximum(size, 1e-3 * (size.max() or 1.0))
        return np.linalg.qr(self.A * w[:, None], mode="r")

    def _terms(self, cols: list, coef: np.ndarray, lead: tuple):
        num = [(self.p_exps[c], v) for c, v in zip(cols, coef) if c < len(self.p_exps)]
        den = [(self.q_exps[c - len(self.p_exps)], v) for c, v in zip(cols, coef) if c >= len(self.p_exps)]
        return num, den + [(lead, 1.0)]

    def expression(self, symbols: list, cols: list, coef: np.ndarray, lead: tuple) -> sympy.Expr:
        """``P/Q`` in the original units, the leading monomial's coefficient 1 and a monomial
        factor common to every term (``x·(x − y) / (x·(x·y + 1))``) cancelled."""
        num, den = self._terms(cols, coef, lead)
        common = np.min([e for e, _ in num + den], axis=0)
        lead_unit = float(np.prod(self.unit ** np.asarray(lead, dtype=float)))

        def value(e, v):
            return v * lead_unit / float(np.prod(self.unit ** np.asarray(e, dtype=float)))

        scale = integer_scale([value(e, v) for e, v in num + den])

        def coefficient(e, v):
            if e == lead and v == 1.0 and abs(scale - round(scale)) <= 1e-9 * scale:
                # the normalisation, not a fitted constant: a float there would let a refit
                # rescale numerator and denominator together (703·c·ω/(702·c − 701·v))
                return sympy.Integer(round(scale))
            return sympy.Float(scale * value(e, v))

        def poly(terms):
            return sympy.Add(
                *(
                    coefficient(e, v) * sympy.Mul(*(s ** int(k) for s, k in zip(symbols, np.subtract(e, common)) if k))
                    for e, v in terms
                )
            )

        return poly(num) / poly(den)

    def prediction(self, cols: list, coef: np.ndarray, lead: tuple) -> np.ndarray:
        """``P(x)/Q(x)`` on the design's rows."""
        num, den = self._terms(cols, coef, lead)
        top = sum((v * self.P[:, self.p_exps.index(e)] for e, v in num), np.zeros(len(self.y)))
        bottom = sum(v * self.M[:, self.q_exps.index(e)] for e, v in den)
        with np.errstate(all="ignore"):
            return top / bottom


def integer_scale(values: list, largest: int = 1000, tol: float = 1e-7) -> float:
    """The smallest factor that makes every value an integer (to ``tol``, relative) no larger than
    ``largest`` — ``26`` for ``1/26, 12/26, 54/26`` — or 1 when there is none or the values are
    integers and halves already. A quotient is fixed
    only up to a common factor of its coefficients, and the fit fixes one monomial's to 1; scaled,
    the constants snap to the integers of the law (``(x − 2)⁴ + 10``, not ``0.0384615·x⁴ + …``)."""
    v = np.abs(np.asarray([x for x in values if x != 0], dtype=float))
    if not len(v) or np.all(np.abs(2 * v - np.round(2 * v)) <= tol * np.maximum(2 * v, 1.0)):
        return 1.0  # halves and integers already: nothing to gain
    for base in np.unique(v):
        for mult in range(1, 13):
            s = mult / base
            w = v * s
            if w.max() > largest:
                break
            if np.all(np.abs(w - np.round(w)) <= tol * np.maximum(w, 1.0)):
                return float(s)
    return 1.0


UNEXPLAINED = 0.01
"""Part of ``Var(y)`` a sparse linear candidate may leave unexplained on rows without noise."""

NOISE_MARGIN = 3.0
"""On noisy rows, a candidate may leave this many times the rows' own noise variance unexplained."""


def acceptable_error(X: np.ndarray, y: np.ndarray, seed: int = 0, noisy: bool = False) -> float:
    """The residual MSE / ``mean(y²)`` a sparse linear candidate may have: :data:`UNEXPLAINED` of
    ``Var(y)``, or on ``noisy`` rows :data:`NOISE_MARGIN` times the noise variance they show
    (:func:`kandiscover.symbolic.noise.noise_variance`, ``X`` of shape ``(n, d)``, ``y`` of shape
    ``(n,)``) where that is more. A target whose variation is small beside its noise — a transformed
    one such as ``1/y² = 1 − v²/c²`` on 1 % noise, or a quotient left by a factor — is explained
    by its law only to the noise, and the law must not be refused for it. On exact rows the
    neighbour estimate measures the law's curvature, not noise, and is not used."""
    var = float(np.var(y))
    if not noisy:
        return UNEXPLAINED * var / (float(np.mean(y**2)) or 1e-300)
    noise = noise_variance(X, y, seed=seed)
    allowed = max(UNEXPLAINED * var, NOISE_MARGIN * noise if np.isfinite(noise) else 0.0)
    return allowed / (float(np.mean(y**2)) or 1e-300)


def per_column(n: int, noisy: bool = True) -> float:
    """Relative rise of the error a column must buy to stay in a fit on ``n`` rows. On noisy rows
    ``log(n)/n``, the Bayesian information criterion's price of a parameter (a column chosen from a
    hundred explains about ``2·log(100)/n`` of pure noise, more than AIC's ``2/n``); on exact rows
    ``3/n``, where the rule only has to absorb the full fit's round-off and a larger price would
    let a sparse approximation (a cubic for ``x·sin θ``) pass for the law."""
    return math.log(max(n, 2)) / max(n, 1) if noisy else 3.0 / max(n, 1)


def sparsest(
    path: list, errors: dict, n: int, max_terms: int, noisy: bool = False, cost: Optional[np.ndarray] = None
) -> int:
    """Index in ``path`` of the smallest subset (at most ``max_terms`` columns) that predicts about
    as well as the best one: its error (``errors``, by index) may exceed the best's by
    :func:`per_column` per column fewer (about what fitting noise with a column buys), or by
    ``1e-20`` of ``mean(y²)`` on exact rows; of several such of one size, the best fitting — on
    noisy rows, with ``cost`` (complexity per column of the design), the cheapest of those within
    one column's price of the best fitting (``x⁵ − 2x³ + x`` rather than ``0.9x⁵ − 11x + 12·sin x``,
    which fits the noise a little better). ``-1`` when no subset qualifies."""
    if not errors:
        return -1
    ref = min(errors, key=errors.get)
    qualified = [
        k
        for k, err in errors.items()
        if len(path[k][0]) <= max_terms
        and err <= errors[ref] * (1 + per_column(n, noisy) * max(len(path[ref][0]) - len(path[k][0]), 0)) + 1e-20
    ]
    best = min(qualified, key=lambda k: (len(path[k][0]), errors[k]), default=-1)
    if best < 0 or not noisy or cost is None:
        return best
    size, limit = len(path[best][0]), errors[best] * (1 + per_column(n, noisy))
    ties = [k for k, err in errors.items() if len(path[k][0]) == size and err <= limit]
    return min(ties, key=lambda k: (float(np.sum(cost[list(path[k][0])])), errors[k]))


def rational(ctx, max_terms: int = 4, rows: Optional[int] = 1000) -> list[sympy.Expr]:
    """Sparse ``P(x)/Q(x)`` candidates for the context's rows (see module doc).

    For each pair of degrees of :data:`DESIGNS` and each leading monomial of the denominator
    (:meth:`_Design.leads`), columns are eliminated from the full least-squares fit
    (:func:`backward_select`); the smallest subset that predicts ``y`` as well as the best of the
    path (:func:`sparsest`) is a candidate, with the one a column larger. The search stops at the
    first design whose candidate explains the rows to the context's ``floor``. A law the designs
    only approximate (``sqrt(x² + z²)``) has no small subset that does as well as a large one and
    gives nothing.

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
    max_terms : int
        Largest number of monomials (numerator and denominator together, the leading one aside).
    rows : int, optional
        Rows used (a seeded subset); the caller refits on all rows.

    Returns
    -------
    list of sympy.Expr
        Best fitting first.
    """
    X, y = ctx.X, ctx.y
    if rows is not None and len(y) > rows:
        idx = np.random.default_rng(ctx.seed).choice(len(y), rows, replace=False)
        X, y = X[idx], y[idx]
    n, d = X.shape
    if not np.all(np.isfinite(X)) or not np.all(np.isfinite(y)):
        return []
    # powers of inputs of very different sizes: columns in units where every input is of order one
    unit = np.max(np.abs(X), axis=0)
    unit[unit == 0] = 1.0
    mean_sq = float(np.mean(y**2)) or 1e-300
    solved = ctx.floor * float(np.var(y)) / mean_sq  # the context's floor, relative to mean(y²)
    found: list[tuple[float, sympy.Expr]] = []
    accept = acceptable_error(X, y, ctx.seed, ctx.noisy)
    _search_designs(ctx, X, y, unit, DESIGNS, max_terms, accept, solved, found, LOW_LEADS)
    exact = EXACT_ERROR * float(np.var(y)) / mean_sq
    if not (found and found[0][0] <= exact):
        designs = EXACT_DESIGNS if d <= 2 else DENSE_DESIGNS
        _search_designs(ctx, X, y, unit, designs, 10**6, exact, exact, found)
    return [e for _, e in found]


def _search_designs(
    ctx, X, y, unit, designs, max_terms: int, accept: float, solved: float, found: list, leads: int = 2
) -> None:
    """Add to ``found`` (pairs ``(score, expression)``, kept sorted) the candidates of each design of
    ``designs`` whose relative MSE is at most ``accept``, stopping once one reaches ``solved``;
    ``leads``: the denominator monomials tried as the leading one besides the constant (more than
    two: with the rows weighted by it, :meth:`_Design._weighted`)."""
    n, d = X.shape
    mean_sq = float(np.mean(y**2)) or 1e-300
    for pd_, qd in dict.fromkeys(_degrees(d, p, q) for p, q in designs):
        if ctx.remaining() <= 0 or (found and found[0][0] <= solved):
            break
        design = _Design(X, y, unit, pd_, qd)
        if design.size > n // 4:
            continue
        for lead in design.leads(extra=leads):
            if ctx.remaining() <= 0 or (found and found[0][0] <= solved):
                break
            path, index = design.path(lead, weighted=leads > 2)
            path = [([index[c] for c in cols], coef, err) for cols, coef, err in path]
            # judged on the real residual y − P/Q: the linear one can fit part of the noise through
            # the columns −y·m(x), which carry it
            errors = {}
            for k, (cols, coef, _) in enumerate(path):
                if len(cols) <= 3 * max_terms:
                    err = float(np.mean((y - design.prediction(cols, coef, lead)) ** 2)) / mean_sq
                    errors[k] = err if np.isfinite(err) else np.inf
            k = sparsest(path, errors, n, max_terms, ctx.noisy)
            if k < 0 or errors[k] > accept:
                continue
            log.debug(
                "rational (degrees %d/%d, lead %s): %d terms, relative MSE %.2g",
                pd_,
                qd,
                lead,
                len(path[k][0]),
                errors[k],
            )
            for j in (k, k - 1) if k > 0 else (k,):
                cols, coef, _ = path[j]
                # best fitting first; on a tie (exact rows) the smaller one
                score = (errors[j] + 1e-20) * (1 + per_column(n, ctx.noisy) * len(cols))
                found.append((score, design.expression(ctx.symbols, cols, coef, lead)))
            found.sort(key=lambda t: t[0])
