"""Levenberg–Marquardt for small KANs (least squares on the mean squared error).

A KAN of a few hundred to a few thousand parameters is a small nonlinear least-squares problem;
damped Gauss–Newton steps with the exact per-row Jacobian converge in far fewer evaluations than
LBFGS. The Jacobian is assembled from the layer structure (one backward pass per output, see
``LevenbergMarquardt._jacobian_numeric_edges``) while every edge is a spline, and comes from
``torch.func`` (``vmap`` over rows of ``jacrev``) once some edge is symbolic.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch.func import functional_call, jacrev, vmap

from .splines import kan_features

__all__ = ["LevenbergMarquardt", "MAX_LM_PARAMS"]

MAX_LM_PARAMS = 4000
"""Above this many trainable parameters the normal equations get too costly; use LBFGS."""


class LevenbergMarquardt:
    """Damped Gauss–Newton optimiser bound to one model.

    Parameters
    ----------
    model : KAN
    damping : float
        Initial damping relative to the largest diagonal entry of ``JᵀJ``.
    chunk_rows : int
        Rows per ``vmap`` chunk when building the Jacobian (bounds memory).
    """

    def __init__(self, model, damping: float = 1e-3, chunk_rows: int = 2048) -> None:
        self.model = model
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.params = [p for n, p in model.named_parameters() if p.requires_grad]
        n_par = sum(p.numel() for p in self.params)
        if n_par > MAX_LM_PARAMS:
            raise ValueError(
                f"opt='LM' handles up to {MAX_LM_PARAMS} trainable parameters; this model has {n_par}. "
                "Use opt='LBFGS' or 'Adam'."
            )
        self.rel_damping = damping
        self.lam: Optional[float] = None
        self.chunk_rows = chunk_rows

    def _jacobian(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch · out, P)`` Jacobian of the outputs in the flattened trainable parameters."""
        if not any(layer.sym_funs for layer in self.model.layers):
            return self._jacobian_numeric_edges(x)
        return self._jacobian_vmap(x)

    def _jacobian_numeric_edges(self, x: torch.Tensor) -> torch.Tensor:
        """The Jacobian from the layer structure, when every edge is numeric (a spline).

        Layer ``l`` computes ``z = bias + F·Wᵀ`` from its features ``F`` (``silu`` and basis of its
        input) and ``W = [w_b, w_s·coef]``, so the row ``b`` derivative in ``W[o, i, :]`` is
        ``g_b[o]·F_b[i, :]`` with ``g = ∂y/∂z``. Rows do not interact, so one backward pass of
        ``Σ_b y_b[o]`` per output gives ``g`` for every row and layer at once — the per-row
        ``vmap(jacrev)`` costs several times more.
        """
        model = self.model
        with torch.enable_grad():
            h = x.detach()
            feats, zs = [], []
            for l, layer in enumerate(model.layers):
                feats.append(kan_features(h, layer.knots, layer.k))  # (B, in, 1 + nb)
                zs.append(layer.from_features(feats[-1]))
                h = model.topology.fold(l + 1, zs[-1])
            out = h.shape[1]
            per_output = [
                torch.autograd.grad(h[:, o].sum(), zs, retain_graph=o < out - 1, allow_unused=True) for o in range(out)
            ]
        rows = x.shape[0] * out

        @torch.no_grad()
        def block(name: str) -> torch.Tensor:
            _, l, kind = name.split(".")
            layer, F = model.layers[int(l)], feats[int(l)].detach()
            g = torch.stack(
                [torch.zeros_like(zs[int(l)]) if gg[int(l)] is None else gg[int(l)] for gg in per_output], 1
            )
            live = layer.mask * (1 - layer.sym_mask)  # (out_l, in)
            if kind == "bias":
                d = g
            elif kind == "scale_base":
                d = g[..., None] * (F[:, None, None, :, 0] * live)
            elif kind == "scale_sp":
                spline = torch.einsum("bik,oik->boi", F[..., 1:], layer.coef)  # (B, out_l, in)
                d = g[..., None] * (spline[:, None] * live)
            elif kind == "coef":
                d = g[..., None, None] * (F[:, None, None, :, 1:] * (layer.scale_sp * live)[..., None])
            else:  # sym_affine: no symbolic edge, no effect
                d = g.new_zeros(x.shape[0], out, getattr(layer, kind).numel())
            return d.reshape(rows, -1)

        return torch.cat([block(name) for name in self.names], dim=1)

    def _jacobian_vmap(self, x: torch.Tensor) -> torch.Tensor:
        """The Jacobian by ``vmap`` over rows of ``jacrev`` (any model, symbolic edges included)."""
        model = self.model
        params = {n: p.detach() for n, p in zip(self.names, self.params)}
        frozen = {n: p.detach() for n, p in model.named_parameters() if n not in params}
        buffers = dict(model.named_buffers())

        def row(p, xr):
            return functional_call(model, ({**p, **frozen}, buffers), (xr.unsqueeze(0),))[0]

        jac = vmap(jacrev(row), in_dims=(None, 0), chunk_size=self.chunk_rows)(params, x)
        b, out = x.shape[0], model.width_in[-1]
        return torch.cat([jac[n].reshape(b * out, -1) for n in self.names], dim=1)

    def _get(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def _set(self, vec: torch.Tensor) -> None:
        pos = 0
        with torch.no_grad():
            for p in self.params:
                p.copy_(vec[pos : pos + p.numel()].view_as(p))
                pos += p.numel()

    @torch.no_grad()
    def _sse(self, x: torch.Tensor, y: torch.Tensor) -> float:
        return float(((self.model(x) - y) ** 2).sum())

    def step(self, x: torch.Tensor, y: torch.Tensor, max_tries: int = 10) -> float:
        """One accepted damped Gauss–Newton update (or none after ``max_tries`` rejections).

        Parameters
        ----------
        x : Tensor, shape ``(batch, in)``
        y : Tensor, shape ``(batch, out)``

        Returns
        -------
        float
            Mean squared error after the step.
        """
        p0 = self._get()
        with torch.no_grad():
            r = (y - self.model(x)).reshape(-1)
        sse0 = float((r**2).sum())
        jac = self._jacobian(x)
        active = jac.abs().amax(0) > 0
        jac = jac[:, active]
        a = jac.T @ jac
        g = jac.T @ r
        diag = a.diagonal().clone()
        diag = diag.clamp_min(1e-12 * float(diag.max()) + 1e-300)
        if self.lam is None:
            self.lam = self.rel_damping
        eye = torch.diag(diag)
        for _ in range(max_tries):
            chol, info = torch.linalg.cholesky_ex(a + self.lam * eye)
            if int(info) == 0:
                delta = torch.cholesky_solve(g.unsqueeze(1), chol).squeeze(1)
                trial = p0.clone()
                trial[active] += delta
                self._set(trial)
                sse = self._sse(x, y)
                if sse < sse0:
                    self.lam = max(self.lam / 3.0, 1e-12)
                    return sse / r.numel()
            self.lam = min(self.lam * 4.0, 1e12)
        self._set(p0)
        return sse0 / r.numel()

    def reset(self) -> None:
        """Forget the damping (after a grid update changed the problem)."""
        self.lam = None
