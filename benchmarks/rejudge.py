"""Re-score suite records with the current judge (``kd.is_equivalent``), without rediscovering.

    python benchmarks/rejudge.py RESULTS [RESULTS ...] [--json OUT]

RESULTS is a suite's ``results.jsonl`` or its one-seed ``summary.csv``.

Each record's ``formula`` is judged against its problem's ground truth (from the pack named in the
record) on the problem's sampling ranges, with SRBench's gate (test ``r2 > 0.5``), exactly as
``kandiscover suite`` judges. Prints, per file, the exact count recorded at run time and the count
under the current judge, and every problem whose verdict changed.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas

import kandiscover as kd
from _common import read_recorded_formula
from kandiscover.problems import load as load_pack


def _records(path: str) -> list:
    """Records of a suite's ``.jsonl`` (one per item) or summary ``.csv`` (one per problem)."""
    if path.endswith(".csv"):
        table = pandas.read_csv(path, keep_default_na=False)
        table["exact"] = [None if v == "" else float(v) >= 1.0 for v in table["exact"]]
        table["r2"] = pandas.to_numeric(table["r2"], errors="coerce")
        return table.to_dict("records")
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def rejudge(path: str) -> dict:
    """Old and new verdicts of the ``ok`` records of one results file."""
    records = _records(path)
    packs: dict = {}
    changed, rows = [], []
    for rec in records:
        if rec.get("status") != "ok" or rec.get("exact") is None:
            continue
        pack = packs.setdefault(rec["pack"], load_pack(rec["pack"]))
        problem = pack[rec["problem"]]
        domain = dict(zip(problem.variables, problem.ranges))
        found = read_recorded_formula(rec["formula"], list(problem.variables))
        verdict = bool(rec["r2"] > 0.5) and kd.is_equivalent(found, problem.formula, domain=domain)
        rows.append((bool(rec.get("srbench")), bool(rec["exact"]), verdict))
        if verdict != bool(rec["exact"]):
            changed.append(
                dict(problem=rec["problem"], formula=rec["formula"], truth=str(problem.formula), now=verdict)
            )
    report = dict(file=path, changed=changed)
    for label, subset in (("all", rows), ("srbench", [r for r in rows if r[0]])):
        report[label] = dict(problems=len(subset), recorded=sum(r[1] for r in subset), now=sum(r[2] for r in subset))
    return report


def _cell(count: int, n: int) -> str:
    return f"{count} ({100 * count / n:.1f} %)" if n else "–"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="suite results (.jsonl or .csv)")
    ap.add_argument("--json", help="write the report here")
    args = ap.parse_args(argv)
    reports = [rejudge(path) for path in args.results]
    print("| file | problems | exact (recorded) | exact (current judge) | SRBench subset: recorded → now |")
    print("|---|---|---|---|---|")
    for r in reports:
        a, sr = r["all"], r["srbench"]
        print(
            f"| {r['file']} | {a['problems']} | {_cell(a['recorded'], a['problems'])} "
            f"| {_cell(a['now'], a['problems'])} "
            f"| {_cell(sr['recorded'], sr['problems'])} → {_cell(sr['now'], sr['problems'])} of {sr['problems']} |"
        )
    for r in reports:
        for c in r["changed"]:
            now = "accepted" if c["now"] else "rejected"
            print(f"{r['file']}: {c['problem']}: {now} {c['formula']}  (truth {c['truth']})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(reports, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
