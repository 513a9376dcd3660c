"""The shape of a KAN: sum and multiplication nodes per layer, and how sub-nodes fold into nodes.

``width`` lists the nodes per layer. An entry is an int (sum nodes) or ``[n_sum, n_mult]``: the
layer then has ``n_sum`` sum nodes followed by ``n_mult`` multiplication nodes, each the product of
``arity`` sub-nodes (KAN 2.0). The :class:`~kandiscover.kan.layer.KANLayer` feeding layer ``l``
therefore outputs ``width_out[l] = n_sum + Σ arity`` *sub-nodes*, which :meth:`Topology.fold`
turns into ``width_in[l] = n_sum + n_mult`` *nodes*. Sub-nodes are ordered as their nodes: the
sum nodes first (one sub-node each), then the factors of each multiplication node in turn.
"""

from __future__ import annotations

import itertools
from typing import Callable, Optional, Sequence, Union

import torch

__all__ = ["Topology", "WidthEntry"]

WidthEntry = Union[int, Sequence[int]]


def _spans(n_sum: int, arity: Sequence[int]) -> list[tuple[int, int]]:
    """``(start, end)`` of each multiplication node's sub-nodes, after the ``n_sum`` sum nodes."""
    ends = list(itertools.accumulate(arity, initial=n_sum))
    return list(zip(ends[:-1], ends[1:]))


class Topology:
    """Nodes per layer and the arity of every multiplication node.

    Parameters
    ----------
    nodes : sequence of (int, int)
        ``(n_sum, n_mult)`` per layer, inputs first.
    arity : sequence of list of int
        ``arity[l][m]`` is the number of factors of multiplication node ``m`` of layer ``l``.
    """

    def __init__(self, nodes: Sequence[tuple[int, int]], arity: Sequence[Sequence[int]]) -> None:
        self.nodes = [(int(n), int(m)) for n, m in nodes]
        self.arity = [list(a) for a in arity]
        self._spans = [_spans(n_sum, a) for (n_sum, _), a in zip(self.nodes, self.arity)]

    @classmethod
    def from_width(cls, width: Sequence[WidthEntry], mult_arity=2) -> "Topology":
        """Parse constructor arguments (``width`` as in :class:`~kandiscover.kan.network.KANNetwork`).

        Raises
        ------
        ValueError
            Naming the entry of ``width`` or ``mult_arity`` that is not allowed.
        """
        nodes = _parse_width(width)
        return cls(nodes, _parse_arity(mult_arity, nodes))

    def __repr__(self) -> str:
        return f"Topology(nodes={self.nodes}, arity={self.arity})"

    # ------------------------------------------------------------------ sizes
    @property
    def width(self) -> list:
        """Width in constructor form (ints, or ``[n_sum, n_mult]``)."""
        return [n if m == 0 else [n, m] for n, m in self.nodes]

    @property
    def width_in(self) -> list[int]:
        """Node count per layer (inputs of the next KANLayer)."""
        return [n + m for n, m in self.nodes]

    @property
    def width_out(self) -> list[int]:
        """Sub-node count per layer (outputs of the previous KANLayer)."""
        return [n + sum(a) for (n, _), a in zip(self.nodes, self.arity)]

    # ------------------------------------------------------------------ nodes and sub-nodes
    def is_mult(self, l: int, node: int) -> bool:
        """Whether node ``node`` of layer ``l`` is a multiplication node."""
        return node >= self.nodes[l][0]

    def subnodes(self, l: int, node: int) -> list[int]:
        """Sub-nodes of layer ``l`` that fold into ``node``: one for a sum node, its factors otherwise."""
        n_sum = self.nodes[l][0]
        if node < n_sum:
            return [node]
        start = n_sum + sum(self.arity[l][: node - n_sum])
        return list(range(start, start + self.arity[l][node - n_sum]))

    def owner(self, l: int) -> list[tuple[int, int]]:
        """For each sub-node of layer ``l``: (node it folds into, factor position or -1 for a sum node)."""
        out = []
        for node in range(self.width_in[l]):
            mult = self.is_mult(l, node)
            out.extend((node, f if mult else -1) for f in range(len(self.subnodes(l, node))))
        return out

    def fold(self, l: int, values, product: Optional[Callable] = None):
        """Node values of layer ``l`` from its sub-node values: sums pass, products multiply.

        Parameters
        ----------
        values : Tensor, shape ``(batch, width_out[l])``, or sequence of length ``width_out[l]``
            Sub-node values (e.g. sympy expressions).
        product : callable
            ``product(*factors)``, needed for a sequence (``sympy.Mul`` for expressions). Tensors
            always use ``torch.prod``.

        Returns
        -------
        Tensor, shape ``(batch, width_in[l])``, or list of length ``width_in[l]``
        """
        n_sum, spans = self.nodes[l][0], self._spans[l]
        if isinstance(values, torch.Tensor):
            if not spans:
                return values
            parts = [values[:, :n_sum]] + [torch.prod(values[:, a:b], dim=1, keepdim=True) for a, b in spans]
            return torch.cat(parts, dim=1)
        if product is None:
            raise ValueError("fold() of a sequence needs product=, e.g. sympy.Mul")
        return list(values[:n_sum]) + [product(*values[a:b]) for a, b in spans]

    def spread(self, l: int, scores: torch.Tensor) -> torch.Tensor:
        """Give every sub-node of layer ``l`` the score of its node.

        Parameters
        ----------
        scores : Tensor, shape ``(width_in[l],)``

        Returns
        -------
        Tensor, shape ``(width_out[l],)``
        """
        n_sum = self.nodes[l][0]
        parts = [scores[:n_sum]]
        for m, a in enumerate(self.arity[l]):
            parts.append(scores[n_sum + m].repeat(a))
        return torch.cat(parts)

    def select(self, keep: Sequence[Sequence[int]]) -> "Topology":
        """The topology left when only the nodes ``keep[l]`` of each layer remain (in that order)."""
        nodes, arity = [], []
        for l, kept in enumerate(keep):
            n_sum = self.nodes[l][0]
            nodes.append((sum(1 for n in kept if n < n_sum), sum(1 for n in kept if n >= n_sum)))
            arity.append([self.arity[l][n - n_sum] for n in kept if n >= n_sum])
        return Topology(nodes, arity)


