"""Constants of an assembled formula: joint refit, snapping to simple values, simplification.

``polish(expr, data, y)`` runs the three stages: every float of the expression is refitted jointly
by least squares (scipy), then each is replaced by the simplest nearby value — 0, an integer, a
small rational, a rational multiple of π, e or √2 — when the loss does not rise beyond a tolerance
(the remaining constants are refitted after each replacement, which resolves redundant pairs such as
``c·exp(a·x + K)``), and finally ``sympy.simplify`` runs under a time limit.
"""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from typing import Mapping, Optional

import numpy as np
import sympy

from ..support.timeout import call_with_timeout
from .evaluate import ConstantFit, formula_mse

log = logging.getLogger("kandiscover")

__all__ = [
    "refit_constants",
    "refit_with_loss",
    "snap_constants",
    "snap_timed",
    "simplify_timed",
    "polish",
    "mse",
    "round_floats",
]


def _floats(expr: sympy.Expr) -> list[sympy.Float]:
    return sorted(expr.atoms(sympy.Float), key=lambda f: sympy.default_sort_key(f))


def _columns(expr: sympy.Expr, data: Mapping[str, np.ndarray]) -> tuple[list[str], list[np.ndarray]]:
    names = sorted(str(s) for s in expr.free_symbols)
    missing = [n for n in names if n not in data]
    if missing:
        raise ValueError(f"the formula uses {missing}, which the data does not have")
    return names, [np.asarray(data[n], dtype=float) for n in names]


def mse(expr: sympy.Expr, data: Mapping[str, np.ndarray], y: np.ndarray) -> float:
    """Mean squared error of ``expr`` on ``data`` (``inf`` where it is not finite)."""
    y = np.asarray(y, dtype=float)
    names, cols = _columns(expr, data)
    return formula_mse(expr, np.column_stack(cols) if cols else np.empty((len(y), 0)), y, names)


class _Problem(ConstantFit):
    """An expression with its floats lifted to parameters, bound to data.

    Attributes
    ----------
    params : list of sympy.Symbol
        One parameter per float of the expression.
    templ : sympy.Expr
        The expression with its floats replaced by ``params``.
    theta : ndarray, shape ``(len(params),)``
        The floats' values.
    """

    def __init__(self, expr: sympy.Expr, data: Mapping[str, np.ndarray], y: np.ndarray) -> None:
        floats = _floats(expr)
        self.params = [sympy.Symbol(f"_c{k}") for k in range(len(floats))]
        self.templ = expr.xreplace(dict(zip(floats, self.params)))
        self.theta = np.array([float(f) for f in floats])
        super().__init__(*_columns(expr, data), y)

    def expr(self, templ, params, theta) -> sympy.Expr:
        return templ.xreplace({p: sympy.Float(v) for p, v in zip(params, theta)})


def refit_with_loss(
    expr: sympy.Expr, data: Mapping[str, np.ndarray], y: np.ndarray, *, deadline: Optional[float] = None
) -> tuple[sympy.Expr, float]:
    """:func:`refit_constants` that also returns the mean squared error of the result (and stops
    at ``deadline``, a ``time.monotonic()`` value, with the best constants found so far)."""
    prob = _Problem(expr, data, y)
    theta, err = prob.fit(prob.templ, prob.params, prob.theta, deadline=deadline)
    return prob.expr(prob.templ, prob.params, theta), err


def refit_constants(expr: sympy.Expr, data: Mapping[str, np.ndarray], y: np.ndarray) -> sympy.Expr:
    """Refit every float constant of ``expr`` jointly by least squares on ``(data, y)``.

    Parameters
    ----------
    data : mapping of str to array, each shape ``(n,)``
        Columns named as the expression's symbols.
    y : array, shape ``(n,)``

    Returns
    -------
    sympy.Expr
        The expression with refitted floats (unchanged if the fit does not improve it).
    """
    if not expr.atoms(sympy.Float):
        return expr
    return refit_with_loss(expr, data, y)[0]


_BASES = [
    (float(b), b)
    for b in (
        sympy.Integer(1),
        sympy.pi,
        1 / sympy.pi,
        sympy.pi**2,
        1 / sympy.pi**2,
        sympy.sqrt(sympy.pi),
        1 / sympy.sqrt(sympy.pi),
        sympy.sqrt(2),
        sympy.sqrt(2 * sympy.pi),
        1 / sympy.sqrt(2 * sympy.pi),
        sympy.E,
        sympy.sqrt(3),
    )
]
"""Irrational factors a physics constant is often made of: (p/q)·base is tried for each."""


def _cost(c: sympy.Expr) -> int:
    """How complicated a constant looks: digits of numerator and denominator plus its irrational part."""
    rational, rest = c.as_coeff_Mul()
    r = sympy.Rational(rational)
    return len(str(abs(r.p))) + (len(str(r.q)) if r.q != 1 else 0) + (0 if rest == 1 else sympy.count_ops(rest) + 1)


