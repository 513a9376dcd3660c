"""Symbolic-fitting speed: kandiscover ``auto_symbolic`` vs pykan 0.2.8's, plus edge-fit memory.

Run in a separate environment that has pykan (see ``benchmarks/engine_speed.py``)::

    /tmp/benchenv/bin/python benchmarks/symbolic_speed.py [--quick] [--json OUT]

1. Both libraries train ``[2, 5, 1]`` (grid 5, k 3) on ``exp(sin(πx) + y²)`` with the same 1000/1000
   rows (``kan.utils.create_dataset(seed=0)``) the same way: ``fit(opt="LBFGS", steps=50, lamb=0.01)``
   for sparsity, ``prune()``, then a sparsity-free refit (pykan: LBFGS, 50 steps; ours:
   ``opt="LM"``, 50 steps). pykan is float32 (its default), ours float64 (our default).
   Then ``auto_symbolic()`` with each library's full default library is timed on copies of the
   same trained model (median of the repeats). pykan fits from the activations cached by the last
   forward pass, so it is given a forward pass on the training rows first (same rows as ours).
   Reported: the time ratio (target ≥ 50×), how many edges each had to fit, what each chose.
   When our pruning keeps a different width than pykan's, our pipeline is repeated from pykan's
   pruned width too, so one row compares equal edge counts.
2. Peak memory of ``kandiscover.symbolic.fit.fit_affine`` on ``N = 100,000`` rows
   (``x ~ U[-1, 1]``, ``y = sin(3x)``, default library), in a fresh subprocess after a small
   warm-up call: peak RSS during the call minus RSS just before it (target < 1 GiB). The peak is
   ``VmHWM`` after resetting it through ``/proc/self/clear_refs``, because ``ru_maxrss`` also
   carries the parent's peak across fork/exec; ``ru_maxrss`` before/after is reported too. For contrast, pykan's
   ``fit_params`` allocates
   ``N × 101 × 101`` floats per sweep (4 GB at N = 100,000 in float32), so it is not run at that size.

Nothing is written anywhere except the ``--json`` file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout

os.environ.setdefault("TQDM_DISABLE", "1")

import torch

from _common import machine_info, make_dataset, scratch_cwd, verdict, write_json

torch.set_num_threads(1)

TARGET_RATIO = 50.0
TARGET_MEM_GIB = 1.0

_MEM_CHILD = r"""
import json, resource, sys, time
import torch
torch.set_num_threads(1)
import kandiscover
from kandiscover.symbolic.fit import fit_affine


def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # KiB
    return None


n = int(sys.argv[1])
g = torch.Generator().manual_seed(0)
x = torch.rand(n, dtype=torch.float64, generator=g) * 2 - 1
y = torch.sin(3 * x)
lib = kandiscover.symbolic.default_library()
fit_affine(x[:1000], y[:1000], lib)  # warm-up: lazy imports and allocator pools are not edge fitting
maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rss_before = status("VmRSS")
try:  # reset the high-water mark (ru_maxrss also carries the parent's peak across fork/exec)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    hwm_reset = True
except OSError:
    hwm_reset = False
t0 = time.perf_counter()
fits = fit_affine(x, y, lib)
dt = time.perf_counter() - t0
maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
hwm_after = status("VmHWM")
best = fits[0]
print(json.dumps(dict(n=n, rss_before_kib=rss_before, hwm_after_kib=hwm_after, hwm_reset=hwm_reset,
                      maxrss_before_kib=maxrss_before, maxrss_after_kib=maxrss_after, seconds=dt,
                      best=best.name, affine=list(best.affine), r2=best.r2)))