def _parse_width(width: Sequence[WidthEntry]) -> list[tuple[int, int]]:
    if not isinstance(width, (list, tuple)) or len(width) < 2:
        raise ValueError(f"width must be a list of at least two layer sizes, e.g. [2, 5, 1]; got {width!r}")
    out = []
    for pos, w in enumerate(width):
        if isinstance(w, (list, tuple)):
            if len(w) != 2 or not all(isinstance(v, int) and v >= 0 for v in w) or sum(w) == 0:
                raise ValueError(f"width[{pos}] = {w!r}: use [n_sum, n_mult] with non-negative ints, not both zero")
            out.append((int(w[0]), int(w[1])))
        elif isinstance(w, int) and not isinstance(w, bool) and w > 0:
            out.append((w, 0))
        else:
            raise ValueError(f"width[{pos}] = {w!r}: each entry must be a positive int or [n_sum, n_mult]")
    if out[0][1]:
        raise ValueError("width[0] is the input layer and cannot hold multiplication nodes")
    return out


def _parse_arity(mult_arity, nodes: list[tuple[int, int]]) -> list[list[int]]:
    arities = []
    for pos, (_, n_mult) in enumerate(nodes):
        a = mult_arity[pos] if isinstance(mult_arity, (list, tuple)) else mult_arity
        a = [a] * n_mult if isinstance(a, int) else list(a)
        if len(a) != n_mult or any((not isinstance(v, int)) or v < 2 for v in a):
            raise ValueError(
                f"mult_arity for width[{pos}] must give an int >= 2 for each of its {n_mult} multiplication nodes; "
                f"got {a!r}"
            )
        arities.append(a)
    return arities
