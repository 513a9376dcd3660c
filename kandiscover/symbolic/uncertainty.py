"""How well the rows determine a formula's fitted constants: standard errors, intervals, digits.

The linearised estimate
    At the least-squares optimum ``θ̂`` of the ``p`` constants on ``n`` rows, with ``J`` (shape
    ``(n, p)``) the Jacobian of the formula's values with respect to the constants and
    ``s² = SSE / (n − p)`` the residual variance, the covariance of ``θ̂`` is ``s²·(JᵀJ)⁻¹`` and the
    ``level`` interval of a constant is ``θ̂_k ± t·se_k`` with ``t`` the Student quantile on
    ``n − p`` degrees of freedom. With per-row weights ``w = 1/σ²`` the residuals and ``J`` are
    scaled by ``√w``; when the ``σ`` are absolute (known) standard deviations, ``s² = 1``.

When the linearisation is poor
    Along the direction in which the linear model puts the interval's end of constant ``k``
    (``θ̂ ± t·C e_k / se_k``, ``C`` the covariance) the sum of squares should grow by ``t²·s²``; if
    it grows by less than half or more than twice that, on either side and for any constant, the
    intervals come from a residual bootstrap instead (:data:`BOOTSTRAP` refits on ``ŷ + r*``, ``r*``
    drawn with replacement from the residuals inflated by ``√(n/(n−p))``; percentile interval,
    standard deviation as the standard error). The method used is named in each :class:`Estimate`.

A constant that no combination of rows determines (a direction with ``JᵀJ`` singular, such as the
redundant pair ``a·exp(b + x)``) gets an infinite standard error, and an unbounded interval.

Digits: :func:`error_position` gives the decimal position a value is known to (two significant
digits of the standard error when they start with 1 or 2, else one), :func:`round_to_error` and
:func:`format_estimate` print it that way (``2.006 ± 0.006``).
"""

from __future__ import annotations

import logging
import html
import math
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import sympy
from scipy import stats

from .evaluate import ConstantFit

log = logging.getLogger("kandiscover")

__all__ = [
    "BOOTSTRAP",
    "COLUMNS",
    "constant_lines",
    "constants_frame",
    "fitted_constants",
    "fresh_symbols",
    "LEVEL",
    "Estimate",
    "error_position",
    "estimate_constants",
    "format_bound",
    "format_estimate",
    "lift_floats",
    "linearised",
    "relative_weights",
    "round_to_error",
    "significant_digits",
    "t_quantile",
]

#: Confidence level of every interval.
LEVEL = 0.95
#: Resamples of the residual bootstrap (fewer when its deadline comes first; at least 30 count).
BOOTSTRAP = 200
#: A linearised interval is trusted when the sum of squares at its ends grows by this range of
#: factors of the predicted ``t²·s²``.
LINEAR_RANGE = (0.5, 2.0)
#: ``JᵀJ`` eigenvalues below this fraction of the largest count as unidentifiable directions.
SINGULAR = 1e-12
#: The smallest relative standard error: an exact fit's constants are known to round-off, not better.
ROUND_OFF = 1e-10


