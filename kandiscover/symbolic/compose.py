"""Whole-formula choice: combine the top candidates of every edge and judge the compositions.

Greedy edge-by-edge matching can pick the wrong function for an inner edge because a KAN may
represent ``1/(1+x²)`` as ``ψ(φ(x))`` for many pairs ``(φ, ψ)``. Here the top ``k`` matches of
every live edge are combined, each composed formula has all its constants refitted jointly on the
data, and the compositions are ranked by error and complexity.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import sympy
import torch

from .assemble import symbolic_formula
from .fit import fit_affine
from .library import Library, default_library
from .refit import refit_with_loss

log = logging.getLogger("kandiscover")

__all__ = ["Composition", "compose_candidates", "edge_candidates"]


@dataclass(frozen=True)
class Composition:
    """One composed formula.

    Attributes
    ----------
    expr : sympy.Expr
        With constants refitted on the data.
    mse : float
        Mean squared error on the data used for the refit.
    complexity : int
        Sum of the complexities of its edge functions.
    choices : dict
        ``{(l, i, j): (primitive, (a, b, c, d))}`` it was built from.
    """

    expr: sympy.Expr
    mse: float
    complexity: int
    choices: dict = field(compare=False)


def edge_candidates(
    model,
    x: torch.Tensor,
    *,
    lib: Optional[Library] = None,
    topk: int = 3,
    min_r2: float = 0.99,
    weight_simple: float = 1.0,
    deadline: Optional[float] = None,
) -> dict:
    """Top matches of every live edge: ``{(l, i, j): [(primitive, affine, r2), ...]}``.

    Edges already fixed keep their function. Candidates below ``min_r2`` are dropped, except that
    every edge keeps at least its best match. Past ``deadline`` the remaining edges are matched
    against ``x`` alone (a quick, always-available answer).
    """
    lib = lib or default_library()
    x = model.check_input(x)
    inputs = model.layer_inputs(x)
    out = {}
    for l, layer in enumerate(model.layers):
        with torch.no_grad():
            _, edges = layer(inputs[l], return_edges=True)
        for j in range(layer.out_dim):
            for i in range(layer.in_dim):
                if layer.mask[j, i] == 0:
                    continue
                if layer.sym_mask[j, i] == 1:
                    out[(l, i, j)] = [(layer.sym_funs[(j, i)], tuple(layer.sym_affine[j, i].detach().tolist()), 1.0)]
                    continue
                late = deadline is not None and time.monotonic() > deadline
                use = lib.only([n for n in ("x", "0") if n in lib]) if late and "x" in lib else lib
                fits = _distinct(fit_affine(inputs[l][:, i], edges[:, j, i], use, weight_simple=weight_simple))
                good = [f for f in fits[:topk] if f.r2 >= min_r2] or fits[:1]
                out[(l, i, j)] = [(lib[f.name], f.affine, f.r2) for f in good]
    return out


_SAME = {"cos": "sin", "arccos": "arcsin"}
"""Primitives that are affine images of another (``cos(z) = sin(z + π/2)``): one of each pair is
enough among an edge's candidates."""


def _distinct(fits):
    out, seen = [], set()
    for f in fits:
        family = _SAME.get(f.name, f.name)
        if family in seen:
            continue
        seen.add(family)
        out.append(f)
    return out


def compose_candidates(
    model,
    x,
    y,
    var_names: Sequence[str],
    *,
    lib: Optional[Library] = None,
    topk: int = 3,
    max_combos: int = 64,
    output: int = 0,
    min_r2: float = 0.99,
    max_rows: int = 1000,
    seed: int = 0,
    deadline: Optional[float] = None,
) -> list[Composition]:
    """All compositions of the top edge matches, refitted and ranked (best first).

    Parameters
    ----------
    x : Tensor or array, shape ``(n, width[0])``
        Training inputs (column ``k`` is ``var_names[k]``).
    y : array, shape ``(n,)``
        Training target of output ``output``.
    topk : int
        Matches kept per edge; lowered automatically until there are at most ``max_combos``
        combinations.
    max_rows : int
        Rows used for the refits (a seeded random subset when there are more).
    deadline : float, optional
        ``time.monotonic()`` value after which no further composition is refitted.

    Returns
    -------
    list of Composition
        Sorted by (mse rounded to a tolerance band, complexity); see :func:`pick`.
    """
    x = model.check_input(x)
    y = np.asarray(y, dtype=float).reshape(-1)
    cands = edge_candidates(model, x, lib=lib, topk=topk, min_r2=min_r2, deadline=deadline)
    keys = sorted(cands)
    while math.prod(len(cands[k]) for k in keys) > max_combos:
        widest = max(keys, key=lambda k: len(cands[k]))
        cands[widest] = cands[widest][:-1]
    rows = np.arange(len(y))
    if len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(y), max_rows, replace=False))
    xn = x.detach().cpu().numpy()[rows]
    data = {str(n): xn[:, k] for k, n in enumerate(var_names)}
    results = []
    for combo in itertools.product(*(cands[k] for k in keys)):
        if deadline is not None and time.monotonic() > deadline and results:
            break
        choices = {k: (prim, affine) for k, (prim, affine, _) in zip(keys, combo)}
        expr = symbolic_formula(model, var_names, choices=choices)[output]
        if expr.has(sympy.zoo, sympy.nan):
            continue
        refit, err = refit_with_loss(expr, data, y[rows])
        if not math.isfinite(err):
            continue
        cpx = sum(prim.complexity for prim, _, _ in combo)
        results.append(Composition(refit, err, cpx, choices))
    return sorted(results, key=lambda c: (c.mse, c.complexity))


def pick(comps: list[Composition], var_y: float, rtol: float = 1.0, atol: float = 1e-10) -> Composition:
    """The simplest composition whose error is within ``max(best·(1+rtol), atol·var_y)``."""
    if not comps:
        raise ValueError("no composition could be evaluated")
    limit = max(comps[0].mse * (1 + rtol), atol * var_y)
    near = [c for c in comps if c.mse <= limit]
    return min(near, key=lambda c: (c.complexity, c.mse))
