"""Coefficients of one sum that stand in a simple ratio, tied to one constant.

A fit leaves ``0.488603 − 0.488604·u⁻²`` where the law has ``c·(1 − u⁻²)``: two floats that differ
in the sixth digit, neither of them a simple value (here ``√(3/(4π))``), so neither snaps, and
``sympy.factor_terms`` cannot take out a factor the two do not share. :func:`tied_coefficients`
writes the second as ``−1`` times the first and takes that float out: the sum becomes
``0.488604·(1 − u⁻²)``, the outer constant absorbs the factor (``(c·v)⁻² = c⁻²·v⁻²``) and snaps
(``4π/3``). Whether the tie keeps the fit is for the caller to judge (it removes a constant; see
:func:`kandiscover.symbolic.refit.polish`).
"""

from __future__ import annotations

from fractions import Fraction

import sympy

__all__ = ["tied_coefficients", "folded_numbers"]

RATIOS = tuple(sorted({Fraction(p, q) for q in range(1, 5) for p in range(1, q + 1)}))
"""The ratios ``|c/c_ref|`` a coefficient may be tied at: ``p/q ≤ 1`` with ``q ≤ 4`` (the
reference is the coefficient of largest magnitude in the sum)."""


def tied_coefficients(expr: sympy.Expr, rtol: float = 1e-3) -> sympy.Expr:
    """``expr`` with, in every sum, each float coefficient within ``rtol`` (relative) of a simple
    ratio (:data:`RATIOS`, either sign) to the sum's float coefficient of largest magnitude written
    as that ratio times that same float, taken out of the tied terms as one factor (a float
    written twice would be refitted as two constants).

    Parameters
    ----------
    expr : sympy.Expr
        A formula with fitted floats.
    rtol : float
        The largest relative distance of a ratio from the simple value it is tied to.

    Returns
    -------
    sympy.Expr
        The tied formula (``expr`` itself where nothing is tied); its value at any point differs
        from ``expr``'s by at most about ``rtol`` relative per tied term.

    Examples
    --------
    >>> u = sympy.Symbol("u")
    >>> tied_coefficients(sympy.Float(0.488603) - sympy.Float(0.488604) / u**2)
    0.488604*(1 - 1/u**2)
    """

    def tie(add: sympy.Add) -> sympy.Expr:
        terms = [t.as_coeff_Mul() for t in add.args]
        floats = [abs(c) for c, _ in terms if isinstance(c, sympy.Float) and c != 0]
        if len(floats) < 2:
            return add
        ref = max(floats)
        tied, untied = [], []
        for c, rest in terms:
            ratio = _simple_ratio(float(c) / float(ref), rtol) if isinstance(c, sympy.Float) and c != 0 else None
            if ratio is None:
                untied.append(c * rest)
            else:
                tied.append(sympy.Rational(ratio.numerator, ratio.denominator) * rest)
        if len(tied) < 2:
            return add
        return sympy.Mul(ref, sympy.Add(*tied), evaluate=False) + sympy.Add(*untied)

    return expr.replace(lambda a: isinstance(a, sympy.Add), tie)


def _simple_ratio(r: float, rtol: float):
    """The ratio of :data:`RATIOS` (with the sign of ``r``) within ``rtol`` of ``r``, else ``None``."""
    for q in RATIOS:
        if abs(abs(r) - float(q)) <= rtol * abs(r):
            return q if r > 0 else -q
    return None


def folded_numbers(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every product's exact numbers that stand beside a float folded into it:
    ``0.408248·√6·c·(x − tu)`` is ``1.0·c·(x − tu)``, whose float then snaps, where ``0.408248``
    (``1/√6``) alone is no simple value. The value is unchanged.

    Examples
    --------
    >>> c = sympy.Symbol("c")
    >>> folded_numbers(sympy.Float(0.408248) * sympy.sqrt(6) * c)
    0.999999288511747*c
    """

    def has_float_factor(a) -> bool:
        if not isinstance(a, sympy.Mul):
            return False
        numbers = [f for f in a.args if f.is_number]
        return len(numbers) >= 2 and any(isinstance(f, sympy.Float) for f in numbers)

    def fold(a: sympy.Mul) -> sympy.Expr:
        numbers = [f for f in a.args if f.is_number]
        value = sympy.Mul(*numbers).evalf()
        if not (value.is_real and value.is_finite):  # I·0.5, zoo: left as they are
            return a
        return sympy.Float(float(value)) * sympy.Mul(*[f for f in a.args if not f.is_number])

    return expr.replace(has_float_factor, fold)
