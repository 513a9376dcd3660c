"""One runtime for formulas: compile once, evaluate with one rule, fit constants one way.

Every numeric use of a sympy formula in kandiscover goes through this module: the numpy export
(:func:`~kandiscover.symbolic.export.to_numpy`), the constant refit and snapping
(:mod:`~kandiscover.symbolic.refit`), :func:`kandiscover.verify`, the test metrics of a discovery,
validation losses and predictions.

The evaluation rule
    A formula is compiled by :func:`sympy.lambdify` (modules scipy, then numpy; the code is printed
    from the sympy tree, never from user text) and evaluated with numpy warnings silenced. A complex
    value whose imaginary part is negligible, ``|imag| <= 1e-9 * (1 + |real|)``, counts as real (its
    real part); any other complex value becomes NaN. Values that are NaN stay NaN and infinite
    values stay infinite (``±inf``); callers that need finite values test ``np.isfinite``.
    The result is always a float64 array of the requested shape (constants are broadcast).

The constant fitter
    :class:`ConstantFit` fits parameters of a formula by least squares (scipy's
    Levenberg–Marquardt, trust-region reflective when there are fewer rows than parameters) with
    a forward-difference Jacobian evaluated in one broadcast call, a deadline that returns the best
    parameters seen so far, and, as options, a closed form for formulas linear in their parameters
    and random restarts.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Optional

import numpy as np
import sympy
from scipy.optimize import least_squares

log = logging.getLogger("kandiscover")

__all__ = [
    "IMAG_RTOL",
    "CompiledFormula",
    "ConstantFit",
    "as_real",
    "compile_formula",
    "formula_mse",
    "formula_predictions",
    "formula_symbols",
    "linear_design",
    "metrics",
    "scores",
]

#: A complex value with ``|imag| <= IMAG_RTOL * (1 + |real|)`` counts as real.
IMAG_RTOL = 1e-9
#: Modules :func:`sympy.lambdify` prints for (scipy first: ``erf``, ``gamma``, ...).
MODULES = ("scipy", "numpy")
#: Exceptions a compiled formula may raise on unsuitable values (``errors="nan"`` turns them into NaN).
EVALUATION_ERRORS = (ZeroDivisionError, OverflowError, ValueError, TypeError)
#: Residual (in units of the target's RMS) standing in for a non-finite one during a fit.
PENALTY = 1e6
#: Relative forward-difference step (scipy's for ``'2-point'``).
REL_STEP = float(np.finfo(float).eps) ** 0.5
#: A restart search stops once the scaled mean squared residual is below this.
EXACT_FIT = 1e-24


def formula_symbols(expr: sympy.Expr, variables, params: Sequence[sympy.Symbol] = ()) -> list[sympy.Symbol]:
    """Symbols of ``expr`` in the order of ``variables`` (names or symbols), matched by name.

    Parameters
    ----------
    expr : sympy.Expr
    variables : str, sympy.Symbol or sequence of them
        The columns, in order.
    params : sequence of sympy.Symbol
        Symbols that are parameters, not columns (they may be used without being in ``variables``).

    Returns
    -------
    list of sympy.Symbol
        One per variable: the formula's own symbol of that name, or a new one if it does not use it.

    Raises
    ------
    TypeError
        If a variable is neither a name nor a symbol.
    ValueError
        If ``variables`` has duplicates or the formula uses a name that is in neither list.
    """
    if isinstance(variables, (str, sympy.Symbol)):
        variables = [variables]
    names = [v.name if isinstance(v, sympy.Symbol) else v for v in variables]
    if any(not isinstance(n, str) for n in names):
        raise TypeError("variables must be a sequence of names (str) or sympy.Symbol")
    if len(set(names)) != len(names):
        raise ValueError(f"variables contains duplicate names: {names}")
    by_name = {s.name: s for s in expr.free_symbols}
    missing = sorted(set(by_name) - set(names) - {p.name for p in params})
    if missing:
        raise ValueError(f"the formula uses {missing} which are not in variables {names}; add them to variables")
    return [by_name.get(n, sympy.Symbol(n)) for n in names]


def as_real(values, shape) -> np.ndarray:
    """The evaluation rule: ``values`` as a float64 array of ``shape``.

    Parameters
    ----------
    values : array-like or scalar
        What a compiled formula returned (real or complex, possibly a scalar).
    shape : int or tuple of int
        Shape to broadcast to, e.g. ``n`` rows or ``(k, n)``.

    Returns
    -------
    ndarray of float64, shape ``shape``
        Complex values with ``|imag| <= IMAG_RTOL * (1 + |real|)`` as their real part, other complex
        values as NaN; NaN and ``±inf`` unchanged.
    """
    out = np.asarray(values)
    if np.iscomplexobj(out):
        out = np.where(np.abs(out.imag) <= IMAG_RTOL * (1 + np.abs(out.real)), out.real, np.nan)
    return np.broadcast_to(out, (shape,) if isinstance(shape, (int, np.integer)) else shape).astype(float)


class CompiledFormula:
    """A formula compiled once for columns (and parameters), evaluated with :func:`as_real`'s rule.

    Build it with :func:`compile_formula`.

    Attributes
    ----------
    expr : sympy.Expr
    names : list of str
        Column names, in argument order.
    params : list of sympy.Symbol
        Parameters, passed after the columns.
    """

    def __init__(self, expr: sympy.Expr, variables, params: Sequence[sympy.Symbol] = ()) -> None:
        self.expr = expr
        self.params = list(params)
        symbols = formula_symbols(expr, variables, self.params)
        self.names = [s.name for s in symbols]
        self.fn = _lambdify(symbols + self.params, expr)

    def __call__(self, cols: Sequence, theta: Sequence = (), *, shape, errors: str = "raise") -> np.ndarray:
        """Values on ``cols`` with parameters ``theta``.

        Parameters
        ----------
        cols : sequence of ndarray, each shape ``(n,)``
            One column per name, in order.
        theta : sequence of float or ndarray
            One value per parameter; arrays of shape ``(k, 1)`` evaluate ``k`` parameter vectors
            at once (``shape`` is then ``(k, n)``).
        shape : int or tuple of int
            Shape of the result.
        errors : {"raise", "nan"}
            What an exception of the compiled code (:data:`EVALUATION_ERRORS`) does: propagate, or
            give all-NaN values.

        Returns
        -------
        ndarray of float64, shape ``shape``
        """
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return as_real(self.fn(*cols, *theta), shape)
            except EVALUATION_ERRORS:
                if errors == "raise":
                    raise
                return np.full(shape, np.nan)

    def on_matrix(self, X, **kwargs) -> np.ndarray:
        """Values on the columns of ``X``, shape ``(n, len(names))``; returns shape ``(n,)``."""
        X = np.asarray(X, dtype=float)
        return self([X[:, j] for j in range(X.shape[1])], shape=X.shape[0], **kwargs)


@functools.cache
def _reserved() -> frozenset:
    """Names the code printed by ``lambdify`` may use: its module namespace (with the ``reduce``
    that ``Max`` and ``Min`` import) and the builtins."""
    probe = sympy.Max(sympy.pi, sympy.E, evaluate=False)
    namespace = sympy.lambdify([], probe, modules=list(MODULES)).__globals__
    return frozenset(namespace) | frozenset(dir(builtins))


_INT64 = 2**63 - 1


def _wide_integers_as_floats(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every integer beyond int64 written as a float: printed as a Python int, numpy
    holds it in an object array, where ``log(522212626589775243387136)`` has no ``log`` method."""
    wide = {i: sympy.Float(i) for i in expr.atoms(sympy.Integer) if abs(int(i)) > _INT64}
    return expr.xreplace(wide) if wide else expr


