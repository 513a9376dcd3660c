"""Fast eager B-spline basis: only the ``k + 1`` non-zero values per sample, then one scatter.

Used by :func:`kandiscover.kan.splines.bspline_basis` and :func:`kan_features` outside
``torch.func`` transforms (the shortcuts here branch on data, which ``vmap`` forbids); under a
transform the branch-free dense recursion of :mod:`.splines` runs instead. Both give the same
basis (to rounding).

Two ways to get the local values ``N_{j−k+r}(x)``, ``r = 0..k``, on the knot interval
``[t_j, t_{j+1})`` of each sample:

* uniform grid (every fresh layer; ``k >= 2``): fixed polynomials of ``f = (x − t_j)/h``,
  one ``(k+1) × (k+1)`` matmul, no knot look-ups;
* any grid: ``j`` by comparing with every knot (few samples) or from a per-input table of bins
  checked and corrected against the knots (many), then de Boor's recursion on all ``k + 1``
  values at once.

Large tensors come from a small per-thread pool of reusable CPU buffers (:func:`scratch_buffer`): at
1024 × 64 inputs the page faults of fresh multi-megabyte tensors cost as much as the basis itself.
"""

from __future__ import annotations

import functools
import threading
import weakref
from fractions import Fraction

import torch

from .grid import extend_grid

__all__ = ["local_basis", "clear_workspace", "scratch_buffer", "DIRECT_LOCATE_LIMIT"]


def _locate(x: torch.Tensor, knots: torch.Tensor, ext_flat: torch.Tensor, k: int):
    """Knot interval of every sample and the ``2k`` knots around it (eager mode only).

    Few samples: count the knots ``<= x``. Many: look the interval up in a per-input table of
    ``16·(nk − 1)`` equal bins over ``[t_0, t_last]`` (built once per knots tensor), then step
    ``j`` up or down until ``t_j <= x < t_{j+1}`` holds for every sample (one check on a uniform
    grid; a few steps where several knots share a bin).

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``, contiguous
    knots : Tensor, shape ``(n_in, nk)``
    ext_flat : Tensor, shape ``(n_in · (nk + 2k),)``
        ``extend_grid(knots, k)`` flattened: a safe neighbourhood at both ends.

    Returns
    -------
    j : Tensor, shape ``(batch, n_in)``, int32
        Interval index clamped to ``[0, nk − 2]``.
    T : Tensor, shape ``(2k, batch, n_in)``
        ``T[c] = t_{j−k+1+c}`` (from the extended knots).
    exact : bool
        True when every sample satisfies ``t_j <= x < t_{j+1}`` (so lies inside the knots).
    """
    B, n_in = x.shape
    nk = knots.shape[1]
    nseg = nk - 1
    ne = ext_flat.shape[0] // n_in
    rows = torch.arange(1, n_in * ne, ne, dtype=torch.int32, device=x.device)  # ext index of T_0 at j = 0
    cols = torch.arange(2 * k, dtype=torch.int32, device=x.device).unsqueeze(1)

    def window(j):
        index = scratch_buffer("window_index", 2 * k * B * n_in, torch.int32, x.device).view(2 * k, -1)
        torch.add((j + rows).view(1, -1), cols, out=index)
        out = scratch_buffer("window", 2 * k * B * n_in, ext_flat.dtype, x.device)
        return torch.index_select(ext_flat, 0, index.view(-1), out=out).view(2 * k, B, n_in)

    if B * n_in * nk <= DIRECT_LOCATE_LIMIT:  # few samples: one comparison with every knot costs fewest ops
        j = ((x.unsqueeze(-1) >= knots).sum(-1, dtype=torch.int32) - 1).clamp_(0, nseg - 1)
        return j, window(j), False
    lo, scale, table = _bin_table(knots)
    n_bins = table.shape[0] // n_in
    bins = ((x - lo) * scale).clamp_(0, n_bins - 1).to(torch.int32).clamp_(0, n_bins - 1)  # NaN: any bin
    bins += torch.arange(0, n_in * n_bins, n_bins, dtype=torch.int32, device=x.device)
    j = table.index_select(0, bins.view(-1)).view(B, n_in)
    flat = ext_flat.view(n_in, ne)[:, k : k + nk].reshape(-1)  # the knots themselves, flat
    starts = torch.arange(0, n_in * nk, nk, dtype=torch.int32, device=x.device)
    # the checks run on 0/1 floats: comparisons into float outputs and float sums are several
    # times faster than boolean tensors here
    jf = j.to(x.dtype)
    up, down, at = torch.empty_like(x), torch.empty_like(x), torch.empty_like(j)
    for _ in range(nseg):
        torch.add(j, starts, out=at)
        torch.lt(x, flat.index_select(0, at.view(-1)).view(B, n_in), out=down)  # x < t_j
        torch.ge(x, flat.index_select(0, at.add_(1).view(-1)).view(B, n_in), out=up)  # x >= t_{j+1}
        if float(up.sum()) + float(down.sum()) == 0:
            return j, window(j), True
        moved = jf + up - down
        moved.clamp_(0, nseg - 1)
        if float((moved - jf).abs_().sum()) == 0:  # only samples outside the knots are left
            break
        jf = moved
        j = jf.to(torch.int32)
    return j, window(j), False


