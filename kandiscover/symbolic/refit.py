"""Constants of an assembled formula: joint refit, snapping to simple values, simplification.

``polish(expr, data, y)`` runs the three stages: every float of the expression is refitted jointly
by least squares (scipy), then each is replaced by the simplest nearby value — 0, an integer, a
small rational, a rational multiple of π, e or √2 — when the loss does not rise beyond a tolerance
(the remaining constants are refitted after each replacement, which resolves redundant pairs such as
``c·exp(a·x + K)``), and finally ``sympy.simplify`` runs under a time limit.
"""

from __future__ import annotations

import logging
import math
import time
from fractions import Fraction
from typing import Mapping, Optional

import numpy as np
import sympy
from scipy import stats

from ..support.timeout import call_with_timeout
from .domain import on_rows
from .evaluate import ConstantFit, formula_mse
from .phases import reduced_phases
from .polynomials import expanded_polynomial
from .ties import folded_numbers, tied_coefficients
from .uncertainty import LEVEL, Estimate, linearised, significant_digits, t_quantile

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

    With ``weights`` (shape ``(n,)``, ``1/σ²`` per row) the fits are weighted least squares: the
    template is multiplied by a column ``√w`` (:data:`SQRT_W`) and so is the target; :meth:`expr`
    sets that column to 1 again.
    """

    def __init__(self, expr: sympy.Expr, data: Mapping[str, np.ndarray], y: np.ndarray, weights=None) -> None:
        floats = _floats(expr)
        self.params = [sympy.Symbol(f"_c{k}") for k in range(len(floats))]
        self.templ = expr.xreplace(dict(zip(floats, self.params)))
        self.theta = np.array([float(f) for f in floats])
        names, cols = _columns(expr, data)
        y = np.asarray(y, dtype=float)
        if weights is not None:
            sqrt_w = np.sqrt(np.asarray(weights, dtype=float))
            self.templ = SQRT_W * self.templ
            names, cols, y = [*names, SQRT_W.name], [*cols, sqrt_w], sqrt_w * y
        super().__init__(names, cols, y)

    def expr(self, templ, params, theta) -> sympy.Expr:
        return templ.xreplace({p: sympy.Float(v) for p, v in zip(params, theta)}).xreplace({SQRT_W: sympy.Integer(1)})


SQRT_W = sympy.Symbol("_sqrt_w")
"""The column of square-root weights in a weighted :class:`_Problem`."""


def refit_with_loss(
    expr: sympy.Expr,
    data: Mapping[str, np.ndarray],
    y: np.ndarray,
    *,
    deadline: Optional[float] = None,
    weights: Optional[np.ndarray] = None,
) -> tuple[sympy.Expr, float]:
    """:func:`refit_constants` that also returns the mean squared error of the result (and stops
    at ``deadline``, a ``time.monotonic()`` value, with the best constants found so far); with
    ``weights`` (``1/σ²`` per row, shape ``(n,)``) weighted least squares, and the weighted MSE."""
    prob = _Problem(expr, data, y, weights)
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
        sympy.pi**3,
        1 / sympy.pi**3,
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


def _plain(c: sympy.Expr) -> bool:
    """A value simple enough to be read off noisy rows: a rational ``p/q`` with ``q ≤ 4``, or one of
    the irrational factors of ``_BASES`` times ``p/q`` with ``|p|, q ≤ 4``. Finer ones (``7√π/4``,
    ``63/(10π)``) lie inside almost any interval a dozen noisy rows give and would be found by
    chance."""
    rational, rest = c.as_coeff_Mul()
    r = sympy.Rational(rational)
    if rest == 1:
        return r.q <= 4
    return r.q <= 4 and abs(r.p) <= 4


def _digits(c: sympy.Expr) -> float:
    """How many digits writing the simple value ``c`` takes: those of its rational factor, and
    ``log10(len(_BASES))`` for the choice of its irrational factor (``π``, ``1/√(2π)``, …)."""
    rational, rest = c.as_coeff_Mul()
    r = sympy.Rational(rational)
    own = len(str(abs(r.p))) + (len(str(r.q)) if r.q != 1 else 0)
    return own + (0.0 if rest == 1 else math.log10(len(_BASES)))


def _candidates(v: float, max_denominator: int = 12, rel: float = 0.01) -> list[sympy.Expr]:
    """Simple numbers to try for ``v``: 0 and 1 always (a redundant constant can take any value),
    then the nearby ones, simplest first.

    Nearby: integers within ``rel`` (relative) of ``v``; rationals ``p/q`` (``q ≤ max_denominator``)
    times 1, π, 1/π, π², π³, √π, √2, √(2π), e, √3 … (see ``_BASES``) within ``rel/2``.
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
    residual_is_noise: bool = False,
    record: Optional[list] = None,
    weights=None,
) -> sympy.Expr:
    """Replace floats by simple numbers where the loss allows.

    Floats are tried one at a time, nearest to a simple value first, each once; a replacement is
    followed by a refit of the floats that remain. Past ``deadline`` (a ``time.monotonic()`` value)
    the remaining floats are left as they are. Which replacement is kept depends on the fit:

    exact (the mean squared error at most ``atol``, by default ``1e-10·var(y)``)
        the simplest value that keeps the error below ``max(mse₀·(1 + rtol), atol)``.
    noisy (the residual is noise: ``residual_is_noise``, or within three times the known
    ``noise``, a relative MSE ``noise_std² / var(y)``)
        a value inside the constant's :data:`~kandiscover.symbolic.uncertainty.LEVEL` interval
        (linearised, see :mod:`~kandiscover.symbolic.uncertainty`; ``s²`` the residual variance of
        the full fit, ``t`` the Student quantile on its ``n − p`` degrees of freedom) whose fit is
        not worse beyond the noise: this replacement raises the sum of squares by at most
        ``t²·s²`` (the value lies inside the profile-likelihood interval too) and the ``k``
        replacements so far together by at most ``k·F(k, n − p)·s²`` (their joint region). Floats
        inside a function or a power are tried first, then the fewest standard errors from a
        simple value, and the values tried are few (``p/q`` with ``q ≤ 4``, or a factor of
        ``_BASES`` times ``p/q`` with ``|p|, q ≤ 4``; see ``_plain``) and each shorter by a digit
        than the digits the interval supports; they reach to the interval's ends (at most 50 %)
        when it is wider than ``window``.
    approximate (any other misfit: more than ``1e-6·var(y)``, or three times the known noise)
        only 0, integers and halves, within ``max(mse₀·(1 + rtol), atol)`` and inside the
        constant's interval.

    A replacement that does not raise the error at all is always kept. The simple values tried
    lie within ``window`` (relative) of a float — half that for rationals times π, √2, … (see
    ``_candidates``) — simplest first. With ``noise`` or ``residual_is_noise``, every acceptable
    one of the first twelve is weighed by fit and simplicity (:func:`_score`) instead of taking
    the first.

    ``record``, a list, receives one dict per replacement: the float's ``value``, ``std_error``,
    ``low``, ``high`` and ``method`` at the fit it was replaced at, and ``snapped``, the value.
    ``weights`` (``1/σ²`` per row, shape ``(n,)``) make the fits, intervals and sums of squares of
    the noisy case weighted; which case applies is decided on the unweighted error.
    """
    if not expr.atoms(sympy.Float):
        return expr
    prob = _Problem(expr, data, y)
    var_y = float(np.var(prob.y))
    atol = 1e-10 * var_y if atol is None else atol
    _, plain = prob.fit(prob.templ, prob.params, prob.theta, max_nfev=1)
    exact = plain <= atol
    rough = not residual_is_noise and plain > max(1e-6, 3 * noise) * var_y  # only 0, integers, halves
    statistical = not exact and not rough and (residual_is_noise or noise > 0)
    base = plain
    templ, params, theta = prob.templ, list(prob.params), prob.theta.copy()
    if statistical and weights is not None:  # the weighted optimum, where the intervals are
        prob = _Problem(expr, data, y, weights)
        templ, params = prob.templ, list(prob.params)
        theta, base = prob.fit(templ, params, prob.theta, deadline=deadline)
    limit = max(base * (1 + rtol), atol)
    weigh = noise > 0 or residual_is_noise
    n = len(prob.y)
    untried = set(params)
    dof0 = n - len(params)
    s2 = base * n / dof0 if dof0 > 0 else math.inf  # the noise variance (weighted), from the full fit
    statistical = statistical and dof0 > 0
    current, snapped = base, 0
    while untried and (deadline is None or time.monotonic() < deadline):
        ests = _estimates(prob, templ, params, theta, s2, dof0) if not exact else None
        k = min((params.index(p) for p in untried), key=lambda m: _order(m, templ, params, theta, ests, statistical))
        p = params[k]
        untried.discard(p)
        rest = params[:k] + params[k + 1 :]
        est = ests[k] if ests else None
        reach = window
        if statistical and math.isfinite(est.std_error):
            reach = min(0.5, max(window, (est.high - est.value) / max(abs(est.value), 1e-300)))
        cands = _candidates(float(theta[k]), 2 if rough else max_denominator, rel=reach)
        if rough:
            cands = [c for c in cands if c.is_Rational]
        if statistical:  # few values, each a digit shorter than those the fit supports
            digits = significant_digits(float(theta[k]), est.std_error, min_digits=1, max_digits=15)
            cands = [c for c in cands if c == 0 or (_plain(c) and _digits(c) <= digits - 1)]
        passed = []
        for cand in cands[: 12 if weigh else 6]:
            trial = templ.xreplace({p: cand})
            if trial.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                continue
            keep = [q for q in rest if trial.has(q)]
            th0 = np.array([theta[params.index(q)] for q in keep])
            th, err = prob.fit(trial, keep, th0, deadline=deadline)
            inside = est is None or est.contains(float(cand))
            if statistical:
                ok = err <= current or (inside and _within_noise(err, current, base, snapped + 1, n, s2, dof0))
            else:
                ok = err <= base or (err <= limit and inside)
            if ok:
                passed.append((_score(err, cand, trial, n), trial, keep, th, cand, err))
                if not weigh:  # exact rows: the simplest value that keeps the fit exact
                    break
        if passed:
            _, trial, keep, th, cand, err = min(passed, key=lambda t: t[0])
            if record is not None:
                est = est or _estimates(prob, templ, params, theta, s2 if dof0 > 0 else 0.0, max(dof0, 1))[k]
                record.append(dict(est.as_dict(), snapped=cand))
            templ, params, theta = trial, keep, th
            current, snapped = err, snapped + 1
            untried &= set(params)
    return prob.expr(templ, params, theta)


