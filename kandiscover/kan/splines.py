"""B-spline primitives: pure functions on tensors (the eager fast path of :mod:`.local_basis`
only keeps reusable scratch buffers and per-knots lookup tables).

Grids and knot vectors (their shapes and how they are built) live in :mod:`.grid`.
"""

from __future__ import annotations

import torch

from .grid import extend_grid
from .local_basis import local_basis, scratch_buffer

__all__ = ["bspline_basis", "kan_features", "spline_eval", "curve_to_coef", "basis_levels", "basis_derivative"]


def basis_levels(
    x: torch.Tensor, knots: torch.Tensor, k: int, lower_too: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bases of degree ``k`` and ``k − 1`` (the latter ``None`` for ``k = 0`` or when not
    ``lower_too``), no autograd.

    Only the ``k + 1`` basis functions that are non-zero at each sample are computed (de Boor's
    local recursion on the knot interval of the sample) and then scattered into the dense
    ``(batch, n_in, n_basis)`` tensor: far fewer operations than the full Cox–de Boor triangle.
    """
    B, n_in = x.shape
    nk = knots.shape[1]
    j = (x.unsqueeze(-1) >= knots).sum(-1) - 1  # t_j <= x < t_{j+1} (knots increase along a row)
    inside = ((j >= 0) & (j <= nk - 2)).to(x.dtype)
    j = j.clamp(0, nk - 2)
    ext = extend_grid(knots, k)  # (in, nk + 2k): a safe neighbourhood at both ends
    offs = torch.arange(-k + 1, k + 1, device=x.device) + k  # t_{j-k+1} … t_{j+k} in ext
    T = ext.unsqueeze(0).expand(B, -1, -1).gather(2, j.unsqueeze(-1) + offs)  # (B, in, 2k)
    left = [None] + [x - T[..., k - r] for r in range(1, k + 1)]
    right = [None] + [T[..., k - 1 + r] - x for r in range(1, k + 1)]
    level = [torch.ones_like(x)]
    lower = None
    for d in range(1, k + 1):
        saved = torch.zeros_like(x)
        new = []
        for r in range(d):
            temp = level[r] / (right[r + 1] + left[d - r])
            new.append(saved + right[r + 1] * temp)
            saved = left[d - r] * temp
        new.append(saved)
        if d == k:
            lower = level
        level = new

    def dense(vals, deg):
        nb = nk - deg - 1
        idx = j.unsqueeze(-1) + torch.arange(len(vals), device=x.device) - deg  # basis j - deg + r
        valid = (idx >= 0) & (idx < nb)
        src = torch.stack(vals, -1) * (inside.unsqueeze(-1) * valid)
        # out of range positions add zeros at a clamped index: no collision can change a value
        return torch.zeros(B, n_in, nb, dtype=x.dtype, device=x.device).scatter_add(2, idx.clamp(0, nb - 1), src)

    return dense(level, k), (dense(lower, k - 1) if lower is not None and lower_too else None)


def basis_derivative(lower: torch.Tensor, knots: torch.Tensor, k: int) -> torch.Tensor:
    """``dN_{i,k}/dx = c_i N_{i,k-1} − c_{i+1} N_{i+1,k-1}`` with ``c_i = k / (t_{i+k} − t_i)``."""
    nk = knots.shape[1]
    cn = lower * (k / (knots[:, k:] - knots[:, : nk - k]))
    return cn[..., :-1] - cn[..., 1:]


_transforms_active = getattr(torch._C, "_are_functorch_transforms_active", None)


def _eager() -> bool:
    """No ``torch.func`` transform (``vmap``, ``grad``, …) is active (if torch cannot tell: False,
    and the branch-free path runs)."""
    return _transforms_active is not None and not _transforms_active()


def _dsilu(x: torch.Tensor) -> torch.Tensor:
    """``d silu(x)/dx = σ(x)·(1 + x·(1 − σ(x)))`` (differentiable)."""
    sig = torch.sigmoid(x)
    return sig * (1 + x * (1 - sig))


class _Basis(torch.autograd.Function):
    """B-spline basis (optionally after a ``silu(x)`` column) with an analytic derivative in ``x``:
    differentiable to any order and usable under ``torch.func`` transforms.

    Eagerly (no ``torch.func`` transform active) the fast path :func:`.local_basis.local_basis`
    runs, and the backward only gathers the ``k + 1`` non-zero entries of the incoming gradient per
    sample. Under a transform the branch-free dense recursion :func:`basis_levels` runs (``vmap``
    forbids data-dependent shortcuts). A double backward rebuilds the degree ``k − 1`` basis
    differentiably.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x, knots, k, need_grad, with_base):
        if k > 0 and knots.shape[1] >= 2 * k + 2 and x.dim() == 2 and _eager():
            return local_basis(x, knots, k, need_grad, with_base)
        basis, lower = basis_levels(x, knots, k, need_grad)
        if with_base:
            basis = torch.cat([torch.nn.functional.silu(x).unsqueeze(-1), basis], dim=-1)
        empty = torch.zeros(0, dtype=torch.int64, device=x.device)
        return basis, (lower if lower is not None else x.new_zeros(0)), empty

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, knots, k, _, with_base = inputs
        basis, aux, index = output
        ctx.k, ctx.with_base = k, with_base
        ctx.save_for_backward(x, knots, aux, index)
        ctx.mark_non_differentiable(aux, index)

    @staticmethod
    def backward(ctx, grad, _grad_aux, _grad_index):
        x, knots, aux, index = ctx.saved_tensors
        k, with_base = ctx.k, ctx.with_base
        none = (None, None, None, None)
        grad_sp = grad[..., 1:] if with_base else grad
        if k == 0:
            gx = torch.zeros_like(x)
        elif torch.is_grad_enabled() or aux.numel() == 0:  # double backward, or not kept: rebuild
            gx = (grad_sp * basis_derivative(bspline_basis(x, knots, k - 1), knots, k)).sum(-1)
        elif index.numel():  # local path: aux = dN/dx of the k + 1 local values, (k + 1, B, in)
            local = scratch_buffer("grad_local", index.numel(), grad.dtype, grad.device)
            local = torch.index_select(grad.reshape(-1), 0, index, out=local).view_as(aux)
            gx = local.mul_(aux).sum(0).view_as(x)
        else:  # dense path: aux = degree k - 1 basis
            gx = (grad_sp * basis_derivative(aux, knots, k)).sum(-1)
        if with_base:
            gx = gx + grad[..., 0] * _dsilu(x)
        return (gx,) + none


