"""Composing a KAN whose edges are symbolic into one sympy expression per output."""

from __future__ import annotations

import logging
from typing import Optional, Sequence

import sympy

log = logging.getLogger("kandiscover")

__all__ = ["symbolic_formula", "edge_expression", "affine_expression"]


def edge_expression(layer, j: int, i: int, arg: sympy.Expr, choice=None) -> sympy.Expr:
    """``c·f(a·arg+b)+d`` of edge ``(i → j)`` of ``layer``.

    ``choice = (primitive, (a, b, c, d))`` overrides what the layer holds; a numeric edge without a
    choice becomes an undefined function ``phi_i_j(arg)``.
    """
    if layer.mask[j, i] == 0:
        return sympy.Integer(0)
    if choice is not None:
        prim, affine = choice
    elif layer.sym_mask[j, i] == 0:
        return sympy.Function(f"phi_{i}_{j}")(arg)
    else:
        prim, affine = layer.sym_funs[(j, i)], layer.sym_affine[j, i].detach().tolist()
    return affine_expression(prim, affine, arg)


def affine_expression(prim, affine, arg: sympy.Expr) -> sympy.Expr:
    """``c·f(a·arg+b)+d`` for a primitive ``f`` and ``affine = (a, b, c, d)`` (just ``d`` for the
    zero primitive)."""
    a, b, c, d = (sympy.Float(float(v)) for v in affine)
    if prim.name == "0":
        return d
    return c * prim.sympy_fn(a * arg + b) + d


def symbolic_formula(
    model, var_names: Optional[Sequence] = None, *, strict: bool = False, choices: Optional[dict] = None
) -> list[sympy.Expr]:
    """One sympy expression per output of ``model``, in the given variable names.

    Parameters
    ----------
    var_names : sequence of str or sympy.Symbol, optional
        Names of the inputs (``x_1 … x_n`` by default).
    strict : bool
        Raise when an edge is still numeric instead of writing it as an undefined function
        ``phi_i_j``.
    choices : dict, optional
        ``{(l, i, j): (primitive, (a, b, c, d))}`` used instead of the model's own edges (the model
        is not changed).

    Returns
    -------
    list of sympy.Expr
        Multiplication nodes become products of their sub-nodes; floats are the fitted constants
        (refit, round and simplify them with :mod:`kandiscover.symbolic.refit`).
    """
    n_in = model.width_in[0]
    if var_names is None:
        var_names = [f"x_{k + 1}" for k in range(n_in)]
    if len(var_names) != n_in:
        raise ValueError(f"var_names has {len(var_names)} names but the model has {n_in} inputs")
    nodes = [v if isinstance(v, sympy.Basic) else sympy.Symbol(str(v)) for v in var_names]
    for l, layer in enumerate(model.layers):
        choices = choices or {}
        numeric = [
            (i, j)
            for j in range(layer.out_dim)
            for i in range(layer.in_dim)
            if layer.mask[j, i] != 0 and layer.sym_mask[j, i] == 0 and (l, i, j) not in choices
        ]
        if numeric:
            msg = f"layer {l} still has numeric edges {numeric}; run auto_symbolic or fix_symbolic first"
            if strict:
                raise ValueError(msg)
            log.warning(msg)
        subs = []
        for j in range(layer.out_dim):
            total = sympy.Float(float(layer.bias[j].detach()))
            for i in range(layer.in_dim):
                total += edge_expression(layer, j, i, nodes[i], choices.get((l, i, j)))
            subs.append(total)
        nodes = model.topology.fold(l + 1, subs, sympy.Mul)
    return nodes