def _lambdify(symbols, expr) -> Callable:
    """``lambdify`` with the symbols' own names as arguments, unless a name would clash with one the
    printed code uses (a column called ``e``, ``gamma`` or ``sin``) or is no Python identifier (a
    column called ``mass (kg)``): then with the placeholders ``_kd0, _kd1, …`` in argument order.

    Not sympy's ``dummify``: its dummies are numbered in the order they are made, which varies from
    one compile to the next, and their numbers set the order of the printed sums, so two compiles
    of one formula could add its terms in another order and differ in the last bits."""
    names = [s.name for s in symbols]
    expr = _wide_integers_as_floats(expr)
    if not _reserved().isdisjoint(names) or not all(n.isidentifier() and not keyword.iskeyword(n) for n in names):
        placeholders = [sympy.Symbol(f"_kd{k}") for k in range(len(symbols))]
        expr = expr.xreplace(dict(zip(symbols, placeholders)))
        symbols = placeholders
    return sympy.lambdify(symbols, expr, modules=list(MODULES), dummify=False)


def compile_formula(expr: sympy.Expr, variables, params: Sequence[sympy.Symbol] = ()) -> CompiledFormula:
    """Compile ``expr`` once for columns ``variables`` and parameters ``params``.

    Parameters
    ----------
    expr : sympy.Expr
    variables : sequence of str or sympy.Symbol
        Column names, in argument order; every free symbol that is not a parameter must be listed.
    params : sequence of sympy.Symbol
        Parameters, passed after the columns.

    Returns
    -------
    CompiledFormula
    """
    return CompiledFormula(expr, variables, params)