def _within_noise(err: float, current: float, base: float, k: int, n: int, s2: float, dof: int) -> bool:
    """Whether a replacement's mean squared error ``err`` is not worse beyond the noise ``s2`` (a
    variance on ``dof`` degrees of freedom): this step raises the sum of squares by at most
    ``t²·s²``, and the ``k`` replacements so far together by at most ``k·F(k, dof)·s²`` over the
    full fit (``base``) — the joint 95 % region of the replaced constants."""
    step = (err - current) * n <= t_quantile(dof) ** 2 * s2
    joint = (err - base) * n <= k * float(stats.f.ppf(LEVEL, k, dof)) * s2
    return bool(step and joint)


def _order(m: int, templ, params, theta, ests, statistical: bool) -> tuple:
    """Which float to try next: nearest to a simple value (relative) on exact or approximate fits;
    on noisy ones those inside a function or power before the factors and terms (fixing an
    exponent first lets the coefficients follow it), then the fewest standard errors away."""
    if not statistical:
        return (_closeness(theta[m]),)
    est = ests[m]
    se = est.std_error if math.isfinite(est.std_error) and est.std_error > 0 else math.inf
    p = params[m]
    linear = not sympy.diff(templ, p).has(p)
    return (linear, _closeness(theta[m]) * abs(theta[m]) / se if math.isfinite(se) else 0.0)


