"""The ``zoo`` pack: classic symbolic-regression problems other than Feynman (89).

Keijzer, Korns, Koza, Livermore, Jin, Vladislavleva, Constant, R, Poly, Neat and Pagie, as defined in
the benchmark table of the Deep Symbolic Optimization project; ``zoo.csv`` (in the package data) is generated
from ``../shared/data/sr_zoo.csv`` by ``problems/zoo/generate.py``.

    >>> import kandiscover as kd
    >>> pack = kd.problems.load("zoo")
    >>> df = pack["Keijzer-4"].sample(n=1000, seed=0)       # uniform on the original box
    >>> small = original_sample(pack["Keijzer-4"])          # the original 101-point grid

Two ways to sample a problem: :meth:`~kandiscover.problems.Problem.sample` draws any number of rows
uniformly on the box of the original definition (what suites use); :func:`original_sample` gives the
original definition itself — ``n`` uniform random points (``{"U": [low, high, n]}``), or an evenly
spaced grid (``{"E": [low, high, step]}``, a product grid over several inputs) — with the rows where
the target is not finite dropped (``log(x)`` on a grid from 0). Inputs are ``x1``, ``x2``, …; the
target is ``y``. ``harmonic(x)`` (the harmonic number) is written ``digamma(x + 1) + EulerGamma``,
its continuation to real ``x``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sympy

from ..symbolic.parse import parse_formula
from .datafiles import data_file
from .problem import Problem

__all__ = [
    "DATA_FILE",
    "TARGET",
    "parse_truth",
    "problem_from_row",
    "grid_points",
    "original_inputs",
    "original_sample",
    "load_problems",
]

DATA_FILE = data_file("zoo", check=False)
"""The generated pack file."""

TARGET = "y"
"""Name of every zoo problem's target column."""

_FUNCTIONS = {"harmonic": lambda x: sympy.digamma(x + 1) + sympy.EulerGamma}


def parse_truth(text: str, variables) -> sympy.Expr:
    """A zoo formula as a sympy expression (the whitelisting parser, plus ``harmonic``)."""
    return parse_formula(text, variables=list(variables), functions=_FUNCTIONS)


def problem_from_row(row: dict) -> Problem:
    """The :class:`Problem` of one row of ``zoo.csv`` (see ``problems/zoo/generate.py``)."""
    names = row["variables"].split()
    ranges = tuple(zip(map(float, row["lows"].split()), map(float, row["highs"].split())))
    meta = {
        "family": row["family"],
        "sampling": json.loads(row["sampling"]),
        "original_rows": int(row["original_rows"]),
        "function_set": row["function_set"],
        "formula_text": row["formula"],
    }
    return Problem(
        name=row["id"],
        pack="zoo",
        target=TARGET,
        variables=tuple(names),
        ranges=ranges,
        formula=parse_truth(row["formula"], names),
        source=row["family"],
        meta=meta,
    )


def grid_points(low: float, high: float, step: float) -> np.ndarray:
    """``low, low + step, …`` up to ``high`` inclusive (to round-off), shape ``(m,)``."""
    count = int(np.floor((high - low) / step + 1e-9)) + 1
    return low + step * np.arange(count)


def original_inputs(problem: Problem, seed: int = 0) -> list[np.ndarray]:
    """The input columns of the problem's original definition, one array per variable.

    All ``"U"`` inputs: ``n`` uniform random rows (``numpy.random.default_rng(seed)``, one input
    after the other). All ``"E"`` inputs: the product grid of their evenly spaced points.
    """
    spec = problem.meta["sampling"]
    kinds = {next(iter(spec[v])) for v in problem.variables}
    if kinds == {"E"}:
        axes = [grid_points(*spec[v]["E"]) for v in problem.variables]
        return [a.ravel() for a in np.meshgrid(*axes, indexing="ij")]
    if kinds == {"U"}:
        rng = np.random.default_rng(seed)
        n = max(int(spec[v]["U"][2]) for v in problem.variables)
        return [rng.uniform(spec[v]["U"][0], spec[v]["U"][1], size=n) for v in problem.variables]
    raise ValueError(f"zoo problem {problem.name!r} mixes grid and random inputs: {spec}")


def original_sample(problem: Problem, seed: int = 0) -> pd.DataFrame:
    """The rows of the problem's original (often 20-point) definition where the target is finite.

    Returns a DataFrame with the inputs' columns then ``y``.
    """
    cols = original_inputs(problem, seed)
    y = problem.evaluate(*cols)
    keep = np.isfinite(y)
    data = {v: c[keep] for v, c in zip(problem.variables, cols)}
    data[problem.target] = y[keep]
    return pd.DataFrame(data, columns=[*problem.variables, problem.target])


def load_problems(path: Path = DATA_FILE) -> list[Problem]:
    """Every problem of ``zoo.csv``, in file order."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path} not found; reinstall kandiscover (the file ships in the package data) or "
            "regenerate it with python problems/zoo/generate.py"
        )
    with open(path, newline="", encoding="utf-8") as fh:
        return [problem_from_row(r) for r in csv.DictReader(fh)]
