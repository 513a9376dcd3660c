"""Exact-recovery judgement: is a found formula the true one (the SRBench rule)?

The rule
--------
Every float constant of ``found`` is rounded to ``digits`` significant digits (constants with
absolute value below ``zero_below`` become 0). ``found`` is then a solution for ``truth`` when

* ``found - truth`` is a constant (no free symbols), or
* ``found / truth`` is a nonzero constant.

sympy's ``simplify`` can be slow or hang, and it can fail to reduce an expression that is in fact
constant, so two checks are combined and either one can accept:

1. **numeric** -- both formulas are evaluated at ``n_points`` random points (numpy
   ``default_rng(seed)``, uniform on ``domain``; default ``(0.5, 2.0)`` for every symbol, positive
   so that ``log`` and ``sqrt`` are defined). The difference is taken as constant when its
   spread is below ``1e-6`` times the spread of the formulas (plus ``1e-12`` times their
   magnitude); the ratio when its spread is below ``1e-6`` times its magnitude and it is nonzero.
   Equivalence is therefore judged on the sampling domain (``sqrt(x**2)`` equals ``x`` there).
2. **symbolic** -- tried only when the numeric check does not accept (or cannot evaluate, e.g.
   ``log`` of negative numbers on the domain): the difference and the ratio go through cheap
   rewrites first (``expand``, ``cancel``, ``together``, ``powsimp``, ``trigsimp``), then
   ``simplify``, in a worker thread, until ``timeout`` seconds have passed. A timed-out or failing
   step counts as "not proven", so the numeric verdict stands.

The rule is SRBench's, strictly: only ``found``'s constants are rounded, so ``sin(3.14159*x)``
does *not* match ``sin(pi*x)`` (rounded to ``sin(3.14*x)`` it differs from the truth); the
discovery pipeline snaps such constants to ``pi`` before it asks.
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
    rng = np.random.default_rng(seed)
    X = np.empty((n_points, len(symbols)))
    for j, sym in enumerate(symbols):
        low, high = domain.get(sym.name, DEFAULT_RANGE)
        X[:, j] = rng.uniform(low, high, n_points)
    return X


def _spread(v: np.ndarray) -> float:
    return float(v.max() - v.min())


def _numeric_verdict(found, truth, n_points: int, seed: int, domain) -> bool | None:
    """True/False from random points; None when too few points give finite real values."""
    symbols = sorted(found.free_symbols | truth.free_symbols, key=lambda s: s.name)
    X = _sample(symbols, n_points, seed, domain)
    try:
        vf, vt = formula_predictions(found, X, symbols), formula_predictions(truth, X, symbols)
    except Exception as exc:  # lambdify/numpy can fail in many ways on exotic formulas
        logger.debug("numeric equivalence check could not evaluate: %s", exc)
        return None
    ok = np.isfinite(vf) & np.isfinite(vt)  # real values only (the evaluation rule makes the others NaN)
    if ok.sum() < max(3, n_points // 4):
        return None
    vf, vt = vf[ok], vt[ok]
    scale = max(np.abs(vf).max(), np.abs(vt).max())
    if _spread(vf - vt) <= _RTOL * max(_spread(vf), _spread(vt)) + _ATOL * scale:
        return True
    nonzero = vt != 0
    if nonzero.sum() < max(3, n_points // 4):
        return False
    ratio = vf[nonzero] / vt[nonzero]
    return bool(np.all(ratio != 0) and np.all(np.isfinite(ratio)) and _spread(ratio) <= _RTOL * np.abs(ratio).max())


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
        logger.debug("equivalence: symbolic check timed out or failed; the numeric verdict stands")
    return False


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
        Symbols are matched by name.
    digits : int, default 3
        Significant digits kept in the constants of ``found`` before comparing.
    timeout : float or None, default 5.0
        Seconds allowed for sympy's symbolic proof (0: numeric check only; None: no limit).
    n_points : int, default 200
        Random points of the numeric check.
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
    # symbols are matched by name; truth's symbols (and their assumptions) win
    by_name = {s.name: s for s in truth.free_symbols}
    found = found.xreplace({s: by_name[s.name] for s in found.free_symbols if s.name in by_name})
    rounded = round_constants(found, digits)
    verdict = _numeric_verdict(rounded, truth, n_points, seed, domain)
    if verdict is not None:  # both formulas evaluate on the domain: the numbers decide
        logger.debug("equivalence: numeric verdict %s for %s ~ %s", verdict, rounded, truth)
        return verdict
    return _symbolic_verdict(rounded, truth, deadline)
