"""Matching a trained KAN's edges to library functions: suggest, fix, auto.

Edges are addressed as ``(l, i, j)``: layer ``l``, input node ``i``, output sub-node ``j`` (pykan's
convention). Fitting always uses the inputs passed in — the training rows — never activations
cached by an earlier forward pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

import torch

from .fit import EdgeFit, fit_affine, fit_primitive
from .library import Library, default_library

log = logging.getLogger("kandiscover")

__all__ = ["suggest_symbolic", "fix_symbolic", "auto_symbolic", "EdgeReport"]


@dataclass(frozen=True)
class EdgeReport:
    """What :func:`auto_symbolic` did with one edge."""

    layer: int
    i: int
    j: int
    fixed: bool
    fit: EdgeFit


def _check_edge(model, l: int, i: int, j: int) -> None:
    if not 0 <= l < model.depth:
        raise ValueError(f"layer l={l} is out of range: the model has {model.depth} layers")
    layer = model.layers[l]
    if not 0 <= i < layer.in_dim or not 0 <= j < layer.out_dim:
        raise ValueError(
            f"edge (i={i}, j={j}) is out of range for layer {l} ({layer.in_dim} inputs, {layer.out_dim} outputs)"
        )


def _edge_samples(model, l: int, i: int, j: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Input and activation of edge ``(l, i, j)`` on rows ``x``: two ``(N,)`` tensors."""
    h = model.layer_inputs(model.check_input(x))[l]
    with torch.no_grad():
        _, edges = model.layers[l](h, return_edges=True)
    return h[:, i], edges[:, j, i]


def suggest_symbolic(
    model,
    l: int,
    i: int,
    j: int,
    x: torch.Tensor,
    *,
    lib: Optional[Library] = None,
    topk: int = 5,
    weight_simple: float = 1.0,
) -> list[EdgeFit]:
    """Best ``topk`` library matches of the numeric curve of edge ``(l, i, j)`` on rows ``x``.

    Parameters
    ----------
    x : Tensor, shape ``(batch, width[0])``
        Training inputs.
    """
    _check_edge(model, l, i, j)
    xi, yi = _edge_samples(model, l, i, j, x)
    return fit_affine(xi, yi, lib or default_library(), weight_simple=weight_simple)[:topk]


def fix_symbolic(
    model,
    l: int,
    i: int,
    j: int,
    fun: str,
    x: Optional[torch.Tensor] = None,
    *,
    lib: Optional[Library] = None,
    fit_params: bool = True,
    affine: Optional[tuple] = None,
) -> EdgeFit:
    """Fix edge ``(l, i, j)`` to library function ``fun``.

    With ``fit_params`` the affine parameters are fitted to the edge's numeric curve on rows ``x``;
    otherwise ``affine = (a, b, c, d)`` is used as given (default ``(1, 0, 1, 0)``).
    """
    _check_edge(model, l, i, j)
    lib = lib or default_library()
    prim = lib[fun]
    if fit_params:
        if x is None:
            raise ValueError("fix_symbolic(fit_params=True) needs the training inputs x")
        xi, yi = _edge_samples(model, l, i, j, x)
        fit = fit_primitive(prim, xi, yi)
    else:
        a, b, c, d = affine or (1.0, 0.0, 1.0, 0.0)
        fit = EdgeFit(prim.name, a, b, c, d, float("nan"), prim.complexity, float("nan"))
    model.layers[l].fix_symbolic(j, i, prim, fit.affine)
    return fit


def auto_symbolic(
    model,
    x: torch.Tensor,
    *,
    lib: Optional[Library] = None,
    r2_threshold: float = 0.999,
    weight_simple: float = 1.0,
    refine_top: int = 6,
) -> list[EdgeReport]:
    """Fix every live numeric edge whose best library match is good enough.

    Layers are processed in order and each layer's edges are fitted on its inputs as computed
    with the earlier layers already symbolic, so the fits stay consistent.

    Parameters
    ----------
    x : Tensor, shape ``(batch, width[0])``
        Training inputs.
    lib : Library, optional
        Primitives to match (the default library when omitted).
    r2_threshold : float
        An edge whose best candidate has R² below this stays numeric (and is reported) instead of
        being forced onto a wrong function.
    weight_simple : float
        Score cost per unit of complexity (see :func:`kandiscover.symbolic.fit.fit_affine`).

    Returns
    -------
    list of EdgeReport
    """
    lib = lib or default_library()
    x = model.check_input(x)
    reports = []
    for l, layer in enumerate(model.layers):
        h = model.layer_inputs(x)[l]
        with torch.no_grad():
            _, edges = layer(h, return_edges=True)
        for j in range(layer.out_dim):
            for i in range(layer.in_dim):
                if layer.mask[j, i] == 0 or layer.sym_mask[j, i] == 1:
                    continue
                fits = fit_affine(h[:, i], edges[:, j, i], lib, weight_simple=weight_simple, refine_top=refine_top)
                good = [f for f in fits if f.r2 >= r2_threshold]
                if good:
                    best = good[0]
                    layer.fix_symbolic(j, i, lib[best.name], best.affine)
                    log.info("edge (%d,%d,%d) -> %s (R²=%.6f)", l, i, j, best.name, best.r2)
                else:
                    best = fits[0]
                    log.warning(
                        "edge (%d,%d,%d) stays numeric: best match %s has R²=%.4f < %.4f",
                        l,
                        i,
                        j,
                        best.name,
                        best.r2,
                        r2_threshold,
                    )
                reports.append(EdgeReport(l, i, j, bool(good), best))
    return reports
