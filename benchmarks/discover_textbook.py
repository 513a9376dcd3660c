"""Per-law time and exact recovery of ``kd.discover`` on twelve textbook laws (issue: pipeline).

    python benchmarks/discover_textbook.py [--noise 0.01] [--time-budget 60] [--json OUT]

Each law is sampled on 1000 rows (seeded), discovered with default settings (one torch thread),
and judged with the SRBench rule (``kd.is_equivalent``). Prints a table and the median time.
"""

import argparse
import json
import statistics
import time

import torch

import kandiscover as kd

LAWS = [
    ("E", "m*c**2", {"m": (1, 5), "c": (1, 3)}),
    ("F", "G*m1*m2/r**2", {"G": (1, 2), "m1": (1, 5), "m2": (1, 5), "r": (1, 3)}),
    ("V", "q/(4*pi*eps*r)", {"q": (1, 5), "eps": (1, 3), "r": (1, 3)}),
    ("F", "x*sin(theta)", {"x": (1, 5), "theta": (0.1, 3)}),
    ("f", "exp(-x**2/2)/sqrt(2*pi)", {"x": (-3, 3)}),
    ("w", "(x-y)/(1+x*y)", {"x": (0, 1), "y": (0, 1)}),
    ("K", "m*v**2/2", {"m": (1, 5), "v": (1, 5)}),
    ("U", "k*x**2/2 + m*g*h", {"k": (1, 3), "x": (-1, 1), "m": (1, 3), "g": (9, 10), "h": (0, 2)}),
    ("P", "n*R*T/V", {"n": (1, 3), "R": (8, 9), "T": (200, 400), "V": (1, 3)}),
    ("A", "a*exp(-b*t)", {"a": (1, 3), "b": (0.5, 2), "t": (0, 2)}),
    ("y", "sqrt(x**2 + z**2)", {"x": (1, 3), "z": (1, 3)}),
    ("I", "I0*cos(theta)**2", {"I0": (1, 5), "theta": (0, 1.5)}),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--time-budget", type=float, default=60.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for target, law, ranges in LAWS:
        truth = kd.parse_formula(law, list(ranges))
        problem = kd.problems.Problem(
            name=law,
            pack="textbook",
            target=target,
            variables=tuple(ranges),
            ranges=tuple(ranges.values()),
            formula=truth,
        )
        df = problem.sample(1000, seed=0, noise=args.noise)
        start = time.monotonic()
        res = kd.discover(
            df, target=target, time_budget=args.time_budget, noise_hint=args.noise or None, progress=False
        )
        seconds = time.monotonic() - start
        exact = bool(kd.is_equivalent(res.formula, truth))
        rows.append(dict(law=law, exact=exact, seconds=round(seconds, 2), r2=res.r2, found=str(res.formula)))
        print(f"{law:26s} {'yes' if exact else 'no ':3s} {seconds:6.1f} s  {res.formula}", flush=True)
    n_ok = sum(r["exact"] for r in rows)
    med = statistics.median(r["seconds"] for r in rows)
    print(f"\nrecovered {n_ok}/{len(rows)} at noise {args.noise}; median time {med:.1f} s (target <= 30 s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(noise=args.noise, rows=rows, recovered=n_ok, median_seconds=med), fh, indent=1)


if __name__ == "__main__":
    main()
