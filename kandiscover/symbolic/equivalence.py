"""Exact-recovery judgement: is a found formula the true one (the SRBench rule)?

The rule
--------
Every float constant of ``found`` is rounded to ``digits`` significant digits (constants with
absolute value below ``zero_below`` become 0). ``found`` is then a solution for ``truth`` when

* ``found - truth`` is a constant (no free symbols), or
* ``found / truth`` is a nonzero constant.

The rule is symbolic, as SRBench's is, so the judge is not fooled by approximations that agree on
the sampling box (``a*cot(a*r)`` for ``1/r`` with a small ``a``, ``5 - abs(V - 5)`` for ``V`` when
``V <= 5``). The checks, in order:

1. **signs** -- every symbol is rebound (by name) to a symbol carrying the sign of its sampling
   range: ``positive`` when ``low > 0``, ``nonnegative`` when ``low == 0`` (and the mirror
   images for negative ranges), else ``real``. The
   default range ``(0.5, 2.0)`` makes a symbol positive, so ``sqrt(x**2*y**2)`` is ``x*y`` and
   ``log(exp(E))`` is ``E``.
2. **fast reject** -- both formulas are evaluated at ``n_points`` random points of the sampling
   box (numpy ``default_rng(seed)``, uniform on ``domain``). When the difference and the ratio both
   vary there (spread above ``1e-6`` times the spread of the formulas, plus ``1e-12`` times their
   magnitude) the answer is False: no simplification can make them constant.
3. **symbolic proof** -- the difference and the ratio go through cheap rewrites (``expand``,
   ``cancel``, ``together``, ``powsimp``, ``trigsimp``), then ``simplify``, in a forked worker killed
   after ``timeout`` seconds. A constant result is a proof: True.
4. **wide-box numbers** -- where sympy gives up (no proof, time out, failure, or ``timeout=0``)
   the formulas are compared at ``5 * n_points`` points of a box much wider than the sampling one,
   where stand-ins part from the law: a positive range ``(low, high)`` becomes log-uniform on
   ``(low / 100, 100 * high)`` (``(high / 1e6, 100 * high)`` when ``low == 0``), a negative one
   its mirror, a range across zero uniform on ``±10 * max(|low|, |high|)``. The criterion is
   pointwise, since the values span many orders of magnitude: the difference ``d = f - t`` is
   constant when ``|d_i - median(d)|`` is at most ``1e-6 * (|f_i| + |t_i|) + 1e-9 * median(|f| +
   |t|)`` at every point (the second term absorbs the rounding of ill-conditioned forms such as
   ``asin(1 - 2*z**2)`` at small ``z``); the ratio is constant when ``f - r*t``, with
   ``r = median(f / t)``, is within the same bound (``r*t`` in place of ``t``). When fewer than a
   quarter of the wide points give finite real values, the sampling-box verdict of step 2 stands.

The truth's float constants are rounded to the same digits (none is zeroed): a truth written with
long constants (``4.73333333333333*(x2 + x4)/x5``, ``2.1380940889*exp(-0.54723748542*x1)``) is then
its own answer, as it is under SRBench's rounding of the difference. Named constants and rationals
are never rounded, so ``sin(3.14159*x)`` does *not* match ``sin(pi*x)`` (rounded to ``sin(3.14*x)``
it differs from the truth); the discovery pipeline snaps such constants to ``pi`` before it asks.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping

import mpmath
import numpy as np
import sympy

from ..support.timeout import call_with_timeout
from kandiscover.symbolic.evaluate import formula_predictions
from kandiscover.symbolic.parse import parse_formula

logger = logging.getLogger("kandiscover")

__all__ = ["round_constants", "is_equivalent", "DEFAULT_RANGE"]

#: Sampling range used for every symbol that ``domain`` does not mention.
DEFAULT_RANGE = (0.5, 2.0)
_RTOL = 1e-6  # allowed spread of the difference / ratio, relative to the formulas
_ATOL = 1e-12  # floating-point floor, relative to the magnitude of the values
_WIDEN = 100.0  # a positive range (low, high) widens to (low / _WIDEN, high * _WIDEN)
_WIDE_POINTS = 5  # the wide box has this many times n_points
_WIDE_ATOL = 1e-9  # on the wide box: floor relative to the median magnitude of the values

#: Rewrites tried in order on ``found - truth`` and ``found / truth`` (cheap ones first).
_SIMPLIFIERS = (
    ("as is", lambda e: e),
    ("expand", sympy.expand),
    ("cancel", sympy.cancel),
    ("together", sympy.together),
    ("powsimp", sympy.powsimp),
    ("trigsimp", sympy.trigsimp),
    ("simplify", sympy.simplify),
)


def _as_expr(value, name: str) -> sympy.Expr:
    if isinstance(value, str):
        return parse_formula(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return sympy.Integer(int(value)) if isinstance(value, (int, np.integer)) else sympy.Float(float(value))
    if not isinstance(value, sympy.Expr):
        raise TypeError(f"{name} must be a sympy expression or a formula string, got {type(value).__name__}")
    return value


def _round_float(value: sympy.Float, digits: int, zero_below: float) -> sympy.Expr:
    v = float(value)
    if math.isfinite(v):
        if abs(v) < zero_below:
            return sympy.Integer(0)
        return sympy.Float(float(f"{v:.{digits - 1}e}"))
    # beyond double range: round with mpmath at the Float's own precision
    return sympy.Float(mpmath.nstr(mpmath.mpf(value._mpf_), digits), 15)


def round_constants(expr, digits: int = 3, zero_below: float = 1e-4) -> sympy.Expr:
    """Round every float constant of a formula to ``digits`` significant digits.

    Parameters
    ----------
    expr : sympy.Expr or str
    digits : int, default 3
        Significant digits kept (``1.00002 -> 1.0``, ``3.14159 -> 3.14``, ``0.012345 -> 0.0123``).
    zero_below : float, default 1e-4
        Floats with absolute value below this become exact 0.

    Returns
    -------
    sympy.Expr
        The formula with rounded :class:`sympy.Float` atoms; integers, rationals and named
        constants (``pi``) are untouched.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    if not zero_below >= 0:
        raise ValueError(f"zero_below must be >= 0, got {zero_below!r}")
    expr = _as_expr(expr, "expr")
    return expr.xreplace({f: _round_float(f, digits, zero_below) for f in expr.atoms(sympy.Float)})