@dataclass(frozen=True)
class Estimate:
    """One fitted constant with its uncertainty.

    Attributes
    ----------
    value : float
        The least-squares value.
    std_error : float
        Its standard error (``inf`` when the rows do not determine it, NaN when no residual
        degree of freedom is left).
    low, high : float
        The :data:`LEVEL` interval.
    method : str
        ``"linearised"``, ``"bootstrap (N residual resamples)"``, ``"not identifiable"`` or
        ``"none: no residual degrees of freedom"``.
    """

    value: float
    std_error: float
    low: float
    high: float
    method: str

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval."""
        return bool(self.low <= float(x) <= self.high)

    def as_dict(self) -> dict:
        return dict(value=self.value, std_error=self.std_error, low=self.low, high=self.high, method=self.method)


def lift_floats(expr: sympy.Expr, prefix: str = "_c") -> tuple[sympy.Expr, list, np.ndarray]:
    """``(template, params, theta)``: every float of ``expr`` replaced by a parameter symbol.

    The floats are ordered by sympy's default sort key (as the refit orders them); ``theta``,
    shape ``(p,)``, holds their values.
    """
    floats = sorted(expr.atoms(sympy.Float), key=sympy.default_sort_key)
    params = [sympy.Symbol(f"{prefix}{k}") for k in range(len(floats))]
    return expr.xreplace(dict(zip(floats, params))), params, np.array([float(f) for f in floats])


def t_quantile(dof: float, level: float = LEVEL) -> float:
    """The two-sided Student quantile ``t_{(1+level)/2}`` on ``dof`` degrees of freedom (normal
    for ``dof = inf``)."""
    if not math.isfinite(dof):
        return float(stats.norm.ppf(0.5 + level / 2))
    return float(stats.t.ppf(0.5 + level / 2, dof))


class _Rows:
    """A formula template bound to rows: weighted residuals and their Jacobian in target units."""

    def __init__(self, templ, params, names, cols, y, weights=None) -> None:
        self.fit = ConstantFit(names, cols, y, errors="nan")
        self.templ, self.params = templ, list(params)
        self.resid, self.jac = self.fit.residual_fn(templ, self.params)
        self.y = np.asarray(y, dtype=float)
        self.sqrt_w = np.ones(len(self.y)) if weights is None else np.sqrt(np.asarray(weights, dtype=float))

    def residuals(self, theta) -> np.ndarray:
        """Weighted residuals ``√w·(f(θ) − y)``, shape ``(n,)`` (non-finite values as a penalty)."""
        return self.sqrt_w * self.resid(np.asarray(theta, dtype=float)) * self.fit.scale

    def jacobian(self, theta) -> np.ndarray:
        """Weighted Jacobian ``√w·∂f/∂θ``, shape ``(n, p)``."""
        return self.sqrt_w[:, None] * self.jac(np.asarray(theta, dtype=float)) * self.fit.scale

    def sse(self, theta) -> float:
        r = self.residuals(theta)
        return float(np.sum(r**2)) if np.all(np.isfinite(r)) else math.inf


def linearised(jac: np.ndarray, s2: float) -> tuple[np.ndarray, np.ndarray]:
    """Covariance ``s²·(JᵀJ)⁻¹`` (pseudo-inverse) and standard errors from a Jacobian, shape ``(n, p)``.

    Returns
    -------
    cov : ndarray, shape ``(p, p)``
    se : ndarray, shape ``(p,)``
        ``inf`` for constants that take part in a direction with a (numerically) zero eigenvalue
        of ``JᵀJ``.
    """
    jtj = jac.T @ jac
    p = len(jtj)
    if not np.all(np.isfinite(jtj)):
        return np.full((p, p), np.nan), np.full(p, np.nan)
    vals, vecs = np.linalg.eigh(jtj)
    top = max(float(vals.max()), 0.0) if p else 0.0
    keep = vals > SINGULAR * top if top > 0 else np.zeros(p, dtype=bool)
    inv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
    cov = s2 * inv
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    loose = np.any(np.abs(vecs[:, ~keep]) > 1e-6, axis=1) if (~keep).any() else np.zeros(p, dtype=bool)
    se[loose] = math.inf
    return cov, se


def _linear_enough(rows: _Rows, theta, cov, se, t: float, s2: float, sse0: float) -> bool:
    """Whether the sum of squares at the linearised interval ends grows by :data:`LINEAR_RANGE`
    times the predicted ``t²·s²``."""
    want = t * t * s2
    if want <= 0:
        return True
    for k in np.flatnonzero(np.isfinite(se) & (se > 0)):
        step = t * cov[:, k] / se[k]
        for sign in (1.0, -1.0):
            ratio = (rows.sse(theta + sign * step) - sse0) / want
            if not (LINEAR_RANGE[0] <= ratio <= LINEAR_RANGE[1]):
                return False
    return True


def _bootstrap(rows: _Rows, theta, names, cols, weights, dof, *, seed, deadline, level) -> Optional[np.ndarray]:
    """Refitted constants on :data:`BOOTSTRAP` residual resamples, shape ``(B, p)``; ``None`` when
    fewer than 30 succeed before ``deadline``."""
    n = len(rows.y)
    fitted = rows.y + rows.resid(theta) * rows.fit.scale
    std_resid = rows.residuals(theta) * math.sqrt(n / dof)  # weighted, in units of σ·√w⁻¹
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(BOOTSTRAP):
        if deadline is not None and time.monotonic() > deadline:
            break
        draw = rng.choice(std_resid, n, replace=True) / rows.sqrt_w
        fit = ConstantFit(names, cols, fitted + draw, errors="nan")
        th, err = fit.fit(rows.templ, rows.params, theta, max_nfev=100)
        if math.isfinite(err) and np.all(np.isfinite(th)):
            out.append(th)
    return np.array(out) if len(out) >= 30 else None


def estimate_constants(
    templ: sympy.Expr,
    params: Sequence[sympy.Symbol],
    theta,
    names: Sequence[str],
    cols: Sequence[np.ndarray],
    y,
    *,
    weights=None,
    known_sigma: bool = False,
    level: float = LEVEL,
    seed: int = 0,
    deadline: Optional[float] = None,
    bootstrap: bool = True,
) -> list[Estimate]:
    """Standard errors and intervals of the constants ``params`` of ``templ`` at ``theta``.

    Parameters
    ----------
    templ : sympy.Expr
        The formula in the columns ``names`` and the parameters.
    params : sequence of sympy.Symbol, length ``p``
    theta : array, shape ``(p,)``
        The least-squares values (the estimate is about the optimum; refit first).
    names : sequence of str
    cols : sequence of ndarray, each shape ``(n,)``
    y : ndarray, shape ``(n,)``
    weights : ndarray, shape ``(n,)``, optional
        ``1/σ²`` per row.
    known_sigma : bool
        The weights are ``1/σ²`` of known absolute standard deviations: ``s² = 1`` instead of the
        residual variance.
    level : float
        Confidence level of the intervals.
    seed : int
        Seed of the bootstrap.
    deadline : float, optional
        ``time.monotonic()`` value after which the bootstrap stops (and, with too few resamples,
        the linearised intervals are kept, their method saying so).
    bootstrap : bool
        Allow the bootstrap where the linearisation is poor.

    Returns
    -------
    list of Estimate
        One per parameter, in order.
    """
    theta = np.asarray(theta, dtype=float)
    n, p = len(np.asarray(y)), len(params)
    if p == 0:
        return []
    dof = n - p
    if dof <= 0:
        none = "none: no residual degrees of freedom"
        return [Estimate(float(v), math.nan, -math.inf, math.inf, none) for v in theta]
    rows = _Rows(templ, params, names, cols, y, weights)
    sse0 = rows.sse(theta)
    jac = rows.jacobian(theta)
    if not math.isfinite(sse0) or not np.all(np.isfinite(jac)):
        return [Estimate(float(v), math.nan, -math.inf, math.inf, "none: the formula is not finite") for v in theta]
    s2 = 1.0 if known_sigma else sse0 / dof
    t = t_quantile(math.inf if known_sigma else dof, level)
    cov, se = linearised(jac, s2)
    se = np.maximum(se, ROUND_OFF * np.abs(theta))  # an exact fit's constants are known to round-off
    method = ["linearised" if math.isfinite(s) else "not identifiable" for s in se]
    low, high = theta - t * se, theta + t * se
    noisy = sse0 > 1e-20 * float(np.sum((rows.sqrt_w * rows.y) ** 2))  # below: round-off of an exact fit
    if bootstrap and noisy and not _linear_enough(rows, theta, cov, se, t, s2, sse0):
        draws = _bootstrap(rows, theta, names, cols, weights, dof, seed=seed, deadline=deadline, level=level)
        if draws is None:
            method = [m if m != "linearised" else "linearised (poor; too little time to bootstrap)" for m in method]
        else:
            q = 50 * (1 - level)
            lo_b, hi_b = np.percentile(draws, [q, 100 - q], axis=0)
            for k in range(p):
                if math.isfinite(se[k]):
                    se[k] = float(np.std(draws[:, k], ddof=1))
                    low[k], high[k] = min(lo_b[k], theta[k]), max(hi_b[k], theta[k])
                    method[k] = f"bootstrap ({len(draws)} residual resamples)"
    return [Estimate(float(theta[k]), float(se[k]), float(low[k]), float(high[k]), method[k]) for k in range(p)]


def error_position(std_error: float) -> Optional[int]:
    """The decimal exponent of the last digit a value with this standard error is known to: two
    significant digits of the error when its leading digit is 1 or 2, else one; ``None`` when the
    error is not a positive finite number."""
    if not (math.isfinite(std_error) and std_error > 0):
        return None
    e = math.floor(math.log10(std_error))
    lead = std_error / 10.0**e
    if lead >= 9.5:  # rounds up to the next power of ten
        e, lead = e + 1, 1.0
    return e - 1 if lead < 2.95 else e


def significant_digits(value: float, std_error: float, *, min_digits: int = 2, max_digits: int = 6) -> int:
    """Significant digits of ``value`` that its standard error supports (see :func:`error_position`),
    between ``min_digits`` and ``max_digits`` (``max_digits`` when the error is not finite)."""
    if not math.isfinite(value) or value == 0:
        return max_digits
    pos = error_position(std_error)
    if pos is None:
        return max_digits
    mag = math.floor(math.log10(abs(value)))
    return min(max_digits, max(min_digits, mag - pos + 1))


def round_to_error(value: float, std_error: float, *, min_digits: int = 2, max_digits: int = 6) -> float:
    """``value`` rounded to :func:`significant_digits` digits."""
    if not math.isfinite(value) or value == 0:
        return value
    sig = significant_digits(value, std_error, min_digits=min_digits, max_digits=max_digits)
    return float(f"{value:.{sig - 1}e}")


def format_estimate(value: float, std_error: float) -> str:
    """``"2.006 ± 0.006"``: the value to the digits its error supports, with the error (``"2.00607
    ± ?"`` when there is no finite error, six significant digits)."""
    pos = error_position(std_error)
    if pos is None:
        tail = {math.inf: "inf", 0.0: "0"}.get(std_error, "?")
        return f"{value:.6g} ± {tail}"
    mag = math.floor(math.log10(abs(value))) if value else pos
    if mag - pos > 9:  # known to more than ten digits: ten are enough to read
        return f"{value:.10g} ± {std_error:.1e}"
    if -9 <= pos <= 0 and -4 <= mag < 6:
        dec = -pos
        return f"{value:.{dec}f} ± {std_error:.{dec}f}"
    if 0 < pos and mag < 6 and abs(value) >= 1:
        return f"{round(value, -pos):.0f} ± {round(std_error, -pos):.0f}"
    top = max(mag, pos)
    digits = max(0, top - pos)
    err_digits = max(0, math.floor(math.log10(std_error)) - pos)
    return f"{value:.{digits}e} ± {std_error:.{err_digits}e}"


def relative_weights(residuals, y) -> Optional[np.ndarray]:
    """Weights ``∝ 1/y²`` when the residuals look like relative errors (``σ ∝ |y|``), else ``None``.

    The two error models have one parameter each (the absolute ``σ`` or the relative one), so the
    larger maximised normal likelihood decides: relative errors win when
    ``log(mean(r²) / mean((r/y)²)) > 2·mean(log|y|)``. Only a target of one sign can have them.

    Parameters
    ----------
    residuals : ndarray, shape ``(n,)``
    y : ndarray, shape ``(n,)``

    Returns
    -------
    ndarray of shape ``(n,)`` (mean 1) or None
    """
    y = np.asarray(y, dtype=float)
    r = np.asarray(residuals, dtype=float)
    if not (np.all(y > 0) or np.all(y < 0)) or not np.all(np.isfinite(r)):
        return None
    absolute, relative = float(np.mean(r**2)), float(np.mean((r / y) ** 2))
    if not (absolute > 0 and relative > 0):
        return None
    if math.log(absolute / relative) <= 2 * float(np.mean(np.log(np.abs(y)))):
        return None
    w = 1.0 / y**2
    return w / float(np.mean(w))


# ------------------------------------------------------------------------------------ tables

#: Columns of a table of constants (``Discovery.constants``, ``Verification.constants_table``).
COLUMNS = ("symbol", "value", "std_error", "low", "high", "method", "snapped")


def constants_frame(records: Sequence[dict]) -> pd.DataFrame:
    """A table of constants, one row per record, the columns :data:`COLUMNS` (``snapped`` is the
    simple value a constant was replaced by, as text, or ``""``)."""
    rows = [{c: r.get(c, "" if c == "snapped" else math.nan) for c in COLUMNS} for r in records]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"value": float, "std_error": float, "low": float, "high": float})


