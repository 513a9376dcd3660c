"""Attribution scores and pruning for :class:`~kandiscover.kan.network.KANNetwork`.

Everything here takes the data it needs as an argument (training inputs); nothing reads activations
cached by an earlier forward pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

log = logging.getLogger("kandiscover")

__all__ = ["Attribution", "attribute", "prune"]


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
        sub = model.topology.spread(l + 1, node)
        e_std = edges[l].std(0)  # (out, in)
        sub_std = edges[l].sum(-1).std(0)  # (out,)
        score = e_std * (sub / (sub_std + 1e-4)).unsqueeze(1)
        edge_scores.insert(0, score)
        node = score.sum(0)
        node_scores.insert(0, node)
    return Attribution(node_scores, edge_scores)


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
                subs = new.topology.subnodes(l, node)
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
    topology = model.topology.select(keep)
    layers = []
    for l, layer in enumerate(model.layers):
        out_sub = [s for n in keep[l + 1] for s in model.topology.subnodes(l + 1, n)]
        layers.append(layer.subset(keep[l], out_sub))
    if any(n + m == 0 for n, m in topology.nodes):
        log.warning("pruning removed every node of a hidden layer; keeping the strongest one")
        return model
    model.topology = topology
    model.layers = torch.nn.ModuleList(layers)
    return model
