"""Affine edge fitting: find ``c·f(a·x+b)+d`` closest to sampled edge values.

For each primitive ``f`` the fit
1. maps ``x`` to ``[-1, 1]`` (so the search box follows the input's span, never a fixed ±10 box);
2. scans a coarse grid of ``(α, β)`` for ``f(α·x̂+β)`` with ``(c, d)`` in closed form (linear least
   squares), vectorised over grid points, on at most ``coarse_rows`` rows and in chunks so memory is
   bounded whatever the number of rows;
3. refines the best few ``(α, β)`` by batched Levenberg–Marquardt with ``(c, d)`` eliminated
   (variable projection) on all rows;
4. scores every primitive by ``log10(1 − R² + R2_FLOOR) + weight_simple · complexity`` (lower is better).

Symmetries shrink the search: odd and even functions need only ``α > 0``; power laws absorb ``|a|``
into ``c`` (search ``b`` with ``a = ±1``); ``exp`` absorbs ``b`` into ``c`` (search ``a``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .library import Library, Primitive

__all__ = ["EdgeFit", "fit_affine", "fit_primitive", "degenerate", "rank"]

R2_FLOOR = 1e-6
"""Fits closer than ``1 − R² = 1e-6`` count as exact: edge curves are spline approximations, so
finishing digits are noise, and simplicity (then library order) decides between such fits."""


@dataclass(frozen=True)
class EdgeFit:
    """One candidate: ``c·f(a·x+b)+d`` with its quality.

    Attributes
    ----------
    name : str
        Primitive name.
    a, b, c, d : float
    r2 : float
        Coefficient of determination on the fitted samples (``-inf`` when the fit is invalid).
    complexity : int
    score : float
        ``log10(1 − R² + R2_FLOOR) + weight_simple · complexity``; lower is better.
    """

    name: str
    a: float
    b: float
    c: float
    d: float
    r2: float
    complexity: int
    score: float

    @property
    def affine(self) -> tuple[float, float, float, float]:
        return (self.a, self.b, self.c, self.d)


def _grid(search: str, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Coarse ``(α, β)`` candidates in normalised coordinates, shape ``(K,)`` each."""
    if search == "none":
        return torch.ones(1, dtype=dtype), torch.zeros(1, dtype=dtype)
    if search == "a":
        mags = torch.logspace(-1.5, 1.5, 31, dtype=dtype)
        alpha = torch.cat([mags, -mags])
        return alpha, torch.zeros_like(alpha)
    if search == "b":
        near = torch.linspace(-1.5, 1.5, 31, dtype=dtype)
        far = torch.tensor([1.02, 1.05, 1.1, 1.2, 1.35, 1.6, 2.0, 2.5, 3.2, 4.0, 6.0, 10.0, 20.0, 50.0], dtype=dtype)
        beta = torch.cat([near, far, -far])
        alpha = torch.cat([torch.ones_like(beta), -torch.ones_like(beta)])
        return alpha, beta.repeat(2)
    mags = torch.logspace(-1, 1.3, 24, dtype=dtype)
    shifts = torch.linspace(-2, 2, 17, dtype=dtype)
    phases = torch.linspace(-math.pi, math.pi, 13, dtype=dtype)[:-1]
    alpha = mags.repeat_interleave(len(shifts) + len(phases))
    beta = torch.cat([-mags[:, None] * shifts, phases.expand(len(mags), -1)], dim=1).reshape(-1)
    return alpha, beta


def _project(u: torch.Tensor, y: torch.Tensor):
    """Closed-form ``(c, d)`` and R² of ``y ≈ c·u + d`` for each row of ``u`` (``(K, N)``).

    ``R² = cov(u, y)² / (var u · var y)``; rows with non-finite values or no variance get ``-inf``.
    """
    finite = torch.isfinite(u)
    valid = finite.all(dim=1)
    u = torch.where(finite, u, torch.zeros_like(u))
    um = u.mean(1)
    du = u - um[:, None]
    dy = y - y.mean()
    var_u = (du * du).mean(1)
    cov = du @ dy / u.shape[1]
    var_y = (dy * dy).mean()
    ok = valid & (var_u > 1e-28 * (um * um + 1e-300))
    safe_var = torch.where(ok, var_u, torch.ones_like(var_u))
    c = torch.where(ok, cov / safe_var, torch.zeros_like(cov))
    d = y.mean() - c * um
    r2 = torch.where(ok, cov * cov / (safe_var * var_y), torch.full_like(cov, -math.inf))
    return c, d, r2


