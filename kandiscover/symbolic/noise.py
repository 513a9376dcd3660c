"""The noise level of a table, estimated from the rows alone, and formulas judged against it.

:func:`noise_variance` predicts every row from its nearest neighbours in input space — a linear
interpolation through the ``d + 1`` nearest rows, the inputs standardised to unit variance — and
averages the squared misses, each divided by its variance factor ``1 + aᵀ(AᵀA)⁻¹a`` (``A`` the
neighbours' design ``[1, x]``, ``a`` the row's): with noise of variance ``σ²`` on every row and a
law that is linear between neighbours, each quotient has mean ``σ²``. In one dimension this is the
difference-based estimator of Gasser, Sroka and Jennen-Steinmetz (1986) with the two nearest rows.

What it cannot see: a law's curvature between neighbouring rows counts as noise. On exact data it
gives the size of that curvature (a relative variance of about ``1e-5`` for ``sqrt`` on a dozen
rows, ``1e-4`` for a product of three inputs on 200), and with many inputs and few rows it
overstates the noise. Applied to a formula's residuals instead of the target
(:func:`lack_of_fit_test`) that blind spot is what tells a wrong law: a right one leaves noise
alone, a wrong one a smooth misfit that the interpolation removes. :func:`chi2_test` judges
residuals against given standard deviations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import stats
from scipy.spatial import cKDTree

__all__ = [
    "MAX_ROWS",
    "NoiseTest",
    "P_MIN",
    "chi2_test",
    "lack_of_fit_test",
    "noise_variance",
    "sorted_difference_variance",
]

MAX_ROWS = 5000
"""Rows an estimate uses at most (a seeded subset of larger tables)."""


def noise_variance(X, y, *, k: Optional[int] = None, seed: int = 0) -> float:
    """Variance of the noise of ``y`` given the inputs ``X`` (see the module docstring).

    Parameters
    ----------
    X : array-like, shape ``(n, d)``
        Inputs; constant columns are ignored.
    y : array-like, shape ``(n,)``
    k : int, optional
        Neighbours per row (default ``d + 1``, at most ``n − 1``).
    seed : int
        Seed of the subset of :data:`MAX_ROWS` rows a larger table is estimated on.

    Returns
    -------
    float
        ``nan`` when there are fewer than ``d + 3`` rows.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=float)
    spread = X.std(axis=0)
    X = X[:, spread > 0]
    n, d = X.shape
    if n < d + 3:
        return float("nan")
    if n > MAX_ROWS:
        keep = np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False)
        X, y, n = X[keep], y[keep], MAX_ROWS
    Z = (X - X.mean(axis=0)) / (spread[spread > 0] if d else 1.0)
    k = min(n - 1, k or d + 1)
    if d == 0:
        return float(np.var(y, ddof=1))
    _, neighbours = cKDTree(Z).query(Z, k=k + 1)
    near = _others(neighbours, k)  # (n, k): each row's neighbours, itself left out
    A = np.concatenate([np.ones((n, k, 1)), Z[near]], axis=2)  # (n, k, d + 1)
    a = np.concatenate([np.ones((n, 1)), Z], axis=1)  # (n, d + 1)
    gram = np.linalg.pinv(np.transpose(A, (0, 2, 1)) @ A)  # (n, d + 1, d + 1)
    coef = gram @ np.einsum("nkj,nk->nj", A, y[near])[:, :, None]  # (n, d + 1, 1)
    prediction = np.einsum("nj,nj->n", a, coef[:, :, 0])
    leverage = np.einsum("ni,nij,nj->n", a, gram, a)
    return float(np.mean((y - prediction) ** 2 / (1.0 + leverage)))


