"""Regenerate ``kandiscover/problems/data/zoo.csv`` from the classic symbolic-regression problem table.

Usage (from the repository root)::

    python problems/zoo/generate.py                 # reads ../shared/data/sr_zoo.csv, writes zoo.csv
    python problems/zoo/generate.py --data DIR --out PATH
    python problems/zoo/generate.py --check         # exit 1 if the committed file is stale

Input: ``sr_zoo.csv`` (89 problems: Keijzer, Korns, Koza, Livermore, Jin, Vladislavleva, Constant, R,
Poly, Neat, Pagie), the benchmark table of the Deep Symbolic Optimization project (BSD 3-Clause,
Lawrence Livermore National Security); see ``../shared/data/README.md``. The output is deterministic
and is never edited by hand.

Output columns, one row per problem, in table order:

- ``id``, ``family``: the table's ``name`` and ``family``;
- ``formula``: the table's formula (sympy syntax, inputs ``x1``, ``x2``, ...);
- ``n_vars``, ``variables``, ``lows``, ``highs``: the inputs and the box of their original sampling
  (space-separated); the pack samples it uniformly with as many rows as asked;
- ``sampling``: the original definition, JSON per input (``{"U": [low, high, n]}``: ``n`` uniform
  random points; ``{"E": [low, high, step]}``: an evenly spaced grid) — what
  :func:`kandiscover.problems.zoo.original_sample` draws;
- ``original_rows``: the rows of that definition (a grid over several inputs is their product);
- ``function_set``: the operators the original papers allowed.

Validation while generating: ids are unique, every listed input occurs in the formula, the formula
parses with the whitelisting ``kandiscover.symbolic.parse.parse_formula`` with exactly those free
symbols, low < high on every input, and the target is finite on 1000 uniform rows of the box (seed 0).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "sr_zoo.csv"
DEFAULT_OUT = ROOT / "kandiscover" / "problems" / "data" / "zoo.csv"
COLUMNS = (
    "id",
    "family",
    "formula",
    "n_vars",
    "variables",
    "lows",
    "highs",
    "sampling",
    "original_rows",
    "function_set",
)


def _package():
    """``kandiscover.problems`` (``zoo``, ``packfile``), from the checkout when the package is not
    installed."""
    try:
        import kandiscover.problems.zoo  # noqa: F401
    except ImportError:  # run as a script without the package installed
        sys.path.insert(0, str(ROOT))
    import kandiscover.problems.packfile
    import kandiscover.problems.zoo

    return kandiscover.problems


def _box(name: str, spec: dict, variables: list[str]) -> tuple[list[str], list[str]]:
    """Lows and highs of the original definition's box, as written."""
    if sorted(spec) != sorted(variables):
        raise ValueError(f"{name}: sampling names {sorted(spec)}, the formula's inputs are {variables}")
    lows, highs = [], []
    for v in variables:
        ((kind, args),) = spec[v].items()
        low, high = float(args[0]), float(args[1])
        if kind not in ("U", "E") or not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"{name}: bad sampling {spec[v]!r} of {v}")
        lows.append(f"{low:g}")
        highs.append(f"{high:g}")
    return lows, highs


def _row(record: dict) -> dict:
    zoo = _package().zoo
    name = record["name"].strip()
    n = int(record["variables"])
    variables = [f"x{k + 1}" for k in range(n)]
    formula = record["formula"].strip()
    expr = zoo.parse_truth(formula, variables)
    free = {s.name for s in expr.free_symbols}
    if not free <= set(variables):
        raise ValueError(f"{name}: free symbols {sorted(free)} are not among {variables}")
    spec = json.loads(record["sampling"])
    lows, highs = _box(name, spec, variables)
    row = {
        "id": name,
        "family": record["family"].strip(),
        "formula": formula,
        "n_vars": str(n),
        "variables": " ".join(variables),
        "lows": " ".join(lows),
        "highs": " ".join(highs),
        "sampling": json.dumps(spec, separators=(",", ":")),
        "original_rows": "0",
        "function_set": record["function_set"].strip(),
    }
    problem = zoo.problem_from_row(row)
    row["original_rows"] = str(len(zoo.original_inputs(problem)[0]))
    problem.sample(n=1000, seed=0)  # raises when the target is not finite on the box
    return row


def build(path: Path) -> str:
    """Return the text of ``zoo.csv`` built from the table at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; pass --data PATH (the sr_zoo.csv table)")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [_row(rec) for rec in csv.DictReader(fh)]
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("problem ids are not unique")
    return _package().packfile.csv_text(rows, COLUMNS)


def main(argv=None) -> int:
    return _package().packfile.generator_main(__doc__, build, DEFAULT_DATA, DEFAULT_OUT, "the sr_zoo.csv table", argv)


if __name__ == "__main__":
    sys.exit(main())