def _estimates(prob: _Problem, templ, params, theta, s2: float, dof: int) -> list[Estimate]:
    """The linearised intervals of the parameters of ``templ`` at ``theta``, the noise variance
    ``s2`` (weighted, in the target's units) on ``dof`` degrees of freedom."""
    jac = prob.residual_fn(templ, params)[1](theta)
    _, se = linearised(jac, s2 / prob.scale**2)
    t = t_quantile(dof)
    out = []
    for k, v in enumerate(theta):
        if not np.isfinite(se[k]):
            out.append(Estimate(float(v), float(se[k]), -math.inf, math.inf, "not identifiable"))
        else:
            out.append(Estimate(float(v), float(se[k]), v - t * se[k], v + t * se[k], "linearised"))
    return out


def _score(err: float, cand: sympy.Expr, trial: sympy.Expr, n: int) -> float:
    """Which of several acceptable values a constant snaps to on noisy rows: ``n·log(mse)`` (the
    fit, as a log-likelihood) plus twice the value's :func:`_cost` and the other operations of
    the formula it gives (as AIC counts parameters; a phase of ``3π/2`` turns ``sin(2θ − c)`` into
    ``cos(2θ)``, which ``33/7`` does not). A value the data favour by a few standard errors beats
    a simpler one: ``1/√(2π)`` wins over ``2/5`` for ``0.3992`` when ``2/5`` raises the loss by
    4 % on 600 rows."""
    shape = sympy.count_ops(trial) - sympy.count_ops(cand)  # the formula's operations, the value's own aside
    return n * float(np.log(max(err, 1e-300))) + 2.0 * (_cost(cand) + shape)


