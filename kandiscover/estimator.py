"""`KANRegressor`: :func:`kandiscover.discover` as a scikit-learn regressor.

    >>> from kandiscover.estimator import KANRegressor             # doctest: +SKIP
    >>> reg = KANRegressor(time_budget=30).fit(X_train, y_train)     # doctest: +SKIP
    >>> reg.sympy(), reg.score(X_test, y_test)                        # doctest: +SKIP

scikit-learn is needed only here: ``import kandiscover`` does not import it.
"""

from __future__ import annotations

import keyword
import logging
import math

import numpy as np
import pandas as pd
import sympy
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .data import min_rows_for
from .discover import discover
from .result import Discovery
from .search.plan import DEFAULT, GROUPS, NAMES, resolve
from .support.params import check_int, check_number
from .symbolic.parse import CONSTANTS, FUNCTIONS

log = logging.getLogger("kandiscover")

__all__ = ["KANRegressor", "STRATEGY_NAMES"]

STRATEGY_NAMES = NAMES + tuple(GROUPS)
"""Names accepted in ``KANRegressor(strategies=...)``: the plan registry's strategies
(:data:`kandiscover.search.plan.NAMES`) and groups (``"kan"``: every general-KAN stage)."""


def _plan(strategies) -> list:
    """Strategy names for ``discover(plan=...)``: all of them, the linear baseline first, or those chosen."""
    return ["linear", *DEFAULT] if strategies is None else list(strategies)


def _feature_names(estimator, n_features: int) -> list:
    """Formula symbols: the DataFrame's column names when they are plain identifiers, else x0..x{d-1}."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        usable = all(
            n.isidentifier()
            and not keyword.iskeyword(n)
            and not n.startswith("_")
            and n not in FUNCTIONS
            and n not in CONSTANTS
            for n in names
        )
        if usable:
            return names
        log.info("column names are not all plain identifiers; the formula uses x0..x%d", n_features - 1)
    return [f"x{k}" for k in range(n_features)]


def _constant_discovery(value: float, target: str, note: str) -> Discovery:
    formula = sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value)
    pareto = pd.DataFrame(
        {
            "complexity": [1],
            "loss": [0.0],
            "score": [0.0],
            "formula": [formula],
            "strategy": ["constant"],
            "chosen": [True],
        }
    )
    return Discovery(
        formula=formula,
        pareto=pareto,
        r2=math.nan,
        rmse=math.nan,
        max_abs_error=math.nan,
        inputs=[],
        target=target,
        seconds=0.0,
        strategy="constant",
        notes=[note],
    )


class KANRegressor(RegressorMixin, BaseEstimator):
    """Equation discovery as a scikit-learn regressor: ``fit`` finds a closed-form law.

    ``fit(X, y)`` runs :func:`kandiscover.discover` on the rows given; ``predict`` evaluates the
    chosen formula. Works in pipelines, grid searches and ``cross_val_score``.

    Parameters
    ----------
    time_budget : float, default=30.0
        Seconds for the search in each ``fit``.
    seed : int, default=0
        Seed of the row split and KAN initialisations.
    noise_hint : float, optional
        Expected relative noise (std / RMS of the target); the search stops once it is reached.
    progress : bool, default=False
        Show a progress bar on stderr.
    strategies : sequence of str, optional
        Stages of the search to run, names of the plan registry (:data:`STRATEGY_NAMES`, see
        :mod:`kandiscover.search.plan`): e.g. ``"linear"`` (ordinary least squares),
        ``"monomial"`` (power laws, closed form), ``"multiplicative"``, ``"additive"``,
        ``"rational"`` (sparse quotients of polynomials, closed form), ``"split"`` and ``"kan"``
        (every trained general KAN). ``None`` (default) runs all of them, the linear baseline
        first. ``("linear", "monomial")`` fits in milliseconds and is exactly reproducible.

    Attributes
    ----------
    discovery_ : Discovery
        The full result (formula, Pareto front, held-out metrics, notes).
    equations_ : DataFrame
        The Pareto front of candidate formulas (``discovery_.pareto``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.

    Notes
    -----
    Formulas use the DataFrame's column names when these are plain identifiers, otherwise
    ``x0 .. x{d-1}``. Sample weights are not supported. A search cut by ``time_budget`` can end
    at a different stage on a busier machine, so two fits of the KAN stages may differ; restrict
    ``strategies`` or raise ``time_budget`` when exact reproducibility matters. A constant target
    gives the constant formula; if every feature is constant the formula is the mean of ``y``.

    Examples
    --------
    >>> reg = KANRegressor(time_budget=10).fit(df[["a", "b"]], df["y"])   # doctest: +SKIP
    >>> reg.sympy()                                                       # doctest: +SKIP
    2*a*b**2
    """

    def __init__(self, time_budget=30.0, seed=0, noise_hint=None, progress=False, strategies=None):
        self.time_budget = time_budget
        self.seed = seed
        self.noise_hint = noise_hint
        self.progress = progress
        self.strategies = strategies

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    def _check_params(self):
        check_number("time_budget", self.time_budget, low=0, what="a positive number of seconds")
        check_int("seed", self.seed)
        check_number(
            "noise_hint",
            self.noise_hint,
            low=0,
            low_inclusive=True,
            allow_none=True,
            what="None or a non-negative number",
        )
        return None if self.strategies is None else resolve(self.strategies, "strategies", optional=True)

    def fit(self, X, y):
        """Discover a formula ``y = f(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least ``max(5, n_features + 3)`` rows; a DataFrame's column names become the
            formula's symbols.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        strategies = self._check_params()
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        n, d = X.shape
        if n < min_rows_for(d):
            raise ValueError(
                f"KANRegressor needs at least {min_rows_for(d)} samples to find a formula of {d} features "
                f"(max(5, n_features + 3)); got n_samples = {n}"
            )
        names = _feature_names(self, d)
        target = "y"
        while target in names:
            target += "_"
        self._names = names
        if np.ptp(y) == 0:
            self.discovery_ = _constant_discovery(y[0], target, "the target is constant")
        elif np.all(np.ptp(X, axis=0) == 0):
            self.discovery_ = _constant_discovery(
                float(np.mean(y)), target, "every feature is constant; the formula is the mean of y"
            )
        else:
            self.discovery_ = discover(
                (X, y),
                target=target,
                names=names,
                time_budget=float(self.time_budget),
                seed=int(self.seed),
                noise_hint=self.noise_hint,
                progress=bool(self.progress),
                plan=_plan(strategies),
            )
            log.debug("KANRegressor.fit: %s in %.2f s", self.discovery_.formula, self.discovery_.seconds)
        self.equations_ = self.discovery_.pareto
        return self

    def predict(self, X) -> np.ndarray:
        """Evaluate the discovered formula.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            NaN where the formula is not defined for the row (a warning is logged).
        """
        check_is_fitted(self, "discovery_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        found = self.discovery_
        cols = [self._names.index(c) for c in found.inputs]
        pred = found.predict(X[:, cols])
        bad = ~np.isfinite(pred)
        if bad.any():
            log.warning(
                "the formula %s is not finite on %d of %d rows (outside its domain)",
                found.formula,
                int(bad.sum()),
                len(pred),
            )
        return pred

    def sympy(self) -> sympy.Expr:
        """The chosen formula, in the feature names."""
        check_is_fitted(self, "discovery_")
        return self.discovery_.formula

    def latex(self) -> str:
        """LaTeX of the chosen formula."""
        check_is_fitted(self, "discovery_")
        return self.discovery_.to_latex()