def _bin_table(knots: torch.Tensor):
    """Per-input interval lookup for :func:`_locate`, remembered with the knots.

    Returns
    -------
    lo, scale : Tensor, shape ``(n_in,)``
        Bin of ``x`` is ``floor((x − lo)·scale)``.
    table : Tensor, shape ``(n_in · n_bins,)``, int32
        Interval index of the left edge of every bin.
    """
    info = _knots_info(knots)
    hit = info.get("bins")
    if hit is None:
        n_in, nk = knots.shape
        n_bins = 16 * (nk - 1)
        lo, hi = knots[:, 0], knots[:, -1]
        frac = torch.arange(n_bins, dtype=knots.dtype, device=knots.device) / n_bins
        edges = lo.unsqueeze(1) + (hi - lo).unsqueeze(1) * frac
        table = (torch.searchsorted(knots.contiguous(), edges.contiguous(), right=True) - 1).clamp_(0, nk - 2)
        hit = info["bins"] = (lo.clone(), n_bins / (hi - lo), table.to(torch.int32).reshape(-1))
    return hit


DIRECT_LOCATE_LIMIT = 1 << 18
"""Up to this many sample-knot pairs :func:`_locate` compares every sample with every knot."""


class _Workspace(threading.local):
    """Per-thread reusable CPU buffers for the large tensors of the eager basis.

    A fresh multi-megabyte tensor costs a page fault per 4 KiB page on first touch (the C
    allocator hands large blocks back to the kernel when they are freed), which at 1024 × 64
    inputs is as slow as computing the basis. A buffer is reused only when no other tensor shares
    its storage (the storage use count is back to that of a lone tensor): the autograd graph that
    saved the previous basis has been freed, and nobody kept a view of it.
    """

    MAX_PER_KEY = 4

    def __init__(self) -> None:
        self.buffers: dict[tuple, list[torch.Tensor]] = {}


_WORKSPACE = _Workspace()


def _storage_refs(t: torch.Tensor) -> int:
    """Number of references to the storage of ``t`` (private torch API; the storage object
    asked for the count holds one of them)."""
    storage = t.untyped_storage()
    return torch._C._storage_Use_Count(storage._cdata)


try:
    _LONE_TENSOR = torch.empty(1)
    _LONE = _storage_refs(_LONE_TENSOR)  # a tensor nothing else refers to
    _REUSE = _LONE >= 1 and _storage_refs(_LONE_TENSOR[:1]) == _LONE + 1
except (AttributeError, RuntimeError):  # pragma: no cover - private API gone: never reuse
    _REUSE = False