def _candidates(v: float, max_denominator: int = 12, rel: float = 0.01) -> list[sympy.Expr]:
    """Simple numbers to try for ``v``: 0 and 1 always (a redundant constant can take any value),
    then the nearby ones, simplest first.

    Nearby: integers within ``rel`` (relative) of ``v``; rationals ``p/q`` (``q ≤ max_denominator``)
    times 1, π, 1/π, π², √π, √2, √(2π), e, √3 … (see ``_BASES``) within ``rel/2``.
    """
    out: list[sympy.Expr] = [sympy.Integer(0)]
    if abs(v) < 1e-12:
        return out
    out.append(sympy.Integer(1) if v > 0 else sympy.Integer(-1))
    near = []
    if abs(round(v) - v) <= rel * max(abs(v), 1.0) and round(v) != 0:
        near.append(sympy.Integer(round(v)))
    for base, sym in _BASES:
        frac = Fraction(v / base).limit_denominator(max_denominator)
        if frac != 0 and abs(float(frac) * base - v) <= 0.5 * rel * abs(v):
            near.append(sympy.Rational(frac.numerator, frac.denominator) * sym)
    seen, uniq = set(), []
    for c in out + sorted(near, key=lambda c: (_cost(c), abs(float(c) - v))):
        if c not in seen:
            seen.add(c)
            uniq.append(c)
    return uniq


def _closeness(v: float) -> float:
    cands = _candidates(v)
    if abs(v) < 1e-12:
        return 0.0
    return min(abs(float(c) - v) / abs(v) for c in cands[1:]) if len(cands) > 1 else 1.0


def snap_constants(
    expr: sympy.Expr,
    data: Mapping[str, np.ndarray],
    y: np.ndarray,
    *,
    rtol: float = 0.1,
    atol: Optional[float] = None,
    max_denominator: int = 12,
    deadline: Optional[float] = None,
    noise: float = 0.0,
    window: float = 0.01,
) -> sympy.Expr:
    """Replace floats by simple numbers where the loss allows.

    Floats are tried one at a time, nearest to a simple value first; a replacement, followed by a
    refit of the floats that remain, is kept when the mean squared error stays below
    ``max(mse₀·(1 + rtol), atol)`` (``atol`` defaults to ``1e-10·var(y)``). Each float is tried once.
    Past ``deadline`` (a ``time.monotonic()`` value) the remaining floats are left as they are.
    A law that misses the data by more than ``1e-6·var(y)`` — or by more than three times the
    known ``noise`` (a relative MSE, ``noise_std² / var(y)``) — is approximate: its floats are only
    snapped to 0, integers and halves. The simple values tried for a float lie within ``window``
    (relative) of it — half that for rationals times π, √2, … (see ``_candidates``) — simplest first.
    With ``noise``, every acceptable one of the first twelve is weighed by fit and simplicity
    (:func:`_score`) instead of taking the first.
    """
    if not expr.atoms(sympy.Float):
        return expr
    prob = _Problem(expr, data, y)
    atol = 1e-10 * float(np.var(prob.y)) if atol is None else atol
    templ, params, theta = prob.templ, list(prob.params), prob.theta.copy()
    _, base = prob.fit(templ, params, theta, max_nfev=1)
    limit = max(base * (1 + rtol), atol)
    rough = base > max(1e-6, 3 * noise) * float(np.var(prob.y))  # an approximate law: only 0, integers, halves
    untried = set(params)
    while untried and (deadline is None or time.monotonic() < deadline):
        k = min((params.index(p) for p in untried), key=lambda n: _closeness(theta[n]))
        p = params[k]
        untried.discard(p)
        rest = params[:k] + params[k + 1 :]
        cands = _candidates(float(theta[k]), 2 if rough else max_denominator, rel=window)
        if rough:
            cands = [c for c in cands if c.is_Rational]
        passed = []
        for cand in cands[: 12 if noise > 0 else 6]:
            trial = templ.xreplace({p: cand})
            if trial.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                continue
            keep = [q for q in rest if trial.has(q)]
            th0 = np.array([theta[params.index(q)] for q in keep])
            th, err = prob.fit(trial, keep, th0, deadline=deadline)
            if err <= limit:
                passed.append((_score(err, cand, trial, len(prob.y)), trial, keep, th))
                if noise <= 0:  # exact rows: the simplest value that keeps the fit exact
                    break
        if passed:
            _, templ, params, theta = min(passed, key=lambda t: t[0])
            untried &= set(params)
    return prob.expr(templ, params, theta)


