"""Helpers shared by the benchmarks: the pykan side-by-side ones (``engine_speed.py``,
``symbolic_speed.py``) and those that read suite records (``rejudge.py``, ``noise_estimate.py``).

The scripts run as ``python benchmarks/X.py`` from any working directory; Python puts the script's
own folder first on ``sys.path``, so ``from _common import ...`` finds this file.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile

import torch


def machine_info() -> dict:
    """CPU model, core count, torch version and threads, Python version, load average."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(
        cpu=cpu,
        cores=os.cpu_count(),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        python=platform.python_version(),
        loadavg=list(os.getloadavg()),
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def f_target(x):
    """``exp(sin(πx) + y²)``, the KAN paper's first example."""
    return torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)


def make_dataset():
    """1000 train / 1000 test rows of ``f_target`` on ``[-1, 1]²`` from pykan's ``create_dataset(seed=0)``."""
    from kan.utils import create_dataset

    return create_dataset(f_target, n_var=2, train_num=1000, test_num=1000, seed=0)


@contextlib.contextmanager
def scratch_cwd():
    """Work in a temporary directory (pykan writes checkpoints relative to the working directory)."""
    with tempfile.TemporaryDirectory(prefix="kd_bench_") as tmp, contextlib.chdir(tmp):
        yield tmp


def write_json(out: str, results: dict) -> None:
    with open(out, "w") as fh:
        json.dump(results, fh, indent=2, default=str)
    print("wrote", out)


def read_recorded_formula(text: str, variables: list):
    """A formula recorded by a suite (sympy's printing: Euler's number is ``E``) as an expression."""
    import sympy

    import kandiscover as kd

    if "E" in variables:
        return kd.parse_formula(text, variables)
    return kd.parse_formula(text, [*variables, "E"]).subs(sympy.Symbol("E"), sympy.E)
