"""Quotients of sums of terms: ``y = P/Q`` with ``P``, ``Q`` sparse sums of dictionary terms.

A law such as ``sin²(nθ/2)/sin²(θ/2) = (1 − cos nθ)/(1 − cos θ)``, ``(1 − α²)/(1 + α·cos δ)`` or
``1/(1 + x⁻⁴)`` is no sum of a few terms, but it is a quotient of two: with the denominator's
constant fixed at 1, ``y·(1 + Σ b_j (t_j − t̄_j)) = Σ a_i t_i`` is linear in the coefficients, and the
columns ``t_i`` and ``−y·(t_j − t̄_j)`` form one least-squares design (the linearisation of SINDy-PI and of
:func:`kandiscover.search.rational.rational`, there with monomials). Columns are eliminated
backward (:func:`kandiscover.search.rational.backward_select`) and the sparsest subset that fits
about as well as the best (:func:`kandiscover.search.rational.sparsest`) and keeps a denominator
term is the candidate; the pipeline refits it on ``y`` itself.

The dictionary (:func:`quotient_dictionary`) is a smaller one than that of
:mod:`kandiscover.search.terms`: each term appears in the numerator and the denominator, so the
design has twice as many columns, and one elimination pass costs a QR per column.

The denominator's terms are centred on the rows (``t̄_j`` their mean), so that ``Q`` has mean 1:
with plain terms a denominator whose terms add up to nearly ``−1`` on every row, over a numerator
near zero, leaves a linearised residual ``y·Q − P`` below the noise, and on noisy rows the
elimination would keep that instead of the law.
"""

from __future__ import annotations

import itertools
import logging
from typing import Optional

import numpy as np
import sympy

from ..symbolic.complexity import complexity
from .context import Context
from .rational import acceptable_error, backward_select, sparsest
from .terms import TIE, Term, distinct, functions_of, monomials, nonzero, sampled, usable

log = logging.getLogger("kandiscover")

__all__ = ["quotient", "quotient_dictionary", "MAX_INPUTS"]

SINGLE_FUNCTIONS = ("sin", "cos", "exp", "log", "sqrt", "inv")
"""Functions of one input in the dictionary of a quotient."""

PAIR_FUNCTIONS = ("sin", "cos")
"""Functions of the products, sums and differences of two inputs, and the factors ``f`` of
``x_j·f(x_i)``."""

MAX_INPUTS = 3
"""Most inputs of a problem the strategy runs on (beyond, the simplest terms are all monomials)."""


def quotient(ctx: Context, max_terms: int = 5, rows: Optional[int] = 600) -> list[sympy.Expr]:
    """Sparse ``P/Q`` candidates over the terms dictionary (see module doc), best fitting first.

    Parameters
    ----------
    ctx : kandiscover.search.context.Context
    max_terms : int
        Most columns of a candidate (numerator and denominator together, the constant 1 of the
        denominator aside).
    rows : int, optional
        Rows used (a seeded subset); the caller refits on all rows.

    Returns
    -------
    list of sympy.Expr
        The sparsest quotient that predicts as well as the best, and its neighbours on the
        elimination path; empty with more than :data:`MAX_INPUTS` inputs or when no quotient
        leaves at most what :func:`kandiscover.search.rational.acceptable_error` allows.
    """
    if ctx.X.shape[1] > MAX_INPUTS:
        return []
    X, y = sampled(ctx, rows)
    if X is None:
        return []
    library = quotient_dictionary(X, ctx.symbols)
    if not library or 2 * len(library) + 1 > len(y) // 2:
        return []
    m = len(library)
    T = np.column_stack([t.values for t in library])
    means = T.mean(axis=0)
    A = np.column_stack([np.ones(len(y)), T, -y[:, None] * (T - means)])
    own = np.array([complexity(t.expr) for t in library], dtype=float)
    cost = np.concatenate([[0.0], own, own])
    # ties by cost only on noisy rows: on exact ones the wide design holds the law to round-off in
    # several ways, and a tie rule at round-off level drops one of its columns early
    path = backward_select(A, y, cost=cost, tie=TIE) if ctx.noisy else backward_select(A, y)
    errors = {
        k: _error(A, T - means, y, cols, coef) for k, (cols, coef, _) in enumerate(path) if any(c > m for c in cols)
    }
    k = sparsest(path, errors, len(y), max_terms + 1, ctx.noisy, cost)
    if k < 0 or errors[k] > acceptable_error(X, y, ctx.seed, ctx.noisy):
        return []
    log.debug("quotient: %d terms, %d kept, relative MSE %.2g", m, len(path[k][0]), errors[k])
    return [_expression(library, means, *path[j][:2]) for j in (k, k - 1, k + 1) if j in errors]


