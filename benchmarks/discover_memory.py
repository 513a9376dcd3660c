"""Peak memory of one discovery on a large table (DESIGN budgets: 10,000 rows x 10 columns under
2 GiB, 1,000,000 rows x 5 columns under 4 GiB).

Each case runs in a fresh child process (so that no earlier allocation counts); the figure is the
child's peak resident set size (``ru_maxrss`` of the waited-for child: the search process itself;
the sympy worker it forks shares its pages and is smaller). The law is a product and a sum of the
inputs, sampled uniformly on [1, 3].

    python benchmarks/discover_memory.py                    # both cases, 60 s budget each
    python benchmarks/discover_memory.py --budget 30 --cases 10000x10
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

BUDGETS_GIB = {"10000x10": 2.0, "1000000x5": 4.0}

CHILD = """
import json, sys, time
import numpy as np, pandas as pd
import kandiscover as kd
rows, cols, budget = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(0)
X = rng.uniform(1, 3, (rows, cols))
df = pd.DataFrame(X, columns=[f"x{i}" for i in range(cols)])
df["y"] = X[:, 0] * X[:, 1] / X[:, 2] + X[:, 3]
del X
t0 = time.monotonic()
res = kd.discover(df, target="y", time_budget=budget, progress=False)
print(json.dumps({"formula": str(res.formula), "seconds": time.monotonic() - t0, "r2": res.r2}))
"""


def run_case(case: str, budget: float) -> dict:
    rows, cols = map(int, case.split("x"))
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(rows), str(cols), str(budget)], capture_output=True, text=True, check=True
    )
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # kB on Linux
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return dict(
        case=case,
        peak_gib=round(peak_gib, 3),
        budget_gib=BUDGETS_GIB.get(case),
        wall_s=round(time.monotonic() - t0, 1),
        **out,
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=60.0, help="time budget of each discovery (s)")
    p.add_argument("--cases", default="10000x10,1000000x5", help="comma-separated ROWSxCOLS")
    args = p.parse_args(argv)
    print("| case | peak RSS (GiB) | budget (GiB) | verdict | wall (s) | formula |")
    print("|---|---|---|---|---|---|")
    ok = True
    for case in args.cases.split(","):  # one child at a time; RUSAGE_CHILDREN is the max so far
        r = run_case(case.strip(), args.budget)
        verdict = "met" if r["budget_gib"] is None or r["peak_gib"] <= r["budget_gib"] else "MISSED"
        ok &= verdict == "met"
        print(
            f"| {r['case']} | {r['peak_gib']:.2f} | {r['budget_gib']} | {verdict} | {r['wall_s']} | `{r['formula']}` |"
        )
        sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
