"""Grids and knot vectors of B-splines: uniform, from samples, subdivided, extended, refined.

Conventions
-----------
A *grid* for ``n_in`` inputs is a tensor of shape ``(n_in, G + 1)`` holding the interior knots
(the grid points) of each input, increasing along the last axis. The *extended* knot vector adds
``k`` knots on each side with the end spacing, giving ``(n_in, G + 2k + 1)`` knots and ``G + k``
basis functions of degree ``k`` per input.
"""

from __future__ import annotations

import torch

__all__ = ["uniform_grid", "extend_grid", "grid_from_samples", "subdivide_grid", "refined_knots"]


def uniform_grid(n_in: int, num: int, lo: float = -1.0, hi: float = 1.0, *, dtype=None, device=None) -> torch.Tensor:
    """Uniform grid of ``num`` intervals on ``[lo, hi]``, shape ``(n_in, num + 1)``."""
    g = torch.linspace(lo, hi, num + 1, dtype=dtype, device=device)
    return g.unsqueeze(0).repeat(n_in, 1)


def extend_grid(grid: torch.Tensor, k: int) -> torch.Tensor:
    """Add ``k`` knots on each side of ``grid`` (``(n_in, G+1)`` → ``(n_in, G+2k+1)``).

    The added knots continue the spacing of the first and last interval of each row.
    """
    if k == 0:
        return grid
    steps = torch.arange(1, k + 1, dtype=grid.dtype, device=grid.device)
    h_lo = (grid[:, 1] - grid[:, 0]).unsqueeze(1)
    h_hi = (grid[:, -1] - grid[:, -2]).unsqueeze(1)
    left = grid[:, :1] - h_lo * steps.flip(0)
    right = grid[:, -1:] + h_hi * steps
    return torch.cat([left, grid, right], dim=1)


def grid_from_samples(x: torch.Tensor, num: int, grid_eps: float = 0.02, margin: float = 0.0) -> torch.Tensor:
    """Grid that follows the distribution of samples.

    A blend ``grid_eps · uniform + (1 − grid_eps) · quantile`` of a uniform grid on the sample range
    and a grid at sample quantiles (as in the KAN paper).

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``
    num : int
        Number of intervals ``G``.

    Returns
    -------
    Tensor, shape ``(n_in, num + 1)``
    """
    xs = torch.sort(x, dim=0).values  # (B, in)
    lo, hi = xs[0], xs[-1]
    span = (hi - lo).clamp_min(1e-4)
    lo = lo - margin * span
    hi = hi + margin * span
    # a degenerate (near-constant) input still needs an increasing grid
    mid = 0.5 * (lo + hi)
    half = torch.maximum(0.5 * (hi - lo), torch.full_like(lo, 1e-4))
    lo, hi = mid - half, mid + half
    frac = torch.linspace(0, 1, num + 1, dtype=x.dtype, device=x.device)
    uniform = lo.unsqueeze(1) + (hi - lo).unsqueeze(1) * frac  # (in, G+1)
    q = torch.quantile(x.T, frac.to(x.dtype), dim=1).T if x.shape[0] > 1 else uniform
    q = q.clone()
    q[:, 0], q[:, -1] = lo, hi
    grid = grid_eps * uniform + (1 - grid_eps) * q
    # strictly increasing knots on exactly [lo, hi], even where quantiles tie
    gaps = torch.diff(grid, dim=1).clamp_min(0) + 1e-3 * (hi - lo).unsqueeze(1) / num
    grid = lo.unsqueeze(1) + (hi - lo).unsqueeze(1) * torch.cat(
        [torch.zeros_like(gaps[:, :1]), torch.cumsum(gaps, dim=1) / gaps.sum(1, keepdim=True)], dim=1
    )
    return grid


def subdivide_grid(grid: torch.Tensor, num: int) -> torch.Tensor:
    """Re-sample a grid to ``num`` intervals by piecewise-linear interpolation of its knots.

    When ``num`` is a multiple of the old ``G`` the new knots contain the old ones, so every old
    spline is exactly representable on the new grid (grid extension without loss).

    Parameters
    ----------
    grid : Tensor, shape ``(n_in, G + 1)``

    Returns
    -------
    Tensor, shape ``(n_in, num + 1)``
    """
    old = grid.shape[1] - 1
    pos = torch.linspace(0, old, num + 1, dtype=grid.dtype, device=grid.device)
    idx = pos.floor().long().clamp(max=old - 1)
    frac = (pos - idx.to(grid.dtype)).unsqueeze(0)
    return grid[:, idx] * (1 - frac) + grid[:, idx + 1] * frac


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