def formula_predictions(expr: sympy.Expr, X, names) -> np.ndarray:
    """Real predictions of ``expr`` on ``X`` (the evaluation rule: NaN where not real).

    Parameters
    ----------
    expr : sympy.Expr
    X : array-like, shape ``(n, len(names))``
    names : sequence of str or sympy.Symbol
        The column of ``X`` each name reads.

    Returns
    -------
    ndarray of float64, shape ``(n,)``
    """
    return compile_formula(expr, names).on_matrix(X)


def formula_mse(expr: sympy.Expr, X, y, names) -> float:
    """Mean squared error of ``expr`` on ``(X, y)``; ``inf`` when it cannot be evaluated or is not finite.

    Parameters
    ----------
    expr : sympy.Expr
    X : array-like, shape ``(n, len(names))``
    y : array-like, shape ``(n,)``
    names : sequence of str or sympy.Symbol

    Returns
    -------
    float
    """
    try:
        pred = formula_predictions(expr, X, names)
    except Exception as exc:  # noqa: BLE001 - a formula that cannot be evaluated is simply not a candidate
        log.debug("cannot evaluate %s: %s", expr, exc)
        return math.inf
    err = float(np.mean((pred - np.asarray(y, dtype=float)) ** 2))
    return err if math.isfinite(err) else math.inf


def metrics(expr: sympy.Expr, X: np.ndarray, y: np.ndarray, names) -> dict:
    """``r2``, ``rmse`` and ``max_abs_error`` of ``expr`` on ``(X, y)``.

    Parameters
    ----------
    expr : sympy.Expr
    X : ndarray, shape ``(n, len(names))``
    y : ndarray, shape ``(n,)``
    names : sequence of str

    Returns
    -------
    dict
        ``r2`` (``-inf``), ``rmse`` and ``max_abs_error`` (``inf``) when a prediction is not finite.
    """
    return scores(formula_predictions(expr, X, names) if len(y) else np.zeros(0), y)


def scores(pred: np.ndarray, y: np.ndarray) -> dict:
    """``r2``, ``rmse`` and ``max_abs_error`` of predictions ``pred`` against ``y``, both shape ``(n,)``.

    ``r2`` is ``-inf`` and the errors ``inf`` when a prediction is not finite; a constant ``y``
    gives ``r2 = 1`` for an exact fit and ``-inf`` otherwise.
    """
    y = np.asarray(y, dtype=float)
    resid = pred - y
    if not np.all(np.isfinite(pred)) or not len(y):
        return dict(r2=-math.inf, rmse=math.inf, max_abs_error=math.inf)
    sse, ss = float(np.sum(resid**2)), float(np.sum((y - y.mean()) ** 2))
    r2 = 1 - sse / ss if ss > 0 else (1.0 if sse == 0 else -math.inf)
    return dict(r2=r2, rmse=math.sqrt(sse / len(y)), max_abs_error=float(np.max(np.abs(resid))))