def _error(A: np.ndarray, centred: np.ndarray, y: np.ndarray, cols: list, coef: np.ndarray) -> float:
    """Relative MSE (over ``y·y``) of the quotient itself, ``y − P/Q`` (``centred``, shape
    ``(n, m)``, the denominator's centred terms); infinite where ``Q`` comes near zero on a row.
    The linearised residual ``y·Q − P`` is what the elimination minimises, not what the law must
    fit."""
    m = centred.shape[1]
    cols = np.asarray(cols)
    num, den = cols[cols <= m], cols > m
    P = A[:, num] @ coef[cols <= m]
    Q = 1.0 + centred[:, cols[den] - 1 - m] @ coef[den]
    if np.min(np.abs(Q)) <= 1e-3 * float(np.median(np.abs(Q))):
        return np.inf
    err = float(np.sum((y - P / Q) ** 2)) / (float(y @ y) or 1e-300)
    return err if np.isfinite(err) else np.inf


def quotient_dictionary(X: np.ndarray, symbols: list) -> list[Term]:
    """The terms of a quotient for inputs ``X`` of shape ``(n, d)`` named by ``symbols``: monomials
    up to degree 2; ``sin``, ``cos``, ``exp``, ``log``, ``sqrt`` and ``1/·`` of each input
    (:data:`SINGLE_FUNCTIONS`); ``sin`` and ``cos`` of the products, sums and differences of pairs
    (``cos(θ₁ − θ₂)``, :data:`PAIR_FUNCTIONS`); the quotients ``x_i/x_j``; and ``x_j·sin x_i``,
    ``x_j·cos x_i``. Fewer than :mod:`~kandiscover.search.terms`' dictionary holds: each term
    enters twice, and the elimination's cost grows with the cube of the columns."""
    n, d = X.shape
    out = monomials(X, symbols, 2)
    for i, s in enumerate(symbols):
        out += functions_of(s, X[:, i], SINGLE_FUNCTIONS)
    for i, j in itertools.combinations(range(d), 2):
        a, b = symbols[i], symbols[j]
        for arg, v in ((a * b, X[:, i] * X[:, j]), (a + b, X[:, i] + X[:, j]), (a - b, X[:, i] - X[:, j])):
            out += functions_of(arg, v, PAIR_FUNCTIONS)
    for i, j in itertools.permutations(range(d), 2):
        if nonzero(X[:, j]) and usable(X[:, i] / X[:, j]):
            out.append(Term(symbols[i] / symbols[j], X[:, i] / X[:, j]))
        for t in functions_of(symbols[i], X[:, i], PAIR_FUNCTIONS):
            out.append(Term(symbols[j] * t.expr, X[:, j] * t.values))
    return distinct([t for t in out if usable(t.values)])


def _expression(library: list[Term], means: np.ndarray, cols: list, coef: np.ndarray) -> sympy.Expr:
    """``P/Q`` from the columns of the design (0 the constant, ``1..m`` the numerator's terms,
    ``m+1..2m`` the denominator's, centred by ``means``) and their coefficients, both divided by
    the denominator's constant (or, where that is nearly zero, by its largest coefficient) so
    that the quotient carries no common factor for the refit to wander along."""
    m = len(library)
    num: dict = {}
    den: dict = {sympy.Integer(1): 1.0}
    for c, a in zip(cols, coef):
        if c <= m:
            term = sympy.Integer(1) if c == 0 else library[c - 1].expr
            num[term] = num.get(term, 0.0) + float(a)
        else:
            j = c - 1 - m
            den[library[j].expr] = den.get(library[j].expr, 0.0) + float(a)
            den[sympy.Integer(1)] -= float(a) * float(means[j])
    scale = max(den.values(), key=abs)
    if abs(den[sympy.Integer(1)]) > 1e-6 * abs(scale):
        scale = den[sympy.Integer(1)]
    top = sympy.Add(*(sympy.Float(v / scale) * t for t, v in num.items()))
    bottom = sympy.Add(*(sympy.Float(v / scale) * t for t, v in den.items()))
    return top / bottom
