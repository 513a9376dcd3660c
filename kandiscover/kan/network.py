"""`KAN`: a stack of :class:`KANLayer` with optional multiplication nodes.

``width`` lists the nodes per layer. An entry is an int (sum nodes) or ``[n_sum, n_mult]``: the
layer then has ``n_sum`` sum nodes followed by ``n_mult`` multiplication nodes, each the product of
``arity`` sub-nodes (KAN 2.0). A layer's :class:`KANLayer` therefore outputs
``n_sum + Σ arity`` sub-nodes, which the multiplication step folds into ``n_sum + n_mult`` nodes.
"""
from __future__ import annotations

import logging
from typing import Optional, Sequence, Union

import torch
from torch import nn

from .layer import KANLayer
from .splines import extend_grid

log = logging.getLogger("kandiscover")

__all__ = ["KAN"]

WidthEntry = Union[int, Sequence[int]]


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
                f"mult_arity for width[{pos}] must give an int >= 2 for each of its {n_mult} multiplication nodes; got {a!r}"
            )
        arities.append(a)
    return arities


def _check_device(device) -> torch.device:
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but no CUDA GPU is available; use device='cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device='mps' was requested but MPS is not available; use device='cpu'")
    return dev


class KAN(nn.Module):
    """Kolmogorov–Arnold network.

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
        self.nodes = _parse_width(width)
        self.arity = _parse_arity(mult_arity, self.nodes)
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
                self.width_in[l], self.width_out[l + 1], grid, k,
                generator=gen, dtype=dtype, device=self.device, **self.init_kwargs,
            )
            for l in range(len(self.nodes) - 1)
        )
        self.train_input_: Optional[torch.Tensor] = None

    # ------------------------------------------------------------------ shape
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
            width=self.width, grid=self.grid, k=self.k, mult_arity=self.arity, seed=self.seed,
            dtype=str(self.dtype).replace("torch.", ""), grid_eps=self.grid_eps,
            grid_range=list(self.init_kwargs["grid_range"]), noise_scale=self.init_kwargs["noise_scale"],
            base_scale=self.init_kwargs["base_scale"],
        )

    # ------------------------------------------------------------------ forward
    def _multiply(self, x: torch.Tensor, l: int) -> torch.Tensor:
        """Fold sub-nodes of layer ``l`` into nodes: ``(B, width_out[l])`` → ``(B, width_in[l])``."""
        n_sum, _ = self.nodes[l]
        if not self.arity[l]:
            return x
        parts, pos = [x[:, :n_sum]], n_sum
        for a in self.arity[l]:
            parts.append(torch.prod(x[:, pos : pos + a], dim=1, keepdim=True))
            pos += a
        return torch.cat(parts, dim=1)

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
            x = self._multiply(x, l + 1)
        return (x, edges) if return_edges else x

    @torch.no_grad()
    def layer_inputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Input of every layer: list of ``(batch, width_in[l])`` for ``l = 0 … depth-1``."""
        outs = []
        for l, layer in enumerate(self.layers):
            outs.append(x)
            x = self._multiply(layer(x), l + 1)
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
            x = self._multiply(layer(x), l + 1)

    @torch.no_grad()
    def refine(self, new_grid: int, x: Optional[torch.Tensor] = None) -> "KAN":
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
        KAN
        """
        from .pruning import refined_knots  # local: keeps this module small

        if not isinstance(new_grid, int) or new_grid < self.grid:
            raise ValueError(f"new_grid must be an int >= the current grid ({self.grid}); got {new_grid!r}")
        x = self._data_or_train(x, "refine")
        new = self.copy()
        for l, layer in enumerate(new.layers):
            knots = refined_knots(layer.knots, layer.k, new_grid, x)
            lo, hi = knots[:, layer.k], knots[:, -layer.k - 1]
            dense = lo + (hi - lo) * torch.linspace(0, 1, 8 * (new_grid + layer.k), dtype=x.dtype, device=x.device)[:, None]
            layer.set_grid(knots, torch.cat([x, dense], dim=0))
            x = new._multiply(layer(x), l + 1)
        return new

    def _data_or_train(self, x, what: str) -> torch.Tensor:
        if x is None:
            if self.train_input_ is None:
                raise ValueError(f"{what}() needs the training inputs: pass x=dataset['train_input'] or call fit() first")
            return self.train_input_
        return self.check_input(x)

    # ------------------------------------------------------------------ copies and I/O
    def copy(self) -> "KAN":
        """Deep copy (parameters, knots, masks and symbolic edges)."""
        import copy as _copy

        return _copy.deepcopy(self)

    def save(self, path) -> None:
        """Write a checkpoint that loads without executing code (see :func:`kandiscover.kan.checkpoint.save`)."""
        from .checkpoint import save

        save(self, path)

    @classmethod
    def load(cls, path, lib=None) -> "KAN":
        """Read a checkpoint written by :meth:`save`; ``lib`` resolves custom symbolic functions."""
        from .checkpoint import load

        return load(path, lib=lib)

    # ------------------------------------------------------------------ delegated stages
    def fit(self, dataset: dict, **kwargs):
        """Train; see :func:`kandiscover.kan.training.fit` for the arguments. Returns a history."""
        from .training import fit

        return fit(self, dataset, **kwargs)

    def attribute(self, x=None):
        """Edge and node importance scores; see :func:`kandiscover.kan.pruning.attribute`."""
        from .pruning import attribute

        return attribute(self, self._data_or_train(x, "attribute"))

    def prune(self, x=None, node_th: float = 1e-2, edge_th: float = 3e-2) -> "KAN":
        """Drop unimportant edges and nodes; see :func:`kandiscover.kan.pruning.prune`."""
        from .pruning import prune

        return prune(self, self._data_or_train(x, "prune"), node_th=node_th, edge_th=edge_th)

    def active_inputs(self) -> list[int]:
        """Indices of inputs that still have a live edge."""
        return [i for i in range(self.width_in[0]) if bool(self.layers[0].mask[:, i].any())]

    def suggest_symbolic(self, l: int, i: int, j: int, x=None, **kwargs):
        """Ranked symbolic candidates for edge ``(l, i → j)``; see :mod:`kandiscover.symbolic.auto`."""
        from ..symbolic.auto import suggest_symbolic

        return suggest_symbolic(self, l, i, j, self._data_or_train(x, "suggest_symbolic"), **kwargs)

    def fix_symbolic(self, l: int, i: int, j: int, fun: str, x=None, **kwargs):
        """Fix edge ``(l, i → j)`` to a library function, fitting its affine parameters."""
        from ..symbolic.auto import fix_symbolic

        if kwargs.get("fit_params", True):
            x = self._data_or_train(x, "fix_symbolic")
        return fix_symbolic(self, l, i, j, fun, x, **kwargs)

    def auto_symbolic(self, x=None, **kwargs):
        """Fix every edge whose best fit is good enough; see :func:`kandiscover.symbolic.auto.auto_symbolic`."""
        from ..symbolic.auto import auto_symbolic

        return auto_symbolic(self, self._data_or_train(x, "auto_symbolic"), **kwargs)

    def symbolic_formula(self, var_names=None, **kwargs):
        """One sympy expression per output; see :func:`kandiscover.symbolic.assemble.symbolic_formula`."""
        from ..symbolic.assemble import symbolic_formula

        return symbolic_formula(self, var_names=var_names, **kwargs)

    def plot(self, **kwargs):
        """Figure of the network with each edge's curve; see :func:`kandiscover.plot.plot_kan`."""
        from ..plot import plot_kan

        return plot_kan(self, **kwargs)

    def extra_repr(self) -> str:
        return f"width={self.width}, grid={self.grid}, k={self.k}, dtype={self.dtype}"