def scratch_buffer(role: str, numel: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A 1-D tensor of ``numel`` elements (contents undefined), reused across calls on CPU."""
    if not _REUSE or device.type != "cpu" or numel < (1 << 16):
        return torch.empty(numel, dtype=dtype, device=device)
    key = (role, dtype, torch.is_inference_mode_enabled())
    pool = _WORKSPACE.buffers.setdefault(key, [])
    for buf in pool:
        if buf.numel() >= numel and _storage_refs(buf) == _LONE:
            return buf[:numel]
    buf = torch.empty(numel, dtype=dtype, device=device)
    pool.append(buf)
    if len(pool) > _Workspace.MAX_PER_KEY:
        pool.pop(0)
    return buf[:numel]


def clear_workspace() -> None:
    """Drop the reusable buffers of the calling thread (see :class:`_Workspace`)."""
    _WORKSPACE.buffers.clear()


@functools.lru_cache(maxsize=None)
def _uniform_matrices(k: int) -> tuple[tuple[tuple[float, ...], ...], tuple[tuple[float, ...], ...]]:
    """Power-basis coefficients of the uniform B-spline pieces of degree ``k``.

    On the interval ``[t_j, t_{j+1})`` of a uniform grid with ``f = (x − t_j)/h``,
    ``N_{j−k+r}(x) = Σ_p M[r][p] f^p`` and ``h · dN_{j−k+r}/dx = Σ_p Md[r][p] f^p``
    (exact rationals: de Boor's recursion run on polynomials with integer knots).

    Returns
    -------
    M, Md : tuple of tuple of float, shape ``(k + 1, k + 1)``
    """
    T = [Fraction(c - k + 1) for c in range(2 * k)]  # T_c = t_{j-k+1+c} with t_j = 0, h = 1
    level = [[Fraction(1)]]
    for d in range(1, k + 1):
        new = [[Fraction(0)] * (d + 1) for _ in range(d + 1)]
        for r in range(d):
            temp = [c / (T[k + r] - T[k - d + r]) for c in level[r]]
            for p, c in enumerate(temp):  # (T_{k+r} − f)·temp and (f − T_{k−d+r})·temp
                new[r][p] += T[k + r] * c
                new[r][p + 1] -= c
                new[r + 1][p] -= T[k - d + r] * c
                new[r + 1][p + 1] += c
        level = new
    M = tuple(tuple(float(c) for c in row) for row in level)
    Md = tuple(tuple(float((p + 1) * row[p + 1]) for p in range(k)) + (0.0,) for row in level)
    return M, Md


@functools.lru_cache(maxsize=64)
def _matrix(rows: tuple, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.tensor(rows, dtype=dtype, device=device)


def _as_tensor(rows: tuple, like: torch.Tensor) -> torch.Tensor:
    """``rows`` as a (cached, never modified) tensor of the dtype and device of ``like``."""
    return _matrix(rows, like.dtype, like.device)


_KNOTS_CACHE: dict[int, tuple] = {}


def _knots_info(knots: torch.Tensor) -> dict:
    """Facts about a knots tensor, remembered per tensor (keyed on its identity, version counter
    and storage, so in-place edits and new tensors are looked at afresh): ``"uniform"`` and, once
    asked for, ``("ext", k)`` (see :func:`_extended`) and ``"bins"`` (see :func:`_bin_table`)."""
    state = (knots._version, knots.data_ptr())  # data_ptr: an assignment to `.data` swaps storage
    hit = _KNOTS_CACHE.get(id(knots))
    if hit is not None and hit[0]() is knots and hit[1] == state:
        return hit[2]
    n = knots.shape[1] - 1
    steps = torch.arange(n + 1, dtype=knots.dtype, device=knots.device)
    ideal = knots[:, :1] + (knots[:, -1:] - knots[:, :1]) * (steps / n)
    tol = 8 * torch.finfo(knots.dtype).eps * knots.abs().amax(1, keepdim=True)
    info = {"uniform": bool(((knots - ideal).abs() <= tol).all())}
    key = id(knots)
    # the entry goes when the tensor does (the callback runs before its id can be reused)
    _KNOTS_CACHE[key] = (weakref.ref(knots, lambda _ref, key=key: _KNOTS_CACHE.pop(key, None)), state, info)
    return info


def _is_uniform(knots: torch.Tensor) -> bool:
    """Whether every row of ``knots`` is evenly spaced up to rounding (8 ulp of its largest knot)."""
    return _knots_info(knots)["uniform"]


def _extended(knots: torch.Tensor, k: int) -> torch.Tensor:
    """``extend_grid(knots, k)`` flattened, shape ``(n_in · (nk + 2k),)``: a safe neighbourhood
    of ``k`` more knots at both ends for the de Boor window."""
    info = _knots_info(knots)
    ext = info.get(("ext", k))
    if ext is None:
        ext = info[("ext", k)] = extend_grid(knots, k).reshape(-1)
    return ext


def _local_uniform(x: torch.Tensor, knots: torch.Tensor, k: int, with_derivative: bool):
    """Local values on a uniform grid: fixed polynomials of the position in the interval.

    Returns
    -------
    j : Tensor, shape ``(batch, n_in)``, float
        Interval index (from rounding), clamped to ``[0, nk − 2]``.
    level, deriv : Tensor, shape ``(k + 1, batch, n_in)``
        ``N_{j−k+r}(x)`` and ``dN_{j−k+r}/dx`` (``deriv`` None unless ``with_derivative``).
    """
    B, n_in = x.shape
    n = B * n_in
    nseg = knots.shape[1] - 1
    lo = knots[:, 0]
    inv_h = nseg / (knots[:, -1] - lo)
    powers = scratch_buffer("powers", (k + 1) * n, x.dtype, x.device).view(k + 1, B, n_in)  # f^p, p = 0..k
    u = torch.sub(x, lo, out=powers[1]).mul_(inv_h).clamp_(0, nseg)  # f stays in [0, 1]: no overflow
    j = u.floor().clamp_(max=nseg - 1)
    f = u.sub_(j)
    powers[0] = 1
    for p in range(2, k + 1):
        torch.mul(powers[p - 1], f, out=powers[p])
    powers = powers.view(k + 1, n)
    M, Md = _uniform_matrices(k)
    level = scratch_buffer("level", (k + 1) * n, x.dtype, x.device).view(k + 1, n)
    level = torch.mm(_as_tensor(M, x), powers, out=level)
    deriv = None
    if with_derivative:
        deriv = scratch_buffer("deriv", (k + 1) * n, x.dtype, x.device).view(k + 1, n)
        deriv = torch.mm(_as_tensor(Md, x), powers, out=deriv)
        deriv = deriv.view(k + 1, B, n_in).mul_(inv_h)
    return j, level.view(k + 1, B, n_in), deriv


def _local_de_boor(x: torch.Tensor, knots: torch.Tensor, k: int, with_derivative: bool):
    """Local values on any grid by de Boor's recursion, all ``k + 1`` at once (leading axis).

    Returns
    -------
    j : Tensor, shape ``(batch, n_in)``, int32
    level : Tensor, shape ``(k + 1, batch, n_in)``
        ``N_{j−k+r}(x)``.
    deriv : Tensor, shape ``(k + 1, batch, n_in)``, or None
        ``dN_{j−k+r}/dx`` when ``with_derivative``.
    exact : bool
        See :func:`_locate`.
    """
    B, n_in = x.shape
    j, T, exact = _locate(x, knots, _extended(knots, k), k)
    n = B * n_in

    def scratch(role, rows):  # pooled: fresh tensors this large cost a page fault per 4 KiB
        return scratch_buffer(role, rows * n, x.dtype, x.device).view(rows, B, n_in)

    L = torch.sub(x, T[:k], out=scratch("L", k))  # L[c] = x - T_c
    R = torch.sub(T[k:], x, out=scratch("R", k))  # R[c] = T_{k+c} - x
    level = temp = None
    for d in range(1, k + 1):  # level d holds N_{j-d+r, d}, r = 0..d
        temp = torch.sub(T[k : k + d], T[k - d : k], out=scratch("temp", d))
        temp = temp.reciprocal_() if level is None else torch.div(level, temp, out=temp)
        new = scratch("level" if (k - d) % 2 == 0 else "level_prev", d + 1)  # never the one read
        torch.mul(R[:d], temp, out=new[:d])
        new[d] = 0
        new[1:].addcmul_(L[k - d :], temp)
        level = new
    deriv = None
    if with_derivative:  # temp[q] = N_{j-k+1+q, k-1} / (t_{j+1+q} - t_{j-k+1+q})
        deriv = scratch_buffer("deriv", (k + 1) * B * n_in, x.dtype, x.device).view(k + 1, B, n_in).zero_()
        deriv[:k] = temp
        deriv[1:] -= temp
        deriv.mul_(-k)
    return j, level, deriv, exact


def local_basis(x: torch.Tensor, knots: torch.Tensor, k: int, with_derivative: bool, with_base: bool = False):
    """Dense degree-``k`` basis from the ``k + 1`` non-zero values per sample (eager, ``k >= 1``).

    Parameters
    ----------
    x : Tensor, shape ``(batch, n_in)``
    knots : Tensor, shape ``(n_in, nk)``, ``nk >= 2k + 2``
        Extended knot vectors, increasing along each row.
    with_derivative : bool
        Also return the local ``dN/dx`` for the backward pass.
    with_base : bool
        Put ``silu(x)`` in front of each input's basis (column 0).

    Returns
    -------
    basis : Tensor, shape ``(batch, n_in, with_base + nk − k − 1)``
        Half-open intervals ``[t_j, t_{j+1})``; zero outside ``[t_0, t_last)``.
    deriv : Tensor, shape ``(k + 1, batch, n_in)``, or empty
        ``dN_{j−k+r}/dx`` of the local functions (zero where they are not basis functions).
    index : Tensor, shape ``((k + 1) · batch · n_in,)``, int64, or empty
        Flat position in ``basis`` of every local value (and of its ``deriv``).
    """
    x = x.contiguous()
    B, n_in = x.shape
    nb = knots.shape[1] - k - 1
    width = nb + int(with_base)
    if k >= 2 and _is_uniform(knots):  # value and slope are continuous: rounding of j is harmless
        j, level, deriv = _local_uniform(x, knots, k, with_derivative)
        exact = False  # j comes from rounding: x may sit outside the knots
    else:
        j, level, deriv, exact = _local_de_boor(x, knots, k, with_derivative)
    lo_hi = torch.aminmax(j)
    n = B * n_in
    first = scratch_buffer("first", n, torch.int64, x.device)
    rows = scratch_buffer("rows", n, torch.int64, x.device)
    idx = scratch_buffer("index", (k + 1) * n, torch.int64, x.device).view(k + 1, n)
    rr = torch.arange(k + 1, device=x.device).view(-1, 1)
    interior = float(lo_hi.min) >= k and float(lo_hi.max) <= nb - 1  # all x in [t_k, t_nb)
    if interior:  # every local value is a basis value
        # flat position of N_{j-k+r} = row start + with_base + j - k + r
        torch.arange(int(with_base) - k, n * width + int(with_base) - k, width, out=rows)
        torch.add(first.copy_(j.view(-1)).add_(rows), rr, out=idx)
    else:
        # some local values are not basis functions (or x is outside the knots): zero them and
        # add them (scatter_add_ below) at a clamped position, where a zero changes nothing
        torch.add(first.copy_(j.view(-1).nan_to_num(0.0)).sub_(k), rr, out=idx)  # NaN x: any row
        drop = ((idx < 0) | (idx >= nb)).view(k + 1, B, n_in)
        idx.clamp_(0, nb - 1)
        if not exact:
            drop |= (x < knots[:, 0]) | (x >= knots[:, -1])
        level = level.masked_fill_(drop, 0.0)  # our own buffer; a NaN x keeps NaN values
        if deriv is not None:
            deriv = deriv.masked_fill_(drop, 0.0)
        torch.arange(int(with_base), n * width + int(with_base), width, out=rows)
        idx.add_(rows.view(1, n))
    idx = idx.view(-1)
    basis = scratch_buffer("basis", n * width, x.dtype, x.device).zero_()
    put = basis.scatter_ if interior else basis.scatter_add_
    basis = put(0, idx, level.reshape(-1)).view(B, n_in, width)
    if with_base:
        basis[..., 0] = torch.nn.functional.silu(x)
    if deriv is None:
        return basis, x.new_zeros(0), idx.new_zeros(0)
    return basis, deriv, idx
