"""The rows of one search: fitting, choosing and reporting parts, and the losses taken on them.

A table of at least :data:`~kandiscover.symbolic.crossval.SMALL_TABLE_ROWS` rows is split into
training, validation and test rows; a smaller one is fitted on all rows and cross-validated.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import sympy

from .data import Table, split_rows
from .symbolic.crossval import SMALL_TABLE_ROWS, Folds, make_folds, out_of_fold, press_mse
from .symbolic.evaluate import formula_mse, formula_predictions, metrics, scores
from .symbolic.noise import NoiseTest, lack_of_fit_test
from .symbolic.uncertainty import relative_weights

__all__ = ["Rows", "MAX_TRAIN_ROWS"]

MAX_TRAIN_ROWS = 3000
"""Training rows used at most (a seeded subset of larger tables)."""


class Rows:
    """The rows of one search: those the constants are fitted on, those candidates are chosen by and
    those the chosen formula is reported on, each part sliced once.

    A table of at least :data:`SMALL_TABLE_ROWS` rows is split into training, validation and test
    rows (at most :data:`MAX_TRAIN_ROWS` training rows). A smaller one is fitted on all rows and
    cross-validated (``folds``): candidates are compared by their cross-validated error
    (:func:`~kandiscover.symbolic.crossval.press_mse`) and the chosen one is reported by refits on
    the folds (:func:`~kandiscover.symbolic.crossval.out_of_fold`).

    Attributes
    ----------
    names : list of str
    folds : Folds or None
        The cross-validation folds of a small table.
    validation : str
        How the rows were used, e.g. ``"leave-one-out (8 rows)"``.
    """

    def __init__(self, table: Table, seed: int, sigma: Optional[np.ndarray] = None) -> None:
        n = len(table.y)
        self.names = table.inputs
        self.folds: Optional[Folds] = None
        if n < SMALL_TABLE_ROWS:
            self.folds = make_folds(n, seed)
            every = np.arange(n)
            tr = va = te = every
            self.validation = self.folds.name
        else:
            tr, va, te = split_rows(n, seed)
            if len(tr) > MAX_TRAIN_ROWS:
                tr = np.sort(np.random.default_rng(seed).choice(tr, MAX_TRAIN_ROWS, replace=False))
            self.validation = f"train/validation/test split ({len(tr)}/{len(va)}/{len(te)} rows)"
        self.parts = {k: (table.X[idx], table.y[idx]) for k, idx in (("tr", tr), ("va", va), ("te", te))}
        self.sigma = None if sigma is None else {k: sigma[idx] for k, idx in (("tr", tr), ("va", va), ("te", te))}
        X_tr = self.parts["tr"][0]
        self.train_columns = {n: X_tr[:, k] for k, n in enumerate(self.names)}

    @property
    def small(self) -> bool:
        """Whether the table is cross-validated."""
        return self.folds is not None

    def part(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of ``"tr"`` (fitting), ``"va"`` (choosing) or ``"te"`` (reporting); all rows for
        each of a small table."""
        return self.parts[which]

    def weights(self, which: str) -> Optional[np.ndarray]:
        """``1/σ²`` (mean 1) of a part when the errors are given, else ``None``."""
        if self.sigma is None:
            return None
        w = 1.0 / self.sigma[which] ** 2
        return w / float(np.mean(w))

    def error_weights(self, expr: sympy.Expr) -> Optional[np.ndarray]:
        """The weights of the fitting rows: ``1/σ²`` when the errors are given; else ``1/y²`` (mean
        1) when ``expr``'s residuals there look like relative errors
        (:func:`~kandiscover.symbolic.uncertainty.relative_weights`), else ``None``."""
        if self.sigma is not None:
            return self.weights("tr")
        X, y = self.part("tr")
        return relative_weights(formula_predictions(expr, X, self.names) - y, y)

    def loss(self, expr: sympy.Expr, weights: Optional[np.ndarray] = None) -> float:
        """The choosing loss of a formula fitted on the fitting rows: validation MSE, or the
        cross-validated MSE of a small table; weighted by ``weights`` of the choosing rows (by
        ``1/σ²`` when the errors are given)."""
        X, y = self.part("va")
        if weights is None:
            weights = self.weights("va")
        if self.small:
            return press_mse(expr, X, y, self.names, self.folds, weights)
        if weights is None:
            return formula_mse(expr, X, y, self.names)
        err = float(np.mean(weights * (formula_predictions(expr, X, self.names) - y) ** 2))
        return err if math.isfinite(err) else math.inf

    def choosing_weights(self, pool: list[dict]) -> Optional[np.ndarray]:
        """Weights of the choosing rows when the best candidate of ``pool`` leaves relative errors
        there (:func:`~kandiscover.symbolic.uncertainty.relative_weights`), else ``None``; the
        losses are weighted already when the errors are given."""
        if self.sigma is not None:
            return None
        best = min(pool, key=lambda e: e["loss"])
        X, y = self.part("va")
        return relative_weights(formula_predictions(best["formula"], X, self.names) - y, y)

    def noise_test(self, expr: sympy.Expr) -> Optional[NoiseTest]:
        """Whether ``expr``'s residuals on the fitting and choosing rows together are noise
        (:func:`~kandiscover.symbolic.noise.lack_of_fit_test`, ``p`` the formula's float
        constants); None where it does not evaluate to finite numbers."""
        X = np.vstack([self.parts["tr"][0], self.parts["va"][0]])
        y = np.concatenate([self.parts["tr"][1], self.parts["va"][1]])
        r = formula_predictions(expr, X, self.names) - y
        if not np.all(np.isfinite(r)):
            return None
        return lack_of_fit_test(X, r, len(expr.atoms(sympy.Float)))

    def chi2_per_dof(self, expr: sympy.Expr) -> Optional[float]:
        """``Σ((y − f)/σ)² / (n − p)`` on the fitting rows, ``p`` the formula's fitted constants."""
        X, y = self.part("tr")
        dof = len(y) - len(expr.atoms(sympy.Float))
        r = (formula_predictions(expr, X, self.names) - y) / self.sigma["tr"]
        return float(np.sum(r**2) / dof) if dof > 0 and np.all(np.isfinite(r)) else None

    def report(self, expr: sympy.Expr, deadline: float) -> dict:
        """``r2``, ``rmse`` and ``max_abs_error`` on the test rows, or out of fold (constants refitted
        on the other folds until ``deadline``) for a small table."""
        X, y = self.part("te")
        if self.small:
            return scores(out_of_fold(expr, X, y, self.names, self.folds, deadline=deadline), y)
        return metrics(expr, X, y, self.names)