def _simplify(expr, data=None):
    out = sympy.simplify(expr)
    return out if data is None else on_rows(out, data)


def simplify_timed(
    expr: sympy.Expr, timeout: float = 5.0, data: Optional[Mapping[str, np.ndarray]] = None
) -> sympy.Expr:
    """``sympy.simplify(expr)`` if it finishes within ``timeout`` seconds (and is no longer than
    ``expr``), else ``expr``. The work is killed at the deadline (:mod:`kandiscover.support.timeout`).
    With ``data`` (column -> values), squares are then taken out of roots and absolute values with
    the signs they have on those rows (:func:`kandiscover.symbolic.domain.on_rows`)."""
    ok, out = call_with_timeout(_simplify, (expr, None if data is None else dict(data)), timeout)
    if not ok or not isinstance(out, sympy.Expr):
        log.info("sympy.simplify did not finish within %.1f s; keeping the unsimplified formula", timeout)
        return expr
    return out if sympy.count_ops(out) <= sympy.count_ops(expr) else expr


def round_floats(expr: sympy.Expr, digits: int = 6) -> sympy.Expr:
    """Every float rounded to ``digits`` significant digits (for display)."""
    return expr.xreplace({f: sympy.Float(float(f"{float(f):.{digits}g}"), digits) for f in _floats(expr)})


SNAP_GRACE = 1.0
"""Seconds past its deadline that a snapping run in the sympy worker may take before it is killed."""


def _snap(expr: sympy.Expr, data, y, options: dict) -> tuple:
    record: list = []
    return snap_constants(expr, data, y, record=record, **options), record


def snap_timed(
    expr: sympy.Expr,
    data: Mapping[str, np.ndarray],
    y: np.ndarray,
    *,
    deadline: Optional[float],
    record: Optional[list] = None,
    **options,
) -> sympy.Expr:
    """:func:`snap_constants` stopped for sure :data:`SNAP_GRACE` seconds after ``deadline``.

    Snapping stops by itself at its deadline between two constants, but sympy's automatic
    evaluation of one trial (the assumptions system asking whether a large factor beside a constant
    set to 0 is finite) can run for minutes. So with a deadline the whole run happens in the
    sympy worker of :mod:`kandiscover.support.timeout`, which is killed past it; ``expr`` is then
    returned unsnapped. Without a deadline it runs here. ``record`` receives the replacements (see
    :func:`snap_constants`).
    """
    if deadline is None:
        return snap_constants(expr, data, y, record=record, **options)
    options = dict(options, deadline=deadline)
    ok, out = call_with_timeout(
        _snap,
        (expr, dict(data), np.asarray(y, dtype=float), options),
        max(0.1, deadline - time.monotonic()) + SNAP_GRACE,
    )
    if ok and isinstance(out, tuple) and isinstance(out[0], sympy.Expr):
        if record is not None:
            record.extend(out[1])
        return out[0]
    log.info("snapping the constants of a formula did not finish by its deadline; keeping them as fitted")
    return expr


