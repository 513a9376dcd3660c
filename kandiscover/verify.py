"""`verify()`: check a formula against data, optionally fitting its free constants.

    >>> chk = verify("m*c**2", df, target="E")                          # doctest: +SKIP
    >>> chk.ok, chk.r2, chk.max_abs_error                                 # doctest: +SKIP
    >>> verify("G*m1*m2/r**2", df, target="F", fit_constants=True).constants   # doctest: +SKIP
    {'G': 6.674e-11}

The formula is a string (parsed by the whitelisting :func:`~kandiscover.symbolic.parse.parse_formula`,
never evaluated) or a sympy expression. Its names must be columns of the data; with
``fit_constants=True`` every other name becomes a free constant fitted by least squares, reported
with its standard error and 95 % interval (``constants_table``).

The verdict: a formula that explains all but a millionth of the target's variance is right (exact
data). Otherwise, with ``sigma`` (standard deviations of the target per row), the χ² of the
residuals decides; without it, whether the residuals are noise or a misfit
(:func:`~kandiscover.symbolic.noise.lack_of_fit_test`). ``tol=`` asks for the R² criterion alone.
"""

from __future__ import annotations

import ast
import html
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import sympy

from .data import DataError, as_frame, prepare, with_target
from .support.jsonsafe import finite_or_none
from .support.params import check_number
from .symbolic.evaluate import ConstantFit, compile_formula, scores
from .symbolic.export import to_latex
from .symbolic.noise import NoiseTest, chi2_test, lack_of_fit_test
from .symbolic.parse import CONSTANTS, FUNCTIONS, parse_formula
from .symbolic.uncertainty import (
    constant_lines,
    constants_frame,
    constants_html,
    estimate_constants,
    relative_weights,
)
from .units import UnitError, parse_units, unit_mismatch

log = logging.getLogger("kandiscover")

__all__ = ["verify", "Verification", "DEFAULT_TOL"]

#: Default ``tol``: the largest accepted relative MSE, ``MSE / Var(y) = 1 - R²``.
DEFAULT_TOL = 1e-6
#: Random restarts of the nonlinear constant fit (after the start at all-ones).
_RESTARTS = 8