def bspline_basis(x: torch.Tensor, knots: torch.Tensor, k: int) -> torch.Tensor:
    """B-spline basis functions of degree ``k`` by the Cox–de Boor recursion.

    Written as ``N_{i,d} = ω_{i,d} N_{i,d-1} + (1 − ω_{i+1,d}) N_{i+1,d-1}`` with
    ``ω_{i,d} = (x − t_i) / (t_{i+d} − t_i)``; the gradient in ``x`` is analytic (no autograd
    graph through the recursion), and higher derivatives work too. Only the ``k + 1`` functions
    that are non-zero at a sample are evaluated (see :mod:`.local_basis`).

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``
    knots : Tensor, shape ``(n_in, n_knots)``
        Extended knot vectors (see :func:`extend_grid`), ``n_knots = G + 2k + 1``.
    k : int
        Degree (3 = cubic).

    Returns
    -------
    Tensor, shape ``(batch, n_in, n_knots - k - 1)``
        Value of every basis function at every sample. Intervals are half-open ``[t_j, t_{j+1})``,
        as in ``scipy.interpolate.BSpline``; outside ``[t_0, t_last)`` every basis is zero.
    """
    # the derivative data (for the analytic gradient) is only built when x needs a gradient
    return _Basis.apply(x, knots, k, bool(x.requires_grad), False)[0]


def kan_features(x: torch.Tensor, knots: torch.Tensor, k: int) -> torch.Tensor:
    """``silu(x)`` followed by the B-spline basis, per input: the features one KAN layer multiplies
    by its weights in a single matmul.

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``
    knots : Tensor, shape ``(n_in, n_knots)``
    k : int

    Returns
    -------
    Tensor, shape ``(batch, n_in, n_knots - k)``
        ``[..., 0] = silu(x)``, ``[..., 1:] = bspline_basis(x, knots, k)``.
    """
    return _Basis.apply(x, knots, k, bool(x.requires_grad), True)[0]


def spline_eval(x: torch.Tensor, knots: torch.Tensor, coef: torch.Tensor, k: int) -> torch.Tensor:
    """Per-edge spline values.

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``
    knots : Tensor, shape ``(n_in, G + 2k + 1)``
    coef : Tensor, shape ``(n_out, n_in, G + k)``

    Returns
    -------
    Tensor, shape ``(batch, n_out, n_in)``
    """
    return torch.einsum("bik,oik->boi", bspline_basis(x, knots, k), coef)


def curve_to_coef(x: torch.Tensor, y: torch.Tensor, knots: torch.Tensor, k: int, ridge: float = 1e-10) -> torch.Tensor:
    """Least-squares spline coefficients that reproduce sampled curves.

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``
        Sample positions per input.
    y : Tensor, shape ``(batch, n_out, n_in)``
        Curve values of every edge at those positions.
    knots : Tensor, shape ``(n_in, n_knots)``
    ridge : float
        Tikhonov weight relative to the mean diagonal of the normal matrix; keeps basis functions
        with no samples in their support at zero instead of making the system singular.

    Returns
    -------
    Tensor, shape ``(n_out, n_in, n_knots - k - 1)``
    """
    basis = bspline_basis(x, knots, k).permute(1, 0, 2)  # (in, B, nb)
    rhs = y.permute(2, 0, 1)  # (in, B, out)
    gram = basis.transpose(1, 2) @ basis  # (in, nb, nb)
    scale = gram.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(1e-300)
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    gram = gram + ridge * scale[:, None, None] * eye
    coef = torch.linalg.solve(gram, basis.transpose(1, 2) @ rhs)  # (in, nb, out)
    return coef.permute(2, 0, 1).contiguous()
