"""`KANNetwork`: a stack of :class:`KANLayer` with optional multiplication nodes.

The engine's network: evaluation, training, grids, attribution, pruning and copies. Its shape
(sum and multiplication nodes, sub-nodes) is a :class:`~kandiscover.kan.topology.Topology`.
Checkpoints are :mod:`.checkpoint`; symbolic edges and figures are added by
:class:`kandiscover.model.KAN`.
"""

from __future__ import annotations

import copy
import logging
from typing import Optional, Sequence

import torch
from torch import nn

from . import pruning, training
from .grid import refined_knots
from .layer import KANLayer
from .topology import Topology, WidthEntry

log = logging.getLogger("kandiscover")

__all__ = ["KANNetwork"]


def _check_device(device) -> torch.device:
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but no CUDA GPU is available; use device='cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device='mps' was requested but MPS is not available; use device='cpu'")
    return dev


class KANNetwork(nn.Module):
    """Kolmogorov–Arnold network (the engine: no symbolic or plotting methods).

    Parameters
    ----------
    width : list
        Nodes per layer, e.g. ``[2, 5, 1]``; an entry ``[n_sum, n_mult]`` adds multiplication nodes.
    grid : int
        Grid intervals per spline.
    k : int
        Spline degree.
    mult_arity : int or list
        Arity of multiplication nodes: one int for all, or per layer an int or a list per node.
    seed : int
        Seed of this model's own ``torch.Generator`` (initialisation and mini-batches).
    device : str
        ``"cpu"``, ``"cuda"``, …
    dtype : torch.dtype
        ``torch.float64`` (default) or ``torch.float32``.
    grid_range : tuple of float
        Initial grid interval (the first :meth:`fit` moves it to the data).
    grid_eps : float
        Blend of uniform (1) and quantile (0) grids in grid updates.
    noise_scale : float
        Scale of the random initial spline coefficients.
    """

    def __init__(
        self,
        width: Sequence[WidthEntry],
        grid: int = 5,
        k: int = 3,
        *,
        mult_arity=2,
        seed: int = 0,
        device: str = "cpu",
        dtype: torch.dtype = torch.float64,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        grid_eps: float = 0.02,
        noise_scale: float = 0.3,
        base_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.topology = Topology.from_width(width, mult_arity)
        if not isinstance(grid, int) or grid < 1:
            raise ValueError(f"grid must be a positive int (number of grid intervals); got {grid!r}")
        if not isinstance(k, int) or k < 0:
            raise ValueError(f"k must be a non-negative int (spline degree); got {k!r}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
        self.device = _check_device(device)
        self.seed, self.grid_eps, self.k = seed, grid_eps, k
        self.init_kwargs = dict(grid_range=tuple(grid_range), noise_scale=noise_scale, base_scale=base_scale)
        gen = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(
            KANLayer(
                self.width_in[l],
                self.width_out[l + 1],
                grid,
                k,
                generator=gen,
                dtype=dtype,
                device=self.device,
                **self.init_kwargs,
            )
            for l in range(len(self.nodes) - 1)
        )
        self.train_input_: Optional[torch.Tensor] = None

    # ------------------------------------------------------------------ shape
    @property
    def nodes(self) -> list[tuple[int, int]]:
        """``(n_sum, n_mult)`` per layer (see :attr:`topology`)."""
        return self.topology.nodes

    @property
    def arity(self) -> list[list[int]]:
        """Factors of every multiplication node, per layer (see :attr:`topology`)."""
        return self.topology.arity

    @property
    def width(self) -> list:
        """Width in constructor form (ints, or ``[n_sum, n_mult]``)."""
        return self.topology.width

    @property
    def width_in(self) -> list[int]:
        """Node count per layer (inputs of the next KANLayer)."""
        return self.topology.width_in

    @property
    def width_out(self) -> list[int]:
        """Sub-node count per layer (outputs of the previous KANLayer)."""
        return self.topology.width_out

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def dtype(self) -> torch.dtype:
        return self.layers[0].coef.dtype

    @property
    def grid(self) -> int:
        """Grid intervals of the first layer (all layers share it unless set otherwise)."""
        return self.layers[0].grid_size

    def config(self) -> dict:
        """JSON-serialisable constructor arguments."""
        return dict(
            width=self.width,
            grid=self.grid,
            k=self.k,
            mult_arity=self.arity,
            seed=self.seed,
            dtype=str(self.dtype).replace("torch.", ""),
            grid_eps=self.grid_eps,
            grid_range=list(self.init_kwargs["grid_range"]),
            noise_scale=self.init_kwargs["noise_scale"],
            base_scale=self.init_kwargs["base_scale"],
        )

    # ------------------------------------------------------------------ forward
    def check_input(self, x, name: str = "x") -> torch.Tensor:
        """Validate and convert inputs to a ``(batch, width[0])`` tensor of this model's dtype."""
        x = torch.as_tensor(x, dtype=self.dtype, device=self.device)
        if x.ndim == 1 and self.width_in[0] == 1:
            x = x.unsqueeze(1)
        if x.ndim != 2 or x.shape[1] != self.width_in[0]:
            raise ValueError(
                f"{name} must have shape (n_rows, {self.width_in[0]}) for this model; got {tuple(x.shape)}"
            )
        if not torch.isfinite(x).all():
            bad = (~torch.isfinite(x)).any(1).nonzero().flatten()[:5].tolist()
            raise ValueError(f"{name} holds NaN or inf values (first rows: {bad}); drop or impute them first")
        return x

    def forward(self, x: torch.Tensor, return_edges: bool = False):
        """Evaluate the network.

        Parameters
        ----------
        x : Tensor, shape ``(batch, width[0])``
        return_edges : bool
            Also return the per-edge activations of every layer.

        Returns
        -------
        y : Tensor, shape ``(batch, width[-1])``
        edges : list of Tensor, shapes ``(batch, width_out[l+1], width_in[l])``
            Only when ``return_edges``.
        """
        edges = []
        for l, layer in enumerate(self.layers):
            if return_edges:
                x, e = layer(x, return_edges=True)
                edges.append(e)
            else:
                x = layer(x)
            x = self.topology.fold(l + 1, x)
        return (x, edges) if return_edges else x

    @torch.no_grad()
    def layer_inputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Input of every layer: list of ``(batch, width_in[l])`` for ``l = 0 … depth-1``."""
        outs = []
        for l, layer in enumerate(self.layers):
            outs.append(x)
            x = self.topology.fold(l + 1, layer(x))
        return outs

    @torch.no_grad()
    def edge_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Per-edge activations of every layer on ``x``: list of ``(batch, out, in)``."""
        return self.forward(self.check_input(x), return_edges=True)[1]

    @torch.no_grad()
    def predict(self, x) -> torch.Tensor:
        """Forward pass without gradients on validated input; ``(batch, width[-1])``."""
        return self.forward(self.check_input(x))

    # ------------------------------------------------------------------ grid
    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, layers: Optional[Sequence[int]] = None) -> None:
        """Move layers' grids to their inputs on ``x`` (training rows), keeping the curves.

        Parameters
        ----------
        x : Tensor, shape ``(batch, width[0])``
        layers : sequence of int, optional
            Which layers to update (all by default).
        """
        for l, layer in enumerate(self.layers):
            if layers is None or l in layers:
                layer.update_grid(x, self.grid_eps)
            x = self.topology.fold(l + 1, layer(x))

    @torch.no_grad()
    def refine(self, new_grid: int, x: Optional[torch.Tensor] = None) -> "KANNetwork":
        """Grid extension: a copy of this model on a finer grid with the same functions.

        The new knots contain the old ones (widest intervals are bisected), so on the grid's span the
        refined model reproduces this one to round-off.

        Parameters
        ----------
        new_grid : int
            New number of grid intervals (≥ the current one).
        x : Tensor, shape ``(batch, width[0])``, optional
            Training inputs, to cover the range the layers actually see; defaults to the inputs of
            the last :meth:`fit`.

        Returns
        -------
        KANNetwork
            Of the same class as this model.
        """
        if not isinstance(new_grid, int) or new_grid < self.grid:
            raise ValueError(f"new_grid must be an int >= the current grid ({self.grid}); got {new_grid!r}")
        x = self.inputs_or_train(x, "refine")
        new = self.copy()
        for l, layer in enumerate(new.layers):
            knots = refined_knots(layer.knots, layer.k, new_grid, x)
            lo, hi = knots[:, layer.k], knots[:, -layer.k - 1]
            dense = (
                lo + (hi - lo) * torch.linspace(0, 1, 8 * (new_grid + layer.k), dtype=x.dtype, device=x.device)[:, None]
            )
            layer.set_grid(knots, torch.cat([x, dense], dim=0))
            x = new.topology.fold(l + 1, layer(x))
        return new

    def inputs_or_train(self, x, what: str) -> torch.Tensor:
        """``x`` validated by :meth:`check_input`, or the inputs of the last :meth:`fit` when ``x`` is None.

        Parameters
        ----------
        x : array or Tensor, shape ``(batch, width[0])``, or None
        what : str
            Name of the calling method, for the error message.

        Returns
        -------
        Tensor, shape ``(batch, width[0])``
        """
        if x is None:
            if self.train_input_ is None:
                raise ValueError(
                    f"{what}() needs the training inputs: pass x=dataset['train_input'] or call fit() first"
                )
            return self.train_input_
        return self.check_input(x)

    # ------------------------------------------------------------------ copies and delegated stages
    def copy(self) -> "KANNetwork":
        """Deep copy (parameters, knots, masks and symbolic edges), of the same class as this model."""
        return copy.deepcopy(self)

    def fit(self, dataset: dict, **kwargs):
        """Train; see :func:`kandiscover.kan.training.fit` for the arguments. Returns a history."""
        return training.fit(self, dataset, **kwargs)

    def attribute(self, x=None):
        """Edge and node importance scores; see :func:`kandiscover.kan.pruning.attribute`."""
        return pruning.attribute(self, self.inputs_or_train(x, "attribute"))

    def prune(self, x=None, node_th: float = 1e-2, edge_th: float = 3e-2) -> "KANNetwork":
        """Drop unimportant edges and nodes; see :func:`kandiscover.kan.pruning.prune`.

        Returns a smaller copy of the same class as this model.
        """
        return pruning.prune(self, self.inputs_or_train(x, "prune"), node_th=node_th, edge_th=edge_th)

    def active_inputs(self) -> list[int]:
        """Indices of inputs that still have a live edge."""
        return [i for i in range(self.width_in[0]) if bool(self.layers[0].mask[:, i].any())]

    def extra_repr(self) -> str:
        return f"width={self.width}, grid={self.grid}, k={self.k}, dtype={self.dtype}"