@dataclass
class Verification:
    """How well a formula explains the data; returned by :func:`verify`.

    Attributes
    ----------
    formula : sympy.Expr
        The formula checked, with fitted constants substituted.
    target : str
    inputs : list of str
        Columns the formula uses.
    r2 : float
        Coefficient of determination on all rows used, ``1 - MSE / Var(y)``.
    rmse : float
        Root mean squared error.
    max_abs_error : float
        Largest absolute residual.
    ok : bool
        The verdict (see ``criterion``).
    tol : float
        Largest relative MSE (``1 - R²``) accepted as exact.
    constants : dict of str to float
        Fitted values of the free constants (empty unless ``fit_constants=True``).
    constants_table : DataFrame
        The free constants with their uncertainty, the columns of ``Discovery.constants``
        (``symbol``, ``value``, ``std_error``, ``low``, ``high``, ``method``, ``snapped``).
    criterion : str
        The rule that gave the verdict: ``"R² ≥ 1 - 1e-06"``, the χ² test with ``sigma``, or the
        test of the residuals against the noise estimated from them.
    p_value, chi2_per_dof : float or None
        Of the χ² test (``sigma`` given); ``p_value`` also of the noise test.
    noise_std : float or None
        The noise level the residuals were judged against (RMS of ``sigma``, or the estimate).
    residuals : ndarray
        ``observed - predicted``, one per row used.
    predictions : ndarray
        The formula's values on the rows used.
    observed : ndarray
        The target on the rows used.
    rows : ndarray of int
        0-based positions in the given data of the rows used.
    notes : list of str
        Data changes (e.g. dropped rows) and remarks.
    unit_mismatch : str or None
        With ``units``: why the formula is dimensionally wrong (``"the formula has unit kg·m/s,
        the target E has kg·m^2/s^2"``), which makes ``ok`` false; None when it is consistent or
        no units were given.
    """

    formula: sympy.Expr
    target: str
    inputs: list
    r2: float
    rmse: float
    max_abs_error: float
    ok: bool
    tol: float
    constants: dict = field(default_factory=dict)
    constants_table: pd.DataFrame = field(default_factory=lambda: constants_frame([]), repr=False)
    criterion: str = ""
    p_value: Optional[float] = None
    chi2_per_dof: Optional[float] = None
    noise_std: Optional[float] = None
    residuals: np.ndarray = field(default=None, repr=False)
    predictions: np.ndarray = field(default=None, repr=False)
    observed: np.ndarray = field(default=None, repr=False)
    rows: np.ndarray = field(default=None, repr=False)
    notes: list = field(default_factory=list)
    unit_mismatch: Optional[str] = None

    @property
    def n_rows(self) -> int:
        """Number of rows the formula was checked on."""
        return int(len(self.observed))

    def verdict(self) -> str:
        """``"OK"`` or ``"NOT OK"`` with the criterion."""
        word = "OK" if self.ok else "NOT OK"
        return f"{word} (criterion: {self.criterion or f'R² ≥ 1 - {self.tol:g}'})"

    def summary(self) -> str:
        lines = [
            f"{self.target} = {self.formula}",
            f"  {self.verdict()}",
            f"  R² = {self.r2:.12g}, RMSE = {self.rmse:.4g}, max |error| = {self.max_abs_error:.4g} "
            f"on {self.n_rows} rows",
        ]
        if self.constants:
            lines.append("  fitted constants (value ± standard error, 95 % interval, method):")
            lines += [f"    {c}" for c in constant_lines(self.constants_table)]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """JSON-ready summary (non-finite numbers become ``None``)."""
        return {
            "formula": str(self.formula),
            "latex": to_latex(self.formula),
            "target": self.target,
            "inputs": list(self.inputs),
            "ok": bool(self.ok),
            "tol": self.tol,
            "r2": finite_or_none(self.r2),
            "rmse": finite_or_none(self.rmse),
            "max_abs_error": finite_or_none(self.max_abs_error),
            "n_rows": self.n_rows,
            "criterion": self.criterion or f"R² ≥ 1 - {self.tol:g}",
            "p_value": finite_or_none(self.p_value) if self.p_value is not None else None,
            "chi2_per_dof": finite_or_none(self.chi2_per_dof) if self.chi2_per_dof is not None else None,
            "noise_std": finite_or_none(self.noise_std) if self.noise_std is not None else None,
            "constants": {k: finite_or_none(v) for k, v in self.constants.items()},
            "constants_table": [
                {k: (finite_or_none(v) if isinstance(v, float) else v) for k, v in r.items()}
                for r in self.constants_table.to_dict("records")
            ],
            "notes": list(self.notes),
            "unit_mismatch": self.unit_mismatch,
        }

    def plot(self, ax=None):
        """Residuals against predictions.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw into this Axes; by default a new :class:`matplotlib.figure.Figure` is made
            (no pyplot global state, so it works with any backend).

        Returns
        -------
        matplotlib.figure.Figure
        """
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6.0, 4.0), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        ax.scatter(self.predictions, self.residuals, s=8, alpha=0.6, color="C0" if self.ok else "C3")
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xlabel(f"predicted {self.target}")
        ax.set_ylabel("residual (observed − predicted)")
        text = str(self.formula)
        text = text if len(text) <= 60 else text[:57] + "..."
        ax.set_title(f"{self.target} = {text}\nR² = {self.r2:.6g}, {self.verdict()}", fontsize=9)
        return fig

    def _repr_html_(self) -> str:
        color = "green" if self.ok else "crimson"
        consts = constants_html(self.constants_table)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><p><b>{html.escape(self.target)}</b> = $${to_latex(self.formula)}$$</p>"
            f"<p style='color:{color}'><b>{html.escape(self.verdict())}</b></p>"
            f"<p>R² = {self.r2:.12g} · RMSE = {self.rmse:.4g} · max |error| = {self.max_abs_error:.4g} · "
            f"{self.n_rows} rows</p>{consts}{f'<ul>{notes}</ul>' if notes else ''}</div>"
        )


# ------------------------------------------------------------------------------------ names


