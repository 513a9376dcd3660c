"""Special functions of the KAN paper: test RMSE and parameter count of a small KAN (issue: packs).

    python benchmarks/special_functions.py [--rows 1000] [--json OUT]

For each of the 15 problems of the ``special`` pack: a ``[2, 3, 1]`` KAN trained with
Levenberg–Marquardt through grid extension 5 → 10 → 20 (seeded), test RMSE on fresh rows, the
number of trainable parameters, and the KAN paper's figure where the pack records one.
"""

import argparse
import json
import time

import torch

import kandiscover as kd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    pack = kd.problems.load("special")
    rows = []
    print(f"{'problem':14s} {'G=5':>9s} {'G=10':>9s} {'G=20':>9s} {'params':>6s} {'paper':>9s} {'s':>5s}")
    for name in pack.names:
        p = pack[name]
        # sample() gives the variables' columns, then the target's
        tr, te = (torch.tensor(p.sample(args.rows, seed=s).to_numpy(), dtype=torch.float64) for s in (0, 1))
        ds = dict(train_input=tr[:, :-1], train_label=tr[:, -1:], test_input=te[:, :-1], test_label=te[:, -1:])
        start = time.monotonic()
        model = kd.KAN([len(p.variables), 3, 1], grid=5, seed=0)
        rmse = []
        for grid in (5, 10, 20):
            if grid > 5:
                model = model.refine(grid)
            hist = model.fit(ds, opt="LM", steps=40, update_grid=(grid == 5), progress=False)
            rmse.append(hist["test_loss"][-1])
        n_par = sum(int((l.mask > 0).sum()) * (l.coef.shape[-1] + 2) + l.out_dim for l in model.layers)
        paper = p.meta.get("kan_paper_rmse")
        seconds = time.monotonic() - start
        rows.append(dict(problem=name, rmse=rmse, params=n_par, paper=paper, seconds=seconds))
        print(
            f"{name:14s} {rmse[0]:9.2e} {rmse[1]:9.2e} {rmse[2]:9.2e} {n_par:6d} "
            f"{paper if paper is not None else '':>9} {seconds:5.1f}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
