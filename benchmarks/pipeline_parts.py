"""CPU time of the three inner loops of ``kd.discover``: edge fits, constant refits, LM Jacobians.

    python benchmarks/pipeline_parts.py [--repeats 5] [--json OUT]

Run it on two checkouts to compare them (``PYTHONPATH=/path/to/other/checkout python ...``):
the workloads are fixed and seeded, and process CPU time (``time.process_time``) is less
sensitive than wall time to other jobs on the machine. Parts:

* ``fit_affine``: every primitive of the default library on five 1000-row curves;
* ``refit``: ``refit_with_loss`` of five formulas with 2–15 constants on 1000 rows;
* ``LM Jacobian``: the Levenberg–Marquardt Jacobian of a ``[2, 5, 1]`` and a ``[4, 3, [1, 1], 1]``
  KAN on 1000 rows — both the structural one and ``vmap(jacrev)`` where the checkout has both.

Prints the median over ``--repeats`` runs of each part.
"""

import argparse
import json
import statistics
import time

import numpy as np
import sympy
import torch

import kandiscover as kd
from kandiscover.kan.lm import LevenbergMarquardt
from kandiscover.symbolic.fit import fit_affine
from kandiscover.symbolic.library import default_library
from kandiscover.symbolic.refit import refit_with_loss


def edge_curves():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1000, generator=g, dtype=torch.float64) * 4 - 2
    noise = 0.01 * torch.randn(1000, generator=g, dtype=torch.float64)
    return x, [torch.sin(2 * x + 1), x**2 - 0.3, torch.exp(-(x**2)), 1 / (2.5 + x), torch.tanh(3 * x) + noise]


def refit_cases():
    rng = np.random.default_rng(0)
    d = {s: rng.uniform(1, 5, 1000) for s in ["n", "T", "V1", "V2", "kb", "x"]}
    cases = [
        (
            "1.3*(0.02/(1.1e-6 + 1.5/kb))*(1.3*(32.5*n**1.0000003 - 0.00015)*(7.7*sin(0.0056*T - 0.016) + 0.13))"
            "*(-28.2*log(V1) + 28.3*log(V2) - 5.6e-6)",
            d["n"] * d["kb"] * d["T"] * np.log(d["V2"] / d["V1"]),
        ),
        ("2.1*exp(-0.45*x**2)/sqrt(6.0)", np.exp(-(d["x"] ** 2) / 2) / np.sqrt(2 * np.pi)),
        ("1.1*x*sin(0.9*T) + 0.2", d["x"] * np.sin(d["T"])),
        ("Abs(1.2*x - 3.1) + Max(0.5*n, 1.3)", np.abs(d["x"] - 3) + np.maximum(d["n"], 1)),
        ("(0.9*x + 0.1)/(1.05 + 0.98*x*n)", (d["x"] - d["n"]) / (1 + d["x"] * d["n"])),
    ]
    return d, [(sympy.sympify(text), y) for text, y in cases]


def lm_models():
    g = torch.Generator().manual_seed(0)
    out = []
    for width in ([2, 5, 1], [4, 3, [1, 1], 1]):
        model = kd.KAN(width, grid=5, seed=1)
        x = torch.rand(1000, width[0], generator=g, dtype=torch.float64) * 2 - 1
        model.update_grid(x)
        out.append((str(width), LevenbergMarquardt(model), x))
    return out


def cpu(fn) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    x, curves = edge_curves()
    lib = default_library()
    data, cases = refit_cases()
    parts = {
        "fit_affine, 5 curves": lambda: [fit_affine(x, y, lib) for y in curves],
        "refit, 5 formulas": lambda: [refit_with_loss(e, data, y) for e, y in cases],
    }
    for name, lm, xs in lm_models():
        if hasattr(lm, "_jacobian_vmap"):
            parts[f"LM Jacobian {name}, structural, x10"] = lambda lm=lm, xs=xs: [lm._jacobian(xs) for _ in range(10)]
            parts[f"LM Jacobian {name}, vmap, x10"] = lambda lm=lm, xs=xs: [lm._jacobian_vmap(xs) for _ in range(10)]
        else:
            parts[f"LM Jacobian {name}, vmap, x10"] = lambda lm=lm, xs=xs: [lm._jacobian(xs) for _ in range(10)]
    for fn in parts.values():  # warm-up: imports, lambdify caches, torch.func tracing
        fn()
    times = {name: [] for name in parts}
    for _ in range(args.repeats):
        for name, fn in parts.items():  # interleaved, so that load affects every part alike
            times[name].append(cpu(fn))
    print(f"kandiscover from {kd.__file__}; CPU seconds, median of {args.repeats}")
    result = {}
    for name, ts in times.items():
        result[name] = statistics.median(ts)
        print(f"  {name:<44s} {result[name]:8.3f} s   (min {min(ts):.3f})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(times=times, median=result), fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
