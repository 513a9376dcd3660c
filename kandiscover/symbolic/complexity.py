"""How complicated a formula looks: the node count every ranking of candidates uses."""

from __future__ import annotations

import sympy

__all__ = ["complexity"]


def complexity(expr: sympy.Expr) -> int:
    """Number of nodes of the expression tree (PySR's measure), where an exact constant
    subexpression (``1/(4π)``, ``√2``) counts as one node and a float as two (an unexplained
    number is harder to read than an exact one)."""
    if not expr.free_symbols:
        return 2 if expr.atoms(sympy.Float) else 1
    const = [a for a in expr.args if not a.free_symbols]
    rest = [a for a in expr.args if a.free_symbols]
    if isinstance(expr, (sympy.Mul, sympy.Add)) and len(const) > 1:  # 1/4·π⁻¹ is one constant
        return 1 + complexity(expr.func(*const)) + sum(complexity(a) for a in rest)
    return 1 + sum(complexity(a) for a in expr.args)