def _score(err: float, cand: sympy.Expr, trial: sympy.Expr, n: int) -> float:
    """Which of several acceptable values a constant snaps to on noisy rows: ``n·log(mse)`` (the
    fit, as a log-likelihood) plus twice the value's :func:`_cost` and the other operations of
    the formula it gives (as AIC counts parameters; a phase of ``3π/2`` turns ``sin(2θ − c)`` into
    ``cos(2θ)``, which ``33/7`` does not). A value the data favour by a few standard errors beats
    a simpler one: ``1/√(2π)`` wins over ``2/5`` for ``0.3992`` when ``2/5`` raises the loss by
    4 % on 600 rows."""
    shape = sympy.count_ops(trial) - sympy.count_ops(cand)  # the formula's operations, the value's own aside
    return n * float(np.log(max(err, 1e-300))) + 2.0 * (_cost(cand) + shape)


def _simplify(expr):
    return sympy.simplify(expr)


def simplify_timed(expr: sympy.Expr, timeout: float = 5.0) -> sympy.Expr:
    """``sympy.simplify(expr)`` if it finishes within ``timeout`` seconds (and is no longer than
    ``expr``), else ``expr``. The work is killed at the deadline (:mod:`kandiscover.support.timeout`)."""
    ok, out = call_with_timeout(_simplify, (expr,), timeout)
    if not ok or not isinstance(out, sympy.Expr):
        log.info("sympy.simplify did not finish within %.1f s; keeping the unsimplified formula", timeout)
        return expr
    return out if sympy.count_ops(out) <= sympy.count_ops(expr) else expr


def round_floats(expr: sympy.Expr, digits: int = 6) -> sympy.Expr:
    """Every float rounded to ``digits`` significant digits (for display)."""
    return expr.xreplace({f: sympy.Float(float(f"{float(f):.{digits}g}"), digits) for f in _floats(expr)})


SNAP_GRACE = 1.0
"""Seconds past its deadline that a snapping run in the sympy worker may take before it is killed."""


def _snap(expr: sympy.Expr, data, y, options: dict) -> sympy.Expr:
    return snap_constants(expr, data, y, **options)


def snap_timed(
    expr: sympy.Expr, data: Mapping[str, np.ndarray], y: np.ndarray, *, deadline: Optional[float], **options
) -> sympy.Expr:
    """:func:`snap_constants` stopped for sure :data:`SNAP_GRACE` seconds after ``deadline``.

    Snapping stops by itself at its deadline between two constants, but sympy's automatic
    evaluation of one trial (the assumptions system asking whether a large factor beside a constant
    set to 0 is finite) can run for minutes. So with a deadline the whole run happens in the
    sympy worker of :mod:`kandiscover.support.timeout`, which is killed past it; ``expr`` is then
    returned unsnapped. Without a deadline it runs here.
    """
    if deadline is None:
        return snap_constants(expr, data, y, **options)
    options = dict(options, deadline=deadline)
    ok, out = call_with_timeout(
        _snap,
        (expr, dict(data), np.asarray(y, dtype=float), options),
        max(0.1, deadline - time.monotonic()) + SNAP_GRACE,
    )
    if ok and isinstance(out, sympy.Expr):
        return out
    log.info("snapping the constants of a formula did not finish by its deadline; keeping them as fitted")
    return expr


def polish(
    expr: sympy.Expr,
    data: Mapping[str, np.ndarray],
    y: np.ndarray,
    *,
    rtol: float = 0.1,
    simplify_timeout: float = 5.0,
    digits: int = 6,
    deadline: Optional[float] = None,
    noise: float = 0.0,
) -> sympy.Expr:
    """Refit, snap, simplify, then snap and round again: the formula a person reads.

    ``deadline`` (a ``time.monotonic()`` value) cuts snapping short and bounds the simplification;
    ``noise`` is the data's known relative MSE (see :func:`snap_constants`); with noise, a
    snap may raise the loss by at most ``10/n`` (relative) — about three standard errors of a
    constant fitted on ``n`` rows — instead of ``rtol``, and the simple values tried lie within
    10 % of a constant instead of 1 %: the loss, not the distance, decides, and the simplest value
    it accepts wins (``0.4867`` fitted to noisy rows becomes ``1/2``, not ``29/(6π²)``).
    """
    if deadline is not None:
        simplify_timeout = max(0.2, min(simplify_timeout, deadline - time.monotonic()))
    window = 0.01
    if noise > 0:  # a snapped constant must stay within about 3σ of its fitted value
        rtol, window = min(rtol, 10.0 / len(y)), 0.1
    expr = refit_with_loss(expr, data, y, deadline=deadline)[0] if expr.atoms(sympy.Float) else expr
    expr = snap_timed(expr, data, y, rtol=rtol, deadline=deadline, noise=noise, window=window)
    expr = simplify_timed(expr, simplify_timeout)
    if expr.atoms(sympy.Float):
        expr = refit_with_loss(expr, data, y, deadline=deadline)[0]
        expr = snap_timed(expr, data, y, rtol=rtol, deadline=deadline, noise=noise, window=window)
    return round_floats(expr, digits)
