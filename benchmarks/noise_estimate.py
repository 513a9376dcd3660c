"""How well the search's noise estimate (``kandiscover.selection.estimate_noise``) tells noise from
misfit, on the Feynman pack.

    python benchmarks/noise_estimate.py RESULTS.jsonl [--noise 0.01] [--json OUT]

RESULTS is a noise-0 Feynman suite run. Two measurements, both on 1000 sampled rows (seed 0) split
as ``discover`` splits them:

* **false noise**: every recorded answer that is *not* the law (but has test R² > 0.9) is tested
  on exact rows; an estimate there is a false alarm, which would stop an exact-data search early;
* **level**: the true law is tested on rows with ``--noise`` relative noise; the estimate should
  exist and match the noise (reported: the share found and the median ratio estimate / truth).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

import numpy as np

from _common import read_recorded_formula
from kandiscover.data import prepare
from kandiscover.problems import load
from kandiscover.rows import Rows
from kandiscover.selection import estimate_noise


def _estimate(problem, expr, noise: float):
    df = problem.sample(n=1000, seed=0, noise=noise)
    rows = Rows(prepare(df, problem.target), seed=0)
    var_y = float(np.var(rows.part("va")[1]))
    loss = rows.loss(expr)
    if not np.isfinite(loss):
        return None
    return estimate_noise(dict(formula=expr, loss=loss), rows, var_y)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="a noise-0 Feynman suite's results.jsonl")
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    pack = load("feynman")
    with open(args.results) as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    misses, alarms = [], []
    for rec in records:
        if rec.get("status") != "ok" or rec.get("exact") or not rec.get("r2", 0) > 0.9:
            continue
        problem = pack[rec["problem"]]
        est = _estimate(problem, read_recorded_formula(rec["formula"], list(problem.variables)), 0.0)
        misses.append(rec["problem"])
        if est is not None:
            alarms.append(dict(problem=rec["problem"], formula=rec["formula"], relative=est.relative))
    found, ratios = 0, []
    for name in pack:
        problem = pack[name]
        if problem.formula is None:
            continue
        est = _estimate(problem, problem.formula, args.noise)
        if est is not None:
            found += 1
            ratios.append(est.relative / args.noise)
    n_laws = sum(1 for name in pack if pack[name].formula is not None)
    report = dict(
        wrong_answers=len(misses),
        false_noise=len(alarms),
        alarms=alarms,
        laws=n_laws,
        noise=args.noise,
        estimated=found,
        median_ratio=statistics.median(ratios) if ratios else None,
        ratio_range=[min(ratios), max(ratios)] if ratios else None,
    )
    print("| measurement | result |")
    print("|---|---|")
    print(f"| wrong answers (R² > 0.9) on exact rows taken for noise | {len(alarms)} of {len(misses)} |")
    print(f"| true laws at noise {args.noise:g} whose residuals are taken for noise | {found} of {n_laws} |")
    if ratios:
        print(
            f"| estimated / true noise (median, range) | {report['median_ratio']:.3f} "
            f"({report['ratio_range'][0]:.3f}–{report['ratio_range'][1]:.3f}) |"
        )
    for a in alarms:
        print(f"false noise: {a['problem']}: {a['formula']} (estimated {a['relative']:.2g})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
