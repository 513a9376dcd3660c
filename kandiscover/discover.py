"""`discover()`: data in, a readable law, its accuracy and a Pareto front of alternatives out.

Rows are split into training (fitting), validation (choosing) and test (reporting) sets — or, for
tables of fewer than :data:`~kandiscover.symbolic.crossval.SMALL_TABLE_ROWS` rows, all rows fit
and cross-validation chooses and reports (leave-one-out up to 20 rows, else 10-fold; see
:mod:`kandiscover.symbolic.crossval`). The strategies of the plan (:mod:`kandiscover.search.plan`)
run in order within the time budget; every candidate they return is polished (constants refitted
on the fitting rows, snapped to simple values, simplified), scored on the choosing rows, and kept in
a pool. The search stops early once a candidate explains the choosing rows to the noise level
(given, or estimated from residuals that pass a lack-of-fit test: :mod:`kandiscover.selection`).
The Pareto front of the pool gives the alternatives; the criterion that picks the chosen formula
(the 50 % margin on exact data, BIC with noise, AIC on a small table) is
:func:`kandiscover.selection.choose`'s. Its constants are refitted once more, with their
standard errors and 95 % intervals (:mod:`kandiscover.symbolic.uncertainty`), and printed to the
digits those support.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import sympy

from .data import Table, error_bars, kept_error_bars, prepare
from .formula_kan import formula_kan
from .model import KAN
from .result import Discovery
from .rows import MAX_TRAIN_ROWS, Rows
from .search.closed_form import linear
from .search.context import EXACT_FLOOR, Context
from .search.dimensional import units_plan
from .search.plan import Step, build_plan, resolve
from .selection import (
    EXACT_NMSE,
    MANY_FLOATS,
    ROUND_OFF_NMSE,
    choose,
    estimate_noise,
    given_noise,
    information,
    reweigh,
)
from .support.deadline import run_until
from .support.params import ParameterError, check_int, check_number
from .support.progress import progress_bar
from .support.threads import thread_limit
from .symbolic.complexity import complexity
from .symbolic.crossval import SMALL_TABLE_ROWS
from .symbolic.library import Library, default_library
from .symbolic.taylor import small_argument_forms
from .symbolic.refit import polish, refit_with_loss, round_floats
from .symbolic.uncertainty import fitted_constants
from .unit_columns import column_units, split_constants, table_dimensions, with_constants, without_constants

log = logging.getLogger("kandiscover")

__all__ = ["discover", "Settings", "MAX_TRAIN_ROWS", "SMALL_TABLE_ROWS"]

STRATEGY_SHARE, POLISH_SHARE, HARD_SHARE, LAST_SHARE = 0.8, 0.9, 0.95, 1.05

ONE_POLISH_SHARE, ONE_POLISH_MIN = 0.25, 1.0
"""A strategy's candidates are polished for at most this part of the polishing time left (or this
many seconds, if more): snapping the two dozen floats of a strategy's stand-in can take the whole
budget, and the strategies after it would never run."""
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
        validation error reaches it. Without it (and without ``sigma``) the noise is estimated
        from the residuals of the best candidate once they pass a lack-of-fit test
        (``Discovery.noise``, ``noise_source``); exact data stop at a relative MSE of 1e-10.
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
    data, bars, known = error_bars(sigma, weights, data, target, inputs, names)
    table = prepare(data, target, inputs, names=names, drop_invalid=drop_invalid)
    if bars is not None:
        settings = replace(settings, sigma=kept_error_bars(bars, data, table, inputs, names), known_sigma=known)
    columns = list(data.columns) if isinstance(data, pd.DataFrame) else [*table.inputs, table.target]
    table = with_constants(table, consts) if units is not None else table
    settings = replace(settings, units=table_dimensions(table, units, columns, consts))
    with thread_limit(threads):
        return without_constants(_discover(table, settings, start), consts)


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
    rows = Rows(table, settings.seed, settings.sigma)
    _, y_va = rows.part("va")
    var_y = float(np.var(y_va)) or 1e-300
    known = rows.sigma is not None and settings.known_sigma
    level = given_noise(settings.noise_hint, rows.sigma["va"] if known else None, y_va, table.y)
    X_tr, y_tr = rows.part("tr")
    # below the noise, sub-problems cannot tell candidates apart: simplicity decides there
    ctx = Context(
        X_tr,
        y_tr,
        rows.names,
        settings.seed,
        start + STRATEGY_SHARE * settings.time_budget,
        settings.lib,
        floor=max(EXACT_FLOOR, level.stop),
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
        (level, var_y),
        pool,
        history,
        current,
    )
    bar.close()
    if not done and current:  # the hard deadline cut a strategy short: its candidates so far are kept
        log.info("strategy %s stopped at the hard deadline", current["strategy"])
        best = min(p["loss"] for p in pool) / var_y
        history.append(dict(current, seconds=time.monotonic() - current["seconds"], best_nmse=best, interrupted=True))
    if level.source == "estimated":
        table.notes.append(f"noise {level.relative:.2g} of the target's RMS, {level.detail}")
        run_until(start + HARD_SHARE * settings.time_budget, _repolish, pool, rows, finish, level.nmse)
    noisy = rows.small or level.nmse > 0
    if noisy:
        pool = reweigh(pool, rows)
    front, chosen, criterion = choose(
        pool,
        var_y,
        settings.units,
        table.target,
        n_cv=len(y_va) if rows.small else None,
        n_noisy=len(y_va) if level.nmse > 0 else None,
        notes=table.notes,
    )
    late = start + LAST_SHARE * settings.time_budget + 1.0
    weights = rows.error_weights(chosen["formula"]) if noisy else None
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
    formula, with_symbols, constants = _constants(chosen, rows, settings.seed, late, weights, known)
    front.loc[front["chosen"], "formula"] = formula
    X_te, y_te = rows.part("te")
    model, origin = _picture(chosen, formula, rows, settings.lib, late)
    return Discovery(
        formula=formula,
        pareto=front[["complexity", "loss", "score", "formula", "strategy", "chosen"]],
        inputs=rows.names,
        target=table.target,
        seconds=time.monotonic() - start,
        strategy=str(chosen["strategy"]),
        notes=table.notes,
        history=history,
        model=model,
        model_origin=origin,
        test_data=(X_te, y_te),
        constants=constants,
        formula_with_symbols=with_symbols,
        validation=rows.validation,
        chi2_per_dof=rows.chi2_per_dof(formula) if known else None,
        noise=level.relative,
        noise_source=level.source,
        selection=criterion,
        **rows.report(formula, late),
    )


def _picture(chosen: pd.Series, formula: sympy.Expr, rows: Rows, lib: Library, deadline: float) -> tuple:
    """The KAN to show with the answer and where it comes from: the KAN whose edges produced the
    chosen formula (trained on the table's own columns; a copy, its edges matched to ``lib`` where
    a match is good, so that the figure labels them), else the formula compiled into a KAN
    (:func:`kandiscover.formula_kan.formula_kan`); ``(None, "")`` when neither exists."""
    model = chosen.get("model")
    failures = (ValueError, ArithmeticError, RuntimeError, TypeError)  # a figure never fails a search
    if isinstance(model, KAN) and model.width_in[0] == len(rows.names):
        labelled = model.copy()
        try:
            done, _ = run_until(deadline, labelled.auto_symbolic, lib=lib, r2_threshold=0.99)
        except failures as exc:
            log.info("edges of the KAN behind %s left unmatched: %s", formula, exc)
            done = False
        return (labelled if done else model), f"trained by {str(chosen['strategy']).removesuffix(' (raw)')}"
    try:
        done, compiled = run_until(deadline, formula_kan, formula, rows.names, rows.part("tr")[0])
    except failures as exc:
        log.info("no KAN drawn for %s: %s", formula, exc)
        return None, ""
    return (compiled, "compiled from the formula") if done else (None, "")


def _informative(snaps: tuple) -> tuple:
    """How much a snap record says about a formula's constants: ``(identified nonzero values,
    -constants in all)``."""
    found = sum(1 for r in snaps if math.isfinite(r["std_error"]) and r["snapped"] != 0)
    return found, -len(snaps)


def _constants(chosen: pd.Series, rows: Rows, seed: int, deadline: float, weights, known: bool = False) -> tuple:
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
    rows: Rows,
    settings: Settings,
    finish: float,
    levels: tuple,
    pool: list,
    history: list,
    current: dict,
) -> None:
    """Run the plan's strategies in order, adding their polished candidates to ``pool`` as they come
    (so that a hard deadline keeps what was found) and one ``history`` entry per finished strategy;
    ``current`` names the strategy running. Where no noise level is known, the best candidate's
    residuals may set it (:func:`kandiscover.selection.estimate_noise`); the search stops when
    :func:`_done` says so."""
    level, var_y = levels
    tested = None
    for name, strategy in bar:
        if ctx.remaining() < 0.1 * settings.time_budget:  # too little left to finish another one
            break
        bar.set_postfix_str(name)
        current.update(strategy=name, seconds=time.monotonic(), candidates=0)
        n_models, n_pool = len(ctx.models), len(pool)
        raw = _run(name, strategy, ctx)
        current["candidates"] = len(raw)
        _candidates(name, raw, rows, finish, level.nmse, pool)
        if len(ctx.models) > n_models:  # the KAN this strategy trained last produced its candidates
            for entry in pool[n_pool:]:
                entry["model"] = ctx.models[-1][1]
        best = min(pool, key=lambda e: e["loss"])
        history.append(dict(current, seconds=time.monotonic() - current["seconds"], best_nmse=best["loss"] / var_y))
        current.clear()
        log.info("strategy %s: %d candidates, best validation NMSE %.3g", name, len(raw), best["loss"] / var_y)
        if level.source == "unknown" and best is not tested and best["loss"] / var_y > EXACT_NMSE:
            tested, found = best, estimate_noise(best, rows, var_y)
            if found is not None:
                log.info("residuals of %s are noise: %s", best["formula"], found.detail)
                vars(level).update(vars(found))
        if _done(pool, level, var_y):
            break


def _done(pool: list, level, var_y: float) -> bool:
    """Whether the search can stop: a candidate is exact (with :data:`MANY_FLOATS` unexplained
    constants or more, to round-off: a series fitted to ``1e-12`` is not the law), or explains the
    rows to the noise level with at most one fitted constant left (an overall scale). A candidate within the noise that
    needs more unexplained floats is an approximation that fits as well as the law would (a
    polynomial for a Gaussian, a Taylor-regime ``c·sin(x/c)``), so the search goes on for one
    whose constants snapped to simple values. Exact is ``level.exact_stop``
    (:data:`kandiscover.selection.STOP_EXACT_NMSE` where no noise is known); "within the noise"
    applies only where a noise level is known."""
    for entry in pool:
        nmse, floats = entry["loss"] / var_y, len(entry["formula"].atoms(sympy.Float))
        if nmse <= level.exact_stop and (floats < MANY_FLOATS or nmse <= ROUND_OFF_NMSE):
            return True
        if level.nmse > 0 and nmse <= level.stop and floats <= 1:
            return True
    return False


def _repolish(pool: list, rows: Rows, finish: float, noise_nmse: float, keep: int = 8) -> None:
    """Polish the best ``keep`` raw candidates of ``pool`` again at the noise level estimated after
    they were first polished (as exact data), adding the results to ``pool``."""
    raw = sorted((e for e in pool if e["strategy"].endswith(" (raw)")), key=lambda e: e["loss"])
    seen: set = set()
    for entry in raw:
        if len(seen) == keep or time.monotonic() > finish - 0.5:
            break
        if entry["formula"] in seen:
            continue
        seen.add(entry["formula"])
        name = entry["strategy"][: -len(" (raw)")]
        _polish_into(pool, name, entry["formula"], rows, finish, noise_nmse)
        pool[-1]["model"] = entry.get("model")


def _baseline(ctx: Context, rows: Rows) -> dict:
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


def _candidates(name: str, raw: list, rows: Rows, finish: float, noise_nmse: float, out: list) -> None:
    """Add pool entries from a strategy's raw candidates to ``out``: the best two of the first six,
    refitted on the fitting rows and scored on the choosing rows (:meth:`Rows.loss`), each also
    polished (all of them for at most :data:`ONE_POLISH_SHARE` of the time left until ``finish``);
    each entry is added as soon as it is scored. A polished entry keeps the record of the
    constants it snapped (``snaps``, see :func:`kandiscover.symbolic.refit.snap_constants`); a small
    table's residual counts as noise."""
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
    quick.sort(key=_ranking(rows, noise_nmse))
    now = time.monotonic()
    until = min(finish, now + max(ONE_POLISH_MIN, ONE_POLISH_SHARE * (finish - now)))
    window = _polish_window(rows, noise_nmse, out, until)
    for loss0, expr in quick[:2]:
        if not math.isfinite(loss0):
            continue
        entry = dict(formula=expr, loss=loss0, complexity=complexity(expr), strategy=name + " (raw)", snaps=())
        out.append(entry)
        deadline = window(loss0)
        if deadline is None:
            continue
        shape, polished = _shape(expr), _polished_losses(out)
        if time.monotonic() < deadline - 0.5 and polished.get(shape, math.inf) > loss0 * (1 - SAME_SHAPE_GAIN):
            entry["shape"] = shape  # polished: later candidates of this shape compare with it
            _polish_into(out, name, expr, rows, deadline, noise_nmse)