CONSTANT_HEAD = ("constant", "value ± std. error", "95 % interval", "method", "snapped to")
"""Column titles of :func:`constant_cells` (every table of constants shown: report, HTML, CLI)."""


def constant_cells(frame: Optional[pd.DataFrame]) -> list[list[str]]:
    """One row of text cells per constant of ``frame`` (:data:`CONSTANT_HEAD`; ``"—"`` when not
    snapped)."""
    if frame is None or frame.empty:
        return []
    return [
        [
            str(r.symbol),
            format_estimate(r.value, r.std_error),
            f"[{format_bound(r.low, r.std_error)}, {format_bound(r.high, r.std_error)}]",
            str(r.method),
            str(r.snapped) or "—",
        ]
        for r in frame.itertuples()
    ]


def constants_html(frame: Optional[pd.DataFrame]) -> str:
    """``frame``'s constants as an HTML table (``""`` without constants)."""
    rows = constant_cells(frame)
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in CONSTANT_HEAD)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def constant_lines(frame: Optional[pd.DataFrame], level: float = LEVEL) -> list[str]:
    """One line per constant: ``c0 = 2.006 ± 0.006  (95 % interval [1.993, 2.019], linearised)``,
    with ``→ 3/2`` for a snapped one."""
    pct = f"{100 * level:g} %"
    return [
        f"{symbol} = {value}{'' if snapped == '—' else f' → {snapped}'}  ({pct} interval {interval}, {method})"
        for symbol, value, interval, method, snapped in constant_cells(frame)
    ]


