"""Choosing the law among the candidates of a search, at the noise level the search knows.

:class:`NoiseLevel` is the noise of the target: given (``noise_hint``, ``sigma``), estimated from
the residuals of the best candidate when they pass a lack-of-fit test, or unknown. :func:`choose`
takes the Pareto front of the pool and the chosen entry by one of two stated criteria (see there).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
import sympy

from .result import pareto_front
from .rows import Rows
from .units import unit_mismatch

log = logging.getLogger("kandiscover")

__all__ = ["NoiseLevel", "choose", "estimate_noise", "given_noise", "reweigh"]

EXACT_NMSE = 1e-10
"""Validation MSE / Var(y) at which a candidate is exact: the search stops, no noise is estimated."""

MANY_FLOATS = 4
"""A candidate with this many unexplained float constants or more stops the search only at
:data:`ROUND_OFF_NMSE`: polynomials and series reach ``EXACT_NMSE`` on smooth laws they are not."""

ROUND_OFF_NMSE = 1e-20
"""Validation MSE / Var(y) of a law computed exactly, up to round-off."""

STOP_EXACT_NMSE = 1e-14
"""Validation MSE / Var(y) at which the search stops where no noise is known: a law computed on
exact rows reaches round-off, while a Padé or series stand-in with its constants snapped to
``7/(6π²)`` reaches ``EXACT_NMSE`` (``6e-11`` for ``sinh`` on ``[−1, 1]``)."""


@dataclass
class NoiseLevel:
    """The noise of the target as the search knows it.

    Attributes
    ----------
    nmse : float
        Noise variance over the variance of the target on the choosing rows (0: none known).
    relative : float or None
        The noise as ``noise_hint`` states it: standard deviation over the RMS of the target.
    source : str
        ``"hint"`` (``noise_hint``), ``"sigma"`` (the given error bars), ``"estimated"`` (the
        residuals of a candidate that pass the lack-of-fit test) or ``"unknown"``.
    detail : str
        How it was found, in words.
    """

    nmse: float = 0.0
    relative: Optional[float] = None
    source: str = "unknown"
    detail: str = ""

    @property
    def stop(self) -> float:
        """The validation MSE / Var(y) at which the search stops: 1.5 × the noise, or exactness."""
        return max(EXACT_NMSE, 1.5 * self.nmse)

    @property
    def exact_stop(self) -> float:
        """The validation MSE / Var(y) at which an exact-looking candidate stops the search:
        :data:`EXACT_NMSE` on noisy rows, :data:`STOP_EXACT_NMSE` where no noise is known."""
        return EXACT_NMSE if self.nmse > 0 else STOP_EXACT_NMSE


def given_noise(
    noise_hint: Optional[float], sigma_va: Optional[np.ndarray], y_va: np.ndarray, y_all: Optional[np.ndarray] = None
) -> NoiseLevel:
    """The noise stated by the caller: ``noise_hint`` (std / RMS of the target over all rows,
    ``y_all``, shape ``(n,)``; the choosing rows' ``y_va`` where not given), else the RMS of the
    given standard deviations of the choosing rows, else unknown. As a relative MSE it is over the
    choosing rows' variance. The RMS is the whole target's: that is what the hint is relative to
    (the SRBench convention), and where the target spans decades the choosing rows' own RMS can be
    half of it, so that the noise level would come out four times too low and the search would
    never stop at the noise."""
    var_y = float(np.var(y_va)) or 1e-300
    rms2 = float(np.mean((y_va if y_all is None else y_all) ** 2)) or 1e-300
    if noise_hint:
        return NoiseLevel(noise_hint**2 * rms2 / var_y, float(noise_hint), "hint", f"noise_hint={noise_hint:g}")
    if sigma_va is not None:
        ms = float(np.mean(sigma_va**2))
        return NoiseLevel(ms / var_y, math.sqrt(ms / rms2), "sigma", "the RMS of the given standard deviations")
    return NoiseLevel()


def estimate_noise(entry: dict, rows: Rows, var_y: float) -> Optional[NoiseLevel]:
    """The noise level of the data when ``entry``'s residuals are noise, else None.

    The residuals of a formula on the fitting and choosing rows are noise when the lack-of-fit test
    (:func:`kandiscover.symbolic.noise.lack_of_fit_test`) finds no structure left in them that
    interpolation between neighbouring rows could predict; their mean square on the choosing rows
    (``entry["loss"]``) is then the noise variance. An exact candidate (``EXACT_NMSE``) and a small
    table (whose residuals count as noise already) give None.
    """
    nmse = float(entry["loss"]) / var_y
    if rows.small or not nmse > EXACT_NMSE:
        return None
    test = rows.noise_test(entry["formula"])
    if test is None or not test.ok:
        return None
    _, y_va = rows.part("va")
    relative = math.sqrt(float(entry["loss"]) / (float(np.mean(y_va**2)) or 1e-300))
    detail = f"estimated from the residuals of {entry['formula']} ({test.criterion})"
    return NoiseLevel(nmse, relative, "estimated", detail)


def reweigh(pool: list[dict], rows: Rows) -> list[dict]:
    """The pool with its losses weighted when the best candidate leaves relative errors on the
    choosing rows: with errors proportional to the target, the largest values would otherwise
    decide alone which formula is best."""
    weights = rows.choosing_weights(pool)
    if weights is None:
        return pool
    log.info("candidates compared by their relative errors")
    return [dict(e, loss=rows.loss(e["formula"], weights)) for e in pool]


def choose(
    pool: list[dict],
    var_y: float,
    dims: Optional[dict] = None,
    target: str = "",
    n_cv: Optional[int] = None,
    n_noisy: Optional[int] = None,
    notes: Optional[list] = None,
) -> tuple[pd.DataFrame, pd.Series, str]:
    """The Pareto front of the pool (with a ``chosen`` column), the chosen entry and the criterion
    that chose it, in words.

    * exact data (no noise known): the simplest entry of the front whose validation loss is within
      50 % of the best — the exact law fits to round-off, and the margin lets a simpler formula
      win over one that only refines the last digits;
    * a small table (``n_cv`` cross-validated rows): the entry of the pool with the least
      ``n_cv·log(loss) + 2·(complexity + floats)`` (AIC), added to the front if it is not on it —
      the loss as a log-likelihood, every node of the formula and every fitted constant counted like
      a parameter (the weighing :func:`kandiscover.symbolic.refit.snap_constants` uses for simple
      values): on a dozen noisy rows a longer formula often predicts the held-out rows a little
      better by chance, a fixed 50 % margin does not grow with the length it buys, and a constant
      snapped within its interval (``2`` for ``2.006 ± 0.006``) is preferred to the float it
      replaces although the float fits the rows a little better;
    * noisy data (``n_noisy`` validation rows, the noise given or estimated): the same with BIC's
      penalty, ``n·log(loss) + log(n)·(complexity + floats)``. Its penalty grows with the rows, so
      a formula that buys a fraction of the noise with extra terms (a Taylor-regime stand-in, a
      spurious small term) loses more surely the larger the table, where AIC's fixed 2 per
      parameter would keep it.

    With units (``dims``), dimensionally inconsistent candidates (the linear baseline, say) are
    dropped while a consistent one fits (:func:`_consistent`): a formula whose units disagree is
    not a law, however well it fits — unless the units themselves are wrong, which the data then
    shows (``notes`` receives the warning). A constant is never chosen while a non-constant
    candidate explains more than half the variance of the choosing rows (validation R² > 0.5): on
    rows that vary, a constant is the absence of an answer, however a criterion weighs its
    simplicity."""
    frame = pd.DataFrame(pool)
    frame = frame[np.isfinite(frame["loss"])]
    if dims is not None:
        frame = _consistent(frame, dims, target, var_y, notes)
    if frame.empty:
        raise RuntimeError("no candidate formula could be evaluated; try a larger time_budget")
    constant = frame["formula"].map(lambda e: not e.free_symbols).to_numpy(dtype=bool)
    if constant.any() and (frame["loss"].to_numpy(dtype=float)[~constant] < 0.5 * var_y).any():
        frame = frame[~constant]  # a formula with validation R² > 0.5 beats any constant
    front = pareto_front(frame)
    if n_cv is not None or n_noisy is not None:
        n, per_parameter, name = (n_cv, 2.0, "AIC") if n_cv is not None else (n_noisy, math.log(n_noisy), "BIC")
        front, chosen_idx = _by_criterion(frame, front, var_y, n, per_parameter)
        criterion = (
            f"{name}: n·log(loss) + {per_parameter:.3g}·(nodes + constants), n = {n} "
            f"{'cross-validated' if n_cv is not None else 'validation'} rows"
        )
    else:
        limit = max(float(front["loss"].min()) * 1.5, 1e-12 * var_y)
        chosen_idx = front[front["loss"] <= limit]["complexity"].idxmin()
        criterion = "the simplest formula whose validation loss is within 50 % of the best"
    front["chosen"] = front.index == chosen_idx
    return front, front.loc[chosen_idx], criterion


UNITS_MISFIT = 0.1
"""Validation loss, as a share of the target's variance, above which the best dimensionally
consistent candidate is taken as evidence against the units (validation R² below 0.9)."""


def _consistent(frame: pd.DataFrame, dims: dict, target: str, var_y: float, notes: Optional[list]) -> pd.DataFrame:
    """The dimensionally consistent rows of ``frame`` — or all of them, with a warning in
    ``notes``, when the best consistent one leaves more than :data:`UNITS_MISFIT` of the variance
    and an inconsistent one fits ten times better.

    A wrong unit in the table (a column's unit mistyped, a constant left out) leaves only laws
    that the data refuses; an answer of R² < 0.9 chosen for its units would hide the mistake,
    while the inconsistent formula that fits, reported as inconsistent, points at it."""
    consistent = frame["formula"].map(lambda e: unit_mismatch(e, dims, target) is None).to_numpy(dtype=bool)
    if not consistent.any():
        return frame
    loss = frame["loss"].to_numpy(dtype=float)
    best_consistent = float(loss[consistent].min())
    best_other = float(loss[~consistent].min()) if (~consistent).any() else np.inf
    if best_consistent > UNITS_MISFIT * var_y and best_other < 0.1 * best_consistent:
        if notes is not None:
            notes.append(
                f"units: no dimensionally consistent formula fits the data (best validation R² "
                f"{1 - best_consistent / var_y:.3g}); inconsistent formulas were kept — check the "
                "columns' units"
            )
        return frame
    return frame[consistent]


def information(loss, parameters, n: int, per_parameter: float, var_y: float):
    """``n·log(loss) + per_parameter·parameters`` (AIC with ``per_parameter = 2``, BIC with
    ``log n``), the loss floored at ``1e-24·var_y`` (exact fits differ only by round-off); scalars
    or arrays of one shape."""
    floor = 1e-24 * var_y + 1e-300
    return n * np.log(np.maximum(loss, floor)) + per_parameter * np.asarray(parameters, dtype=float)


def _by_criterion(frame: pd.DataFrame, front: pd.DataFrame, var_y: float, n: int, per_parameter: float) -> tuple:
    """The front (with the pick added when it is not on it) and the index of the entry of ``frame``
    with the least ``n·log(loss) + per_parameter·(complexity + floats)``."""
    floats = frame["formula"].map(lambda e: len(e.atoms(sympy.Float))).to_numpy(dtype=float)
    crit = information(
        frame["loss"].to_numpy(dtype=float), frame["complexity"].to_numpy(dtype=float) + floats, n, per_parameter, var_y
    )
    pick = frame.iloc[int(np.argmin(crit))]
    hit = front.index[(front["formula"] == pick["formula"]) & (front["loss"] == pick["loss"])]
    if len(hit):
        return front, hit[0]
    front = pd.concat([front, pick.to_frame().T.assign(score=0.0)], ignore_index=True)
    front = front.sort_values(["complexity", "loss"], kind="stable").reset_index(drop=True)
    return front, front.index[(front["formula"] == pick["formula"]) & (front["loss"] == pick["loss"])][0]
