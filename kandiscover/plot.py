"""Figures: a KAN with every edge's learned curve, training history, Pareto front, residuals, suites.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing touches
matplotlib's global state and it works headless (Agg). Save with ``fig.savefig(path)``; show one
in a notebook by leaving it as the cell's value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import sympy
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .support.params import check_number

__all__ = ["plot_kan", "to_networkx", "plot_history", "plot_pareto", "plot_residuals", "plot_suite"]

NUMERIC_COLOR = "black"
SYMBOLIC_COLOR = "tab:red"
MULT_COLOR = "tab:blue"
_MAX_POINTS = 400


# ---------------------------------------------------------------------- model helpers
def _grid_box(layer) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-input interval ``(lo, hi)`` of a layer's spline grid."""
    g = layer.grid
    return g[:, 0], g[:, -1]


def _inputs_for(model, x) -> torch.Tensor:
    """``x`` validated, else the last training inputs, else a seeded sample of the first grid box."""
    if x is not None:
        return model.check_input(x)
    if getattr(model, "train_input_", None) is not None:
        return model.train_input_
    lo, hi = _grid_box(model.layers[0])
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(512, model.width_in[0], generator=gen, dtype=model.dtype).to(model.device)
    return lo + (hi - lo) * u


def _names(names, n: int, stem: str, what: str) -> list[str]:
    if names is None:
        return [stem] if n == 1 and stem == "y" else [f"{stem}{k + 1}" for k in range(n)]
    names = [str(v) for v in names]
    if len(names) != n:
        raise ValueError(f"{what} must give {n} names for this model; got {len(names)}")
    return names


def _num(v: float, sig: int = 3) -> sympy.Expr:
    r = float(f"{v:.{sig}g}")
    if r == 0:
        return sympy.Integer(0)
    return sympy.Integer(int(r)) if r == int(r) else sympy.Float(r)


def edge_label(layer, o: int, i: int, full: bool = True) -> str:
    """Short text of symbolic edge ``(o, i)`` of a layer: ``"sin"`` or ``"1.2·sin(3.14·x + 0.5)"``."""
    fun = layer.sym_funs[(o, i)]
    if not full:
        return fun.name
    a, b, c, d = (float(v) for v in layer.sym_affine[o, i].tolist())
    sym_fn = getattr(fun, "sympy_fn", None)
    if sym_fn is None:
        return f"{c:.3g}·{fun.name}({a:.3g}·x + {b:.3g}) + {d:.3g}"
    # tiny shifts are noise at label precision; the inner argument is printed apart so that sympy
    # cannot fold exp(a·x+b) into a changed outer constant
    b = 0.0 if abs(b) < 1e-3 * max(1.0, abs(a)) else b
    d = 0.0 if abs(d) < 1e-3 * max(1.0, abs(c)) else d
    x, u = sympy.Symbol("x"), sympy.Symbol("U_")
    inner = _num(a) * x + _num(b)
    outer = sympy.sstr(_num(c) * sym_fn(u) + _num(d), full_prec=False)
    arg = sympy.sstr(inner, full_prec=False)
    if isinstance(inner, sympy.Add) and outer != "U_":
        outer = outer.replace("(U_)", f"({arg})")
        arg = f"({arg})"
    return outer.replace("U_", arg).replace("**", "^").replace("*", "·")