def _sse(f, alpha, beta, xn, y):
    u = f(alpha[:, None] * xn + beta[:, None])
    c, d, r2 = _project(u, y)
    return r2, c, d


def _refine(prim: Primitive, alpha, beta, xn, y, steps: int = 30):
    """Batched Levenberg–Marquardt on ``(α, β)`` with ``(c, d)`` projected out."""
    free = torch.tensor([prim.search in ("a", "ab"), prim.search in ("b", "ab")], dtype=xn.dtype)
    if not free.any():
        return alpha, beta
    p = torch.stack([alpha, beta], 1)
    lam = torch.full((len(alpha),), 1e-3, dtype=xn.dtype)
    f = prim.torch_fn

    def resid(q):
        u = f(q[:, :1] * xn + q[:, 1:])
        c, d, r2 = _project(u, y)
        r = c[:, None] * u + d[:, None] - y
        return torch.where(torch.isfinite(r2)[:, None], r, torch.full_like(r, math.inf))

    r0 = resid(p)
    stalled = 0
    for _ in range(steps):
        sse0 = (r0**2).sum(1)
        h = 1e-6 * (1 + p.abs())
        cols = []
        for j in range(2):
            dp = torch.zeros_like(p)
            dp[:, j] = h[:, j] * free[j]
            cols.append((resid(p + dp) - r0) / h[:, j : j + 1] if free[j] else torch.zeros_like(r0))
        jac = torch.stack(cols, 2)  # (K, N, 2)
        jac = torch.nan_to_num(jac, nan=0.0, posinf=0.0, neginf=0.0)
        a = jac.transpose(1, 2) @ jac  # (K, 2, 2)
        g = -(jac.transpose(1, 2) @ torch.nan_to_num(r0, posinf=0.0).unsqueeze(2)).squeeze(2)
        diag = torch.diagonal(a, dim1=1, dim2=2) + 1e-12
        a = a + torch.diag_embed(lam[:, None] * diag) + torch.diag_embed(1 - free).expand_as(a)
        step = torch.linalg.solve(a, g.unsqueeze(2)).squeeze(2) * free
        trial = p + step
        r1 = resid(trial)
        sse1 = (r1**2).sum(1)
        better = torch.isfinite(sse1) & (sse1 < sse0)
        gain = torch.where(better, (sse0 - sse1) / (sse0 + 1e-300), torch.zeros_like(sse0))
        stalled = stalled + 1 if float(gain.max()) < 1e-10 else 0
        if stalled >= 2:
            break
        p = torch.where(better[:, None], trial, p)
        r0 = torch.where(better[:, None], r1, r0)
        lam = torch.where(better, lam / 3, lam * 5).clamp(1e-12, 1e12)
    return p[:, 0], p[:, 1]


def _normalise(x: torch.Tensor):
    lo, hi = float(x.min()), float(x.max())
    mid, half = 0.5 * (lo + hi), max(0.5 * (hi - lo), 1e-12)
    return (x - mid) / half, mid, half


