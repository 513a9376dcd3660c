"""Engine speed: kandiscover vs pykan 0.2.8 vs an equal-FLOP ``nn.Linear``, in one process.

Run in a separate environment that has pykan (never install pykan into the project's venv)::

    python3.11 -m venv /tmp/benchenv
    /tmp/benchenv/bin/pip install torch==2.13.0          # CPU wheel first
    /tmp/benchenv/bin/pip install -e . pykan==0.2.8 pyyaml scikit-learn pandas matplotlib tqdm sympy scipy setuptools
    /tmp/benchenv/bin/python benchmarks/engine_speed.py [--quick] [--json OUT]

Parts
-----
a. One layer, forward + backward of ``out.sum()`` (parameter gradients), float32, batch 1024:
   kandiscover ``KANLayer`` vs pykan ``kan.KANLayer`` vs ``nn.Linear`` of equal FLOPs.
   Our layer builds the features ``[silu(x), basis(x)]`` (``(B, in·(G+k+1))``) and multiplies them by
   its weights in one ``addmm`` (``(B, in·(G+k+1)) × (in·(G+k+1), out)``): exactly the matmul of one
   ``nn.Linear(in·(G+k+1), out)`` on a ``(B, in·(G+k+1))`` input, which is the reference
   (64 → 64, G = 10, k = 3: ``nn.Linear(896, 64)`` on ``(1024, 896)``). Everything the KAN layer
   does beyond that matmul (basis, weights) is overhead this ratio exposes. The layers are fresh,
   so their grids are uniform (after ``update_grid`` they are not, which costs us more).
   A second row set repeats it with ``x.requires_grad_()`` (a hidden layer also back-propagates
   into its input). Then the large layer 256 → 256 (pykan included when ``--no-pykan-large`` is
   not given; it needs a few GB).
   Timings are interleaved round-robin (ours, pykan, linear, ours, …) so load from other processes
   hits every contender alike; the figure is the median of the repeats after warm-up.
b. ``[2, 5, 1]`` on ``f(x, y) = exp(sin(πx) + y²)``, 1000 train / 1000 test rows on ``[-1, 1]²`` (the
   same rows for everyone, from ``kan.utils.create_dataset(seed=0)``): pykan
   ``fit(opt="LBFGS", steps=50)`` wall time and final test RMSE per seed; the target RMSE is the
   median of pykan's final test RMSEs; then the wall time until our ``fit`` first reports
   ``test_loss <= target`` (callback), for ``opt="LM"`` and ``opt="LBFGS"``, float64 and float32.

Targets: layer ≥ 10× faster than pykan's; ≤ 3× the equal-FLOP ``nn.Linear``; time-to-RMSE ≥ 10×
faster than pykan's 50-step fit.

Nothing is written anywhere except the ``--json`` file; pykan runs with ``auto_save=False`` in a
temporary working directory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # pykan's fit always opens a progress bar

import torch

from _common import machine_info, make_dataset, scratch_cwd, verdict, write_json

torch.set_num_threads(1)

TARGET_LAYER_VS_PYKAN = 10.0
TARGET_LAYER_VS_LINEAR = 3.0
TARGET_FIT_VS_PYKAN = 10.0


# ---------------------------------------------------------------------- part a: layers
def _layer_cases(in_dim: int, out_dim: int, grid: int, k: int, batch: int, input_grad: bool, with_pykan: bool):
    """Return {name: zero-arg callable doing forward + backward}."""
    from kandiscover.kan.layer import KANLayer

    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, in_dim, generator=gen) * 2 - 1).requires_grad_(input_grad)
    cases = {}

    ours = KANLayer(in_dim, out_dim, grid, k, dtype=torch.float32, generator=gen)

    def run_ours():
        ours.zero_grad(set_to_none=True)
        x.grad = None
        ours(x).sum().backward()

    cases["kandiscover"] = run_ours

    if with_pykan:
        from kan import KANLayer as PykanLayer

        torch.manual_seed(0)
        theirs = PykanLayer(in_dim=in_dim, out_dim=out_dim, num=grid, k=k)

        def run_pykan():
            theirs.zero_grad(set_to_none=True)
            x.grad = None
            theirs(x)[0].sum().backward()

        cases["pykan"] = run_pykan

    feat = in_dim * (grid + k + 1)
    lin = torch.nn.Linear(feat, out_dim)
    xl = torch.randn(batch, feat, generator=gen).requires_grad_(input_grad)

    def run_linear():
        lin.zero_grad(set_to_none=True)
        xl.grad = None
        lin(xl).sum().backward()

    cases[f"nn.Linear({feat},{out_dim})"] = run_linear
    return cases


def time_round_robin(cases: dict, repeats: int, warmup: int = 2) -> dict:
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {
        name: dict(median_ms=1e3 * statistics.median(ts), min_ms=1e3 * min(ts), n=len(ts)) for name, ts in times.items()
    }


def part_a(args) -> dict:
    res = {}
    configs = [
        ("64x64", 64, 64, True, False),
        ("64x64 +input grad", 64, 64, True, True),
        ("256x256", 256, 256, not args.no_pykan_large, False),
    ]
    for label, i, o, pk, ig in configs:
        reps = args.repeats if i == 64 else max(3, args.repeats // 3)
        cases = _layer_cases(i, o, 10, 3, 1024, ig, pk)
        t = time_round_robin(cases, reps)
        lin = next(n for n in t if n.startswith("nn.Linear"))
        row = dict(times=t, linear_name=lin)
        row["ours_vs_linear"] = t["kandiscover"]["median_ms"] / t[lin]["median_ms"]
        if "pykan" in t:
            row["pykan_vs_ours"] = t["pykan"]["median_ms"] / t["kandiscover"]["median_ms"]
        res[label] = row
        print(
            f"\n[a] layer {label}, grid 10, k 3, batch 1024, float32, forward+backward, median of {reps} (ms)",
            flush=True,
        )
        for name, v in t.items():
            print(f"    {name:<24s} {v['median_ms']:9.2f}   (min {v['min_ms']:.2f})")
        if "pykan_vs_ours" in row:
            print(
                f"    pykan / ours           {row['pykan_vs_ours']:9.2f}x   target >= {TARGET_LAYER_VS_PYKAN:g}x "
                f"{verdict(row['pykan_vs_ours'] >= TARGET_LAYER_VS_PYKAN)}"
            )
        print(
            f"    ours / {lin:<16s} {row['ours_vs_linear']:9.2f}x   target <= {TARGET_LAYER_VS_LINEAR:g}x "
            f"{verdict(row['ours_vs_linear'] <= TARGET_LAYER_VS_LINEAR)}"
        )
    return res


# ---------------------------------------------------------------------- part b: time to RMSE
def run_pykan_fit(dataset, seed: int, ckpt: str, steps: int = 50) -> tuple[float, float]:
    from kan import KAN as PykanKAN

    model = PykanKAN(width=[2, 5, 1], grid=5, k=3, seed=seed, auto_save=False, ckpt_path=ckpt)
    t0 = time.perf_counter()
    res = model.fit(dataset, opt="LBFGS", steps=steps)
    dt = time.perf_counter() - t0
    return dt, float(res["test_loss"][-1])


def run_ours_to_target(dataset, seed: int, opt: str, dtype, target: float, max_steps: int, time_limit: float) -> dict:
    import kandiscover as kd

    data = {k: v.to(dtype) for k, v in dataset.items()}
    model = kd.KAN(width=[2, 5, 1], grid=5, k=3, seed=seed, dtype=dtype)
    state = dict(hit=None, steps=None, best=math.inf)
    t0 = time.perf_counter()

    def cb(step, _model, logs):
        now = time.perf_counter() - t0
        state["best"] = min(state["best"], logs["test_loss"])
        if logs["test_loss"] <= target:
            state["hit"], state["steps"] = now, step + 1
            return True
        return now > time_limit

    model.fit(data, opt=opt, steps=max_steps, progress=False, callbacks=[cb])
    total = time.perf_counter() - t0
    return dict(
        time=state["hit"] if state["hit"] is not None else math.inf,
        steps=state["steps"],
        best_rmse=state["best"],
        total=total,
        reached=state["hit"] is not None,
    )


def part_b(args) -> dict:
    dataset = make_dataset()
    seeds = list(range(args.seeds))
    ckpt = tempfile.mkdtemp(prefix="pykan_ckpt_", dir=os.getcwd())  # inside main()'s scratch directory
    # warm-up both code paths (allocator, torch.func tracing)
    run_pykan_fit(dataset, 0, ckpt, steps=2)
    for opt in ("LM", "LBFGS"):
        for dt in (torch.float64, torch.float32):
            run_ours_to_target(dataset, 0, opt, dt, 0.0, 2, 60)

    pk_times, pk_rmse = [], []
    print(f"\n[b] [2,5,1] on exp(sin(pi x)+y^2), 1000/1000 rows; pykan fit(LBFGS, steps=50), seeds {seeds}", flush=True)
    for s in seeds:
        t, r = run_pykan_fit(dataset, s, ckpt)
        pk_times.append(t)
        pk_rmse.append(r)
        print(f"    pykan seed {s}: {t:7.2f} s   test RMSE {r:.3e}", flush=True)
    pk_t = statistics.median(pk_times)
    target = statistics.median(pk_rmse)
    print(f"    pykan median: {pk_t:.2f} s, target RMSE (median final test RMSE) {target:.3e}")
    res = dict(pykan=dict(times=pk_times, rmse=pk_rmse, median_time=pk_t, target_rmse=target), ours={})
    limit = args.time_limit_factor * pk_t
    for opt in ("LM", "LBFGS"):
        for dt in (torch.float64, torch.float32):
            name = f"{opt} {str(dt).replace('torch.', '')}"
            runs = [run_ours_to_target(dataset, s, opt, dt, target, args.max_steps, limit) for s in seeds]
            times = [r["time"] for r in runs]
            med = statistics.median(times)
            ratio = pk_t / med if med > 0 else math.inf
            res["ours"][name] = dict(runs=runs, median_time=med, ratio=ratio, reached=sum(r["reached"] for r in runs))
            desc = ", ".join(
                f"s{s}: {r['time']:.2f}s/{r['steps']} steps"
                if r["reached"]
                else f"s{s}: not reached (best {r['best_rmse']:.2e})"
                for s, r in zip(seeds, runs)
            )
            print(
                f"    ours {name:<14s} median time to RMSE<= {target:.2e}: {med:7.3f} s   "
                f"pykan/ours {ratio:7.2f}x  target >= {TARGET_FIT_VS_PYKAN:g}x {verdict(ratio >= TARGET_FIT_VS_PYKAN)}"
                f"\n        [{desc}]",
                flush=True,
            )
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and seeds")
    ap.add_argument("--json", metavar="OUT", help="write machine-readable results to OUT")
    ap.add_argument("--only", choices=["a", "b"], help="run one part")
    ap.add_argument("--no-pykan-large", action="store_true", help="skip pykan's 256x256 layer (needs a few GB)")
    ap.add_argument("--max-steps", type=int, default=200, help="step budget of our fits in part b")
    ap.add_argument(
        "--time-limit-factor",
        type=float,
        default=2.0,
        help="give up on one of our fits after this multiple of pykan's median time",
    )
    args = ap.parse_args(argv)
    args.repeats = 5 if args.quick else 21
    args.seeds = 2 if args.quick else 5
    out = os.path.abspath(args.json) if args.json else None

    info = machine_info()
    print("machine:", json.dumps(info))
    results = dict(machine=info, argv=sys.argv[1:], quick=args.quick)
    with scratch_cwd():  # pykan writes checkpoints / figures relative to the working directory
        if args.only in (None, "a"):
            results["layer"] = part_a(args)
        if args.only in (None, "b"):
            results["fit"] = part_b(args)
    results["loadavg_end"] = list(os.getloadavg())

    print("\nsummary")
    summary = []
    if "layer" in results:
        for label, row in results["layer"].items():
            if "pykan_vs_ours" in row:
                summary.append(
                    (
                        f"layer {label}: pykan/ours",
                        row["pykan_vs_ours"],
                        f">= {TARGET_LAYER_VS_PYKAN:g}",
                        row["pykan_vs_ours"] >= TARGET_LAYER_VS_PYKAN,
                    )
                )
            summary.append(
                (
                    f"layer {label}: ours/linear",
                    row["ours_vs_linear"],
                    f"<= {TARGET_LAYER_VS_LINEAR:g}",
                    row["ours_vs_linear"] <= TARGET_LAYER_VS_LINEAR,
                )
            )
    if "fit" in results:
        for name, row in results["fit"]["ours"].items():
            summary.append(
                (
                    f"time-to-RMSE {name}: pykan/ours",
                    row["ratio"],
                    f">= {TARGET_FIT_VS_PYKAN:g}",
                    row["ratio"] >= TARGET_FIT_VS_PYKAN,
                )
            )
    for name, val, tgt, ok in summary:
        print(f"  {name:<42s} {val:8.2f}x  (target {tgt}x)  {verdict(ok)}")
    results["summary"] = [dict(name=n, ratio=v, target=t, passed=ok) for n, v, t, ok in summary]
    if out:
        write_json(out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