def _names_in_text(text: str) -> list:
    """Identifiers used as values (not as called functions) in a formula, in order of appearance.

    Only :mod:`ast` parsing, nothing is evaluated; on a syntax error returns ``[]`` (the
    whitelisting parser then reports the error).
    """
    try:
        tree = ast.parse(text.replace("^", "**").strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = sorted(
        ((n.lineno, n.col_offset, n.id) for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called)
    )
    return list(dict.fromkeys(name for *_, name in found))


def _classify(names, columns, allowed, target, fit_constants):
    """Split the names a formula uses into columns and free constants, or raise a clear error."""
    if target in names:
        raise DataError(
            f"the formula uses the target column {target!r} itself; write the formula for "
            f"{target!r} in terms of the other columns {allowed}"
        )
    excluded = [n for n in names if n in columns and n not in allowed]
    if excluded:
        raise DataError(
            f"the formula uses columns {excluded}, which are not among inputs {allowed}; add them to inputs"
        )
    free = [n for n in names if n not in columns]
    if free and not fit_constants:
        one = len(free) == 1
        what = "it as a free constant" if one else "them as free constants"
        raise DataError(
            f"the formula uses {free}, which {'is not a column' if one else 'are not columns'} "
            f"of the data (columns: {allowed}); fix the name{'' if one else 's'}, or pass "
            f"fit_constants=True (--fit-constants) to fit {what}"
        )
    return [n for n in names if n in allowed], free


def _as_formula(formula, columns, allowed, target, fit_constants):
    if isinstance(formula, str):
        names = [n for n in _names_in_text(formula) if n in columns or (n not in CONSTANTS and n not in FUNCTIONS)]
        used, free = _classify(names, columns, allowed, target, fit_constants)
        expr = parse_formula(formula, variables=used + free)
    elif isinstance(formula, sympy.Expr):
        expr = formula
        names = sorted(s.name for s in expr.free_symbols)
        used, free = _classify(names, columns, allowed, target, fit_constants)
    elif isinstance(formula, (int, float)) and not isinstance(formula, bool):
        return sympy.Float(formula), [], []
    else:
        raise TypeError(f"formula must be a string or a sympy expression, got {type(formula).__name__}")
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise DataError(f"the formula {formula} is not finite")
    present = {s.name for s in expr.free_symbols}
    return expr, [n for n in used if n in present], [n for n in free if n in present]


# ------------------------------------------------------------------------------------ steps


def _checked_tol(tol) -> float:
    """``tol`` as a float in ``[0, 1)`` (:data:`DEFAULT_TOL` when ``None``)."""
    if tol is None:
        return DEFAULT_TOL
    return check_number(
        "tol",
        tol,
        low=0,
        high=1,
        low_inclusive=True,
        high_inclusive=False,
        what="a number in [0, 1) (the largest accepted 1 - R²)",
    )


def _frame(data, target, inputs) -> tuple[pd.DataFrame, str, list]:
    """The data as a frame, the target column and the columns the formula may use."""
    frame, target = with_target(as_frame(data, target, None), target, "naming the column the formula should equal")
    columns = list(frame.columns)
    if inputs is None:
        return frame, target, [c for c in columns if c != target]
    allowed = [str(c) for c in inputs]
    missing = [c for c in allowed if c not in columns]
    if missing:
        raise DataError(f"input columns {missing} not found; columns are {columns}")
    return frame, target, allowed


def _rows(frame, target, used, drop_invalid, min_rows) -> tuple[list, np.ndarray, list, np.ndarray]:
    """Validated rows (by the shared data layer): ``(notes, rows, cols, y)``, ``rows`` the positions
    used, ``cols`` one array of shape ``(len(rows),)`` per used column, ``y`` the target on them."""
    if used:
        table = prepare(frame, target, used, drop_invalid=drop_invalid, min_rows=min_rows)
    else:  # a formula without variables: validate the target alone
        probe = pd.DataFrame({"__row__": np.arange(len(frame), dtype=float), target: frame[target]})
        table = prepare(probe, target, ["__row__"], drop_invalid=drop_invalid, min_rows=min_rows)
    notes = [n for n in table.notes if not n.startswith("dropped constant columns")]
    values = frame[used + [target]].to_numpy(dtype=float)
    rows = np.flatnonzero(np.isfinite(values).all(axis=1))
    values = values[rows]
    return notes, rows, [values[:, k] for k in range(len(used))], values[:, -1]


def _fit(expr, used, free, cols, y, weights=None, start=None, seed=0) -> dict:
    """Least-squares values of the free constants: closed form when the formula is linear in them,
    else Levenberg–Marquardt from all-ones (or ``start``) and :data:`_RESTARTS` random starts.
    ``weights`` (``1/σ²`` per row) make it weighted least squares: formula and target are both
    multiplied by a column ``√w``."""
    by_name = {s.name: s for s in expr.free_symbols}
    names, columns, target, templ = list(used), list(cols), np.asarray(y, dtype=float), expr
    if weights is not None:
        sqrt_w = np.sqrt(np.asarray(weights, dtype=float))
        names, columns, target = [*names, _SQRT_W.name], [*columns, sqrt_w], sqrt_w * target
        templ = _SQRT_W * expr
    theta, _ = ConstantFit(names, columns, target, errors="nan").fit(
        templ,
        [by_name[n] for n in free],
        np.ones(len(free)) if start is None else np.asarray(start, dtype=float),
        max_nfev=400,
        tol=1e-15,
        restarts=_RESTARTS if start is None else 0,
        seed=seed,
        linear=True,
    )
    return dict(zip(free, map(float, theta)))


_SQRT_W = sympy.Symbol("_sqrt_w")


def _with_constants(expr, used, free, cols, y, weights=None) -> tuple[sympy.Expr, dict, Optional[np.ndarray]]:
    """``expr`` with its free constants fitted and substituted, their values, and the weights used:
    ``weights`` as given, or — without them, on rows the fit does not explain exactly — ``1/y²``
    when the residuals look like relative errors
    (:func:`~kandiscover.symbolic.uncertainty.relative_weights`; the fit is then redone weighted)."""
    if not free:
        return expr, {}, weights
    constants = _fit(expr, used, free, cols, y, weights)
    if weights is None:
        resid = _substituted(expr, constants)
        pred = compile_formula(resid, used)(cols, shape=len(y), errors="nan")
        if np.all(np.isfinite(pred)) and np.mean((pred - y) ** 2) > DEFAULT_TOL * np.var(y):
            weights = relative_weights(pred - y, y)
            if weights is not None:
                constants = _fit(expr, used, free, cols, y, weights, start=[constants[n] for n in free])
    log.info("fitted constants: %s", ", ".join(f"{k} = {v:.10g}" for k, v in constants.items()))
    return _substituted(expr, constants), constants, weights


def _substituted(expr, constants: dict) -> sympy.Expr:
    return expr.xreplace({s: sympy.Float(constants[s.name], 15) for s in expr.free_symbols if s.name in constants})


def _constants_table(expr, used, free, constants, cols, y, weights, known_sigma: bool) -> pd.DataFrame:
    """The fitted constants with their standard errors and 95 % intervals
    (:func:`~kandiscover.symbolic.uncertainty.estimate_constants`)."""
    if not free:
        return constants_frame([])
    by_name = {s.name: s for s in expr.free_symbols}
    params = [by_name[n] for n in free]
    estimates = estimate_constants(
        expr,
        params,
        [constants[n] for n in free],
        used,
        cols,
        y,
        weights=weights,
        known_sigma=known_sigma,
        deadline=time.monotonic() + 5.0,
    )
    return constants_frame([dict(e.as_dict(), symbol=n, snapped="") for n, e in zip(free, estimates)])


def _sigma(sigma, frame: pd.DataFrame, target: str, used: list, rows: np.ndarray) -> Optional[np.ndarray]:
    """The standard deviations of the target on the rows used, shape ``(len(rows),)``: a column of
    the data, an array with one value per row of the data, or one number for every row."""
    if sigma is None:
        return None
    if isinstance(sigma, str):
        if sigma not in frame.columns:
            raise DataError(f"sigma column {sigma!r} not found; columns are {list(frame.columns)}")
        if sigma == target or sigma in used:
            raise DataError(f"sigma names the column {sigma!r}, which the formula uses; give the errors' column")
        values = pd.to_numeric(frame[sigma], errors="coerce").to_numpy(dtype=float)[rows]
        what = f"sigma column {sigma!r}"
    else:
        values = np.asarray(sigma, dtype=float)
        if values.ndim == 0:
            values = np.full(len(frame), float(values))
        if values.shape != (len(frame),):
            raise DataError(f"sigma has {values.size} values but the data has {len(frame)} rows; give one per row")
        values = values[rows]
        what = "sigma"
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        raise DataError(
            f"{what} holds {int(bad.sum())} values that are not positive finite numbers (first rows "
            f"{rows[bad][:5].tolist()}); standard deviations must be > 0"
        )
    return values


def _judge(fit: dict, residuals, tol, tol_given: bool, sigma, weights, X_all, n_params: int) -> tuple:
    """``(ok, criterion, test)``: the R² rule when ``tol`` was given or the formula is exact to
    :data:`DEFAULT_TOL`; else the χ² test against ``sigma``, or the test of the residuals against
    the noise estimated from them (standardised by ``weights`` when there are some)."""
    exact_rule = f"R² ≥ 1 - {tol:g}"
    if tol_given or fit["r2"] >= 1 - tol:
        return bool(fit["r2"] >= 1 - tol), exact_rule, None
    if sigma is not None:
        test: NoiseTest = chi2_test(residuals, sigma, n_params)
    else:
        scaled = residuals if weights is None else residuals * np.sqrt(weights)
        test = lack_of_fit_test(X_all, scaled, n_params)
    return test.ok, test.criterion, test


def _predictions(expr, used, cols, rows) -> np.ndarray:
    """The formula's values on the rows used, shape ``(len(rows),)``; a clear error where not finite."""
    pred = compile_formula(expr, used)(cols, shape=len(rows), errors="nan")
    bad = ~np.isfinite(pred)
    if bad.any():
        ranges = ", ".join(f"{c} in [{np.min(v):.4g}, {np.max(v):.4g}]" for c, v in zip(used[:6], cols))
        raise DataError(
            f"the formula {expr} is not finite (NaN, inf or complex) on {int(bad.sum())} of {len(rows)} rows "
            f"(first rows {rows[bad][:5].tolist()}): the data leaves its domain (log or sqrt of a negative "
            f"number, division by zero, overflow?); the data has {ranges or 'no input columns'}"
        )
    return pred


def _verdict(expr, target, used, tol, tol_given, constants, table, pred, y, rows, notes, judge_with) -> Verification:
    """Metrics of ``pred`` against ``y`` and the verdict (:func:`_judge`)."""
    fit = scores(pred, y)
    sigma, weights, X_all = judge_with
    ok, criterion, test = _judge(fit, y - pred, tol, tol_given, sigma, weights, X_all, len(constants))
    return Verification(
        formula=expr,
        target=target,
        inputs=used,
        ok=ok,
        tol=tol,
        constants=constants,
        constants_table=table,
        criterion=criterion,
        p_value=None if test is None else test.p_value,
        chi2_per_dof=test.statistic if test is not None and sigma is not None else None,
        noise_std=None if test is None else test.noise_std,
        residuals=y - pred,
        predictions=pred,
        observed=y,
        rows=rows,
        notes=notes,
        **fit,
    )


def _numeric_inputs(frame: pd.DataFrame, allowed: list, rows: np.ndarray) -> np.ndarray:
    """The allowed columns that are numeric and finite on the rows used, shape ``(len(rows), k)``:
    what the noise test interpolates the residuals in."""
    keep = []
    for c in allowed:
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]):
            v = frame[c].to_numpy(dtype=float)[rows]
            if np.all(np.isfinite(v)):
                keep.append(v)
    return np.column_stack(keep) if keep else np.zeros((len(rows), 0))


