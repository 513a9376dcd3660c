"""Grid extension 5 → 10 → 20 on exp(sin(πx) + y²) with a [2,5,1] KAN (engine issue, target 1).

    python benchmarks/grid_extension.py [--opt LBFGS LM] [--seeds 4] [--rows 1000] [--steps 50] [--json OUT]

The recipe of ``tests/test_training.py``: 1000 training and 1000 test rows on [-1, 1]² (seeded
like ``tests/conftest.make_dataset``), ``fit(steps=50)`` per grid, grid updates at grid 5 only,
``refine`` between grids, float64, one thread. Prints train / test RMSE after each grid, the wall
time, and whether the final test RMSE is ≤ 1e-4.
"""

import argparse
import json
import math
import statistics
import time

import torch

import kandiscover as kd

TARGET = 1e-4


def dataset(rows: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)

    def law(x):
        return torch.exp(torch.sin(math.pi * x[:, [0]]) + x[:, [1]] ** 2)

    xtr = torch.rand(rows, 2, generator=g, dtype=torch.float64) * 2 - 1
    xte = torch.rand(rows, 2, generator=g, dtype=torch.float64) * 2 - 1
    return dict(train_input=xtr, train_label=law(xtr), test_input=xte, test_label=law(xte))


def run(ds: dict, opt: str, seed: int, steps: int) -> dict:
    model = kd.KAN([2, 5, 1], grid=5, seed=seed)
    t0 = time.perf_counter()
    stages = []
    for grid in (5, 10, 20):
        if grid > 5:
            model = model.refine(grid)
        hist = model.fit(ds, opt=opt, steps=steps, update_grid=(grid == 5), progress=False)
        stages.append(dict(grid=grid, train=hist["train_loss"][-1], test=hist["test_loss"][-1]))
    return dict(seed=seed, seconds=time.perf_counter() - t0, stages=stages)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opt", nargs="+", default=["LBFGS", "LM"], choices=["LBFGS", "LM", "Adam"])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = dataset(args.rows)
    out = {}
    for opt in args.opt:
        runs = [run(ds, opt, s, args.steps) for s in range(args.seeds)]
        out[opt] = runs
        print(f"\n{opt}, {args.rows} rows, {args.steps} steps per grid")
        for r in runs:
            cells = "  ".join(f"G{st['grid']}: {st['train']:.2e}/{st['test']:.2e}" for st in r["stages"])
            print(f"  seed {r['seed']}: {cells}   ({r['seconds']:.1f} s)")
        final = [r["stages"][-1]["test"] for r in runs]
        hits = sum(f <= TARGET for f in final)
        print(f"  final test RMSE median {statistics.median(final):.2e}; {hits}/{len(runs)} seeds <= {TARGET:g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
