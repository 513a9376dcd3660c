"""`discover()`: data in, a readable law, its accuracy and a Pareto front of alternatives out.

Rows are split into training (fitting), validation (choosing) and test (reporting) sets. The
strategies of :mod:`kandiscover.strategies` run in order within the time budget; every candidate
they return is polished (constants refitted on training rows, snapped to simple values,
simplified), scored on validation rows, and kept in a pool. The search stops early once a
candidate explains the validation rows to the noise level. The Pareto front of the pool gives the
alternatives; the chosen formula is the simplest one whose validation loss is within 50 % of the
best.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import sympy

from .support.progress import progress_bar
from .data import DataError, prepare, split_rows
from .result import Discovery, _metrics, complexity, pareto_front
from .strategies import Context, default_plan, linear
from .symbolic.export import to_numpy
from .symbolic.library import Library, default_library
from .symbolic.refit import polish, refit_with_loss, round_floats

log = logging.getLogger("kandiscover")

__all__ = ["discover"]

MAX_TRAIN_ROWS = 3000


def _val_loss(expr, X, y, names) -> float:
    try:
        pred = to_numpy(expr, names)(X)
    except Exception as exc:  # a formula that cannot be evaluated is simply not a candidate
        log.debug("cannot evaluate %s: %s", expr, exc)
        return math.inf
    err = float(np.mean((pred - y) ** 2))
    return err if math.isfinite(err) else math.inf


def _baseline(ctx: Context, Xva, yva) -> dict:
    """The linear least-squares fit: a candidate that always exists (the floor every law must beat)."""
    expr = round_floats(linear(ctx)[0], 6)
    return dict(formula=expr, loss=_val_loss(expr, Xva, yva, ctx.names), complexity=complexity(expr), strategy="linear")


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
        Seconds for the search (honoured within about 10 %).
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
    plan : list of (name, callable), optional
        Strategies to run instead of :func:`kandiscover.strategies.default_plan`.
    threads : int or None
        torch intra-op threads and BLAS threads (numpy, scipy) during the search, restored
        afterwards (small KANs and least-squares problems run fastest on one thread; several
        threads on tiny matrices mostly wait on each other). ``None`` leaves
        both settings alone.

    Returns
    -------
    Discovery
    """
    if not (isinstance(time_budget, (int, float)) and time_budget > 0):
        raise DataError(f"time_budget must be a positive number of seconds; got {time_budget!r}")
    if noise_hint is not None and not (isinstance(noise_hint, (int, float)) and noise_hint >= 0):
        raise DataError(f"noise_hint must be a non-negative number; got {noise_hint!r}")
    if threads is None:
        return _discover(data, target, inputs, time_budget, seed, noise_hint, progress, names, drop_invalid, lib, plan)
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):  # numpy/scipy least squares and QR
            return _discover(data, target, inputs, time_budget, seed, noise_hint, progress, names, drop_invalid,
                             lib, plan)
    finally:
        torch.set_num_threads(before)


def _discover(data, target, inputs, time_budget, seed, noise_hint, progress, names, drop_invalid, lib, plan):
    start = time.monotonic()
    # strategies stop at 80 % of the budget; refits and polishing of their candidates at 90 %:
    # the pieces of work between deadline checks (a KAN fit step, a refit, a simplification)
    # take seconds on a loaded machine, and the budget is promised within 10 %
    deadline = start + 0.8 * time_budget
    finish = start + 0.9 * time_budget
    table = prepare(data, target, inputs, names=names, drop_invalid=drop_invalid)
    X, y, names_ = table.X, table.y, table.inputs
    tr, va, te = split_rows(len(y), seed)
    if len(tr) > MAX_TRAIN_ROWS:
        tr = np.sort(np.random.default_rng(seed).choice(tr, MAX_TRAIN_ROWS, replace=False))
    var_y = float(np.var(y[va])) or 1e-300
    # noise_hint is std / RMS(y); the stop rule compares MSE / Var(y)
    rms2 = float(np.mean(y[va] ** 2))
    noise_nmse = noise_hint**2 * rms2 / var_y if noise_hint else 0.0
    stop_nmse = max(1e-10, 1.5 * noise_nmse)
    # below the noise, sub-problems cannot tell candidates apart: simplicity decides there
    ctx = Context(X[tr], y[tr], names_, seed, deadline, lib or default_library(), floor=max(1e-7, stop_nmse))
    train_cols = {n: X[tr, k] for k, n in enumerate(names_)}
    pool, history = [_baseline(ctx, X[va], y[va])], []
    steps = plan or default_plan(len(names_))
    bar = progress_bar(steps, desc="discover", disable=not progress, leave=False)
    for name, strategy in bar:
        if ctx.remaining() < 0.1 * time_budget:  # too little left to finish another one
            break
        bar.set_postfix_str(name)
        t0 = time.monotonic()
        try:
            raw = strategy(ctx)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            log.info("strategy %s failed: %s", name, exc)
            raw = []
        quick = []
        for expr in raw[:6]:
            if expr.has(sympy.zoo, sympy.nan):
                continue
            refit = refit_with_loss(expr, train_cols, y[tr], deadline=finish)[0] if time.monotonic() < finish else expr
            quick.append((_val_loss(refit, X[va], y[va], names_), refit))
        quick.sort(key=lambda t: t[0])
        for loss0, expr in quick[:2]:
            if not math.isfinite(loss0):
                continue
            pool.append(dict(formula=expr, loss=loss0, complexity=complexity(expr), strategy=name + " (raw)"))
            if time.monotonic() < finish - 0.5:
                nice = polish(expr, train_cols, y[tr], deadline=finish, noise=noise_nmse)
                pool.append(dict(formula=nice, loss=_val_loss(nice, X[va], y[va], names_),
                                 complexity=complexity(nice), strategy=name))
        best = min((p["loss"] for p in pool), default=math.inf)
        history.append(dict(strategy=name, seconds=time.monotonic() - t0, candidates=len(raw), best_nmse=best / var_y))
        log.info("strategy %s: %d candidates, best validation NMSE %.3g", name, len(raw), best / var_y)
        if best / var_y <= stop_nmse:
            break
    bar.close()
    if not pool:
        raise RuntimeError("no candidate formula could be evaluated; try a larger time_budget")
    frame = pd.DataFrame(pool)
    frame = frame[np.isfinite(frame["loss"])]
    front = pareto_front(frame)
    best = float(front["loss"].min())
    limit = max(best * 1.5, 1e-12 * var_y)
    chosen_idx = front[front["loss"] <= limit]["complexity"].idxmin()
    front["chosen"] = front.index == chosen_idx
    chosen = front.loc[chosen_idx]
    metrics = _metrics(chosen["formula"], X[te], y[te], names_)
    model = ctx.models[-1][1] if ctx.models else None
    return Discovery(
        formula=chosen["formula"], pareto=front[["complexity", "loss", "score", "formula", "strategy", "chosen"]],
        inputs=names_, target=table.target, seconds=time.monotonic() - start, strategy=str(chosen["strategy"]),
        notes=table.notes, history=history, model=model, test_data=(X[te], y[te]), **metrics,
    )