def _numbers_as_floats(expr: sympy.Expr) -> sympy.Expr:
    """Replace named constants (pi, E) and non-integer rationals by floats."""
    atoms = expr.atoms(sympy.NumberSymbol, sympy.Rational)
    return expr.xreplace({a: sympy.Float(a.evalf(15)) for a in atoms if not a.is_Integer})


def _sample(symbols, n_points: int, seed: int, domain) -> np.ndarray:
    """Points uniform on the sampling box; shape ``(n_points, len(symbols))``."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_points, len(symbols)))
    for j, sym in enumerate(symbols):
        low, high = domain.get(sym.name, DEFAULT_RANGE)
        X[:, j] = rng.uniform(low, high, n_points)
    return X


def _sample_wide(symbols, n_points: int, seed: int, domain) -> np.ndarray:
    """Points on the wide box (module doc, step 4), signs kept; shape ``(n_points, len(symbols))``."""
    rng = np.random.default_rng(seed + 1)
    X = np.empty((n_points, len(symbols)))
    for j, sym in enumerate(symbols):
        low, high = domain.get(sym.name, DEFAULT_RANGE)
        if low >= 0 or high <= 0:  # one sign: log-uniform, widened by _WIDEN each way
            sign, a, b = (1.0, low, high) if low >= 0 else (-1.0, -high, -low)
            a = a if a > 0 else b / _WIDEN**2  # a range starting at 0
            X[:, j] = sign * np.exp(rng.uniform(np.log(a / _WIDEN), np.log(b * _WIDEN), n_points))
        else:
            reach = 10.0 * max(abs(low), abs(high))
            X[:, j] = rng.uniform(-reach, reach, n_points)
    return X


def _spread(v: np.ndarray) -> float:
    return float(v.max() - v.min())


def _values(found, truth, sampler, n_points: int, seed: int, domain) -> tuple[np.ndarray, np.ndarray] | None:
    """Both formulas at ``n_points`` points drawn by ``sampler`` (:func:`_sample` or
    :func:`_sample_wide`), restricted to the points where both are finite and real; None when
    fewer than a quarter are."""
    symbols = sorted(found.free_symbols | truth.free_symbols, key=lambda s: s.name)
    X = sampler(symbols, n_points, seed, domain)
    try:
        vf, vt = formula_predictions(found, X, symbols), formula_predictions(truth, X, symbols)
    except Exception as exc:  # lambdify/numpy can fail in many ways on exotic formulas
        logger.debug("numeric equivalence check could not evaluate: %s", exc)
        return None
    ok = np.isfinite(vf) & np.isfinite(vt)  # real values only (the evaluation rule makes the others NaN)
    if ok.sum() < max(3, len(X) // 4):
        return None
    return vf[ok], vt[ok]


def _numeric_verdict(found, truth, n_points: int, seed: int, domain) -> bool | None:
    """Constant difference or ratio on the sampling box; None when too few points evaluate."""
    values = _values(found, truth, _sample, n_points, seed, domain)
    if values is None:
        return None
    vf, vt = values
    scale = max(np.abs(vf).max(), np.abs(vt).max())
    if _spread(vf - vt) <= _RTOL * max(_spread(vf), _spread(vt)) + _ATOL * scale:
        return True
    nonzero = vt != 0
    if nonzero.sum() < max(3, n_points // 4):
        return False
    ratio = vf[nonzero] / vt[nonzero]
    return bool(np.all(ratio != 0) and np.all(np.isfinite(ratio)) and _spread(ratio) <= _RTOL * np.abs(ratio).max())


def _wide_verdict(found, truth, n_points: int, seed: int, domain) -> bool | None:
    """Constant difference or ratio, pointwise, on the wide box; None when too few points evaluate."""
    values = _values(found, truth, _sample_wide, n_points, seed, domain)
    if values is None:
        return None
    vf, vt = values
    floor = _WIDE_ATOL * float(np.median(np.abs(vf) + np.abs(vt)))  # rounding in ill-conditioned forms
    d = vf - vt
    if np.all(np.abs(d - np.median(d)) <= _RTOL * (np.abs(vf) + np.abs(vt)) + floor):
        return True
    nonzero = vt != 0
    if nonzero.sum() < max(3, len(vt) // 4):
        return False
    r = float(np.median(vf[nonzero] / vt[nonzero]))
    return bool(r != 0 and np.all(np.abs(vf - r * vt) <= _RTOL * (np.abs(vf) + np.abs(r * vt)) + floor))


def _is_constant(expr: sympy.Expr, nonzero: bool = False) -> bool:
    if expr.free_symbols or expr.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return False
    if not nonzero or expr.is_zero is False:
        return True
    if expr.is_zero:
        return False
    try:
        return complex(expr.evalf()) != 0
    except (TypeError, ValueError):
        return False


def _symbolic_proof(found, truth):
    """Name of the rewrite that proves the rule, or None."""
    candidates = [(found - truth, False)]
    if truth != 0:
        candidates.append((found / truth, True))
    for name, rewrite in _SIMPLIFIERS:
        for expr, is_ratio in candidates:
            try:
                if _is_constant(rewrite(expr), nonzero=is_ratio):
                    return f"{'ratio' if is_ratio else 'difference'} by {name}"
            except Exception as exc:  # sympy raises many exception types on hard inputs
                logger.debug("equivalence: %s failed: %s", name, exc)
    return None


def _symbolic_verdict(found, truth, deadline: float | None) -> bool:
    """True when sympy proves the rule before ``deadline`` (``time.monotonic`` value).

    The proof runs under a hard time limit (a forked child killed at the deadline), so a
    hopeless simplification never keeps running in the background.
    """
    remaining = 3600.0 if deadline is None else deadline - time.monotonic()
    if remaining <= 0:
        return False
    ok, proof = call_with_timeout(_symbolic_proof, (found, truth), remaining)
    if ok and proof:
        logger.debug("equivalence proven symbolically (%s)", proof)
        return True
    if not ok:
        logger.debug("equivalence: symbolic check timed out or failed")
    return False


def _signed_symbols(found, truth, domain) -> tuple[sympy.Expr, sympy.Expr]:
    """Both formulas with each symbol (matched by name) carrying the sign of its sampling range."""
    names = {s.name for s in found.free_symbols | truth.free_symbols if isinstance(s, sympy.Symbol)}
    signed = {}
    for name in names:
        low, high = domain.get(name, DEFAULT_RANGE)
        if low > 0 or high < 0:
            sign = "positive" if low > 0 else "negative"
        elif low == 0 or high == 0:
            sign = "nonnegative" if low == 0 else "nonpositive"
        else:
            sign = "real"
        signed[name] = sympy.Symbol(name, **{sign: True})

    def rebind(e):
        return e.xreplace({s: signed[s.name] for s in e.free_symbols if isinstance(s, sympy.Symbol)})

    return rebind(found), rebind(truth)


def _check_domain(domain) -> dict[str, tuple[float, float]]:
    if domain is None:
        return {}
    if not isinstance(domain, Mapping):
        raise TypeError("domain must be a dict: symbol name -> (low, high)")
    checked = {}
    for key, bounds in domain.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"domain[{key!r}] must be a pair (low, high), got {bounds!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"domain[{key!r}] must satisfy low < high (finite), got {bounds!r}")
        checked[key.name if isinstance(key, sympy.Symbol) else str(key)] = (low, high)
    return checked


def is_equivalent(
    found, truth, *, digits: int = 3, timeout: float | None = 5.0, n_points: int = 200, seed: int = 0, domain=None
) -> bool:
    """Whether ``found`` recovers ``truth`` exactly, by the SRBench rule (see the module doc).

    Parameters
    ----------
    found, truth : sympy.Expr or str
        Formulas; strings are parsed with :func:`~kandiscover.symbolic.parse.parse_formula`.
        Symbols are matched by name; each carries the sign of its sampling range (their own
        assumptions are replaced).
    digits : int, default 3
        Significant digits kept in the constants of ``found`` before comparing.
    timeout : float or None, default 5.0
        Seconds allowed for sympy's symbolic proof (0: no proof, the wide-box numbers decide;
        None: no limit).
    n_points : int, default 200
        Random points of the sampling-box check (the wide box has five times as many).
    seed : int, default 0
        Seed of the numeric check's sampling.
    domain : dict, optional
        Symbol name -> ``(low, high)`` sampling range; other symbols use ``(0.5, 2.0)``.

    Returns
    -------
    bool
        True when ``found - truth`` is a constant or ``found / truth`` a nonzero constant.

    Examples
    --------
    >>> is_equivalent("2.5*x*y", "x*y"), is_equivalent("x*y", "x + y")
    (True, False)
    """
    if timeout is not None and not timeout >= 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 10:
        raise ValueError(f"n_points must be an integer >= 10, got {n_points!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    domain = _check_domain(domain)
    found, truth = _as_expr(found, "found"), _as_expr(truth, "truth")
    found, truth = _signed_symbols(found, truth, domain)
    rounded = round_constants(found, digits)
    truth = round_constants(truth, digits, zero_below=0.0)  # a truth with long constants is its own answer
    near = _numeric_verdict(rounded, truth, n_points, seed, domain)
    if near is False:  # neither difference nor ratio is constant on the sampling box
        return False
    if timeout != 0 and _symbolic_verdict(rounded, truth, deadline):
        return True
    wide = _wide_verdict(rounded, truth, _WIDE_POINTS * n_points, seed, domain)
    verdict = bool(near) if wide is None else wide
    logger.debug("equivalence: not proven; numbers say %s (sampling box %s) for %s ~ %s", verdict, near, rounded, truth)
    return verdict
