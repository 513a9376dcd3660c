"""Regenerate ``kandiscover/problems/data/feynman.csv`` from the AI Feynman tables.

Usage (from the repository root)::

    python problems/feynman/generate.py                 # reads ../shared/data, writes feynman.csv
    python problems/feynman/generate.py --data DIR --out PATH
    python problems/feynman/generate.py --check         # exit 1 if the committed file is stale

Inputs: ``feynman_equations.csv`` (100 rows) and ``feynman_bonus_equations.csv`` (20 rows), the AI
Feynman database tables (Udrescu & Tegmark, Sci. Adv. 6, eaay2631, 2020); see
``../shared/data/README.md``. The output is deterministic (same input bytes -> same output bytes) and
is never edited by hand.

Output columns, one row per equation (120), Feynman rows first, then bonus rows, in table order:

- ``id``: the ``Filename`` column (``I.6.2a``, ``test_1``);
- ``source``: ``feynman`` (Feynman Lectures) or ``bonus`` (other textbooks);
- ``number``: the table's ``Number`` column;
- ``name``, ``eqn_no``: the bonus table's ``Name`` and ``Eqn. No.`` (empty for ``feynman`` rows);
- ``output``: the target's name;
- ``formula``: the formula with ``arcsin``/``arccos``/``ln`` renamed ``asin``/``acos``/``log``;
- ``srbench``: ``True`` for the 116 equations of SRBench's Feynman set. SRBench ran on PMLB's
  Feynman datasets, which hold 119 of the 120 equations (II.11.17, table number 62, was missing from
  the AI Feynman data files when PMLB imported them: EpistasisLab/pmlb pull request 145), and then
  dropped I.26.2, I.30.5 and test_10 from its results (SRBench's ``collate`` step). 120 - 1 - 3 = 116.
- ``n_vars``, ``variables``, ``lows``, ``highs``: the inputs in table order and their uniform sampling
  ranges (space-separated). Variables are counted from the ``vN_name`` cells; the ``# variables``
  column is wrong for ten rows (README errata) and is ignored.

Validation while generating: ids are unique, ranges are numbers with low < high, the output is not an
input, every listed variable occurs in the formula as a token, and the free symbols of the formula
(parsed with ``kandiscover.symbolic.parse.parse_formula``) are exactly the listed variables.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "kandiscover" / "problems" / "data" / "feynman.csv"
TABLES = (("feynman", "feynman_equations.csv"), ("bonus", "feynman_bonus_equations.csv"))
EXCLUDED_BY_SRBENCH = frozenset({"I.26.2", "I.30.5", "test_10"})
NOT_IN_PMLB = frozenset({"II.11.17"})
NOT_IN_SRBENCH = EXCLUDED_BY_SRBENCH | NOT_IN_PMLB
RENAMES = (("arcsin", "asin"), ("arccos", "acos"), ("ln", "log"))
COLUMNS = (
    "id",
    "source",
    "number",
    "name",
    "eqn_no",
    "output",
    "formula",
    "srbench",
    "n_vars",
    "variables",
    "lows",
    "highs",
    "units",
)
MAX_VARS = 10
UNITS_TABLE = "feynman_units.csv"
BASES = ("m", "s", "kg", "K", "V")  # the table's columns m, s, kg, T (kelvin), V (volt)
TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _package():
    """``kandiscover.problems`` (with its submodules used here), from the checkout when the package
    is not installed."""
    try:
        import kandiscover.problems.packfile  # noqa: F401
    except ImportError:  # run as a script without the package installed
        sys.path.insert(0, str(ROOT))
    import kandiscover.problems.packfile
    import kandiscover.symbolic.parse

    return kandiscover


def _parse(text: str, variables: list[str]):
    return _package().symbolic.parse.parse_formula(text, variables=variables)


def _rename(formula: str) -> str:
    for old, new in RENAMES:
        formula = re.sub(rf"\b{old}(?=\s*\()", new, formula)
    return formula


def _number(text: str, where: str) -> str:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: range bound {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: range bound {text!r} is not finite")
    return text.strip()


def _unit_text(record: dict) -> str:
    """A pint unit string from a row of the units table: ``"m**2*s**-2*kg"``, ``""`` when dimensionless."""
    parts = []
    for base, col in zip(BASES, ("m", "s", "kg", "T", "V")):
        e = float(record[col])
        if e:
            e = int(e) if e == int(e) else e
            parts.append(base if e == 1 else f"{base}**{e}")
    return "*".join(parts)


def read_units(data_dir: Path) -> dict:
    """``name -> pint unit string`` from ``feynman_units.csv``."""
    path = Path(data_dir) / UNITS_TABLE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; pass --data DIR (the folder holding {UNITS_TABLE})")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return {r["Variable"].strip(): _unit_text(r) for r in csv.DictReader(fh) if r["Variable"].strip()}


def _units_field(names: list, output: str, units: dict, eid: str) -> str:
    missing = [n for n in [*names, output] if n not in units]
    if missing:
        raise ValueError(f"{eid}: no units for {missing} in {UNITS_TABLE}")
    return ";".join(f"{n}={units[n]}" for n in [*names, output])


def _row(record: dict, source: str, units: dict) -> dict:
    eid = record["Filename"].strip()
    names, lows, highs = [], [], []
    for i in range(1, MAX_VARS + 1):
        name = (record.get(f"v{i}_name") or "").strip()
        if not name:
            continue
        lo = _number(record[f"v{i}_low"], f"{eid} v{i}_low")
        hi = _number(record[f"v{i}_high"], f"{eid} v{i}_high")
        if not float(lo) < float(hi):
            raise ValueError(f"{eid}: empty range [{lo}, {hi}] for {name}")
        names.append(name)
        lows.append(lo)
        highs.append(hi)
    if len(set(names)) != len(names):
        raise ValueError(f"{eid}: repeated variable names {names}")
    output = record["Output"].strip()
    if output in names:
        raise ValueError(f"{eid}: output {output!r} is also an input")
    formula = _rename(record["Formula"].strip())
    tokens = set(TOKEN.findall(formula))
    missing = [n for n in names if n not in tokens]
    if missing:
        raise ValueError(f"{eid}: variables {missing} do not occur in {formula!r}")
    expr = _parse(formula, names)
    free = {s.name for s in expr.free_symbols}
    if free != set(names):
        raise ValueError(f"{eid}: free symbols {sorted(free)} differ from variables {sorted(names)}")
    return {
        "id": eid,
        "source": source,
        "number": record["Number"].strip(),
        "name": (record.get("Name") or "").strip(),
        "eqn_no": (record.get("Eqn. No.") or "").strip(),
        "output": output,
        "formula": formula,
        "srbench": str(eid not in NOT_IN_SRBENCH),
        "n_vars": str(len(names)),
        "variables": " ".join(names),
        "lows": " ".join(lows),
        "highs": " ".join(highs),
        "units": _units_field(names, output, units, eid),
    }


def build(data_dir: Path) -> str:
    """Return the text of ``feynman.csv`` built from the tables in ``data_dir``."""
    rows, units = [], read_units(data_dir)
    for source, filename in TABLES:
        path = Path(data_dir) / filename
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; pass --data DIR (the folder holding {filename})")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows += [_row(rec, source, units) for rec in csv.DictReader(fh)]
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("equation ids are not unique")
    if not NOT_IN_SRBENCH <= set(ids):
        raise ValueError(f"SRBench exclusions {sorted(NOT_IN_SRBENCH - set(ids))} not in the tables")
    return _package().problems.packfile.csv_text(rows, COLUMNS)


def main(argv=None) -> int:
    return _package().problems.packfile.generator_main(
        __doc__, build, DEFAULT_DATA, DEFAULT_OUT, "folder with the AI Feynman tables", argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