POLISH_NMSE = 1e-3
"""A raw candidate whose validation NMSE is above this (and above :data:`POLISH_NOISE` times the
noise level) is *poor*: it is polished only when it is the best in the pool so far, and then for at
most :data:`POOR_POLISH_SECONDS`. Snapping a constant only raises a fit's loss; the refits and the
simplification in between can still improve a poor fit, but they take a fraction of the time the
snapping does, while snapping the five exponents of a poor monomial of nine inputs took 5 s of a
30 s budget and the strategy that finds the law waited. The best poor candidate is still polished
briefly, since it may be the answer and should read well. Where the noise level is
estimated during the search, the best raw candidates are polished again at that level
(:func:`_repolish`)."""

POLISH_NOISE = 100.0

POOR_POLISH_SECONDS = 1.0


def _polish_window(rows: Rows, noise_nmse: float, pool: list, until: float) -> Callable[[float], Optional[float]]:
    """The deadline for polishing a raw candidate of validation loss ``loss`` (see
    :data:`POLISH_NMSE`): ``until`` for a good one, at most :data:`POOR_POLISH_SECONDS` from now for
    a poor one that beats ``pool`` (as it was before the strategy's candidates came), ``None`` for
    a poor one that does not (not polished)."""
    _, y_va = rows.part("va")
    good = max(POLISH_NMSE, POLISH_NOISE * noise_nmse) * (float(np.var(y_va)) or 1e-300)
    best = min((e["loss"] for e in pool), default=math.inf)

    def window(loss: float) -> Optional[float]:
        if loss <= good:
            return until
        if loss < best:
            return min(until, time.monotonic() + POOR_POLISH_SECONDS)
        return None

    return window