"""


# ---------------------------------------------------------------------- pykan
def train_pykan(dataset, seed: int, ckpt: str):
    from kan import KAN as PykanKAN

    os.makedirs(ckpt, exist_ok=True)  # prune() logs its history there whatever auto_save says
    model = PykanKAN(width=[2, 5, 1], grid=5, k=3, seed=seed, auto_save=False, ckpt_path=ckpt)
    model.fit(dataset, opt="LBFGS", steps=50, lamb=0.01)
    model = model.prune()
    model.auto_save = False  # prune() builds its successor with auto_save=True
    model.fit(dataset, opt="LBFGS", steps=50)
    return model


def pykan_edges(model) -> list[tuple[int, int, int]]:
    edges = []
    for l in range(len(model.width_in) - 1):
        for i in range(model.width_in[l]):
            for j in range(model.width_out[l + 1]):
                if model.act_fun[l].mask[i][j] > 0 and not model.symbolic_fun[l].mask[j, i] > 0:
                    edges.append((l, i, j))
    return edges


def run_pykan_once(model, dataset) -> tuple[float, list[str]]:
    """One timed ``auto_symbolic`` on a fresh copy; returns (seconds, the edges it reported fixing)."""
    with redirect_stdout(io.StringIO()):
        m = model.copy()  # save + load through a checkpoint in the (temporary) working directory
    m.auto_save = False
    with torch.no_grad():
        m(dataset["train_input"])  # pykan fits from the cached activations of the last forward
    buf = io.StringIO()
    t0 = time.perf_counter()
    with redirect_stdout(buf):
        m.auto_symbolic()
    dt = time.perf_counter() - t0
    return dt, [line.strip() for line in buf.getvalue().splitlines() if line.startswith("fixing")]


# ---------------------------------------------------------------------- ours
def train_ours(dataset, seed: int, width=(2, 5, 1)):
    import kandiscover as kd

    data = {k: v.to(torch.float64) for k, v in dataset.items()}
    model = kd.KAN(width=list(width), grid=5, k=3, seed=seed, dtype=torch.float64)
    model.fit(data, opt="LBFGS", steps=50, lamb=0.01, progress=False)
    model = model.prune()
    model.fit(data, opt="LM", steps=50, progress=False)
    return model


def ours_edges(model) -> list[tuple[int, int, int]]:
    return [
        (l, i, j)
        for l, layer in enumerate(model.layers)
        for j in range(layer.out_dim)
        for i in range(layer.in_dim)
        if layer.mask[j, i] > 0 and layer.sym_mask[j, i] == 0
    ]


def run_ours_once(model) -> tuple[float, list[str], str]:
    """One timed ``auto_symbolic`` on a copy; returns (seconds, per-edge choices, formula)."""
    m = model.copy()
    t0 = time.perf_counter()
    reports = m.auto_symbolic()
    dt = time.perf_counter() - t0
    chosen = [
        f"({r.layer},{r.i},{r.j}) -> {r.fit.name} R2={r.fit.r2:.6f}{'' if r.fixed else ' (kept numeric)'}"
        for r in reports
    ]
    try:
        formula = str(m.symbolic_formula(var_names=["x", "y"])[0])
    except Exception as exc:  # report, never hide
        formula = f"symbolic_formula failed: {type(exc).__name__}: {exc}"
    return dt, chosen, formula


# ---------------------------------------------------------------------- memory
def memory_child(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEM_CHILD, str(n)], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["hwm_reset"]:  # peak RSS during the call minus RSS just before it
        res["growth_mib"] = (res["hwm_after_kib"] - res["rss_before_kib"]) / 1024
    else:  # ru_maxrss only (under-reports when an earlier peak was higher)
        res["growth_mib"] = (res["maxrss_after_kib"] - res["maxrss_before_kib"]) / 1024
    return res


# ---------------------------------------------------------------------- parts
def part_speed(args, rep_ours: int, rep_pykan: int) -> dict:
    dataset = make_dataset()
    print("\n[1] training pykan (fit lamb=0.01, prune, fit) ...", flush=True)
    with redirect_stdout(io.StringIO()):
        pk = train_pykan(dataset, args.seed, os.path.abspath("ckpt"))  # in main()'s scratch directory
    pk_edges = pykan_edges(pk)
    print(f"    pykan pruned width {pk.width}, {len(pk_edges)} live edges", flush=True)
    print("    training ours (fit lamb=0.01, prune, fit LM) ...", flush=True)
    ours = train_ours(dataset, args.seed)
    print(f"    ours pruned width {ours.width}, {len(ours_edges(ours))} live edges", flush=True)

    pk_width = [w[0] if isinstance(w, (list, tuple)) else w for w in pk.width]
    if any(isinstance(w, (list, tuple)) and w[1] for w in pk.width):
        pk_width = None  # pykan kept multiplication nodes: no like-for-like width
    contenders = {"ours": ours}
    if pk_width is not None and pk_width != ours.width:
        # the same edge count as pykan: our pipeline started from pykan's pruned width
        print(
            f"    ours pruned to {ours.width}, pykan to {pk_width}: also training ours from width "
            f"{pk_width} (fit lamb=0.01, prune, fit LM)",
            flush=True,
        )
        contenders["ours, pykan's width"] = train_ours(dataset, args.seed, width=pk_width)

    # round-robin (pykan, ours, ours, pykan, ...) so load from other processes hits all alike
    runs = {"pykan": []} | {name: [] for name in contenders}
    detail = {}
    for r in range(max(rep_pykan, rep_ours)):
        if r < rep_pykan:
            dt, chosen = run_pykan_once(pk, dataset)
            runs["pykan"].append(dt)
            detail["pykan"] = dict(chosen=chosen, formula=None)
            print(f"    pykan run {r}: {dt:.2f} s", flush=True)
        for name, model in contenders.items():
            if r < rep_ours:
                dt, chosen, formula = run_ours_once(model)
                runs[name].append(dt)
                detail[name] = dict(chosen=chosen, formula=formula)
                print(f"    {name} run {r}: {dt:.3f} s", flush=True)

    edges = {"pykan": len(pk_edges)} | {n: len(ours_edges(m)) for n, m in contenders.items()}
    widths = {"pykan": str(pk_width or pk.width)} | {n: str(m.width) for n, m in contenders.items()}
    pk_med = statistics.median(runs["pykan"])
    speed = dict(
        pykan=dict(times=runs["pykan"], median=pk_med, edges=edges["pykan"], width=widths["pykan"], **detail["pykan"]),
        target=TARGET_RATIO,
    )
    print()
    for name in runs:
        med = statistics.median(runs[name])
        print(
            f"    {name:<20s} auto_symbolic median {med:8.3f} s over {len(runs[name])} "
            f"(width {widths[name]}, {edges[name]} edges, {med / max(edges[name], 1):.3f} s/edge)"
        )
        for line in detail[name]["chosen"]:
            print("        " + line)
        if detail[name]["formula"]:
            print(f"        formula: {detail[name]['formula']}")
        if name == "pykan":
            continue
        ratio = pk_med / med
        per_edge = (pk_med / max(edges["pykan"], 1)) / (med / max(edges[name], 1))
        print(
            f"    pykan / {name}: {ratio:.1f}x   target >= {TARGET_RATIO:g}x  {verdict(ratio >= TARGET_RATIO)}"
            f"   (per edge {per_edge:.1f}x)"
        )
        speed[name] = dict(
            times=runs[name],
            median=med,
            edges=edges[name],
            width=widths[name],
            ratio=ratio,
            ratio_per_edge=per_edge,
            passed=ratio >= TARGET_RATIO,
            **detail[name],
        )
    return speed


def part_memory(n: int = 100_000) -> dict:
    print(f"\n[2] fit_affine on N={n:,} rows (fresh subprocess), default library", flush=True)
    mem = memory_child(n)
    ok = mem["growth_mib"] < TARGET_MEM_GIB * 1024
    print(
        f"    RSS before {mem['rss_before_kib'] / 1024:.0f} MiB, peak RSS during the call "
        f"{mem['hwm_after_kib'] / 1024:.0f} MiB (VmHWM reset: {mem['hwm_reset']}); ru_maxrss before/after "
        f"{mem['maxrss_before_kib'] / 1024:.0f}/{mem['maxrss_after_kib'] / 1024:.0f} MiB; "
        f"{mem['seconds']:.2f} s; best {mem['best']} R2={mem['r2']:.8f} affine={[round(v, 4) for v in mem['affine']]}"
    )
    print(f"    peak growth {mem['growth_mib']:.0f} MiB  target < {TARGET_MEM_GIB:g} GiB  {verdict(ok)}")
    mem.update(target_gib=TARGET_MEM_GIB, passed=ok)
    return mem


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--json", metavar="OUT", help="write machine-readable results to OUT")
    ap.add_argument("--seed", type=int, default=0, help="model seed of both libraries")
    ap.add_argument("--only", choices=["speed", "memory"], help="run one part")
    args = ap.parse_args(argv)
    out = os.path.abspath(args.json) if args.json else None

    info = machine_info()
    print("machine:", json.dumps(info))
    results = dict(machine=info, argv=sys.argv[1:], quick=args.quick)
    with scratch_cwd():  # pykan's prune()/copy() write checkpoints relative to the working directory
        if args.only in (None, "speed"):
            results["speed"] = part_speed(args, rep_ours=2 if args.quick else 5, rep_pykan=1 if args.quick else 3)
        if args.only in (None, "memory"):
            results["memory"] = part_memory()
    results["loadavg_end"] = list(os.getloadavg())
    if out:
        write_json(out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
