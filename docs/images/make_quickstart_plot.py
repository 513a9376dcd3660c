"""Render docs/images/kan_quickstart.png: the README's quickstart model after pruning and auto_symbolic.

Run from anywhere: ``python docs/images/make_quickstart_plot.py``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402

import kandiscover as kd  # noqa: E402
from kandiscover.plot import plot_kan  # noqa: E402


def main() -> Path:
    g = torch.Generator().manual_seed(0)
    f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)  # noqa: E731
    x = torch.rand(2000, 2, generator=g, dtype=torch.float64) * 2 - 1
    dataset = dict(train_input=x[:1000], train_label=f(x[:1000]), test_input=x[1000:], test_label=f(x[1000:]))

    model = kd.KAN(width=[2, 5, 1], grid=5, k=3, seed=0)
    model.fit(dataset, opt="LBFGS", steps=50, lamb=0.01, progress=False)
    model = model.prune()
    model.fit(dataset, opt="LBFGS", steps=50, progress=False)
    model.auto_symbolic()
    formula = model.symbolic_formula(var_names=["x", "y"])[0]
    fig = plot_kan(
        model, in_vars=["$x$", "$y$"], out_vars=["$f$"], title="exp(sin(πx) + y²): pruned, then auto_symbolic"
    )
    here = Path(__file__).resolve().parent
    out = here / "kan_quickstart.png"
    fig.savefig(out, dpi=120)
    print(f"width after pruning: {model.width}; formula: {formula}")
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