def format_bound(x: float, std_error: float) -> str:
    """An interval's end ``x`` for a value with ``std_error``: a digit finer than the value prints."""
    if not math.isfinite(x):
        return "-inf" if x < 0 else "inf"
    digits = significant_digits(x, std_error, max_digits=8) + 1  # a digit more than the value's
    return f"{x:#.{digits}g}".rstrip(".")


def fresh_symbols(count: int, taken: Sequence[str], prefix: str = "c") -> list[str]:
    """``count`` names ``c0, c1, …`` that are not in ``taken`` (skipping clashing ones)."""
    out, k, taken = [], 0, set(taken)
    while len(out) < count:
        if f"{prefix}{k}" not in taken:
            out.append(f"{prefix}{k}")
        k += 1
    return out


def fitted_constants(
    expr: sympy.Expr,
    names: Sequence[str],
    cols: Sequence[np.ndarray],
    y,
    *,
    snaps: Sequence[dict] = (),
    weights=None,
    known_sigma: bool = False,
    seed: int = 0,
    deadline: Optional[float] = None,
) -> tuple[sympy.Expr, sympy.Expr, pd.DataFrame]:
    """The constants of a formula: refitted, with their uncertainty, printed to their digits.

    Parameters
    ----------
    expr : sympy.Expr
        Its floats are the fitted constants.
    names : sequence of str
    cols : sequence of ndarray, each shape ``(n,)``
    y : ndarray, shape ``(n,)``
        The rows the constants are fitted on.
    snaps : sequence of dict
        Constants already replaced by simple values (the ``record`` of
        :func:`kandiscover.symbolic.refit.snap_constants`), listed after the fitted ones.
    weights, known_sigma, seed, deadline
        As for :func:`estimate_constants`.

    Returns
    -------
    formula : sympy.Expr
        ``expr`` with its floats refitted and rounded to the digits their errors support.
    with_symbols : sympy.Expr
        ``expr`` with its floats as symbols ``c0, c1, …`` (named to avoid the columns).
    table : DataFrame
        :data:`COLUMNS`, one row per float of ``expr`` (in the order of its symbols), then one per
        snapped constant (symbols continuing the count).
    """
    templ, params, theta = lift_floats(expr)
    if params:
        theta = _weighted_fit(templ, params, theta, names, cols, y, weights, deadline)[0]
    ests = estimate_constants(
        templ, params, theta, names, cols, y, weights=weights, known_sigma=known_sigma, seed=seed, deadline=deadline
    )
    symbols = fresh_symbols(len(params) + len(snaps), list(names))
    rounded = {
        p: sympy.Float(round_to_error(e.value, e.std_error), significant_digits(e.value, e.std_error))
        for p, e in zip(params, ests)
    }
    formula = templ.xreplace(rounded)
    with_symbols = templ.xreplace({p: sympy.Symbol(s) for p, s in zip(params, symbols)})
    records = [dict(e.as_dict(), symbol=s, snapped="") for e, s in zip(ests, symbols)]
    for s, snap in zip(symbols[len(params) :], snaps):
        records.append(dict({k: snap[k] for k in ("value", "std_error", "low", "high", "method")}, symbol=s))
        records[-1]["snapped"] = str(snap["snapped"])
    return formula, with_symbols, constants_frame(records)


def _weighted_fit(templ, params, theta, names, cols, y, weights, deadline) -> tuple[np.ndarray, float]:
    """Least-squares constants, weighted by ``weights`` (``1/σ²`` per row) when given: the
    weighted problem is the unweighted one of ``√w·f`` against ``√w·y``."""
    if weights is None:
        th, err = ConstantFit(names, cols, y, errors="nan").fit(
            templ, params, theta, max_nfev=200, tol=1e-12, deadline=deadline
        )
        return th, err
    sw = sympy.Symbol("_sqrt_w")
    w_names = list(names) + ["_sqrt_w"]
    sqrt_w = np.sqrt(np.asarray(weights, dtype=float))
    th, err = ConstantFit(w_names, list(cols) + [sqrt_w], sqrt_w * np.asarray(y, dtype=float), errors="nan").fit(
        sw * templ, params, theta, max_nfev=200, tol=1e-12, deadline=deadline
    )
    return th, err
