"""The dimension of a formula, from the dimensions of its symbols.

Products and powers combine dimensions; the terms of a sum, the two sides of a comparison and the
arguments of transcendental functions (``exp``, ``log``, ``sin`` …) must agree or be dimensionless.
Numbers are dimensionless: a law's fitted constants carry no unit. :func:`unit_mismatch` says in one
sentence where a formula breaks that, or that its unit is not the target's.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Optional

import sympy

from .parsing import Dimension, format_dimension

__all__ = ["Inconsistent", "dimension_of", "unit_mismatch"]


class Inconsistent(ValueError):
    """A formula whose dimensions do not agree (the message says where)."""


def _mul(a: Dimension, b: Dimension, k: Fraction = Fraction(1)) -> Dimension:
    out = dict(a)
    for base, e in b.items():
        out[base] = out.get(base, Fraction(0)) + k * e
    return {base: e for base, e in out.items() if e}


def _exponent(e: sympy.Expr) -> Optional[Fraction]:
    if e.is_Rational:
        return Fraction(int(e.p), int(e.q))
    if e.is_Float:
        return Fraction(float(e)).limit_denominator(1000)
    return None


def dimension_of(expr: sympy.Expr, dims: dict) -> Dimension:
    """The dimension of ``expr`` given ``name -> Dimension`` for its symbols.

    Raises
    ------
    Inconsistent
        When terms of a sum disagree, a function's argument or a symbolic exponent is not
        dimensionless, or a symbol has no dimension.
    """
    expr = sympy.sympify(expr)
    if expr.is_Symbol:
        if expr.name not in dims:
            raise Inconsistent(f"{expr.name!r} has no unit")
        return dict(dims[expr.name])
    if expr.is_Number or expr.is_NumberSymbol or not expr.free_symbols:
        return {}
    if expr.is_Mul:
        out: Dimension = {}
        for a in expr.args:
            out = _mul(out, dimension_of(a, dims))
        return out
    if expr.is_Pow:
        base, exp = expr.args
        if dimension_of(exp, dims):
            raise Inconsistent(f"the exponent of {expr} has a unit")
        dim = dimension_of(base, dims)
        if not dim:
            return {}
        k = _exponent(exp)
        if k is None:
            raise Inconsistent(f"{base} (unit {format_dimension(dim)}) is raised to the non-constant power {exp}")
        return _mul({}, dim, k)
    if expr.is_Add:
        return _sum_dimension(expr, dims)
    if isinstance(expr, (sympy.Min, sympy.Max)) or expr.is_Relational:
        return _agreeing([(a, dimension_of(a, dims)) for a in expr.args])
    if isinstance(expr, (sympy.Abs, sympy.sign)) or expr.func in (sympy.re, sympy.im):
        return dimension_of(expr.args[0], dims) if isinstance(expr, sympy.Abs) else {}
    if isinstance(expr, sympy.Piecewise):
        return dimension_of(expr.args[0][0], dims)
    for a in expr.args:  # exp, log, sin, … : dimensionless arguments, dimensionless value
        d = dimension_of(a, dims)
        if d:
            raise Inconsistent(f"the argument {a} of {expr.func.__name__} has unit {format_dimension(d)}")
    return {}


def _agreeing(terms: list) -> Dimension:
    """The common dimension of ``(term, dimension)`` pairs that must agree."""
    first, d0 = terms[0]
    for a, d in terms[1:]:
        if d != d0:
            raise Inconsistent(
                f"the terms {first} ({format_dimension(d0)}) and {a} ({format_dimension(d)}) of a sum disagree"
            )
    return d0


def _log_term(term: sympy.Expr):
    """``(c, a)`` for a term ``c·log(a)`` with ``c`` a number, else None."""
    c, rest = term.as_coeff_Mul()
    if isinstance(rest, sympy.log) and (c.is_Rational or c.is_Float):
        return c, rest.args[0]
    return None


def _sum_dimension(expr: sympy.Add, dims: dict) -> Dimension:
    """The dimension of a sum. Its logarithms with numeric coefficients count together:
    ``Σ c_i·log(a_i) = log(Π a_i^c_i)`` is dimensionless when the ``a_i``'s dimensions, weighted
    by the ``c_i``, cancel (``log(V2) − log(V1)``); a common factor of all terms is taken out
    first when the terms disagree as written (``n·log(V2) − n·log(V1)``)."""
    terms, logs = [], []
    for a in expr.args:
        lt = _log_term(a)
        (logs if lt is not None else terms).append(lt if lt is not None else a)
    try:
        pairs = [(a, dimension_of(a, dims)) for a in terms]
        if logs:
            combined: Dimension = {}
            for c, arg in logs:
                combined = _mul(combined, dimension_of(arg, dims), _exponent(c))
            if combined:
                raise Inconsistent(
                    f"the logarithms of {expr} do not combine into one of a dimensionless quantity "
                    f"(unit {format_dimension(combined)})"
                )
            pairs.append(("the logarithms", {}))
        return _agreeing(pairs)
    except Inconsistent:
        factored = sympy.factor_terms(expr)
        if factored.is_Add or factored == expr:
            raise
        return dimension_of(factored, dims)


def unit_mismatch(expr: sympy.Expr, dims: dict, target: str) -> Optional[str]:
    """None when ``expr`` is dimensionally consistent with the unit of ``target``, else one sentence
    saying why not (``"the formula has unit kg·m/s, the target E has J (kg·m²/s²)"``)."""
    try:
        got = dimension_of(expr, dims)
    except Inconsistent as exc:
        return f"the formula is dimensionally inconsistent: {exc}"
    want = dims[target]
    if got != want:
        return f"the formula has unit {format_dimension(got)}, the target {target} has {format_dimension(want)}"
    return None