# ------------------------------------------------------------------------------------ verify


def verify(
    formula,
    data,
    target: Optional[str] = None,
    *,
    inputs: Optional[Sequence[str]] = None,
    fit_constants: bool = False,
    tol: Optional[float] = None,
    drop_invalid: bool = False,
    sigma=None,
    units=None,
) -> Verification:
    """Check how well ``formula`` explains ``target`` in ``data``.

    Parameters
    ----------
    formula : str or sympy.Expr
        The law, e.g. ``"m*c**2"``. A string goes through the whitelisting parser (see
        :func:`~kandiscover.symbolic.parse.parse_formula`; ``^`` means power, ``pi`` and ``e``
        are constants unless a column has that name). Its names must be columns of ``data``.
    data : DataFrame or (X, y)
        The data (arrays get the column names ``x1..xd`` and ``y``).
    target : str, optional
        Column the formula should equal (``"y"`` when omitted and present).
    inputs : sequence of str, optional
        Columns the formula may use (all but the target by default).
    fit_constants : bool
        Treat every name that is not a column as a free constant and fit it by least squares
        on all rows (closed form when the formula is linear in the constants, otherwise
        Levenberg–Marquardt from several starts). Numbers written in the formula stay fixed.
    tol : float, optional
        Judge by ``R² ≥ 1 - tol`` alone, i.e. ``MSE / Var(y) ≤ tol``. By default a formula with
        ``R² ≥ 1 - DEFAULT_TOL`` (``1e-6``: all but a millionth of the target's variance; exact
        data, constants written to 3–4 significant digits) is OK, and any other is judged against
        the noise: by ``sigma`` when given, else by :func:`~kandiscover.symbolic.noise.lack_of_fit_test`
        (its residuals must be noise, not a smooth misfit: their variance against the noise that
        interpolation between neighbouring rows in all the input columns cannot predict, an F test
        at p ≥ 0.01). ``criterion`` says which rule decided.
    drop_invalid : bool
        Drop rows with NaN/inf in the columns used instead of raising.
    sigma : str, array-like or float, optional
        Standard deviations of the target: a column name, one value per row of ``data``, or one
        for every row. The constants are fitted by weighted least squares (weights ``1/σ²``), their
        errors follow from ``σ`` itself, and ``ok`` is the χ² test: ``Σ(r/σ)²`` on ``n − p``
        degrees of freedom with p-value ≥ 0.01 (``chi2_per_dof``, ``p_value``).

    units : dict, optional
        ``column -> unit`` (pint strings, ``""`` dimensionless) of the target and the columns the
        formula uses: a formula whose dimensions disagree is NOT OK whatever its fit, and
        ``unit_mismatch`` says why. Free constants (``fit_constants``) count as dimensionless.

    Returns
    -------
    Verification
        Metrics on all usable rows (at least 3, and 2 more than the number of free constants).
        Other columns of ``data`` (text, NaN, constant) are ignored.

    Raises
    ------
    DataError
        (a ``ValueError``) when the formula names something that is not a column (unless
        ``fit_constants``), uses the target or a column outside ``inputs``, when the data is
        unusable (missing target, non-numeric, NaN/inf, too few rows, constant target), or when
        the formula is not finite on some rows (e.g. ``log`` of a negative value): the message
        gives the count, the first rows and the ranges of the columns.
    ParameterError
        (a ``ValueError``) when ``tol`` is not a number in ``[0, 1)``.
    DataError
        When ``sigma`` is not a column, names a column the formula uses, has the wrong length or
        values that are not positive.
    ValueError
        When a formula string does not parse (the message names the token and its position).
    """
    tol_given = tol is not None
    tol = _checked_tol(tol)
    frame, target, allowed = _frame(data, target, inputs)
    expr, used, free = _as_formula(formula, list(frame.columns), allowed, target, fit_constants)
    notes, rows, cols, y = _rows(frame, target, used, drop_invalid, min_rows=max(3, len(free) + 2))
    sig = _sigma(sigma, frame, target, used, rows)
    template = expr
    expr, constants, weights = _with_constants(expr, used, free, cols, y, None if sig is None else 1.0 / sig**2)
    if sig is None and weights is not None:
        notes.append(f"constants fitted with relative errors (σ ∝ |{target}|), which fit the residuals better")
    table = _constants_table(template, used, free, constants, cols, y, weights, known_sigma=sig is not None)
    pred = _predictions(expr, used, cols, rows)
    others = [c for c in allowed if not (isinstance(sigma, str) and c == sigma)]
    judge_with = (sig, weights, _numeric_inputs(frame, others, rows))
    result = _verdict(expr, target, used, tol, tol_given, constants, table, pred, y, rows, notes, judge_with)
    return _judge_units(result, units, used)


def _judge_units(result: Verification, units, used: list) -> Verification:
    """``result`` judged by the units too: a dimensionally inconsistent formula is not OK."""
    if units is None:
        return result
    if not isinstance(units, dict):
        raise UnitError(f"units must be a mapping column -> unit, e.g. {{'v': 'm/s'}}; got {type(units).__name__}")
    names = [*used, result.target]
    dims = parse_units({k: v for k, v in units.items() if k in names}, names)
    problem = unit_mismatch(result.formula, dims, result.target)
    if problem is None:
        return replace(result, notes=[*result.notes, "units: the formula is dimensionally consistent"])
    return replace(result, ok=False, unit_mismatch=problem, criterion=f"units: {problem}")
