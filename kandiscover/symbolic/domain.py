"""Rewrites that hold on the rows: squares taken out of roots with the sign they have there.

A fitted formula often carries a law inside a root as its square:
``x/sqrt((1 − u²/c²)/(t²u²/x² − 2tu/x + 1))`` is ``c·(x − tu)/sqrt(c² − u²)`` wherever
``x − tu`` keeps one sign, and only there. sympy cannot take the square out — for real symbols
``sqrt(f²)`` is ``|f|`` — but the data can: when ``f`` has one sign on every row, ``|f|`` is
``±f`` on the whole sampled domain. :func:`pull_squares` factors the base of every square root
(every power with a half-integer exponent), takes each squared factor out with the sign it has on
the rows, and leaves inside what has no constant sign. :func:`absolute_values` does the same for
``Abs``. :func:`inverse_pairs` writes ``log(exp(f))`` as ``f`` where ``f`` is real on the rows and
``exp(log(f))`` as ``f`` where ``f`` is positive there (sympy does neither for symbols without
assumptions). All of them change the formula only where it was ambiguous between the branches —
nowhere on the rows.
"""

from __future__ import annotations

import logging
from typing import Mapping, Optional

import numpy as np
import sympy

from .evaluate import formula_predictions

log = logging.getLogger("kandiscover")

__all__ = ["one_sign", "pull_squares", "absolute_values", "inverse_pairs", "on_rows"]


def one_sign(y: np.ndarray) -> int:
    """``1`` when every value of ``y`` is positive, ``-1`` when every value is negative, else ``0``."""
    if np.all(y > 0):
        return 1
    if np.all(y < 0):
        return -1
    return 0


def _values_on(f: sympy.Expr, data: Mapping[str, np.ndarray]) -> Optional[np.ndarray]:
    """``f``'s values on the rows, shape ``(n,)``; ``None`` where ``f`` has no variable, reads a
    column ``data`` lacks, or is not finite (so not real) on every row."""
    names = sorted(s.name for s in f.free_symbols)
    if not names or any(n not in data for n in names):
        return None
    X = np.column_stack([np.asarray(data[n], dtype=float) for n in names])
    try:
        with np.errstate(all="ignore"):
            v = formula_predictions(f, X, names)
    except (ValueError, TypeError, ZeroDivisionError):
        return None
    return v if np.all(np.isfinite(v)) else None


def _sign_on(f: sympy.Expr, data: Mapping[str, np.ndarray]) -> int:
    """:func:`one_sign` of ``f``'s values on the rows; 0 where ``f`` is not finite on every row."""
    v = _values_on(f, data)
    return 0 if v is None else one_sign(v)


def _root_rewritten(p: sympy.Pow, data: Mapping[str, np.ndarray]) -> sympy.Expr:
    """``base**(m/2)`` with every factor ``f**k`` of ``base`` (``k ≥ 2``) of one sign on the rows
    written ``(±f)**(m·(k//2)) · (f**(k%2))**(m/2)``; ``p`` itself when no factor qualifies."""
    m = int(p.exp.p)
    num, den = sympy.fraction(sympy.together(p.base))
    inside, outside, changed = sympy.Integer(1), sympy.Integer(1), False
    for part, side in ((num, 1), (den, -1)):
        coeff, factors = sympy.factor_list(part)
        inside *= coeff**side
        for f, k in factors:
            pairs, rest = divmod(int(k), 2)
            sign = _sign_on(f, data) if pairs else 0
            if sign:
                outside *= (sign * f) ** (side * pairs * m)
                inside *= f ** (side * rest)
                changed = True
            else:
                inside *= f ** (side * int(k))
    return outside * inside ** sympy.Rational(m, 2) if changed else p


def pull_squares(expr: sympy.Expr, data: Mapping[str, np.ndarray]) -> sympy.Expr:
    """``expr`` with the squared factors of its roots' bases taken out, each with its sign on the
    rows (see the module doc).

    Parameters
    ----------
    expr : sympy.Expr
    data : mapping of str to ndarray
        Column name -> values, shape ``(n,)`` each; the rows on which the signs are read.

    Returns
    -------
    sympy.Expr
        Equal to ``expr`` on every row of ``data``.

    Examples
    --------
    >>> import numpy as np, sympy
    >>> x, y = sympy.symbols("x y")
    >>> pull_squares(sympy.sqrt((x - 3) ** 2 * y), {"x": np.array([1.0, 2.0]), "y": np.array([1.0, 4.0])})
    sqrt(y)*(3 - x)
    """

    def is_root(a) -> bool:
        return a.is_Pow and a.exp.is_Rational and a.exp.q == 2 and bool(a.base.free_symbols)

    return expr.replace(is_root, lambda p: _root_rewritten(p, data))


def absolute_values(expr: sympy.Expr, data: Mapping[str, np.ndarray]) -> sympy.Expr:
    """``expr`` with every ``Abs(f)`` whose argument has one sign on the rows written ``±f``."""

    def rewrite(a):
        sign = _sign_on(a.args[0], data)
        return sign * a.args[0] if sign else a

    return expr.replace(lambda a: isinstance(a, sympy.Abs), rewrite)


def inverse_pairs(expr: sympy.Expr, data: Mapping[str, np.ndarray]) -> sympy.Expr:
    """``expr`` with ``log(exp(f))`` written ``f`` where ``f`` is finite (so real) on every row, and
    ``exp(log(f))`` written ``f`` where ``f`` is positive on every row.

    Examples
    --------
    >>> import numpy as np, sympy
    >>> x, q = sympy.symbols("x q")
    >>> inverse_pairs(sympy.log(sympy.exp(x)) * sympy.log(sympy.exp(q)), {"x": np.array([-1.0, 2.0]), "q": np.ones(2)})
    q*x
    """

    def is_pair(a) -> bool:
        inner = a.args[0] if a.args else None
        return (isinstance(a, sympy.log) and isinstance(inner, sympy.exp)) or (
            isinstance(a, sympy.exp) and isinstance(inner, sympy.log)
        )

    def rewrite(a):
        f = a.args[0].args[0]
        if isinstance(a, sympy.log):
            return f if _values_on(f, data) is not None else a
        return f if _sign_on(f, data) == 1 else a

    return expr.replace(is_pair, rewrite)


def on_rows(expr: sympy.Expr, data: Mapping[str, np.ndarray]) -> sympy.Expr:
    """:func:`absolute_values`, :func:`pull_squares` and :func:`inverse_pairs`, then
    ``sympy.simplify`` when any changed something; ``expr`` unless the result is shorter
    (``sympy.count_ops``)."""
    out = inverse_pairs(pull_squares(absolute_values(expr, data), data), data)
    if out == expr:
        return expr
    out = sympy.simplify(out)
    if sympy.count_ops(out) < sympy.count_ops(expr):
        log.debug("squares taken out of roots with their signs on the rows: %s -> %s", expr, out)
        return out
    return expr
