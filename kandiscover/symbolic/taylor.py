"""Near-misses in the small-argument regime, collapsed to the law they approximate.

A fit often reaches a law through a function used where it is nearly linear:
``4309·(1 − cos(0.0216·√v))`` for ``v`` (``1 − cos z ≈ z²/2``), ``120350·sin(8.3e-6·B·v)`` for
``B·v``, ``log(1.0003 + 0.002·x)`` for a multiple of ``x``. The fit is excellent on the rows and the
formula unreadable. :func:`small_argument_forms` replaces every function whose argument varies
little on the rows by the leading terms of its Taylor series there:

* at small arguments (``|z| < SMALL`` on every row): ``sin, tan, tanh, sinh, asin, atan, atanh,
  asinh`` of ``z`` by ``z``; ``cos z`` by ``1 − z²/2``, ``cosh z`` by ``1 + z²/2``, ``exp z`` by
  ``1 + z``;
* where the argument spans less than ``SMALL`` around a value ``z0`` (``sin(0.0096·E + 0.53)``):
  those functions and ``log`` by ``f(z0) + f'(z0)·(z − z0)``;
* a power ``b**p`` (``p`` a number, not a positive integer) whose base spans less than
  ``SMALL·|b0|`` around ``b0`` (``1/sqrt(1 − 0.0017·T)``): ``b0**p + p·b0**(p−1)·(b − b0)``.

The collapsed formula is an alternative, not a verdict: the caller refits its constants and lets
the comparison of the candidates on held-out rows decide (a law that really bends there keeps its
function).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import sympy

from .evaluate import formula_predictions

log = logging.getLogger("kandiscover")

__all__ = ["SMALL", "small_argument_forms"]

SMALL = 0.3
"""A function collapses where its argument stays within this of 0, or spans less than this (a power:
less than this fraction of the base's mean) on every row."""

_ODD = (sympy.sin, sympy.tan, sympy.tanh, sympy.sinh, sympy.asin, sympy.atan, sympy.atanh, sympy.asinh)


def _values(z: sympy.Expr, X: np.ndarray, names: Sequence[str]) -> np.ndarray | None:
    """``z`` on the rows, or None where it is constant or not finite everywhere."""
    if not z.free_symbols:
        return None  # a constant: nothing to collapse (the refit takes care of it)
    try:
        v = formula_predictions(z, X, names)
    except Exception as exc:  # exotic arguments: leave them alone
        log.debug("small-argument check of %s failed: %s", z, exc)
        return None
    return v if np.all(np.isfinite(v)) else None


def _at_zero(f: sympy.Function, z: sympy.Expr) -> sympy.Expr | None:
    """Leading terms of ``f(z)`` at ``z = 0`` (the module docstring's list), or None."""
    if isinstance(f, _ODD):
        return z
    if isinstance(f, sympy.cos):
        return 1 - z**2 / 2
    if isinstance(f, sympy.cosh):
        return 1 + z**2 / 2
    if isinstance(f, sympy.exp):
        return 1 + z
    return None


def _linear(f: sympy.Expr, z: sympy.Expr, z0: float) -> sympy.Expr:
    """``f(z0) + f'(z0)·(z − z0)`` for ``f`` a function of ``z`` (``f`` given as an expression in ``z``)."""
    u = sympy.Dummy("u")
    g = f.xreplace({z: u})
    value, slope = (float(sympy.N(e.subs(u, z0))) for e in (g, sympy.diff(g, u)))
    return sympy.Float(value) + sympy.Float(slope) * (z - sympy.Float(z0))


def _collapsed(node: sympy.Expr, X: np.ndarray, names: Sequence[str]) -> sympy.Expr | None:
    """The leading terms of ``node`` on the rows where its argument varies little, else None."""
    if isinstance(node, sympy.Pow) and node.exp.is_number and node.base.free_symbols:
        v = _values(node.base, X, names)
        if v is None or np.any(v <= 0) and not node.exp.is_integer:
            return None
        z0 = float(np.mean(v))
        if z0 != 0 and (v.max() - v.min()) / abs(z0) < SMALL and not (node.exp.is_integer and node.exp > 0):
            return _linear(node, node.base, z0)
        return None
    if not isinstance(node, sympy.Function) or len(node.args) != 1 or not node.args[0].free_symbols:
        return None
    z = node.args[0]
    v = _values(z, X, names)
    if v is None:
        return None
    if np.max(np.abs(v)) < SMALL and _at_zero(node, z) is not None:
        return _at_zero(node, z)
    if v.max() - v.min() < SMALL and isinstance(node, (*_ODD, sympy.cos, sympy.cosh, sympy.exp, sympy.log)):
        z0 = float(np.mean(v))
        return None if isinstance(node, sympy.log) and z0 <= 0 else _linear(node, z, z0)
    return None


def small_argument_forms(expr: sympy.Expr, data: Mapping[str, np.ndarray]) -> list[sympy.Expr]:
    """The formula with every function whose argument stays small on the rows collapsed to its
    leading Taylor terms (see the module docstring), expanded; empty when nothing collapses.

    Parameters
    ----------
    expr : sympy.Expr
    data : mapping of str to ndarray, each of shape ``(n,)``
        The columns the formula is evaluated on (its symbols by name).

    Returns
    -------
    list of sympy.Expr
        At most one formula (a list, so that callers treat it like other candidate sources).
    """
    names = list(data)
    X = np.column_stack([np.asarray(data[n], dtype=float) for n in names]) if names else np.empty((0, 0))
    swaps = {}
    for node in sympy.postorder_traversal(expr):
        short = _collapsed(node, X, names)
        if short is not None:
            swaps[node] = short
    if not swaps:
        return []
    collapsed = expr
    for node, short in sorted(swaps.items(), key=lambda kv: sympy.count_ops(kv[0])):
        collapsed = collapsed.xreplace({node: short})
    collapsed = sympy.expand(collapsed)
    return [] if collapsed == expr else [collapsed]
