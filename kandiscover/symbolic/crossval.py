"""Cross-validation of formulas on small tables: folds, out-of-fold errors, refits on folds.

With a few dozen rows a fixed train / validation / test split leaves too little to fit, to choose
or to report with. :func:`make_folds` splits the rows for cross-validation instead: leave-one-out
up to :data:`LOO_ROWS` rows, else :data:`K_FOLDS`-fold (seeded). Two uses:

Choosing (:func:`press_mse`)
    The cross-validated mean squared error of a formula whose constants are fitted on all rows,
    to first order in the constants: with ``J`` the Jacobian of the formula's values with respect
    to its constants at the fit and ``H = J(JᵀJ)⁺Jᵀ``, the held-out residuals of a fold ``f`` are
    ``(I − H_ff)⁻¹ r_f`` (the PRESS statistic; exact for formulas linear in their constants). One
    Jacobian per candidate instead of one refit per fold: the search scores many candidates.
Reporting (:func:`out_of_fold`)
    Each fold's rows predicted by the formula with its constants refitted on the other rows: the
    reported scores of the chosen formula are out-of-sample. The formula's structure (and the
    constants snapped to simple values) come from all rows.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import sympy

from .evaluate import ConstantFit, compile_formula
from .uncertainty import lift_floats

log = logging.getLogger("kandiscover")

__all__ = ["Folds", "K_FOLDS", "LOO_ROWS", "SMALL_TABLE_ROWS", "make_folds", "out_of_fold", "press_errors", "press_mse"]

SMALL_TABLE_ROWS = 40
"""Tables with fewer rows are cross-validated instead of split into train / validation / test
(at 40 rows the split leaves 8 rows to choose with and 8 to report on)."""
LOO_ROWS = 20
"""Up to this many rows, leave-one-out; above, :data:`K_FOLDS`-fold."""
K_FOLDS = 10


@dataclass(frozen=True)
class Folds:
    """Held-out rows of each fold.

    Attributes
    ----------
    n : int
        Rows in all.
    held_out : tuple of ndarray of int
        The rows each fold predicts; together every row exactly once.
    name : str
        How the rows were used, e.g. ``"leave-one-out (8 rows)"``.
    """

    n: int
    held_out: tuple
    name: str


def make_folds(n: int, seed: int) -> Folds:
    """Leave-one-out for ``n ≤ LOO_ROWS``, else :data:`K_FOLDS` seeded folds of near-equal size."""
    if n <= LOO_ROWS:
        return Folds(n, tuple(np.array([i]) for i in range(n)), f"leave-one-out ({n} rows)")
    order = np.random.default_rng(seed).permutation(n)
    parts = tuple(np.sort(p) for p in np.array_split(order, K_FOLDS))
    return Folds(n, parts, f"{K_FOLDS}-fold cross-validation ({n} rows)")


def _columns(X: np.ndarray) -> list[np.ndarray]:
    X = np.asarray(X, dtype=float)
    return [X[:, j] for j in range(X.shape[1])]


def press_mse(
    expr: sympy.Expr, X: np.ndarray, y: np.ndarray, names: Sequence[str], folds: Folds, weights=None
) -> float:
    """Cross-validated MSE of ``expr`` to first order in its floats: the mean of :func:`press_errors`."""
    return float(np.mean(press_errors(expr, X, y, names, folds, weights)))


def press_errors(
    expr: sympy.Expr, X: np.ndarray, y: np.ndarray, names: Sequence[str], folds: Folds, weights=None
) -> np.ndarray:
    """Squared held-out errors of ``expr`` to first order in its floats (see the module docstring).

    Parameters
    ----------
    expr : sympy.Expr
        Its floats are taken as fitted on all rows.
    X : ndarray, shape ``(n, len(names))``
    y : ndarray, shape ``(n,)``
    names : sequence of str
    folds : Folds
    weights : ndarray, shape ``(n,)``, optional
        Row weights (``1/σ²``, mean 1): weighted squared errors, with the leverages of the
        weighted fit.

    Returns
    -------
    ndarray, shape ``(n,)``
        All ``inf`` when the formula is not finite on the rows or a fold's rows determine some
        constant alone (``I − H_ff`` singular).
    """
    y = np.asarray(y, dtype=float)
    bad = np.full(len(y), math.inf)
    templ, params, theta = lift_floats(expr)
    cols = _columns(X)
    try:
        pred = compile_formula(templ, names, params)(cols, theta, shape=len(y))
    except Exception as exc:  # noqa: BLE001 - a formula that cannot be evaluated is simply not a candidate
        log.debug("cannot evaluate %s: %s", expr, exc)
        return bad
    sqrt_w = np.ones(len(y)) if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    r = sqrt_w * (pred - y)
    if not np.all(np.isfinite(r)):
        return bad
    if not params:
        return r**2
    fit = ConstantFit(names, cols, y, errors="nan")
    jac = sqrt_w[:, None] * fit.residual_fn(templ, params)[1](theta)
    if not np.all(np.isfinite(jac)):
        return bad
    hat = jac @ np.linalg.pinv(jac.T @ jac) @ jac.T
    out = np.empty(len(y))
    for rows in folds.held_out:
        block = np.eye(len(rows)) - hat[np.ix_(rows, rows)]
        if np.linalg.cond(block) > 1e10:
            return bad
        out[rows] = np.linalg.solve(block, r[rows]) ** 2
    return out


def out_of_fold(
    expr: sympy.Expr,
    X: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    folds: Folds,
    *,
    deadline: Optional[float] = None,
) -> np.ndarray:
    """Predictions of every row by ``expr`` with its floats refitted on the other folds' rows.

    Parameters
    ----------
    expr : sympy.Expr
    X : ndarray, shape ``(n, len(names))``
    y : ndarray, shape ``(n,)``
    names : sequence of str
    folds : Folds
    deadline : float, optional
        ``time.monotonic()`` value; past it the remaining folds keep the constants fitted on all
        rows (an in-sample prediction, logged).

    Returns
    -------
    ndarray, shape ``(n,)``
        NaN where the formula is not finite.
    """
    y = np.asarray(y, dtype=float)
    templ, params, theta = lift_floats(expr)
    cols = _columns(X)
    fn = compile_formula(templ, names, params)
    out = np.full(len(y), np.nan)
    late = 0
    for rows in folds.held_out:
        keep = np.setdiff1d(np.arange(len(y)), rows)
        th = theta
        if params and (deadline is None or time.monotonic() < deadline):
            th, _ = ConstantFit(names, [c[keep] for c in cols], y[keep], errors="nan").fit(
                templ, params, theta, deadline=deadline
            )
        elif params:
            late += 1
        out[rows] = fn([c[rows] for c in cols], th, shape=len(rows), errors="nan")
    if late:
        log.info("out-of-fold scores: %d of %d folds not refitted before the deadline", late, len(folds.held_out))
    return out