def _coarse(prim: Primitive, xn, y, coarse_rows: int, chunk_elems: int, keep: int):
    """Best ``keep`` grid points ``(α, β)`` and their R² on a row subsample."""
    idx = torch.linspace(0, len(xn) - 1, min(len(xn), coarse_rows)).long()
    xs, ys = xn[idx], y[idx]
    alpha, beta = _grid(prim.search, xn.dtype)
    step = max(1, chunk_elems // len(xs))
    r2 = torch.cat(
        [_sse(prim.torch_fn, alpha[s : s + step], beta[s : s + step], xs, ys)[0] for s in range(0, len(alpha), step)]
    )
    r2 = torch.nan_to_num(r2, nan=-math.inf)
    top = _distinct_top(alpha, beta, r2, keep)
    return alpha[top], beta[top], (float(r2[top[0]]) if len(top) else -math.inf)


_NEIGHBOUR = 0.3
"""Grid points closer than this in ``log|α|`` and in ``β/α`` (with the sign of ``α`` equal) are
neighbours: one basin of the fit, refined once."""


def _distinct_top(alpha: torch.Tensor, beta: torch.Tensor, r2: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices of the ``keep`` best finite grid points by ``r2``, skipping the neighbours of those
    already taken: the best few of a cosh fit to ``2·cosh(x)`` on ``[0.2, 6]`` are one ``α`` with
    adjacent shifts (the exp-like branch), and the basin of the law lies two shifts further."""
    r = r2.numpy()
    order = np.argsort(-r, kind="stable")
    order = order[np.isfinite(r[order])][: 50 * keep]
    a = alpha.numpy()[order]
    la = np.log(np.maximum(np.abs(a), 1e-300))
    shift = beta.numpy()[order] / np.where(a != 0, a, 1.0)
    taken: list[int] = []
    for m in range(len(order)):
        if len(taken) == keep:
            break
        t = np.asarray(taken, dtype=int)
        near = (a[m] * a[t] > 0) & (np.abs(la[m] - la[t]) < _NEIGHBOUR) & (np.abs(shift[m] - shift[t]) < _NEIGHBOUR)
        if not np.any(near):
            taken.append(m)
    taken = order[taken].tolist()
    return torch.tensor(taken, dtype=torch.long)


_KEEP = 3
"""Coarse grid candidates refined per primitive."""


def _constant_fit(y: torch.Tensor):
    """``EdgeFit`` of ``'0'`` (a constant edge) when ``y`` barely varies, else ``None``."""
    if float(y.var(unbiased=False)) <= 1e-24 * (float(y.abs().max()) ** 2 + 1e-300):
        return EdgeFit("0", 1.0, 0.0, 0.0, float(y.mean()), 1.0, 0, 0.0)
    return None


def fit_primitive(
    prim: Primitive,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    weight_simple: float = 1.0,
    coarse_rows: int = 500,
    chunk_elems: int = 4_000_000,
    keep: int = _KEEP,
    refine: bool = True,
) -> EdgeFit:
    """Best ``c·f(a·x+b)+d`` for one primitive.

    Parameters
    ----------
    x, y : Tensor, shape ``(N,)``
        Edge input and edge output samples (computed in float64).
    refine : bool
        Polish the coarse grid optimum by Levenberg–Marquardt on all rows.
    """
    x, y = x.detach().to(torch.float64).flatten(), y.detach().to(torch.float64).flatten()
    const = _constant_fit(y)
    if prim.name == "0":
        fit = const or EdgeFit("0", 1.0, 0.0, 0.0, float(y.mean()), 0.0, prim.complexity, 0.0)
        return _with_score(fit, weight_simple)
    if const is not None:
        return _invalid(prim, weight_simple)
    xn, mid, half = _normalise(x)
    with torch.no_grad():
        al, be, _ = _coarse(prim, xn, y, coarse_rows, chunk_elems, keep)
    return _from_coarse(prim, xn, mid, half, y, al, be, refine, weight_simple)


def _from_coarse(
    prim: Primitive,
    xn: torch.Tensor,
    mid: float,
    half: float,
    y: torch.Tensor,
    al: torch.Tensor,
    be: torch.Tensor,
    refine: bool,
    weight_simple: float,
) -> EdgeFit:
    """The fit of ``prim`` from its coarse candidates ``(α, β)`` on the normalised input
    ``xn = (x − mid)/half`` (:func:`_normalise`): refined by LM on all rows or not."""
    if len(al) == 0:
        return _invalid(prim, weight_simple)
    with torch.no_grad():
        if refine:
            al, be = _refine(prim, al, be, xn, y)
        r2, c, d = _sse(prim.torch_fn, al, be, xn, y)
    r2 = torch.nan_to_num(r2, nan=-math.inf)
    best = int(torch.argmax(r2))
    if not math.isfinite(float(r2[best])):
        return _invalid(prim, weight_simple)
    a_n, b_n = float(al[best]), float(be[best])
    fit = EdgeFit(
        prim.name,
        a_n / half,
        b_n - a_n * mid / half,
        float(c[best]),
        float(d[best]),
        float(r2[best]),
        prim.complexity,
        0.0,
    )
    return _with_score(fit, weight_simple)


def _invalid(prim: Primitive, weight_simple: float) -> EdgeFit:
    return EdgeFit(prim.name, 1.0, 0.0, 0.0, 0.0, -math.inf, prim.complexity, math.inf)


def _with_score(fit: EdgeFit, weight_simple: float) -> EdgeFit:
    err = max(1.0 - fit.r2, 0.0) + R2_FLOOR if math.isfinite(fit.r2) else math.inf
    score = math.log10(err) + weight_simple * fit.complexity if math.isfinite(err) else math.inf
    return EdgeFit(fit.name, fit.a, fit.b, fit.c, fit.d, fit.r2, fit.complexity, score)


def fit_affine(
    x: torch.Tensor,
    y: torch.Tensor,
    lib: Library,
    *,
    weight_simple: float = 1.0,
    refine_top: int = 8,
    coarse_rows: int = 500,
    chunk_elems: int = 4_000_000,
) -> list[EdgeFit]:
    """Fit every primitive of ``lib``; candidates ranked best first (lowest score).

    All primitives get the coarse grid search; the ``refine_top`` best of them by coarse score are
    then refined on all rows (the others keep their coarse fit, evaluated on all rows).

    Parameters
    ----------
    x, y : Tensor, shape ``(N,)``
    lib : Library
    weight_simple : float
        Score cost per unit of complexity (one unit = one decade of ``1 − R²``).

    Returns
    -------
    list of EdgeFit
    """
    x, y = x.detach().to(torch.float64).flatten(), y.detach().to(torch.float64).flatten()
    kw = dict(weight_simple=weight_simple, coarse_rows=coarse_rows, chunk_elems=chunk_elems)
    if _constant_fit(y) is not None:
        return rank([fit_primitive(p, x, y, **kw) for p in lib.primitives], x, y, lib)
    xn, mid, half = _normalise(x)
    coarse, starts = [], []  # the scan runs once per primitive: its candidates seed the final fit
    with torch.no_grad():
        for p in lib.primitives:
            al, be, r2 = _coarse(p, xn, y, coarse_rows, chunk_elems, _KEEP) if p.name != "0" else (None, None, 0.0)
            starts.append((al, be))
            coarse.append(_with_score(EdgeFit(p.name, 1, 0, 0, 0, r2, p.complexity, 0.0), weight_simple).score)
    order = sorted(range(len(coarse)), key=lambda n: coarse[n])
    chosen = set(order[:refine_top])
    fits = [
        fit_primitive(p, x, y, **kw)
        if p.name == "0"
        else _from_coarse(p, xn, mid, half, y, *starts[n], n in chosen, weight_simple)
        for n, p in enumerate(lib.primitives)
    ]
    return rank(fits, x, y, lib)


def degenerate(f: EdgeFit, prim: Primitive, x: torch.Tensor, y: torch.Tensor, spread: float) -> bool:
    """A fit that uses only a sliver of its function (its Taylor expansion): ``−cos(0.04·x)``
    posing as ``x²``, ``exp(0.001·x)`` as a line, ``(x + 500)³`` as a line."""
    span = float(x.max() - x.min()) + 1e-300
    if prim.search in ("ab", "a") and abs(f.a) * span < 0.3:
        return True
    if prim.search == "b":
        lo, hi = float(x.min()), float(x.max())
        centre = -f.b / f.a if f.a else 0.0
        if min(abs(centre - lo), abs(centre - hi)) > 20 * span:
            return True
    u = prim.torch_fn(f.a * x + f.b)
    return abs(f.c) * float(u.abs().max()) > 1e3 * spread


def rank(fits: list[EdgeFit], x: torch.Tensor, y: torch.Tensor, lib: Library, tie: float = 0.3) -> list[EdgeFit]:
    """Order candidates best first.

    A *degenerate* fit (see :func:`degenerate`: the function is used only through its Taylor
    expansion) is pushed back by two score units. Candidates within ``tie`` of the best score are
    then ordered by complexity and library order, so near-equal fits resolve to the simplest.
    """
    spread = float((y - y.mean()).abs().max()) + 1e-300
    index = {name: n for n, name in enumerate(lib.names)}

    def penalised(f: EdgeFit) -> float:
        if not math.isfinite(f.score) or f.name in ("0", "x"):
            return f.score
        return f.score + (2.0 if degenerate(f, lib[f.name], x, y, spread) else 0.0)

    scored = sorted(((penalised(f), f) for f in fits), key=lambda t: t[0])
    best = scored[0][0]
    near = [f for sc, f in scored if sc <= best + tie]
    rest = [f for sc, f in scored if sc > best + tie]
    near.sort(key=lambda f: (f.complexity, index.get(f.name, len(index))))
    return near + rest
