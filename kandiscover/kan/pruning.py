"""Attribution scores, pruning and knot refinement for :class:`~kandiscover.kan.network.KAN`.

Everything here takes the data it needs as an argument (training inputs); nothing reads activations
cached by an earlier forward pass.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

log = logging.getLogger("kandiscover")

__all__ = ["Attribution", "attribute", "prune", "refined_knots"]


@dataclass
class Attribution:
    """Importance of every node and edge for the outputs.

    Attributes
    ----------
    node_scores : list of Tensor
        ``node_scores[l]`` has shape ``(width_in[l],)``; the outputs score 1.
    edge_scores : list of Tensor
        ``edge_scores[l]`` has shape ``(width_out[l+1], width_in[l])``.
    """

    node_scores: list
    edge_scores: list


@torch.no_grad()
def attribute(model, x: torch.Tensor) -> Attribution:
    """Propagate importance from the outputs back to the inputs (KAN 2.0 attribution).

    An edge's score is the share of its sub-node's variation (standard deviation over ``x``) that
    it carries, times the sub-node's score; a node's score is the sum of its outgoing edge scores.

    Parameters
    ----------
    x : Tensor, shape ``(batch, width[0])``
        Training inputs.
    """
    _, edges = model.forward(x, return_edges=True)
    node = torch.ones(model.width_in[-1], dtype=x.dtype, device=x.device)
    node_scores, edge_scores = [node], []
    for l in range(model.depth - 1, -1, -1):
        sub = _node_to_subnode(model, node, l + 1)
        e_std = edges[l].std(0)  # (out, in)
        sub_std = edges[l].sum(-1).std(0)  # (out,)
        score = e_std * (sub / (sub_std + 1e-4)).unsqueeze(1)
        edge_scores.insert(0, score)
        node = score.sum(0)
        node_scores.insert(0, node)
    return Attribution(node_scores, edge_scores)


def _node_to_subnode(model, node: torch.Tensor, l: int) -> torch.Tensor:
    n_sum, _ = model.nodes[l]
    parts = [node[:n_sum]]
    for m, a in enumerate(model.arity[l]):
        parts.append(node[n_sum + m].repeat(a))
    return torch.cat(parts)


def _subnodes_of(model, l: int, node: int) -> list[int]:
    n_sum, _ = model.nodes[l]
    if node < n_sum:
        return [node]
    start = n_sum + sum(model.arity[l][: node - n_sum])
    return list(range(start, start + model.arity[l][node - n_sum]))


@torch.no_grad()
def prune(model, x: torch.Tensor, node_th: float = 1e-2, edge_th: float = 3e-2):
    """Return a smaller copy of ``model`` without unimportant edges and hidden nodes.

    * An edge scoring below ``edge_th`` is removed and its mean activation on ``x`` is added to the
      bias of the node it fed, so constant offsets are kept.
    * A hidden node scoring below ``node_th`` (or left without inputs or outputs) is replaced by
      its mean: its outgoing edges' means go into the next layer's biases, then it is removed.

    Parameters
    ----------
    x : Tensor, shape ``(batch, width[0])``
        Training inputs.
    """
    new = model.copy()
    attr = attribute(new, x)
    inputs = new.layer_inputs(x)
    for l, layer in enumerate(new.layers):
        e = layer(inputs[l], return_edges=True)[1]
        weak = (attr.edge_scores[l] < edge_th) & (layer.mask > 0)
        for o, i in weak.nonzero().tolist():
            layer.bias[o] += e[:, o, i].mean()
            layer.remove_edge(o, i)
    # hidden nodes: fold dead or unimportant ones into constants, repeat until stable
    changed = True
    while changed:
        changed = False
        inputs = new.layer_inputs(x)
        for l in range(1, new.depth):
            for node in range(new.width_in[l]):
                subs = _subnodes_of(new, l, node)
                prev = new.layers[l - 1]
                out_edges = new.layers[l].mask[:, node] > 0
                if not out_edges.any():
                    if prev.mask[subs].any():
                        prev.mask[subs] = 0.0
                        for s in subs:
                            for i in range(prev.in_dim):
                                prev.unfix_symbolic(s, i)
                        changed = True
                    continue
                no_input = not bool(prev.mask[subs].any())
                if no_input or attr.node_scores[l][node] < node_th:
                    e = new.layers[l](inputs[l], return_edges=True)[1]
                    for o in out_edges.nonzero().flatten().tolist():
                        new.layers[l].bias[o] += e[:, o, node].mean()
                        new.layers[l].remove_edge(o, node)
                    prev.mask[subs] = 0.0
                    changed = True
    return _drop_dead_nodes(new)


def _drop_dead_nodes(model):
    """Physically remove hidden nodes that have no outgoing live edge."""
    keep = [list(range(model.width_in[0]))]
    for l in range(1, model.depth):
        keep.append([n for n in range(model.width_in[l]) if bool(model.layers[l].mask[:, n].any())])
    keep.append(list(range(model.width_in[-1])))
    new_nodes, new_arity, layers = [], [], []
    for l in range(len(model.nodes)):
        n_sum, _ = model.nodes[l]
        kept = keep[l]
        new_nodes.append((sum(1 for n in kept if n < n_sum), sum(1 for n in kept if n >= n_sum)))
        new_arity.append([model.arity[l][n - n_sum] for n in kept if n >= n_sum])
    for l, layer in enumerate(model.layers):
        out_sub = [s for n in keep[l + 1] for s in _subnodes_of(model, l + 1, n)]
        layers.append(layer.subset(keep[l], out_sub))
    if any(n + m == 0 for n, m in new_nodes):
        log.warning("pruning removed every node of a hidden layer; keeping the strongest one")
        return model
    model.nodes, model.arity = new_nodes, new_arity
    model.layers = torch.nn.ModuleList(layers)
    return model


def refined_knots(knots: torch.Tensor, k: int, new_grid: int, x: torch.Tensor) -> torch.Tensor:
    """Extended knots with ``new_grid`` intervals that contain the old knots where possible.

    Starting from the old interior grid (widened by old extension knots where ``x`` reaches beyond
    it), the widest intervals are bisected until there are ``new_grid`` of them. Nested knots make
    every old spline exactly representable on the data's span.

    Parameters
    ----------
    knots : Tensor, shape ``(n_in, G + 2k + 1)``
    x : Tensor, shape ``(batch, n_in)``
        Inputs of the layer.

    Returns
    -------
    Tensor, shape ``(n_in, new_grid + 2k + 1)``
    """
    from .splines import extend_grid, subdivide_grid

    rows = []
    lo_data, hi_data = x.min(0).values, x.max(0).values
    g_old = knots.shape[1] - 2 * k - 1
    for r in range(knots.shape[0]):
        t = knots[r].tolist()
        first, last = k, k + g_old
        while first > 0 and lo_data[r] < t[first]:
            first -= 1
        while last < len(t) - 1 and hi_data[r] > t[last]:
            last += 1
        pts = t[first : last + 1]
        if len(pts) - 1 > new_grid:  # cannot nest: fall back to an even re-sampling
            grid = subdivide_grid(torch.tensor([pts], dtype=knots.dtype), new_grid)[0].tolist()
        else:
            grid = pts
            while len(grid) - 1 < new_grid:
                gaps = [b - a for a, b in zip(grid[:-1], grid[1:])]
                j = max(range(len(gaps)), key=lambda n: (gaps[n], -n))
                grid.insert(j + 1, 0.5 * (grid[j] + grid[j + 1]))
        rows.append(grid)
    grid = torch.tensor(rows, dtype=knots.dtype, device=knots.device)
    return extend_grid(grid, k)