SAME_SHAPE_GAIN = 0.01
"""A refitted candidate of the same shape as one polished before (its floats aside) is polished
again only when it fits at least this share better: with units, the monomial of the reduced
problem lifted, the monomial of the original inputs, ``exp-monomial``'s and ``offset-monomial``'s
are often one formula, and snapping five exponents takes seconds each time."""


def _shape(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every float replaced by one placeholder symbol."""
    return expr.xreplace({f: _PLACEHOLDER for f in expr.atoms(sympy.Float)})


_PLACEHOLDER = sympy.Symbol("_float_")


def _polished_losses(pool: list) -> dict:
    """Shape -> least loss of the raw candidates of ``pool`` that were polished (those carrying
    their ``shape``)."""
    losses: dict = {}
    for entry in pool:
        if "shape" in entry:
            losses[entry["shape"]] = min(losses.get(entry["shape"], math.inf), entry["loss"])
    return losses


def _ranking(rows: Rows, noise_nmse: float) -> Callable[[tuple], float]:
    """How a strategy's refitted ``(loss, formula)`` pairs are ranked for polishing: by loss on
    exact rows; on noisy ones by the criterion the choice uses (BIC on the choosing rows, see
    :func:`kandiscover.selection.choose`), so that a formula a term simpler that fits the noise a
    hair worse is not left out before the choice can weigh it."""
    if noise_nmse <= 0:
        return lambda t: t[0]
    _, y_va = rows.part("va")
    n, var_y = len(y_va), float(np.var(y_va))

    def key(t):
        loss, expr = t
        if not math.isfinite(loss):
            return math.inf
        return float(information(loss, complexity(expr) + len(expr.atoms(sympy.Float)), n, math.log(n), var_y))

    return key


def _polish_into(
    out: list, name: str, expr: sympy.Expr, rows: Rows, finish: float, noise_nmse: float, collapse: int = 2
) -> None:
    """Polish ``expr`` (until ``finish``, at the noise level ``noise_nmse``) and add it to ``out``
    with the record of the constants it snapped; a small table's residual counts as noise. Where
    the polished formula uses a function only at small arguments, its collapsed form
    (:func:`kandiscover.symbolic.taylor.small_argument_forms`) is polished and added too, up to
    ``collapse`` times in a row (a collapse can leave another function at small arguments)."""
    _, y_tr = rows.part("tr")
    snaps: list = []
    weights = rows.error_weights(expr) if rows.small or noise_nmse > 0 else None
    nice = polish(
        expr,
        rows.train_columns,
        y_tr,
        deadline=finish,
        noise=noise_nmse,
        residual_is_noise=rows.small or rows.sigma is not None,
        record=snaps,
        weights=weights,
    )
    out.append(dict(formula=nice, loss=rows.loss(nice), complexity=complexity(nice), strategy=name, snaps=tuple(snaps)))
    if collapse > 0 and time.monotonic() < finish - 0.5:
        for form in small_argument_forms(nice, rows.train_columns):
            _polish_into(out, name, form, rows, finish, noise_nmse, collapse - 1)