def _tied(expr: sympy.Expr, data, y, opts: dict) -> sympy.Expr:
    """``expr`` with the coefficients of its sums that stand in a simple ratio tied
    (:func:`kandiscover.symbolic.ties.tied_coefficients`) and refitted, where that keeps the fit:
    on exact rows the error stays below ``max(mse₀·(1 + rtol), 1e-10·var(y))``; on noisy ones
    (``opts["noise"]`` or ``opts["residual_is_noise"]``) the sum of squares rises by at most
    ``t²·s²`` (as one snapped constant, :func:`_within_noise`). Else ``expr``."""
    tied = tied_coefficients(expr)
    if tied == expr:
        return expr
    weights, deadline = opts.get("weights"), opts.get("deadline")
    untied, base = refit_with_loss(expr, data, y, deadline=deadline, weights=weights)
    tied, err = refit_with_loss(tied, data, y, deadline=deadline, weights=weights)
    n, p = len(y), len(untied.atoms(sympy.Float))
    if opts.get("noise", 0) > 0 or opts.get("residual_is_noise"):
        dof = n - p
        ok = dof > 0 and _within_noise(err, base, base, 1, n, base * n / dof, dof)
    else:
        ok = err <= max(base * (1 + opts.get("rtol", 0.1)), 1e-10 * float(np.var(y)))
    log.debug("tying the coefficients of %s: mse %.3g -> %.3g (%s)", expr, base, err, "kept" if ok else "not kept")
    return tied if ok else expr


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
    residual_is_noise: bool = False,
    record: Optional[list] = None,
    weights=None,
) -> sympy.Expr:
    """Refit, snap, simplify, then snap and round again: the formula a person reads.

    A polynomial is first written in its monomial basis where that takes no more constants
    (:func:`kandiscover.symbolic.polynomials.expanded_polynomial`). Before the first snapping the
    phases of periodic functions are brought into one period
    (:func:`kandiscover.symbolic.phases.reduced_phases`: ``sin(x − 6.2841)`` → ``sin(x − 0.0009)``,
    whose phase then snaps to 0). After the simplification the float coefficients of a
    sum that stand in a simple ratio are tied to one constant where the fit allows (:func:`_tied`),
    and a constant common to the terms of a sum is taken out of it (``sympy.factor_terms``), so
    that ``(0.488603 − 0.488604·u)⁻²`` snaps as ``4.1888·(1 − u)⁻² = 4π/3·(1 − u)⁻²``; exact
    numbers beside a float in a product are folded into it (``0.408248·√6`` is ``1.0``:
    :func:`kandiscover.symbolic.ties.folded_numbers`).

    The simplification also takes squares out of roots with the sign they have on the rows of
    ``data`` (:func:`kandiscover.symbolic.domain.on_rows`): ``sqrt((x − tu)²/(c² − u²))`` becomes
    ``(x − tu)/sqrt(c² − u²)`` where ``x > tu`` on every row.

    ``deadline`` (a ``time.monotonic()`` value) cuts snapping short and bounds the simplification;
    ``noise`` is the data's known relative MSE and ``residual_is_noise`` says that whatever the
    formula leaves is noise (see :func:`snap_constants`): then a snapped value must lie inside the
    constant's 95 % interval and raise the sum of squares by at most ``t²·s²``, and the simple
    values tried lie within 10 % of a constant (or its interval) instead of 1 %: the fit, not the
    distance, decides, and the simplest value it accepts wins (``0.4867`` fitted to noisy rows
    becomes ``1/2``, not ``29/(6π²)``). ``record`` receives every replacement of both snapping
    passes, and ``weights`` (``1/σ²`` per row) weight the noisy case (see :func:`snap_constants`).
    """
    if deadline is not None:
        simplify_timeout = max(0.2, min(simplify_timeout, deadline - time.monotonic()))
    window = 0.01
    if noise > 0 or residual_is_noise:  # a snapped constant must stay within about 3σ of its fitted value
        rtol, window = min(rtol, 10.0 / len(y)), 0.1
    opts = dict(
        rtol=rtol, deadline=deadline, noise=noise, window=window, residual_is_noise=residual_is_noise, weights=weights
    )
    expr = expanded_polynomial(expr)
    expr = refit_with_loss(expr, data, y, deadline=deadline, weights=weights)[0] if expr.atoms(sympy.Float) else expr
    expr = snap_timed(reduced_phases(expr), data, y, record=record, **opts)
    expr = simplify_timed(expr, simplify_timeout, data)
    if expr.atoms(sympy.Float):
        expr = _tied(expr, data, y, opts)
        expr = sympy.factor_terms(expr)  # (0.4886 − 0.4886·u)⁻² → 4.1888·(1 − u)⁻²: one constant to snap
        expr = folded_numbers(expr)  # 0.408248·√6 → 0.9999997: one constant to snap
        expr = refit_with_loss(expr, data, y, deadline=deadline, weights=weights)[0]
        expr = snap_timed(expr, data, y, record=record, **opts)
    return round_floats(expr, digits)