def linear_design(expr: sympy.Expr, params: Sequence[sympy.Symbol]):
    """``(base, [d expr / d p for p in params])`` when ``expr`` is linear in ``params``, else ``None``.

    ``expr = base + sum(p * d_p)``; ``None`` also when ``base`` is not finite.
    """
    parts = []
    for p in params:
        d = sympy.diff(expr, p)
        if d.free_symbols & set(params):
            return None
        parts.append(d)
    base = expr.xreplace({p: sympy.Integer(0) for p in params})
    if base.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return base, parts


class _OutOfTime(Exception):
    """Raised inside a least-squares fit once its deadline has passed."""


def _starts(theta: np.ndarray, restarts: int, seed: int):
    """``theta``, then ``restarts`` random starts (sign ±, magnitude ``10**U(-2, 2)``), lazily."""
    yield theta
    if restarts:
        rng = np.random.default_rng(seed)
        draws = [rng.choice([-1.0, 1.0], len(theta)) * 10.0 ** rng.uniform(-2, 2, len(theta)) for _ in range(restarts)]
        yield from draws


class ConstantFit:
    """Least-squares fits of formula parameters on fixed columns and target.

    Parameters
    ----------
    names : sequence of str
        Column names, the order of ``cols``.
    cols : sequence of ndarray, each shape ``(n,)``
    y : ndarray, shape ``(n,)``
    errors : {"raise", "nan"}
        What an exception while evaluating a formula does (see :meth:`CompiledFormula.__call__`).

    Residuals are ``(values - y) / scale`` with ``scale = RMS(y)``; a non-finite one counts as
    :data:`PENALTY`.
    """

    def __init__(self, names: Sequence[str], cols: Sequence[np.ndarray], y, errors: str = "raise") -> None:
        self.names, self.cols, self.errors = list(names), list(cols), errors
        self.y = np.asarray(y, dtype=float)
        self.scale = np.sqrt(np.mean(self.y**2)) + 1e-300

    def residual(self, values: np.ndarray) -> np.ndarray:
        """Scaled residuals of ``values`` (shape ``(..., n)``), non-finite ones replaced by the penalty."""
        with np.errstate(over="ignore", invalid="ignore"):
            r = (values - self.y) / self.scale
        return np.where(np.isfinite(r), r, PENALTY)

    def residual_fn(self, templ: sympy.Expr, params: Sequence[sympy.Symbol]):
        """``resid(θ)``, shape ``(n,)``, and its forward-difference Jacobian ``jac(θ)``, shape ``(n, k)``.

        The steps are scipy's ``'2-point'`` ones (``√eps · max(1, |θ|)``, sign of ``θ``), but ``θ``
        and every perturbed parameter vector are evaluated in one call of the compiled formula, the
        parameters broadcast as columns: one numpy pass instead of one per parameter (the per-call
        overhead dominated refits on 1000 rows). A formula that does not broadcast that way falls
        back to one evaluation per vector.
        """
        fn = compile_formula(templ, self.names, params)
        n = len(self.y)

        def resid(theta):
            return self.residual(fn(self.cols, theta, shape=n, errors=self.errors))

        def jac(theta):
            theta = np.asarray(theta, dtype=float)
            steps = (theta + REL_STEP * np.where(theta >= 0, 1.0, -1.0) * np.maximum(1.0, np.abs(theta))) - theta
            points = theta + np.vstack([np.zeros_like(theta), np.diag(steps)])  # θ, then θ + h_k·e_k
            try:
                rows = self.residual(fn(self.cols, list(points.T[:, :, None]), shape=(len(points), n)))
            except Exception:  # noqa: BLE001 - any formula the broadcast does not suit
                rows = np.stack([resid(p) for p in points])
            return ((rows[1:] - rows[0]) / steps[:, None]).T

        return resid, jac

    def fit(
        self,
        templ: sympy.Expr,
        params: Sequence[sympy.Symbol],
        theta,
        *,
        max_nfev: int = 50,
        deadline: Optional[float] = None,
        tol: float = 1e-8,
        restarts: int = 0,
        seed: int = 0,
        linear: bool = False,
    ) -> tuple[np.ndarray, float]:
        """Least-squares ``θ`` for ``templ`` and its mean squared error.

        Parameters
        ----------
        templ : sympy.Expr
            Formula in the columns and ``params``.
        params : sequence of sympy.Symbol, length ``k``
        theta : ndarray, shape ``(k,)``
            Starting values.
        max_nfev : int
            Evaluations allowed per parameter and one more (scipy's ``max_nfev / (k + 1)``).
        deadline : float, optional
            A ``time.monotonic()`` value; past it the best parameters evaluated so far are returned.
        tol : float
            scipy's ``xtol``, ``ftol`` and ``gtol``.
        restarts : int
            Further starts drawn at random (sign ± and magnitude ``10**U(-2, 2)``, seeded by
            ``seed``); the best fit wins, and the search stops at an exact one.
        linear : bool
            Solve in closed form (linear least squares on the rows where the formula is finite)
            when ``templ`` is linear in ``params``.

        Returns
        -------
        theta : ndarray, shape ``(k,)``
            The starting values when no fit improves on them.
        mse : float
            Mean squared error in the target's units (``inf`` when not finite).
        """
        theta = np.asarray(theta, dtype=float)
        solved = self._closed_form(templ, params) if linear and len(theta) else None
        if solved is not None:
            return solved
        resid, jac = self.residual_fn(templ, params)
        seen = [float(np.mean(resid(theta) ** 2)), theta]

        def on_time():
            if deadline is not None and time.monotonic() > deadline:
                raise _OutOfTime

        def watched(th):
            on_time()
            r = resid(th)
            with np.errstate(over="ignore"):
                e = float(np.mean(r**2))
            if e < seen[0]:
                seen[0], seen[1] = e, np.array(th, dtype=float)
            return r

        def watched_jac(th):
            on_time()
            return jac(th)

        best, err = theta, seen[0]
        method = "lm" if len(self.y) >= len(theta) else "trf"
        for start in _starts(theta, restarts, seed) if len(theta) else []:
            try:
                sol = least_squares(
                    watched,
                    start,
                    jac=watched_jac,
                    method=method,
                    x_scale="jac",
                    xtol=tol,
                    ftol=tol,
                    gtol=tol,
                    max_nfev=max_nfev * (len(theta) + 1),
                )
            except _OutOfTime:
                best, err = seen[1], seen[0]
                break
            except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                log.debug("least-squares fit from %s failed: %s", start, exc)
                continue
            e = float(np.mean(sol.fun**2))
            if np.all(np.isfinite(sol.x)) and e <= err:
                best, err = sol.x, e
            if err < EXACT_FIT:
                break
        return best, err * self.scale**2 if np.isfinite(err) else float("inf")

    def _closed_form(self, templ, params) -> Optional[tuple[np.ndarray, float]]:
        """Linear least squares when ``templ`` is linear in ``params``; ``None`` otherwise or when
        too few rows are finite."""
        design = linear_design(templ, params)
        if design is None:
            return None
        base, parts = design
        n = len(self.y)
        b = compile_formula(base, self.names)(self.cols, shape=n, errors="nan")
        A = np.column_stack([compile_formula(p, self.names)(self.cols, shape=n, errors="nan") for p in parts])
        good = np.isfinite(b) & np.all(np.isfinite(A), axis=1)
        if good.sum() < len(params):
            return None
        sol, *_ = np.linalg.lstsq(A[good], (self.y - b)[good], rcond=None)
        if not np.all(np.isfinite(sol)):
            return None
        err = float(np.mean(self.residual(b + A @ sol) ** 2)) * self.scale**2
        return sol, err if math.isfinite(err) else float("inf")
