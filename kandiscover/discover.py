"""`discover()`: data in, a readable law, its accuracy and a Pareto front of alternatives out.

Rows are split into training (fitting), validation (choosing) and test (reporting) sets — or, for
tables of fewer than :data:`~kandiscover.symbolic.crossval.SMALL_TABLE_ROWS` rows, all rows fit
and cross-validation chooses and reports (leave-one-out up to 20 rows, else 10-fold; see
:mod:`kandiscover.symbolic.crossval`). The strategies of the plan (:mod:`kandiscover.search.plan`)
run in order within the time budget; every candidate they return is polished (constants refitted
on the fitting rows, snapped to simple values, simplified), scored on the choosing rows, and kept in
a pool. The search stops early once a candidate explains the choosing rows to the noise level. The
Pareto front of the pool gives the alternatives; the chosen formula is the simplest one whose
choosing loss is within 50 % of the best. Its constants are refitted once more, with their
standard errors and 95 % intervals (:mod:`kandiscover.symbolic.uncertainty`), and printed to the
digits those support.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import sympy

from .data import DataError, Table, as_frame, prepare, split_rows
from .result import Discovery, pareto_front
from .search.closed_form import linear
from .search.context import Context
from .search.dimensional import units_plan
from .search.plan import Step, build_plan, resolve
from .support.deadline import run_until
from .support.params import ParameterError, check_int, check_number
from .support.progress import progress_bar
from .support.threads import thread_limit
from .symbolic.complexity import complexity
from .symbolic.crossval import SMALL_TABLE_ROWS, Folds, make_folds, out_of_fold, press_mse
from .symbolic.evaluate import formula_mse, formula_predictions, metrics, scores
from .symbolic.library import Library, default_library
from .symbolic.refit import polish, refit_with_loss, round_floats
from .symbolic.uncertainty import fitted_constants, relative_weights
from .unit_columns import column_units, split_constants, table_dimensions, with_constants, without_constants
from .units import unit_mismatch

log = logging.getLogger("kandiscover")

__all__ = ["discover", "Settings", "MAX_TRAIN_ROWS", "SMALL_TABLE_ROWS"]

MAX_TRAIN_ROWS = 3000
"""Training rows used at most (a seeded subset of larger tables)."""

STRATEGY_SHARE, POLISH_SHARE, HARD_SHARE, LAST_SHARE = 0.8, 0.9, 0.95, 1.05
"""Strategies stop at 80 % of the budget, refits and polishing of their candidates at 90 %: the
pieces of work between deadline checks (a KAN fit step, a refit, a simplification) take seconds
on a loaded machine. At 95 % whatever still runs is interrupted
(:func:`kandiscover.support.deadline.run_until`) and the best candidate so far is chosen, so that
``discover`` returns within ``1.1 × time_budget + 2 s``: the final refit of the chosen formula's
constants (a bootstrap of their intervals, the refits on a small table's folds) stops at
``1.05 × time_budget + 1 s``."""


@dataclass(frozen=True)
class Settings:
    """The search settings of one :func:`discover` call, checked.

    Attributes
    ----------
    time_budget : float
    seed : int
    noise_hint : float or None
    progress : bool
    lib : Library
    plan : list of str or list of (name, callable) or None
        Strategy names (checked, in plan order), or the ``(name, callable)`` pairs given to
        :func:`discover`; ``None`` for the default plan.
    units : dict or None
        ``name -> Dimension`` of the inputs and the target (:func:`kandiscover.units.parse_units`).
    sigma : ndarray of shape ``(n,)`` or None
        Standard deviations of the target, one per row of the table (from ``sigma=`` or, up to a
        common factor, from ``weights=``).
    known_sigma : bool
        Whether ``sigma`` are absolute standard deviations (``sigma=``) or only relative ones
        (``weights=``).
    """

    time_budget: float
    seed: int
    noise_hint: Optional[float]
    progress: bool
    lib: Library
    plan: Optional[Sequence] = None
    units: Optional[dict] = None
    sigma: Optional[np.ndarray] = None
    known_sigma: bool = True

    def steps(self, d: int) -> list[Step]:
        """The ``(name, strategy)`` steps for ``d`` inputs."""
        if self.plan and isinstance(self.plan[0], tuple):
            return list(self.plan)
        return build_plan(d, self.plan)


class _Rows:
    """The rows of one search: those the constants are fitted on, those candidates are chosen by and
    those the chosen formula is reported on, each part sliced once.

    A table of at least :data:`SMALL_TABLE_ROWS` rows is split into training, validation and test
    rows (at most :data:`MAX_TRAIN_ROWS` training rows). A smaller one is fitted on all rows and
    cross-validated (``folds``): candidates are compared by their cross-validated error
    (:func:`~kandiscover.symbolic.crossval.press_mse`) and the chosen one is reported by refits on
    the folds (:func:`~kandiscover.symbolic.crossval.out_of_fold`).

    Attributes
    ----------
    names : list of str
    folds : Folds or None
        The cross-validation folds of a small table.
    validation : str
        How the rows were used, e.g. ``"leave-one-out (8 rows)"``.
    """

    def __init__(self, table: Table, seed: int, sigma: Optional[np.ndarray] = None) -> None:
        n = len(table.y)
        self.names = table.inputs
        self.folds: Optional[Folds] = None
        if n < SMALL_TABLE_ROWS:
            self.folds = make_folds(n, seed)
            every = np.arange(n)
            tr = va = te = every
            self.validation = self.folds.name
        else:
            tr, va, te = split_rows(n, seed)
            if len(tr) > MAX_TRAIN_ROWS:
                tr = np.sort(np.random.default_rng(seed).choice(tr, MAX_TRAIN_ROWS, replace=False))
            self.validation = f"train/validation/test split ({len(tr)}/{len(va)}/{len(te)} rows)"
        self.parts = {k: (table.X[idx], table.y[idx]) for k, idx in (("tr", tr), ("va", va), ("te", te))}
        self.sigma = None if sigma is None else {k: sigma[idx] for k, idx in (("tr", tr), ("va", va), ("te", te))}
        X_tr = self.parts["tr"][0]
        self.train_columns = {n: X_tr[:, k] for k, n in enumerate(self.names)}

    @property
    def small(self) -> bool:
        """Whether the table is cross-validated."""
        return self.folds is not None

    def part(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of ``"tr"`` (fitting), ``"va"`` (choosing) or ``"te"`` (reporting); all rows for
        each of a small table."""
        return self.parts[which]

    def weights(self, which: str) -> Optional[np.ndarray]:
        """``1/σ²`` (mean 1) of a part when the errors are given, else ``None``."""
        if self.sigma is None:
            return None
        w = 1.0 / self.sigma[which] ** 2
        return w / float(np.mean(w))

    def error_weights(self, expr: sympy.Expr) -> Optional[np.ndarray]:
        """The weights of the fitting rows: ``1/σ²`` when the errors are given; else ``1/y²`` (mean
        1) when ``expr``'s residuals there look like relative errors
        (:func:`~kandiscover.symbolic.uncertainty.relative_weights`), else ``None``."""
        if self.sigma is not None:
            return self.weights("tr")
        X, y = self.part("tr")
        return relative_weights(formula_predictions(expr, X, self.names) - y, y)

    def loss(self, expr: sympy.Expr, weights: Optional[np.ndarray] = None) -> float:
        """The choosing loss of a formula fitted on the fitting rows: validation MSE, or the
        cross-validated MSE of a small table; weighted by ``weights`` of the choosing rows (by
        ``1/σ²`` when the errors are given)."""
        X, y = self.part("va")
        if weights is None:
            weights = self.weights("va")
        if self.small:
            return press_mse(expr, X, y, self.names, self.folds, weights)
        if weights is None:
            return formula_mse(expr, X, y, self.names)
        err = float(np.mean(weights * (formula_predictions(expr, X, self.names) - y) ** 2))
        return err if math.isfinite(err) else math.inf

    def choosing_weights(self, pool: list[dict]) -> Optional[np.ndarray]:
        """Weights of the choosing rows when the best candidate of ``pool`` leaves relative errors
        there (:func:`~kandiscover.symbolic.uncertainty.relative_weights`), else ``None``; the
        losses are weighted already when the errors are given."""
        if self.sigma is not None:
            return None
        best = min(pool, key=lambda e: e["loss"])
        X, y = self.part("va")
        return relative_weights(formula_predictions(best["formula"], X, self.names) - y, y)

    def chi2_per_dof(self, expr: sympy.Expr) -> Optional[float]:
        """``Σ((y − f)/σ)² / (n − p)`` on the fitting rows, ``p`` the formula's fitted constants."""
        X, y = self.part("tr")
        dof = len(y) - len(expr.atoms(sympy.Float))
        r = (formula_predictions(expr, X, self.names) - y) / self.sigma["tr"]
        return float(np.sum(r**2) / dof) if dof > 0 and np.all(np.isfinite(r)) else None

    def report(self, expr: sympy.Expr, deadline: float) -> dict:
        """``r2``, ``rmse`` and ``max_abs_error`` on the test rows, or out of fold (constants refitted
        on the other folds until ``deadline``) for a small table."""
        X, y = self.part("te")
        if self.small:
            return scores(out_of_fold(expr, X, y, self.names, self.folds, deadline=deadline), y)
        return metrics(expr, X, y, self.names)


def discover(
    data,
    target: Optional[str] = None,
    inputs: Optional[Sequence[str]] = None,
    *,
    time_budget: float = 60.0,
    seed: int = 0,
    noise_hint: Optional[float] = None,
    progress: bool = True,
    names: Optional[Sequence[str]] = None,
    drop_invalid: bool = False,
    lib: Optional[Library] = None,
    plan=None,
    threads: Optional[int] = 1,
    units=None,
    sigma=None,
    weights=None,
) -> Discovery:
    """Find a closed-form law ``target = f(inputs)`` in tabular data.

    Parameters
    ----------
    data : DataFrame or (X, y)
        Column names become the formula's symbols (``names`` for arrays).
    target : str
        Column to explain.
    inputs : sequence of str, optional
        Columns to use (all others by default).
    time_budget : float
        Seconds for the search: ``discover`` returns within ``1.1 × time_budget + 2 s`` (after the
        data checks), with the best candidate found by then, whatever the strategies do.
    seed : int
        Seed of row splits and KAN initialisations.
    noise_hint : float, optional
        Expected relative noise (std / RMS of the target); the search stops once a candidate's
        validation error reaches it. Exact data (default) stops at a relative MSE of 1e-10.
    progress : bool
        Show a progress bar on stderr.
    drop_invalid : bool
        Drop rows with NaN/inf instead of raising.
    lib : Library, optional
        Primitives for edge matching.
    plan : list of str, optional
        Strategies to run, by name (:data:`kandiscover.search.plan.NAMES`, or a group such as
        ``"kan"``), instead of :func:`kandiscover.search.plan.default_plan`; a list of
        ``(name, callable)`` pairs runs those callables.
    threads : int or None
        torch intra-op threads and BLAS threads (numpy, scipy) during the search, restored
        afterwards (:func:`kandiscover.support.threads.thread_limit`). ``None`` leaves both alone.
    units : dict, optional
        ``column -> unit`` for every input and the target (pint strings such as ``"m/s"``, ``""``
        for dimensionless; or headers such as ``"v [m/s]"``). The search then runs on the
        dimensionless groups of Buckingham's theorem, ``target = M · f(π₁, …)``
        (:mod:`kandiscover.search.dimensional`), and the answer is dimensionally consistent.

    sigma : str, array-like or float, optional
        Standard deviations of the target: a column (not an input then), one value per row of
        ``data``, or one for every row. Every refit is weighted least squares (weights ``1/σ²``),
        candidates are compared by their weighted error, the constants' errors follow from ``σ``,
        the noise level stops the search, and ``Discovery.chi2_per_dof`` says whether the chosen
        formula's residuals are as large as ``σ`` says (about 1).
    weights : str, array-like, optional
        Relative weights of the rows (``∝ 1/σ²``), instead of ``sigma``: weighted fits and
        choices, the constants' errors from the residuals.

    Returns
    -------
    Discovery

    Raises
    ------
    ParameterError
        A bad ``time_budget``, ``seed``, ``noise_hint``, ``threads`` or ``plan``, or both ``sigma``
        and ``weights`` (a ``ValueError``).
    DataError
        Unusable data (a ``ValueError`` naming the column).
    UnitError
        A unit pint cannot read, a column without a unit, or a target unit that no product of the
        inputs' units makes (a ``ValueError`` naming the column).
    """
    start = time.monotonic()
    settings = _settings(time_budget, seed, noise_hint, progress, lib, plan)
    check_int("threads", threads, low=1, allow_none=True, what="None or a positive integer")
    data, target, units = column_units(data, target, units)
    units, consts = split_constants(units, list(data.columns) if isinstance(data, pd.DataFrame) else [])
    data, bars, known = _error_bars(sigma, weights, data, target, inputs, names)
    table = prepare(data, target, inputs, names=names, drop_invalid=drop_invalid)
    if bars is not None:
        settings = replace(settings, sigma=_kept(bars, data, table, inputs, names), known_sigma=known)
    columns = list(data.columns) if isinstance(data, pd.DataFrame) else [*table.inputs, table.target]
    table = with_constants(table, consts) if units is not None else table
    settings = replace(settings, units=table_dimensions(table, units, columns, consts))
    with thread_limit(threads):
        return without_constants(_discover(table, settings, start), consts)


def _error_bars(sigma, weights, data, target, inputs, names) -> tuple:
    """``(data, sigma, known)``: the data without a ``sigma`` or ``weights`` column, the standard
    deviations per row of ``data`` (``1/√w`` for weights), and whether they are absolute."""
    if sigma is not None and weights is not None:
        raise ParameterError("give sigma (standard deviations) or weights (1/sigma**2), not both")
    given, what = (sigma, "sigma") if sigma is not None else (weights, "weights")
    if given is None:
        return data, None, True
    if isinstance(given, str):
        if not isinstance(data, pd.DataFrame) or given not in data.columns:
            columns = list(data.columns) if isinstance(data, pd.DataFrame) else []
            raise DataError(f"{what} column {given!r} not found; columns are {columns}")
        if given == target or (inputs is not None and given in inputs):
            raise DataError(f"{what} names the column {given!r}, which is the target or an input")
        values = pd.to_numeric(data[given], errors="coerce").to_numpy(dtype=float)
        data = data.drop(columns=[given])
    else:
        n = len(data) if isinstance(data, pd.DataFrame) else len(as_frame(data, target, names))
        values = np.asarray(given, dtype=float)
        values = np.full(n, float(values)) if values.ndim == 0 else values
        if values.shape != (n,):
            raise DataError(f"{what} has {values.size} values but the data has {n} rows; give one per row")
    with np.errstate(divide="ignore", invalid="ignore"):
        return data, (values if what == "sigma" else 1.0 / np.sqrt(values)), what == "sigma"


def _kept(bars: np.ndarray, data, table: Table, inputs, names) -> np.ndarray:
    """The error bars of the rows ``prepare`` kept (it drops those with NaN or inf when asked to):
    checked to be positive and finite, a :class:`DataError` naming the first bad rows otherwise."""
    frame = as_frame(data, table.target, names)
    used = list(inputs) if inputs is not None else [c for c in frame.columns if str(c) != table.target]
    cells = frame[used + [table.target]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = np.flatnonzero(np.isfinite(cells).all(axis=1))
    bad = ~(np.isfinite(bars[rows]) & (bars[rows] > 0))
    if bad.any():
        raise DataError(
            f"sigma or weights hold {int(bad.sum())} values that are not positive finite numbers "
            f"(first rows {rows[bad][:5].tolist()}); give standard deviations > 0"
        )
    return bars[rows]


def _settings(time_budget, seed, noise_hint, progress, lib, plan) -> Settings:
    """Checked :class:`Settings` (a bad value raises :class:`ParameterError` naming it)."""
    time_budget = check_number("time_budget", time_budget, low=0, what="a positive number of seconds")
    seed = check_int("seed", seed)
    noise_hint = check_number(
        "noise_hint", noise_hint, low=0, low_inclusive=True, allow_none=True, what="a non-negative number (or None)"
    )
    return Settings(time_budget, seed, noise_hint, bool(progress), lib or default_library(), _checked_plan(plan))


def _checked_plan(plan) -> Optional[list]:
    """``plan`` as resolved strategy names, or the ``(name, callable)`` pairs as given."""
    if plan is None:
        return None
    if isinstance(plan, str) or not isinstance(plan, (list, tuple)):
        raise ParameterError(f"plan must be None or a non-empty list of strategy names; got {plan!r}")
    if plan and all(isinstance(s, tuple) and len(s) == 2 and callable(s[1]) for s in plan):
        return list(plan)
    return resolve(plan, optional=True)


def _discover(table: Table, settings: Settings, start: float) -> Discovery:
    rows = _Rows(table, settings.seed, settings.sigma)
    X_va, y_va = rows.part("va")
    var_y = float(np.var(y_va)) or 1e-300
    noise_nmse, stop_nmse = _noise_levels(settings.noise_hint, y_va, var_y)
    if settings.sigma is not None and settings.known_sigma and not settings.noise_hint:
        noise_nmse = float(np.mean(rows.sigma["va"] ** 2)) / var_y  # the given errors are the noise level
        stop_nmse = max(1e-10, 1.5 * noise_nmse)
    X_tr, y_tr = rows.part("tr")
    # below the noise, sub-problems cannot tell candidates apart: simplicity decides there
    ctx = Context(
        X_tr,
        y_tr,
        rows.names,
        settings.seed,
        start + STRATEGY_SHARE * settings.time_budget,
        settings.lib,
        floor=max(1e-7, stop_nmse),
    )
    finish = start + POLISH_SHARE * settings.time_budget
    pool, history = [_baseline(ctx, rows)], []
    steps = _steps(settings, ctx, table)
    bar = progress_bar(steps, desc="discover", disable=not settings.progress, leave=False)
    current: dict = {}
    done, _ = run_until(
        start + HARD_SHARE * settings.time_budget,
        _search,
        bar,
        ctx,
        rows,
        settings,
        finish,
        (noise_nmse, stop_nmse, var_y),
        pool,
        history,
        current,
    )
    bar.close()
    if not done and current:  # the hard deadline cut a strategy short: its candidates so far are kept
        log.info("strategy %s stopped at the hard deadline", current["strategy"])
        best = min(p["loss"] for p in pool) / var_y
        history.append(dict(current, seconds=time.monotonic() - current["seconds"], best_nmse=best, interrupted=True))
    if rows.small or noise_nmse > 0:
        pool, _ = _reweigh(pool, rows)
    front, chosen = _choose(pool, var_y, settings.units, table.target, len(y_va) if rows.small else None)
    late = start + LAST_SHARE * settings.time_budget + 1.0
    weights = rows.error_weights(chosen["formula"]) if rows.small or noise_nmse > 0 else None
    if rows.sigma is not None:
        weights = 1.0 / rows.sigma["tr"] ** 2  # the constants' errors follow from the given ones
    elif weights is not None:
        table.notes.append(
            f"constants fitted with relative errors (σ ∝ |{table.target}|), which fit the residuals better"
        )
    # the same formula may come from several candidates: the record that fitted the most of its
    # constants on the way (a float exponent snapped to 3/2, not one a strategy rounded) tells the
    # most about them; of two such, the one with the fewest other constants (terms dropped to 0,
    # redundant ones) measured them best
    same = [e.get("snaps", ()) for e in pool if e["formula"] == chosen["formula"]]
    chosen = chosen.copy()
    chosen["snaps"] = max(same, key=_informative, default=())
    known = rows.sigma is not None and settings.known_sigma
    formula, with_symbols, constants = _constants(chosen, rows, settings.seed, late, weights, known)
    front.loc[front["chosen"], "formula"] = formula
    X_te, y_te = rows.part("te")
    return Discovery(
        formula=formula,
        pareto=front[["complexity", "loss", "score", "formula", "strategy", "chosen"]],
        inputs=rows.names,
        target=table.target,
        seconds=time.monotonic() - start,
        strategy=str(chosen["strategy"]),
        notes=table.notes,
        history=history,
        model=ctx.models[-1][1] if ctx.models else None,
        test_data=(X_te, y_te),
        constants=constants,
        formula_with_symbols=with_symbols,
        validation=rows.validation,
        chi2_per_dof=rows.chi2_per_dof(formula) if known else None,
        **rows.report(formula, late),
    )


def _informative(snaps: tuple) -> tuple:
    """How much a snap record says about a formula's constants: ``(identified nonzero values,
    -constants in all)``."""
    found = sum(1 for r in snaps if math.isfinite(r["std_error"]) and r["snapped"] != 0)
    return found, -len(snaps)


def _constants(chosen: pd.Series, rows: _Rows, seed: int, deadline: float, weights, known: bool = False) -> tuple:
    """The chosen formula's constants refitted on the fitting rows (weighted by ``weights``; their
    errors from ``1/weights`` when ``known``), with their uncertainty
    (:func:`kandiscover.symbolic.uncertainty.fitted_constants`); the constants it snapped are listed
    after them."""
    X_tr, y_tr = rows.part("tr")
    snaps = chosen.get("snaps", ()) or ()
    cols = [X_tr[:, k] for k in range(X_tr.shape[1])]
    return fitted_constants(
        chosen["formula"],
        rows.names,
        cols,
        y_tr,
        snaps=snaps,
        weights=weights,
        known_sigma=known,
        seed=seed,
        deadline=deadline,
    )


def _steps(settings: Settings, ctx: Context, table: Table) -> list[Step]:
    """The plan's steps; with units, the plan on the dimensionless problem first
    (:func:`kandiscover.search.dimensional.units_plan`), its reduction noted in the table."""
    if settings.units is None:
        return settings.steps(len(ctx.names))
    return units_plan(settings.steps, ctx, table.target, settings.units, table.notes)


def _search(
    bar,
    ctx: Context,
    rows: _Rows,
    settings: Settings,
    finish: float,
    levels: tuple,
    pool: list,
    history: list,
    current: dict,
) -> None:
    """Run the plan's strategies in order, adding their polished candidates to ``pool`` as they come
    (so that a hard deadline keeps what was found) and one ``history`` entry per finished strategy;
    ``current`` names the strategy running. Stops once a candidate reaches ``stop_nmse``."""
    noise_nmse, stop_nmse, var_y = levels
    for name, strategy in bar:
        if ctx.remaining() < 0.1 * settings.time_budget:  # too little left to finish another one
            break
        bar.set_postfix_str(name)
        current.update(strategy=name, seconds=time.monotonic(), candidates=0)
        raw = _run(name, strategy, ctx)
        current["candidates"] = len(raw)
        _candidates(name, raw, rows, finish, noise_nmse, pool)
        best = min((p["loss"] for p in pool), default=math.inf)
        history.append(dict(current, seconds=time.monotonic() - current["seconds"], best_nmse=best / var_y))
        current.clear()
        log.info("strategy %s: %d candidates, best validation NMSE %.3g", name, len(raw), best / var_y)
        if best / var_y <= stop_nmse:
            break


def _noise_levels(noise_hint: Optional[float], y_va: np.ndarray, var_y: float) -> tuple[float, float]:
    """The data's known relative MSE, and the validation relative MSE at which the search stops."""
    # noise_hint is std / RMS(y); the stop rule compares MSE / Var(y)
    rms2 = float(np.mean(y_va**2))
    noise_nmse = noise_hint**2 * rms2 / var_y if noise_hint else 0.0
    return noise_nmse, max(1e-10, 1.5 * noise_nmse)


def _baseline(ctx: Context, rows: _Rows) -> dict:
    """The linear least-squares fit: a candidate that always exists (the floor every law must beat)."""
    expr = round_floats(linear(ctx)[0], 6)
    return dict(formula=expr, loss=rows.loss(expr), complexity=complexity(expr), strategy="linear", snaps=())


def _run(name: str, strategy, ctx: Context) -> list:
    """The raw candidates of one strategy (none when it fails)."""
    try:
        return strategy(ctx)
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
        log.info("strategy %s failed: %s", name, exc)
        return []


def _candidates(name: str, raw: list, rows: _Rows, finish: float, noise_nmse: float, out: list) -> None:
    """Add pool entries from a strategy's raw candidates to ``out``: the best two of the first six,
    refitted on the fitting rows and scored on the choosing rows (:meth:`_Rows.loss`), each also
    polished (until ``finish``); each entry is added as soon as it is scored. A polished entry keeps
    the record of the constants it snapped (``snaps``, see
    :func:`kandiscover.symbolic.refit.snap_constants`); a small table's residual counts as noise."""
    _, y_tr = rows.part("tr")
    cols = rows.train_columns
    quick = []
    for expr in raw[:6]:
        if expr.has(sympy.zoo, sympy.nan):
            continue
        fit_w = rows.weights("tr")
        refit = (
            refit_with_loss(expr, cols, y_tr, deadline=finish, weights=fit_w)[0] if time.monotonic() < finish else expr
        )
        quick.append((rows.loss(refit), refit))
    quick.sort(key=lambda t: t[0])
    for loss0, expr in quick[:2]:
        if not math.isfinite(loss0):
            continue
        out.append(dict(formula=expr, loss=loss0, complexity=complexity(expr), strategy=name + " (raw)", snaps=()))
        if time.monotonic() < finish - 0.5:
            snaps: list = []
            weights = rows.error_weights(expr) if rows.small or noise_nmse > 0 else None
            nice = polish(
                expr,
                cols,
                y_tr,
                deadline=finish,
                noise=noise_nmse,
                residual_is_noise=rows.small or rows.sigma is not None,
                record=snaps,
                weights=weights,
            )
            out.append(
                dict(formula=nice, loss=rows.loss(nice), complexity=complexity(nice), strategy=name, snaps=tuple(snaps))
            )


def _reweigh(pool: list[dict], rows: _Rows) -> tuple[list[dict], Optional[np.ndarray]]:
    """The pool with its losses weighted, and the weights, when the best candidate leaves relative
    errors on the choosing rows: with errors proportional to the target, the largest values would
    otherwise decide alone which formula is best."""
    weights = rows.choosing_weights(pool)
    if weights is None:
        return pool, None
    log.info("candidates compared by their relative errors")
    return [dict(e, loss=rows.loss(e["formula"], weights)) for e in pool], weights


def _choose(
    pool: list[dict], var_y: float, dims: Optional[dict] = None, target: str = "", n_cv: Optional[int] = None
) -> tuple[pd.DataFrame, pd.Series]:
    """The Pareto front of the pool (with a ``chosen`` column) and the chosen entry: the simplest
    whose validation loss is within 50 % of the best.

    On a small table (``n_cv`` cross-validated rows) the entry of the pool with the least
    ``n_cv·log(loss) + 2·(complexity + floats)`` instead, added to the front if it is not on it —
    the loss as a log-likelihood, every node of the formula and every fitted constant counted like
    a parameter of AIC (the weighing :func:`kandiscover.symbolic.refit.snap_constants` uses for
    simple values): on a dozen noisy rows a longer formula often predicts the held-out rows a
    little better by chance, a fixed 50 % margin does not grow with the length it buys, and a
    constant snapped within its interval (``2`` for ``2.006 ± 0.006``) is preferred to the float
    it replaces although the float fits the rows a little better.

    With units (``dims``), dimensionally inconsistent candidates (the linear baseline, say) are
    dropped while a consistent one exists: a formula whose units disagree is not a law, however
    well it fits."""
    frame = pd.DataFrame(pool)
    frame = frame[np.isfinite(frame["loss"])]
    if dims is not None:
        consistent = frame["formula"].map(lambda e: unit_mismatch(e, dims, target) is None)
        if consistent.any():
            frame = frame[consistent]
    if frame.empty:
        raise RuntimeError("no candidate formula could be evaluated; try a larger time_budget")
    front = pareto_front(frame)
    if n_cv is not None:
        floor = 1e-24 * var_y + 1e-300  # exact fits differ only by round-off
        floats = frame["formula"].map(lambda e: len(e.atoms(sympy.Float))).to_numpy(dtype=float)
        loss = np.maximum(frame["loss"].to_numpy(dtype=float), floor)
        crit = n_cv * np.log(loss) + 2 * (frame["complexity"].to_numpy(dtype=float) + floats)
        pick = frame.iloc[int(np.argmin(crit))]
        hit = front.index[(front["formula"] == pick["formula"]) & (front["loss"] == pick["loss"])]
        if len(hit):
            chosen_idx = hit[0]
        else:
            front = pd.concat([front, pick.to_frame().T.assign(score=0.0)], ignore_index=True)
            front = front.sort_values(["complexity", "loss"], kind="stable").reset_index(drop=True)
            chosen_idx = front.index[(front["formula"] == pick["formula"]) & (front["loss"] == pick["loss"])][0]
    else:
        limit = max(float(front["loss"].min()) * 1.5, 1e-12 * var_y)
        chosen_idx = front[front["loss"] <= limit]["complexity"].idxmin()
    front["chosen"] = front.index == chosen_idx
    return front, front.loc[chosen_idx]