def _edge_curves(model, x: Optional[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per layer ``(inputs (n, in), edges (n, out, in))``: on rows ``x``, else on each layer's grid."""
    if x is not None:
        x = x[torch.linspace(0, x.shape[0] - 1, min(x.shape[0], _MAX_POINTS)).long()]
        return list(zip(model.layer_inputs(x), model.edge_activations(x)))
    out = []
    with torch.no_grad():
        for layer in model.layers:
            lo, hi = _grid_box(layer)
            h = lo + (hi - lo) * torch.linspace(0, 1, 200, dtype=lo.dtype, device=lo.device)[:, None]
            out.append((h, layer(h, return_edges=True)[1]))
    return out


# ---------------------------------------------------------------------- graph
def to_networkx(model, x=None, *, in_vars: Optional[Sequence[str]] = None, out_vars: Optional[Sequence[str]] = None):
    """The network as a :class:`networkx.DiGraph`.

    Nodes are ``(layer, index)`` with attributes ``kind`` (``"input"``, ``"sum"``, ``"mult"``,
    ``"output"``), ``name``, ``layer``, ``index``, ``importance`` and (for sums) ``bias``. A
    multiplication node's factors are extra nodes ``(layer, index, factor)`` of kind ``"factor"``
    (with their ``bias``), each linked to their node by an edge of kind ``"product"``, so two edges
    from one input into the same product never collide.

    Every live KAN edge is an edge of kind ``"kan"`` from ``(l, i)`` to the node (or factor) fed by
    sub-node ``j`` of layer ``l``, with attributes ``layer``, ``i``, ``j`` (indices as in
    ``layers[l].mask[j, i]``), ``importance`` (attribution score on ``x``), ``symbolic`` (bool),
    ``function`` (primitive name or ``None``) and ``affine`` (``(a, b, c, d)`` or ``None``).

    Parameters
    ----------
    x : array or Tensor, shape ``(batch, width[0])``, optional
        Rows for the importance scores; defaults to the inputs of the last fit.
    """
    import networkx as nx

    xs = _inputs_for(model, x)
    attr = model.attribute(xs)
    ins = _names(in_vars, model.width_in[0], "x", "in_vars")
    outs = _names(out_vars, model.width_in[-1], "y", "out_vars")
    g = nx.DiGraph()
    last = len(model.nodes) - 1
    for l in range(len(model.nodes)):
        n_sum = model.nodes[l][0]
        for n in range(model.width_in[l]):
            mult = n >= n_sum
            kind = "input" if l == 0 else "output" if l == last else "mult" if mult else "sum"
            name = ins[n] if l == 0 else outs[n] if l == last else f"{'×' if mult else 'h'}{l}.{n}"
            data = dict(kind=kind, name=name, layer=l, index=n, mult=mult, importance=float(attr.node_scores[l][n]))
            if l > 0 and not mult:
                data["bias"] = float(model.layers[l - 1].bias[n].detach())
            g.add_node((l, n), **data)
            if l > 0 and mult:
                for f, s in enumerate(model.topology.subnodes(l, n)):
                    g.add_node(
                        (l, n, f),
                        kind="factor",
                        name=f"{name}[{f}]",
                        layer=l,
                        index=n,
                        factor=f,
                        bias=float(model.layers[l - 1].bias[s].detach()),
                    )
                    g.add_edge((l, n, f), (l, n), kind="product")
    for l, layer in enumerate(model.layers):
        owner = model.topology.owner(l + 1)
        for j, i in (layer.mask > 0).nonzero().tolist():
            node, f = owner[j]
            sym = bool(layer.sym_mask[j, i] > 0) and (j, i) in layer.sym_funs
            g.add_edge(
                (l, i),
                (l + 1, node) if f < 0 else (l + 1, node, f),
                kind="kan",
                layer=l,
                i=i,
                j=j,
                importance=float(attr.edge_scores[l][j, i]),
                symbolic=sym,
                function=layer.sym_funs[(j, i)].name if sym else None,
                affine=tuple(float(v) for v in layer.sym_affine[j, i].tolist()) if sym else None,
            )
    return g


# ---------------------------------------------------------------------- KAN figure
def _positions(model) -> tuple[list[list[float]], list[list[tuple[float, float]]]]:
    """x of every node per layer, and (x, y) of every sub-node (inputs of the KAN edges)."""
    node_x, sub_xy = [], [[]]
    for l in range(len(model.nodes)):
        n = model.width_in[l]
        node_x.append([(k + 0.5) / n for k in range(n)])
    for l in range(1, len(model.nodes)):
        n = model.width_in[l]
        row = []
        for node, f in model.topology.owner(l):
            if f < 0:
                row.append((node_x[l][node], float(l)))
            else:
                a = len(model.topology.subnodes(l, node))
                dx = min(0.5 / (n * a), 0.08)
                row.append((node_x[l][node] + (f - (a - 1) / 2) * dx, l - 0.13))
        sub_xy.append(row)
    return node_x, sub_xy


def plot_kan(
    model,
    x=None,
    *,
    in_vars: Optional[Sequence[str]] = None,
    out_vars: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
    beta: float = 3,
    scale: float = 1.0,
    symbolic_labels: bool = True,
) -> Figure:
    """Draw a KAN: nodes by layer (inputs at the bottom), every live edge with its learned curve.

    Each live edge is a line from its input node to its (sub-)node through a small inset plot of
    the edge's activation against its input. Opacity is ``tanh(beta · importance)`` (attribution
    on ``x``, floored at 0.05 so weak edges stay visible); symbolic edges are red and labelled with
    their fitted ``c·f(a·x+b)+d``; multiplication nodes are blue "×" markers joined to their factors.
    The insets are child axes of ``fig.axes[0]`` with ``gid = "edge:l:i:j"``.

    Parameters
    ----------
    x : array or Tensor, shape ``(batch, width[0])``, optional
        Rows on which curves and importance are computed; defaults to the inputs of the last fit,
        or (for an untrained model) each layer's grid range.
    in_vars, out_vars : sequence of str, optional
        Names of the inputs and outputs (mathtext such as ``"$x_1$"`` is rendered).
    title : str, optional
    beta : float
        Contrast of the importance-to-opacity map.
    scale : float
        Size multiplier of the figure.
    symbolic_labels : bool
        Label symbolic edges with their full affine form; ``False`` shows only the function name.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_number("scale", scale, low=0, what="a positive number")
    check_number("beta", beta, low=0, what="a positive number")
    ins = _names(in_vars, model.width_in[0], "x", "in_vars")
    outs = _names(out_vars, model.width_in[-1], "y", "out_vars")
    given = x is not None or getattr(model, "train_input_", None) is not None
    xs = _inputs_for(model, x)
    scores = model.attribute(xs).edge_scores
    curves = _edge_curves(model, xs if given else None)
    node_x, sub_xy = _positions(model)
    live = [
        sorted(
            (layer.mask > 0).nonzero().tolist(),
            key=lambda ji, l=l: (node_x[l][ji[1]] + sub_xy[l + 1][ji[0]][0], ji[1], ji[0]),
        )
        for l, layer in enumerate(model.layers)
    ]
    widest = max([len(e) for e in live] + [len(r) for r in sub_xy] + [model.width_in[0]])
    canvas = _Canvas.create(widest, model.depth, scale, title)
    for l, edges in enumerate(live):
        for k, (j, i) in enumerate(edges):
            _draw_edge(
                canvas,
                model.layers[l],
                l,
                i,
                j,
                k,
                len(edges),
                (node_x[l][i], sub_xy[l + 1][j]),
                curves[l],
                float(np.clip(math.tanh(beta * float(scores[l][j, i])), 0.05, 1.0)),
                symbolic_labels,
            )
    _draw_nodes(canvas, model, node_x, sub_xy, ins, outs)
    if title:
        canvas.fig.suptitle(title, fontsize=1.4 * canvas.fs)
    return canvas.fig


@dataclass
class _Canvas:
    """The figure of :func:`plot_kan`, its one axes (x in ``[0, 1]``, y = layer) and its sizes."""

    fig: Figure
    ax: object
    scale: float
    gap_in: float  # inches between two layers
    unit_x: float  # inches per x data unit
    fs: float  # base font size

    @classmethod
    def create(cls, widest: int, depth: int, scale: float, title: Optional[str]) -> "_Canvas":
        """A figure wide enough for ``widest`` edges or nodes in a row, and ``depth`` layers tall."""
        fig_w = scale * min(max(4.0, 0.95 * widest + 1.2), 28.0)
        gap_in = 2.0 * scale
        fig_h = gap_in * depth + 1.0 * scale + (0.35 * scale if title else 0.0)
        fig = Figure(figsize=(fig_w, fig_h))
        top = 1 - (0.35 * scale / fig_h if title else 0.0)
        ax = fig.add_axes((0.01, 0.0, 0.98, top))
        ax.set_xlim(0, 1)
        pad = 0.5 * scale / gap_in
        ax.set_ylim(-pad, depth + pad)
        ax.axis("off")
        return cls(fig, ax, scale, gap_in, 0.98 * fig_w, 8 * math.sqrt(scale))


def _draw_edge(
    canvas: _Canvas,
    layer,
    l: int,
    i: int,
    j: int,
    k: int,
    n_edges: int,
    ends,
    curves,
    alpha: float,
    symbolic_labels: bool,
) -> None:
    """Edge ``(i → j)`` of layer ``l``, the ``k``-th of ``n_edges`` in its row: two lines from its
    input node to its sub-node (``ends = (x of the node, (x, y) of the sub-node)``) through an inset
    of its curve (``curves = (inputs (n, in), edges (n, out, in))``)."""
    ax, scale = canvas.ax, canvas.scale
    n_e = max(n_edges, 1)
    bw = min(0.72 / n_e, 0.2)
    bh = min(0.42, bw * canvas.unit_x / canvas.gap_in)
    xc, yc = (k + 0.5) / n_e, l + 0.5
    sym = bool(layer.sym_mask[j, i] > 0) and (j, i) in layer.sym_funs
    color = SYMBOLIC_COLOR if sym else NUMERIC_COLOR
    xs0, xd = ends
    ax.plot([xs0, xc], [l, yc - bh / 2], color=color, alpha=alpha, lw=1.0 * scale, zorder=1)
    ax.plot([xc, xd[0]], [yc + bh / 2, xd[1]], color=color, alpha=alpha, lw=1.0 * scale, zorder=1)
    inset = ax.inset_axes((xc - bw / 2, yc - bh / 2, bw, bh), transform=ax.transData)
    inset.set_gid(f"edge:{l}:{i}:{j}")
    h_in, e_act = curves
    u = h_in[:, i].detach().cpu().numpy()
    v = e_act[:, j, i].detach().cpu().numpy()
    order = np.argsort(u)
    inset.plot(u[order], v[order], color=color, alpha=alpha, lw=1.4 * scale)
    inset.set_xticks([])
    inset.set_yticks([])
    for sp in inset.spines.values():
        sp.set_color(color)
        sp.set_alpha(alpha)
    if sym:
        inset.text(
            0.5,
            1.04,
            edge_label(layer, j, i, symbolic_labels),
            transform=inset.transAxes,
            ha="center",
            va="bottom",
            fontsize=0.8 * canvas.fs,
            color=SYMBOLIC_COLOR,
            clip_on=False,
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8),
        )


def _draw_nodes(canvas: _Canvas, model, node_x, sub_xy, ins: list[str], outs: list[str]) -> None:
    """Sum nodes as dots, multiplication nodes as "×" joined to their factors, and the variable names."""
    ax, scale, fs = canvas.ax, canvas.scale, canvas.fs
    for l in range(len(model.nodes)):
        for n, xn in enumerate(node_x[l]):
            if l > 0 and model.topology.is_mult(l, n):
                ax.text(xn, l, "×", ha="center", va="center", fontsize=1.8 * fs, color=MULT_COLOR, zorder=3)
                for s in model.topology.subnodes(l, n):
                    sx, sy = sub_xy[l][s]
                    ax.plot([sx, xn], [sy, l - 0.04], color=MULT_COLOR, lw=0.8 * scale, zorder=2)
                    ax.scatter([sx], [sy], s=9 * scale, color=MULT_COLOR, zorder=3)
            else:
                ax.scatter([xn], [l], s=30 * scale, color="black", zorder=3)
    for n, xn in enumerate(node_x[0]):
        ax.text(xn, -0.08, ins[n], ha="center", va="top", fontsize=1.3 * fs)
    for n, xn in enumerate(node_x[-1]):
        ax.text(xn, model.depth + 0.08, outs[n], ha="center", va="bottom", fontsize=1.3 * fs)


# ---------------------------------------------------------------------- training and results
def _positive(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def plot_history(history) -> Figure:
    """Train and test loss per step (log scale); the regularisation on a second axis if non-zero.

    Parameters
    ----------
    history : History, dict of lists or DataFrame
        With ``train_loss`` and optionally ``test_loss`` and ``reg`` (what ``KAN.fit`` returns).
    """
    cols = {k: list(history[k]) for k in ("train_loss", "test_loss", "reg") if k in history}
    if "train_loss" not in cols:
        raise ValueError("history must hold a 'train_loss' list (what KAN.fit returns)")
    fig = Figure(figsize=(6, 3.6))
    ax = fig.add_subplot()
    for key, style in (("train_loss", "-"), ("test_loss", "--")):
        if key in cols and len(cols[key]):
            ax.plot(np.arange(1, len(cols[key]) + 1), _positive(cols[key]), style, label=key.replace("_", " "))
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (RMSE)")
    handles, labels = ax.get_legend_handles_labels()
    reg = np.asarray(cols.get("reg", []), dtype=float)
    if reg.size and np.nanmax(np.abs(reg)) > 0:
        ax2 = ax.twinx()
        (line,) = ax2.plot(np.arange(1, reg.size + 1), reg, ":", color="tab:gray", label="reg")
        ax2.set_ylabel("regularisation")
        handles.append(line)
        labels.append("reg")
    if handles:
        ax.legend(handles, labels, loc="upper right", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def plot_pareto(pareto) -> Figure:
    """Complexity vs validation loss of the Pareto front (log y); the chosen formula marked.

    Parameters
    ----------
    pareto : DataFrame
        Columns ``complexity``, ``loss``, ``formula`` and optionally ``chosen`` (``Discovery.pareto``).
    """
    missing = [c for c in ("complexity", "loss", "formula") if c not in pareto.columns]
    if missing:
        raise ValueError(f"pareto lacks the columns {missing}; pass Discovery.pareto")
    fig = Figure(figsize=(6.5, 4))
    ax = fig.add_subplot()
    front = pareto.sort_values("complexity")
    cpx = front["complexity"].to_numpy(dtype=float)
    loss = front["loss"].to_numpy(dtype=float)
    pos = loss[np.isfinite(loss) & (loss > 0)]
    floor = pos.min() / 10 if pos.size else 1e-16
    shown = np.where(np.isfinite(loss), np.maximum(loss, floor), np.nan)
    ax.step(cpx, shown, where="post", color="tab:gray", alpha=0.6)
    ax.scatter(cpx, shown, color="tab:blue", zorder=3, label="Pareto front")
    if "chosen" in front.columns and front["chosen"].astype(bool).any():
        row = front[front["chosen"].astype(bool)].iloc[0]
        yc = max(float(row["loss"]), floor)
        ax.scatter([row["complexity"]], [yc], marker="*", s=220, color="tab:red", zorder=4, label="chosen")
        right = cpx.size > 1 and row["complexity"] > 0.5 * (cpx.min() + cpx.max())
        ax.annotate(
            _short(str(row["formula"])),
            (row["complexity"], yc),
            xytext=(-10 if right else 10, 12),
            textcoords="offset points",
            fontsize=8,
            color="tab:red",
            ha="right" if right else "left",
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="tab:red", alpha=0.9),
        )
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("complexity (expression-tree nodes)")
    ax.set_ylabel("validation MSE")
    ax.grid(alpha=0.3, which="both")
    if len(front):
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def plot_residuals(y_true, y_pred) -> Figure:
    """Residuals ``y_pred - y_true`` against the prediction, and their histogram."""
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length; got {y_true.size} and {y_pred.size}")
    ok = np.isfinite(y_true) & np.isfinite(y_pred)
    res = y_pred[ok] - y_true[ok]
    fig = Figure(figsize=(8, 3.4))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[3, 2]))
    ax1.scatter(y_pred[ok], res, s=6, alpha=0.6)
    ax1.axhline(0, color="black", lw=0.8)
    ax1.set_xlabel("prediction")
    ax1.set_ylabel("residual (prediction − truth)")
    ax1.grid(alpha=0.3)
    ax2.hist(res, bins=max(5, min(50, int(np.sqrt(max(res.size, 1))))), color="tab:blue", alpha=0.8)
    ax2.set_xlabel("residual")
    ax2.set_ylabel("rows")
    if (~ok).any():
        ax2.set_title(f"{int((~ok).sum())} non-finite rows left out", fontsize=8)
    fig.tight_layout()
    return fig


def plot_suite(results, published: Optional[dict] = None, *, label: str = "kandiscover") -> Figure:
    """Recovery rate per pack (optionally beside published methods) and the time per problem.

    Parameters
    ----------
    results : DataFrame
        One row per problem with columns ``pack``, ``exact`` (bool, or NaN when there is no ground
        truth; such rows count for time only) and ``seconds``.
    published : dict, optional
        ``{method: {pack: recovery rate in [0, 1]}}`` drawn as extra bars.
    label : str
        Name of the method in ``results``.
    """
    missing = [c for c in ("pack", "exact", "seconds") if c not in results.columns]
    if missing:
        raise ValueError(f"results lacks the columns {missing}; it needs pack, exact, seconds")
    packs = list(dict.fromkeys(results["pack"].astype(str)))
    published = published or {}
    methods = [label] + list(published)
    rates = {label: {}}
    counts = {}
    for p in packs:
        ex = results.loc[results["pack"].astype(str) == p, "exact"].dropna().astype(bool)
        rates[label][p] = float(ex.mean()) if len(ex) else np.nan
        counts[p] = (int(ex.sum()), len(ex))
    for m, r in published.items():
        rates[m] = {p: float(r[p]) if p in r else np.nan for p in packs}
    fig = Figure(figsize=(max(7, 2.2 * len(packs) + 4), 3.8))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[3, 2]))
    bw = 0.8 / len(methods)
    pos = np.arange(len(packs))
    for k, m in enumerate(methods):
        vals = np.array([rates[m][p] for p in packs])
        bars = ax1.bar(pos + (k - (len(methods) - 1) / 2) * bw, np.nan_to_num(vals), bw, label=m)
        if m == label:
            for b, p in zip(bars, packs):
                ok, n = counts[p]
                ax1.annotate(
                    f"{ok}/{n}" if n else "n/a",
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
    ax1.set_xticks(pos, packs)
    ax1.set_ylim(0, 1.1)
    ax1.set_ylabel("exact recovery rate")
    ax1.legend(fontsize=8)
    ax1.grid(axis="y", alpha=0.3)
    secs = [results.loc[results["pack"].astype(str) == p, "seconds"].dropna().to_numpy(dtype=float) for p in packs]
    ax2.boxplot([s if s.size else [np.nan] for s in secs])
    ax2.set_xticks(np.arange(1, len(packs) + 1), packs)
    allsec = np.concatenate([s for s in secs if s.size]) if any(s.size for s in secs) else np.zeros(0)
    if allsec.size and allsec.min() > 0 and allsec.max() / allsec.min() > 50:
        ax2.set_yscale("log")
    ax2.set_ylabel("seconds per problem")
    ax2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