def _others(neighbours: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` neighbours of each row other than the row itself (``neighbours`` of shape
    ``(n, k + 1)`` from a tree query that usually, not always, lists the row first)."""
    n = len(neighbours)
    is_self = neighbours == np.arange(n)[:, None]
    # rows where the query listed the row itself keep the other k; the rest drop their last
    order = np.argsort(is_self, axis=1, kind="stable")
    return np.take_along_axis(neighbours, order, axis=1)[:, :k]


#: The smallest p-value a formula is accepted with by :func:`chi2_test` and :func:`lack_of_fit_test`.
P_MIN = 0.01


@dataclass(frozen=True)
class NoiseTest:
    """A formula's residuals judged against the noise.

    Attributes
    ----------
    ok : bool
        ``p_value ≥ P_MIN``.
    statistic : float
        ``χ²/dof`` (:func:`chi2_test`) or the variance ratio ``F`` (:func:`lack_of_fit_test`).
    p_value : float
    dof : int
        Degrees of freedom of the residuals, ``n − p``.
    noise_std : float
        The noise level the residuals are compared with: the RMS of the given ``σ``, or the
        estimate from the residuals.
    criterion : str
        The test in words, e.g. ``"χ²/dof = 1.07 on 11 degrees of freedom, p = 0.38 ≥ 0.01"``.
    """

    ok: bool
    statistic: float
    p_value: float
    dof: int
    noise_std: float
    criterion: str


def chi2_test(residuals, sigma, n_params: int) -> NoiseTest:
    """``χ² = Σ (r/σ)²`` on ``n − p`` degrees of freedom: the residuals are as large as the given
    standard deviations say when its upper-tail p-value is at least :data:`P_MIN`.

    Parameters
    ----------
    residuals, sigma : array-like, shape ``(n,)``
    n_params : int
        Constants fitted to the rows (``p``).
    """
    r = np.asarray(residuals, dtype=float)
    s = np.asarray(sigma, dtype=float)
    dof = len(r) - int(n_params)
    chi2 = float(np.sum((r / s) ** 2))
    p = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    rel = "≥" if p >= P_MIN else "<"
    text = f"χ²/dof = {chi2 / max(dof, 1):.3g} on {dof} degrees of freedom, p = {p:.3g} {rel} {P_MIN:g}"
    return NoiseTest(bool(p >= P_MIN), chi2 / max(dof, 1), p, dof, float(np.sqrt(np.mean(s**2))), text)


def lack_of_fit_test(X, residuals, n_params: int, *, seed: int = 0) -> NoiseTest:
    """Whether a formula's residuals are noise: their variance against the noise estimated from
    them (:func:`noise_variance` of the residuals given the inputs).

    A right law leaves noise, which interpolation between neighbouring rows cannot predict: the
    residual variance ``SSE / (n − p)`` and the estimate agree (``F ≈ 1``). A wrong one leaves a
    smooth misfit besides, which the interpolation removes: ``F ≫ 1`` (a few hundred for ``c·L``
    against a pendulum's ``c·sqrt(L)`` on 12 rows with 1 % noise). ``F`` is compared with
    Fisher's distribution on ``n − p`` and ``n/2`` degrees of freedom (the estimate's neighbouring
    differences share rows): p-value at least :data:`P_MIN`.

    With several inputs, the neighbours in input space of a sparse table can lie far apart along the
    one input a misfit depends on (``0.13·sin(x₃)`` among five inputs on ``[−50, 50]``): the
    residuals are then also compared with their noise estimated along each input alone
    (:func:`sorted_difference_variance`), and the smallest p-value of the ``d + 1`` tests,
    Bonferroni-corrected, decides.

    Parameters
    ----------
    X : array-like, shape ``(n, d)``
        The inputs the data offer (all of them: a law that leaves out a column that matters leaves
        a misfit in that column).
    residuals : array-like, shape ``(n,)``
    n_params : int
    seed : int
        See :func:`noise_variance`.
    """
    r = np.asarray(residuals, dtype=float)
    X = np.asarray(X, dtype=float).reshape(len(r), -1)
    n = len(r)
    dof, m = n - int(n_params), max(1, n // 2)
    noise = noise_variance(X, r, seed=seed)
    if not (dof > 0 and np.isfinite(noise)):
        return NoiseTest(False, float("nan"), float("nan"), dof, float("nan"), "too few rows to estimate the noise")
    resid_var = float(np.sum(r**2)) / max(dof, 1)
    estimates = [("", noise)]
    if X.shape[1] > 1:
        estimates += [(f" along column {j}", sorted_difference_variance(X[:, j], r)) for j in range(X.shape[1])]
    tests = len(estimates)
    # the smallest p-value of the tests, Bonferroni-corrected for their number
    p, where, noise = min(
        (min(1.0, tests * float(stats.f.sf(resid_var / v if v > 0 else np.inf, dof, m))), w, v)
        for w, v in estimates
        if np.isfinite(v)
    )
    ratio = resid_var / noise if noise > 0 else float("inf")
    rel = "≥" if p >= P_MIN else "<"
    text = (
        f"residual variance / noise variance estimated from the residuals{where} = {ratio:.3g} "
        f"(F test on {dof} and {m} degrees of freedom, p = {p:.3g} {rel} {P_MIN:g}"
        + (f", {tests} tests)" if tests > 1 else ")")
    )
    return NoiseTest(bool(p >= P_MIN), ratio, p, dof, float(np.sqrt(noise)), text)


def sorted_difference_variance(x, y) -> float:
    """Noise variance of ``y`` from its second differences along one input ``x`` alone (Gasser,
    Sroka and Jennen-Steinmetz, 1986): each row predicted linearly from its neighbours in the order
    of ``x``. Where ``y`` varies with other inputs too, neighbours in ``x`` differ in them and the
    estimate is larger; only a misfit that is smooth in ``x`` makes it small. ``nan`` for fewer
    than 3 distinct values; shapes ``(n,)``."""
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, dtype=float)[order], np.asarray(y, dtype=float)[order]
    gap = x[2:] - x[:-2]
    ok = gap > 0
    if ok.sum() < 2:
        return float("nan")
    a = (x[2:] - x[1:-1])[ok] / gap[ok]
    b = (x[1:-1] - x[:-2])[ok] / gap[ok]
    e = a * y[:-2][ok] + b * y[2:][ok] - y[1:-1][ok]
    return float(np.mean(e**2 / (a**2 + b**2 + 1.0)))
