"""Phases of periodic functions brought near zero: ``sin(x − 6.2841)`` is ``sin(x − 0.0009)``.

A fitted phase can land whole or half periods away from the law's: ``sin(2πx − 6.2841)``,
``−6·sin(x − 9.4237)``, ``−0.3·x·cos(2πx + 1.5699)`` for ``0.3·x·sin(2πx)``. Snapping then has to find
``2π``, ``3π`` or ``π/2`` within the constant's interval; written with the phase in
``[−π/4, π/4]`` the same fits are ``sin(2πx − 0.0009)``, ``6·sin(x + 0.0011)`` and
``0.3·x·sin(2πx − 0.0009)``, and the phase snaps to ``0``. :func:`reduced_phases` is an identity:
with ``b = b' + kπ/2``, ``sin(u + b)`` is ``sin``, ``cos``, ``−sin``, ``−cos`` of ``u + b'`` for
``k mod 4 = 0, 1, 2, 3`` (``cos`` likewise, a quarter turn ahead), and ``tan(u + b) = tan(u + b − kπ)``.
"""

from __future__ import annotations

import math

import sympy

__all__ = ["reduced_phases"]

_TURNS = {
    sympy.sin: ((1, sympy.sin), (1, sympy.cos), (-1, sympy.sin), (-1, sympy.cos)),
    sympy.cos: ((1, sympy.cos), (-1, sympy.sin), (-1, sympy.cos), (1, sympy.sin)),
}
"""``f(v + kπ/2)`` as ``sign·g(v)`` for ``k mod 4 = 0, 1, 2, 3``."""


def reduced_phases(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with the float phase ``b`` of every ``sin`` and ``cos`` of ``u + b`` written
    ``b − kπ/2`` in ``[−π/4, π/4]`` (``k`` the nearest integer to ``2b/π``; the function and sign
    as :data:`_TURNS` says), and that of every ``tan`` written ``b − kπ`` (``k`` nearest to ``b/π``).

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> reduced_phases(-6 * sympy.sin(x - 9.4237))
    6*sin(x + 0.00107796076937916)
    """

    def has_phase(a) -> bool:
        return isinstance(a, (sympy.sin, sympy.cos, sympy.tan)) and isinstance(a.args[0].as_coeff_Add()[0], sympy.Float)

    def rewrite(a):
        b, rest = a.args[0].as_coeff_Add()
        step = math.pi if a.func is sympy.tan else math.pi / 2
        k = round(float(b) / step)
        if k == 0 or rest == 0:
            return a
        v = rest + sympy.Float(float(b) - k * step)
        if a.func is sympy.tan:
            return sympy.tan(v)
        sign, g = _TURNS[a.func][k % 4]
        return sign * g(v)

    return expr.replace(has_phase, rewrite)
