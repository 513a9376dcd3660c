"""One KAN layer: the features ``[silu(x), B-spline basis]`` once, then one matmul.

Every edge ``(o, i)`` computes ``mask·(w_b·silu(x_i) + w_s·spline_oi(x_i))`` while numeric, or
``c·f(a·x_i + b) + d`` once fixed to a symbolic primitive; node ``o`` sums its edges and adds a bias.
The per-edge tensor ``(batch, out, in)`` is only built when asked for (``return_edges=True``).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from .grid import extend_grid, grid_from_samples, uniform_grid
from .splines import bspline_basis, curve_to_coef, kan_features

__all__ = ["KANLayer", "SymbolicEdge"]


class SymbolicEdge:
    """What a layer needs to evaluate a fixed edge: a name and a training-safe torch function.

    Any object with ``name`` (str) and ``safe`` (callable on tensors, finite everywhere) works,
    e.g. a :class:`kandiscover.symbolic.Primitive`.
    """

    name: str
    safe: Callable[[torch.Tensor], torch.Tensor]


class KANLayer(nn.Module):
    """A layer of ``in_dim × out_dim`` learnable 1-D functions.

    Parameters
    ----------
    in_dim, out_dim : int
        Number of inputs and outputs.
    grid : int
        Number of grid intervals ``G``.
    k : int
        Spline degree.
    grid_range : tuple of float
        Initial interval of the grid (updated from data by :meth:`update_grid`).
    noise_scale : float
        Scale of the random initial spline coefficients.
    generator : torch.Generator, optional
        Source of randomness for the initialisation.

    Attributes
    ----------
    knots : Tensor, shape ``(in_dim, G + 2k + 1)``
        Extended knot vectors (buffer).
    coef : Parameter, shape ``(out_dim, in_dim, G + k)``
    scale_base, scale_sp : Parameter, shape ``(out_dim, in_dim)``
    bias : Parameter, shape ``(out_dim,)``
    mask : Tensor, shape ``(out_dim, in_dim)``
        1 for a live edge, 0 for a pruned one (buffer).
    sym_mask : Tensor, shape ``(out_dim, in_dim)``
        1 where the edge is fixed to a symbolic function (buffer).
    sym_affine : Parameter, shape ``(out_dim, in_dim, 4)``
        ``(a, b, c, d)`` of each symbolic edge ``c·f(a·x+b)+d``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        grid: int = 5,
        k: int = 3,
        *,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        noise_scale: float = 0.3,
        base_scale: float = 1.0,
        generator: Optional[torch.Generator] = None,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.k = in_dim, out_dim, k
        fk = dict(dtype=dtype, device=device)
        self.register_buffer("knots", extend_grid(uniform_grid(in_dim, grid, *grid_range, **fk), k))
        nb = grid + k

        def rand(*shape):
            return torch.rand(*shape, generator=generator, dtype=dtype).to(device)

        self.coef = nn.Parameter((rand(out_dim, in_dim, nb) - 0.5) * (noise_scale / grid))
        self.scale_base = nn.Parameter(base_scale * (2 * rand(out_dim, in_dim) - 1) / in_dim**0.5)
        self.scale_sp = nn.Parameter(torch.ones(out_dim, in_dim, **fk) / in_dim**0.5)
        self.bias = nn.Parameter(torch.zeros(out_dim, **fk))
        self.register_buffer("mask", torch.ones(out_dim, in_dim, **fk))
        self.register_buffer("sym_mask", torch.zeros(out_dim, in_dim, **fk))
        self.sym_affine = nn.Parameter(torch.tensor([1.0, 0.0, 1.0, 0.0], **fk).repeat(out_dim, in_dim, 1))
        self.sym_funs: dict[tuple[int, int], SymbolicEdge] = {}

    # ------------------------------------------------------------------ properties
    @property
    def grid_size(self) -> int:
        """Number of grid intervals ``G``."""
        return self.knots.shape[1] - 2 * self.k - 1

    @property
    def grid(self) -> torch.Tensor:
        """Interior grid points, shape ``(in_dim, G + 1)``."""
        return self.knots[:, self.k : self.knots.shape[1] - self.k]

    # ------------------------------------------------------------------ forward
    def _all_live(self) -> bool:
        """True when no edge is pruned or symbolic (then the weights need no masking).

        Cached on the identity, version counter and storage of ``mask`` and ``sym_mask``, so
        in-place edits (pruning, ``fix_symbolic``, ``load_state_dict``) and reassignment refresh it.
        """
        mask, sym = self.mask, self.sym_mask
        state = (mask._version, sym._version, mask.data_ptr(), sym.data_ptr())  # data_ptr: `.data =` swaps
        c = self.__dict__.get("_live_cache")
        if c is None or c[0] is not mask or c[1] is not sym or c[2] != state:
            live = bool((mask == 1).all()) and not bool(sym.any())
            c = self.__dict__["_live_cache"] = (mask, sym, state, live)
        return c[3]

    def _numeric_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked base and spline weights, shapes ``(out, in)`` and ``(out, in, G + k)``."""
        live = self.mask * (1 - self.sym_mask)
        return self.scale_base * live, self.coef * (self.scale_sp * live).unsqueeze(-1)

    def _feature_weights(self) -> torch.Tensor:
        """Weights of :func:`kan_features`, shape ``(out, in, G + k + 1)``: ``[..., 0]`` multiplies
        ``silu(x)``, ``[..., 1:]`` the basis; masked only when some edge is pruned or symbolic."""
        w = torch.cat([self.scale_base.unsqueeze(-1), self.coef * self.scale_sp.unsqueeze(-1)], dim=-1)
        if not self._all_live():
            w = w * (self.mask * (1 - self.sym_mask)).unsqueeze(-1)
        return w

    def _symbolic_edges(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Values of the fixed edges: ``(values (B, E), out index (E,), in index (E,))``."""
        keys = sorted(self.sym_funs)
        o = torch.tensor([key[0] for key in keys], device=x.device, dtype=torch.long)
        i = torch.tensor([key[1] for key in keys], device=x.device, dtype=torch.long)
        p = self.sym_affine[o, i]  # (E, 4)
        z = x[:, i] * p[:, 0] + p[:, 1]
        fz = torch.stack([self.sym_funs[key].safe(z[:, e]) for e, key in enumerate(keys)], dim=1)
        return fz * p[:, 2] + p[:, 3], o, i

    def forward(self, x: torch.Tensor, return_edges: bool = False):
        """Apply the layer.

        Parameters
        ----------
        x : Tensor, shape ``(batch, in_dim)``
        return_edges : bool
            Also return every edge's activation.

        Returns
        -------
        y : Tensor, shape ``(batch, out_dim)``
        edges : Tensor, shape ``(batch, out_dim, in_dim)``
            Only when ``return_edges`` is true.
        """
        feats = kan_features(x, self.knots, self.k)  # (B, in, 1 + nb): silu(x), then the basis
        if return_edges:
            w_b, w_s = self._numeric_weights()
            edges = feats[..., 0].unsqueeze(1) * w_b + torch.einsum("bik,oik->boi", feats[..., 1:], w_s)
            if self.sym_funs:
                vals, o, i = self._symbolic_edges(x)
                sym = torch.zeros_like(edges)
                sym[:, o, i] = vals
                edges = edges + sym * self.mask
            return edges.sum(-1) + self.bias, edges
        y = self.from_features(feats)
        if self.sym_funs:
            vals, o, i = self._symbolic_edges(x)
            y = y.index_add(1, o, vals * self.mask[o, i])
        return y

    def from_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The numeric edges' sum plus bias from :func:`kan_features` of the input, one matmul (the
        shape of ``nn.Linear(in·(G+k+1), out)``).

        Parameters
        ----------
        feats : Tensor, shape ``(batch, in_dim, G + k + 1)``

        Returns
        -------
        Tensor, shape ``(batch, out_dim)``
        """
        w = self._feature_weights()
        return torch.addmm(self.bias, feats.reshape(feats.shape[0], -1), w.reshape(self.out_dim, -1).T)

    def spline_edges(self, x: torch.Tensor) -> torch.Tensor:
        """Spline part only (no mask, base or symbolic branch), shape ``(batch, out, in)``."""
        return torch.einsum("bik,oik->boi", bspline_basis(x, self.knots, self.k), self.coef)

    # ------------------------------------------------------------------ grid
    @torch.no_grad()
    def update_grid(self, x: torch.Tensor, grid_eps: float = 0.02, margin: float = 0.0) -> None:
        """Move the grid to the distribution of ``x`` keeping every spline curve (least squares).

        Parameters
        ----------
        x : Tensor, shape ``(batch, in_dim)``
            Inputs of this layer on training rows.
        """
        y = self.spline_edges(x)
        knots = extend_grid(grid_from_samples(x, self.grid_size, grid_eps, margin), self.k)
        self.coef.data = curve_to_coef(x, y, knots, self.k)
        self.knots = knots

    @torch.no_grad()
    def set_grid(self, new_knots: torch.Tensor, x: torch.Tensor) -> None:
        """Replace the knots, refitting every spline on samples ``x`` (``(batch, in_dim)``)."""
        y = self.spline_edges(x)
        self.coef.data = curve_to_coef(x, y, new_knots, self.k, ridge=1e-14)
        self.knots = new_knots

    # ------------------------------------------------------------------ structure
    def subset(self, in_idx: list[int], out_idx: list[int]) -> "KANLayer":
        """A new layer holding only the given inputs and outputs (parameters copied)."""
        dt, dev = self.coef.dtype, self.coef.device
        new = KANLayer(len(in_idx), len(out_idx), self.grid_size, self.k, dtype=dt, device=dev)
        ii = torch.tensor(in_idx, dtype=torch.long, device=dev)
        oo = torch.tensor(out_idx, dtype=torch.long, device=dev)
        with torch.no_grad():
            new.knots = self.knots[ii].clone()
            for name in ("coef", "scale_base", "scale_sp", "sym_affine"):
                getattr(new, name).data = getattr(self, name).data[oo][:, ii].clone()
            new.bias.data = self.bias.data[oo].clone()
            new.mask = self.mask[oo][:, ii].clone()
            new.sym_mask = self.sym_mask[oo][:, ii].clone()
        pos_in = {v: n for n, v in enumerate(in_idx)}
        pos_out = {v: n for n, v in enumerate(out_idx)}
        new.sym_funs = {
            (pos_out[o], pos_in[i]): f for (o, i), f in self.sym_funs.items() if o in pos_out and i in pos_in
        }
        return new

    def fix_symbolic(self, o: int, i: int, fun: SymbolicEdge, affine: tuple[float, float, float, float]) -> None:
        """Fix edge ``(o, i)`` to ``c·fun(a·x+b)+d`` with ``affine = (a, b, c, d)``."""
        with torch.no_grad():
            self.sym_affine[o, i] = torch.tensor(affine, dtype=self.sym_affine.dtype)
            self.sym_mask[o, i] = 1.0
        self.sym_funs[(o, i)] = fun

    def unfix_symbolic(self, o: int, i: int) -> None:
        """Return edge ``(o, i)`` to its numeric (spline) form."""
        self.sym_funs.pop((o, i), None)
        self.sym_mask[o, i] = 0.0

    def remove_edge(self, o: int, i: int) -> None:
        """Mask edge ``(o, i)`` out (callers fold its mean into the bias first)."""
        self.mask[o, i] = 0.0
        self.unfix_symbolic(o, i)
