"""A polynomial written in its monomial basis when that needs no more constants.

A one-variable fit ``x·(c·(a·x + b)² + d)`` is the cubic ``3.39x³ + 2.12x² + 1.78x`` in a form with
five constants for three: the refit cannot pin them down (any ``a`` with matching ``c``, ``b`` fits),
their printed digits no longer multiply out to the law's coefficients, and the snapping has no
simple value to find. Expanded, the coefficients are the law's and a linear refit fixes them.
A polynomial whose expansion needs more constants (``(x − 1.5)²`` → ``x² − 3x + 2.25``) stays as
it is.
"""

from __future__ import annotations

import sympy

__all__ = ["expanded_polynomial"]


def expanded_polynomial(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.expand(expr)`` when ``expr`` has float constants, is a polynomial in its free
    symbols and the expansion holds at most as many floats; else ``expr``.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> expanded_polynomial(x * (2.0 * (1.0 * x + 0.5) ** 2 + 1.5))
    2.0*x**3 + 2.0*x**2 + 2.0*x
    >>> expanded_polynomial(1.0 * (x - 1.5) ** 2)
    1.0*(x - 1.5)**2
    """
    floats = expr.atoms(sympy.Float)
    if not floats or not expr.free_symbols or not expr.is_polynomial(*expr.free_symbols):
        return expr
    out = sympy.expand(expr)
    return out if len(out.atoms(sympy.Float)) <= len(floats) else expr
