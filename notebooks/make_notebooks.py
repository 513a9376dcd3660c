"""Write the example notebooks of ``notebooks/`` (outputs stripped, deterministic).

    python notebooks/make_notebooks.py          # rewrite every notebook next to this script
    python notebooks/make_notebooks.py --check  # exit 1 if a committed notebook differs

The notebooks are generated rather than edited by hand so that they stay easy to review (the
source is this file) and never carry outputs; ``tests/test_notebooks.py`` runs each of them and
checks that the committed files equal what this script writes. Every notebook is meant to run in
well under a minute on a laptop CPU.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def md(text: str) -> tuple:
    return ("markdown", text)


def code(text: str) -> tuple:
    return ("code", text)


# ------------------------------------------------------------------------------------------ 01
QUICKSTART = [
    md("""
    # Quickstart: from a trained KAN to a formula

    A Kolmogorov–Arnold network (KAN) puts a learnable 1-D function (a B-spline) on every edge and
    only sums at the nodes. After training, each edge is a curve we can look at and match against
    a library of functions — that is how a KAN turns into a formula.

    Here we learn $f(x, y) = \\exp(\\sin(\\pi x) + y^2)$ from 1,000 samples, the first example of
    the KAN paper: train with sparsity pressure, prune, fix every edge to a library function, then
    refit and round the constants.
    """),
    code("""
    %matplotlib inline
    import torch
    import sympy

    import kandiscover as kd
    from kandiscover.plot import plot_history
    from kandiscover.symbolic import polish
    from kandiscover.symbolic.refit import round_floats

    g = torch.Generator().manual_seed(0)
    f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)
    x = torch.rand(2000, 2, generator=g, dtype=torch.float64) * 2 - 1
    dataset = dict(train_input=x[:1000], train_label=f(x[:1000]),
                   test_input=x[1000:], test_label=f(x[1000:]))
    """),
    md("""
    ## 1. Train with sparsity pressure

    `lamb` weighs the L1 + entropy penalty on the edges' activations: unneeded edges shrink
    towards zero so that pruning can remove them.
    """),
    code("""
    model = kd.KAN(width=[2, 5, 1], grid=5, k=3, seed=0)
    hist = model.fit(dataset, opt="LBFGS", steps=50, lamb=0.01, progress=False)
    plot_history(hist)
    """),
    md("""
    ## 2. Prune, then retrain without the penalty

    Pruning keeps the edges and hidden nodes that carry the output (attribution scores on the
    training rows). Levenberg–Marquardt (`opt="LM"`) then polishes the small model quickly.
    """),
    code("""
    model = model.prune()
    print("width after pruning:", model.width)
    hist = model.fit(dataset, opt="LM", steps=50, progress=False)
    print(f"test RMSE: {hist['test_loss'][-1]:.2e}")
    """),
    md("""
    ## 3. Match every edge to a library function

    Each edge's curve is fitted as $c\\,f(a x + b) + d$ for every function $f$ of the library;
    the best fit (accuracy against simplicity) is fixed into the model.
    """),
    code("""
    for r in model.auto_symbolic():
        print(f"layer {r.layer}, edge {r.i} -> {r.j}: {r.fit.name:6s} R² = {r.fit.r2:.6f}")
    raw = model.symbolic_formula(var_names=["x", "y"])[0]
    round_floats(raw, 4)  # for display; the constants keep full precision in raw
    """),
    md("""
    ## 4. Refit, snap and simplify the constants

    `polish` refits all constants of the composed formula jointly on the data, replaces each by
    the simplest nearby number (integers, fractions, multiples of π …) when the loss allows, and
    simplifies.
    """),
    code("""
    X, Y = dataset["train_input"].numpy(), dataset["train_label"].numpy()[:, 0]
    formula = polish(raw, {"x": X[:, 0], "y": X[:, 1]}, Y)
    x_, y_ = sympy.symbols("x y")
    assert kd.is_equivalent(formula, sympy.exp(sympy.sin(sympy.pi * x_) + y_**2))
    formula
    """),
    md("""
    ## 5. Look at the network

    Every live edge is drawn with its learned curve; symbolic edges are red and labelled with
    their fitted function.
    """),
    code("""
    model.plot(in_vars=["$x$", "$y$"], out_vars=["$f$"])
    """),
]

# ------------------------------------------------------------------------------------------ 02
DISCOVER_CSV = [
    md("""
    # Discover a law in a CSV file

    `kd.discover` takes a table and the name of the column to explain, and returns the simplest
    formula that explains it, its accuracy on held-out rows, and a Pareto front of alternatives.

    We write a small CSV of ideal-gas measurements ($P = nRT/V$) into a temporary folder, read
    it back with pandas as you would your own data, and let kandiscover find the law.
    """),
    code("""
    import tempfile
    from pathlib import Path

    import numpy as np
    import pandas as pd
    from IPython.display import Markdown, Math, display

    import kandiscover as kd

    workdir = Path(tempfile.mkdtemp(prefix="kandiscover-csv-"))
    rng = np.random.default_rng(0)
    n = 500
    gas = pd.DataFrame({
        "n": rng.uniform(0.5, 3.0, n),      # amount of gas [mol]
        "T": rng.uniform(250.0, 400.0, n),  # temperature [K]
        "V": rng.uniform(0.01, 0.1, n),     # volume [m³]
    })
    gas["P"] = gas["n"] * 8.314 * gas["T"] / gas["V"]  # pressure [Pa]
    gas.to_csv(workdir / "gas.csv", index=False)
    """),
    code("""
    data = pd.read_csv(workdir / "gas.csv")
    data.head()
    """),
    md("""
    ## Discover

    `time_budget` bounds the search in seconds; it stops early once a candidate explains the
    validation rows exactly (or to the noise level given by `noise_hint`).
    """),
    code("""
    res = kd.discover(data, target="P", time_budget=20, progress=False)
    print(res)
    display(Math(res.to_latex()))
    """),
    md("""
    ## The Pareto front

    Every candidate found on the way is scored on validation rows; the front keeps, for each
    complexity, the best loss that beats every simpler formula. `chosen` marks the returned one.
    """),
    code("""
    res.pareto
    """),
    code("""
    print("predictions for the first rows:", res.predict(data.head(3)))
    print("test R² =", res.r2, " RMSE =", res.rmse)
    """),
    md("""
    ## A report

    `res.report(folder)` writes `report.md`, `report.html` and the figures (Pareto front,
    residuals) — something to attach to a lab notebook or send to a colleague.
    """),
    code("""
    html = res.report(workdir / "report")
    print(sorted(p.name for p in html.parent.iterdir()))
    display(Markdown((html.parent / "report.md").read_text(encoding="utf-8")))
    """),
]

# ------------------------------------------------------------------------------------------ 03
VERIFY = [
    md("""
    # Verify a formula against measurements

    `kd.verify` checks how well a formula you already have explains the data. Names that are
    not columns can be fitted as free constants (`fit_constants=True`) — here we "measure" the
    gravitational constant $G$ from noisy force measurements, then show that a wrong law fails
    the check.
    """),
    code("""
    %matplotlib inline
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    import kandiscover as kd

    rng = np.random.default_rng(1)
    n = 400
    lab = pd.DataFrame({
        "m1": rng.uniform(1e3, 1e4, n),  # kg
        "m2": rng.uniform(1e3, 1e4, n),  # kg
        "r": rng.uniform(1.0, 10.0, n),  # m
    })
    force = 6.674e-11 * lab["m1"] * lab["m2"] / lab["r"] ** 2
    noise_std = 0.01 * np.sqrt(np.mean(force**2))  # 1 % measurement noise
    lab["F"] = force + rng.normal(0.0, noise_std, n)
    lab.head()
    """),
    md("""
    ## Fit $G$ in $F = G\\,m_1 m_2 / r^2$

    The default tolerance (`1 - R² ≤ 1e-6`) is meant for exact data. With noise, pass a
    tolerance above the noise level: about `2 * (noise std / std of F)**2`.
    """),
    code("""
    tol = 2 * (noise_std / lab["F"].std()) ** 2
    chk = kd.verify("G*m1*m2/r**2", lab, target="F", fit_constants=True, tol=tol)
    print(f"G = {chk.constants['G']:.4e}  (CODATA: 6.674e-11)")
    assert chk.ok and abs(chk.constants["G"] / 6.674e-11 - 1) < 0.01
    chk
    """),
    md("""
    ## A wrong law for comparison

    $F = G\\,m_1 m_2 / r$ gets its best $G$ too, but cannot explain the data: the residuals show
    structure instead of noise.
    """),
    code("""
    wrong = kd.verify("G*m1*m2/r", lab, target="F", fit_constants=True, tol=tol)
    print(wrong.verdict(), f" R² = {wrong.r2:.4f}")
    assert not wrong.ok

    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    chk.plot(ax=left)
    wrong.plot(ax=right)
    fig
    """),
]

# ------------------------------------------------------------------------------------------ 04
CLASSIFICATION = [
    md("""
    # Classification: symbolic formulas for two half-moons

    A KAN with two outputs trained with cross-entropy gives one logit per class. After
    `auto_symbolic` every logit is a formula, and the formulas alone classify new points.
    """),
    code("""
    %matplotlib inline
    import numpy as np
    import torch
    import torch.nn.functional as F
    from matplotlib.figure import Figure
    from sklearn.datasets import make_moons

    import kandiscover as kd
    from kandiscover.symbolic import default_library, to_numpy
    from kandiscover.symbolic.refit import round_floats

    X_train, y_train = make_moons(n_samples=1000, noise=0.1, random_state=0)
    X_test, y_test = make_moons(n_samples=1000, noise=0.1, random_state=1)
    dataset = dict(train_input=torch.tensor(X_train), train_label=torch.tensor(y_train),
                   test_input=torch.tensor(X_test), test_label=torch.tensor(y_test))
    """),
    md("""
    ## Train a [2, 2] KAN

    With `loss_fn=torch.nn.functional.cross_entropy` the labels are class indices. On separable
    data cross-entropy alone drives the logits towards infinity and the edge curves grow wild
    far from the data; a small L1 penalty on the activations (`lamb` with `lamb_entropy=0`)
    keeps them bounded and smooth, which is what makes the symbolic fit below reliable.
    """),
    code("""
    def accuracy(logits, labels):
        return (logits.argmax(1) == labels).double().mean()

    model = kd.KAN(width=[2, 2], grid=5, k=3, seed=0)
    hist = model.fit(dataset, opt="LBFGS", steps=20, lamb=1e-3, lamb_entropy=0.0,
                     loss_fn=F.cross_entropy, metrics={"acc": accuracy}, progress=False)
    print(f"numeric KAN: train accuracy {hist['train_acc'][-1]:.3f}, test accuracy {hist['test_acc'][-1]:.3f}")
    """),
    md("""
    ## Symbolic formulas for the two logits

    A modest library is enough here. Edges are fixed when their best match reaches R² ≥ 0.9:
    for classification only the decision boundary matters, not every wiggle of the logits.
    """),
    code("""
    lib = default_library().only(["x", "x^2", "x^3", "sin", "tanh", "exp"])
    for r in model.auto_symbolic(lib=lib, r2_threshold=0.9):
        print(f"edge x{r.i + 1} -> logit {r.j}: {r.fit.name:5s} R² = {r.fit.r2:.3f}")
    logits = model.symbolic_formula(var_names=["x1", "x2"], strict=True)
    for k, e in enumerate(logits):
        print(f"logit {k} =", round_floats(e, 3))
    """),
    md("""
    ## Accuracy of the formulas on fresh data

    A new draw of the moons, classified by evaluating the two sympy formulas and taking the
    larger one.
    """),
    code("""
    X_new, y_new = make_moons(n_samples=2000, noise=0.1, random_state=123)
    fns = [to_numpy(e, ["x1", "x2"]) for e in logits]

    def classify(points):
        return np.stack([fn(points) for fn in fns], axis=1).argmax(axis=1)

    symbolic_accuracy = float((classify(X_new) == y_new).mean())
    print(f"accuracy of the symbolic formulas on {len(y_new)} fresh points: {symbolic_accuracy:.4f}")
    assert symbolic_accuracy >= 0.95
    """),
    code("""
    gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 300), np.linspace(-1.0, 1.5, 250))
    zone = classify(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.contourf(gx, gy, zone, levels=[-0.5, 0.5, 1.5], colors=["#cfe2f3", "#f4cccc"])
    ax.scatter(X_new[:, 0], X_new[:, 1], c=y_new, cmap="coolwarm", s=4)
    ax.set(xlabel="x1", ylabel="x2", title="decision regions of the symbolic formulas")
    fig
    """),
]

# ------------------------------------------------------------------------------------------ 05
SUITE = [
    md("""
    # Batch-run a benchmark suite

    `kd.run_suite` runs `discover` on every problem of a pack in worker processes, writes one
    JSON line per run to `results.jsonl` (resumable: a second call skips what is done), and
    summarises the results in `summary.md`, `summary.csv` and plots.

    The full Feynman pack (120 problems) takes a while; here we run four fast ones with a 10 s
    budget each. On a cluster, pass `scheduler="tcp://host:8786"` (Dask) and `jobs=`.
    """),
    code("""
    import tempfile
    from pathlib import Path

    import pandas as pd
    from IPython.display import Image, Markdown, display

    import kandiscover as kd

    pack = kd.problems.load("feynman")
    chosen = ["I.12.1", "I.12.4", "I.39.22", "I.14.3"]
    for name in chosen:
        p = pack[name]
        print(f"{name:8s} {p.target} = {p.formula}")
    """),
    code("""
    out = Path(tempfile.mkdtemp(prefix="kandiscover-suite-"))
    summary = kd.run_suite("feynman", out=out, jobs=1, problems=chosen,
                           time_budget=10, n=300, progress=False)
    summary
    """),
    code("""
    display(Markdown(summary.read_text(encoding="utf-8")))
    """),
    md("""
    ## The recovery plot and the per-problem table
    """),
    code("""
    display(Image(filename=str(out / "recovery.png")))
    pd.read_csv(out / "summary.csv")
    """),
]

# ------------------------------------------------------------------------------------------ 06
KNOTS = [
    md("""
    # Knot invariants: which ones decide the signature?

    Davies et al. (*Nature* 2021) found with machine learning that the **signature** of a knot
    (an algebraic invariant) is largely determined by geometric invariants of its hyperbolic
    complement; the KAN paper (§4.3) redid this with a small KAN and found
    `signature ≈ slope / 2`, where `slope = Re(λ / μ)` comes from the longitudinal (λ) and
    meridional (μ) translations of the cusp.

    The `knots` pack holds 12,000 real knots (≤ 14 crossings) computed with SnapPy. We train a
    small KAN on a 4,000-row subsample, ask it which invariants matter, and extract a formula.
    """),
    code("""
    %matplotlib inline
    import numpy as np
    import pandas as pd
    import torch
    from IPython.display import display
    from matplotlib.figure import Figure

    import kandiscover as kd
    from kandiscover.symbolic import default_library, polish, to_numpy

    problem = kd.problems.load("knots")["signature"]
    features = list(problem.variables)
    df = problem.sample(n=4000, seed=0)
    train, test = df.iloc[:2800], df.iloc[2800:]
    print(problem.meta["reference"])
    df["signature"].value_counts().sort_index().to_frame().T
    """),
    md("""
    ## A [8, 1, 1] KAN on all eight invariants

    The signature is an even integer; we regress it and round predictions to the nearest even
    integer. Inputs are standardised (their scales differ by orders of magnitude).
    """),
    code("""
    mean, std = train[features].mean(), train[features].std()
    as_tensor = lambda frame: torch.tensor(((frame[features] - mean) / std).to_numpy())
    dataset = dict(train_input=as_tensor(train), train_label=torch.tensor(train[["signature"]].to_numpy()),
                   test_input=as_tensor(test), test_label=torch.tensor(test[["signature"]].to_numpy()))

    def round_even(v):
        return 2 * np.round(np.asarray(v) / 2)

    model = kd.KAN(width=[8, 1, 1], grid=5, k=3, seed=0)
    model.fit(dataset, opt="LBFGS", steps=20, progress=False)
    pred = model.predict(dataset["test_input"]).numpy()[:, 0]
    kan_accuracy = float((round_even(pred) == test["signature"].to_numpy()).mean())
    print(f"KAN test accuracy (exact signature): {kan_accuracy:.3f}")
    assert kan_accuracy >= 0.78  # DeepMind's MLP on the full set of invariants: 78 %
    """),
    md("""
    ## Which invariants matter

    `model.attribute()` propagates importance from the output back to the inputs; the input
    node scores rank the invariants.
    """),
    code("""
    scores = model.attribute().node_scores[0].numpy()
    ranking = pd.Series(scores, index=features).sort_values(ascending=False)
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    ranking[::-1].plot.barh(ax=ax)
    ax.set(xscale="log", xlabel="attribution score", title="importance of the invariants")
    display(ranking.to_frame("score"))
    fig
    """),
    md("""
    ## A formula from the top two invariants

    A KAN with one multiplication node, `[2, [0, 1]]`, computes $f(u)\\,g(v)$ of the two most
    important invariants. Its edges are matched to a small library, the product is polished,
    and the formula's value rounded to the nearest even integer is the prediction.
    """),
    code("""
    top = list(ranking.index[:2])
    print("top two invariants:", top)
    small_data = dict(train_input=torch.tensor(train[top].to_numpy()), train_label=dataset["train_label"],
                      test_input=torch.tensor(test[top].to_numpy()), test_label=dataset["test_label"])
    small = kd.KAN(width=[2, [0, 1]], grid=3, k=3, seed=0)
    small.fit(small_data, opt="LBFGS", steps=20, progress=False)
    small.auto_symbolic(lib=default_library().only(["x", "x^2", "1/x", "sqrt"]), r2_threshold=0.0)
    raw = small.symbolic_formula(var_names=top)[0]
    formula = polish(raw, {c: train[c].to_numpy() for c in top}, train["signature"].to_numpy())
    formula
    """),
    code("""
    sym_pred = to_numpy(formula, top)(test[top].to_numpy())
    formula_accuracy = float((round_even(sym_pred) == test["signature"].to_numpy()).mean())

    # the KAN paper's finding, signature ≈ slope / 2 with slope = Re(λ / μ), on the same rows
    mu = test["meridional_translation_real"] + 1j * test["meridional_translation_imag"]
    slope = np.real(test["longitudinal_translation"] / mu)
    slope_accuracy = float((round_even(slope / 2) == test["signature"]).mean())
    assert formula_accuracy >= 0.78, formula_accuracy  # the formula of two invariants holds the MLP's figure too

    pd.DataFrame({
        "model": ["KAN [8, 1, 1] (all invariants)", f"formula: {formula}", "slope / 2 (KAN paper)"],
        "test accuracy": [kan_accuracy, formula_accuracy, slope_accuracy],
    })
    """),
    md("""
    The product of the two top invariants is the numerator of the slope:
    $\\mathrm{Re}(\\lambda/\\mu) = \\lambda\\,\\mathrm{Re}\\,\\mu / |\\mu|^2$, with $|\\mu|^2$ replaced by a
    constant fitted on the data. Rounded to an even integer it predicts the exact signature about
    as often as the full KAN, and more often than `slope / 2` itself on this sample.
    """),
]

# ------------------------------------------------------------------------------------------ 07
SPECIAL = [
    md("""
    # Special functions: KAN accuracy with grid extension

    The KAN paper (Table 2) fits special functions of two variables with small KANs and grid
    extension: train on a coarse grid, refine it (exactly, the function is unchanged), train
    again. We do the same for three functions of the `special` pack with a [2, 3, 1] KAN,
    grids 5 → 10 → 20 trained with Levenberg–Marquardt, and print the test RMSE and the
    parameter count beside the paper's RMSE where we have it. Our input ranges and budgets
    differ from the paper's, so compare with care.

    `jv` is hard on this box: $J_v(0) = 0$ for $v > 0$ but $J_0(0) = 1$, so the function jumps
    at the corner $v = x = 0$ and no smooth fit gets that corner right.
    """),
    code("""
    %matplotlib inline
    import pandas as pd
    import torch
    from IPython.display import display
    from matplotlib.figure import Figure

    import kandiscover as kd

    pack = kd.problems.load("special")
    names = ["jv", "yv", "lpmv_0"]  # the three with an RMSE in the KAN paper's Table 2
    pack.to_frame().loc[names, ["scipy", "variables", "ranges", "kan_paper_rmse"]]
    """),
    code("""
    def n_params(model):  # trainable parameters of the numeric KAN: splines, edge scales, biases
        return sum(p.numel() for name, p in model.named_parameters() if not name.endswith("sym_affine"))

    rows, curves = [], {}
    for name in names:
        problem = pack[name]
        data = torch.tensor(problem.sample(n=3000, seed=0).to_numpy())
        dataset = dict(train_input=data[:2000, :2], train_label=data[:2000, 2:],
                       test_input=data[2000:, :2], test_label=data[2000:, 2:])
        model = kd.KAN(width=[2, 3, 1], grid=5, k=3, seed=0)
        model.fit(dataset, opt="LBFGS", steps=10, progress=False)  # a rough start, then LM
        rmse = {}
        for grid in (5, 10, 20):
            if grid > model.grid:
                model = model.refine(grid)
            hist = model.fit(dataset, opt="LM", steps=25, progress=False)
            rmse[grid] = hist["test_loss"][-1]
        curves[name] = rmse
        rows.append({"function": problem.meta["scipy"], "KAN": "[2, 3, 1]", "parameters": n_params(model),
                     **{f"RMSE grid {g}": v for g, v in rmse.items()},
                     "KAN paper RMSE": problem.meta["kan_paper_rmse"]})
    table = pd.DataFrame(rows, index=names)
    with pd.option_context("display.float_format", "{:.2e}".format):
        display(table)
    """),
    code("""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for name, rmse in curves.items():
        ax.plot(list(rmse), list(rmse.values()), "o-", label=name)
    ax.set(xscale="log", yscale="log", xlabel="grid intervals", ylabel="test RMSE",
           title="grid extension 5 → 10 → 20")
    ax.set_xticks([5, 10, 20], ["5", "10", "20"])
    ax.legend()
    fig
    """),
]

# ------------------------------------------------------------------------------------------ 08
UNITS = [
    md("""
    # Units: dimensional analysis from the columns' units

    Give `discover` the unit of every column and it searches the dimensionless problem
    `y = M · f(π₁, …)` of Buckingham's theorem first. Here: the relativistic energy, the
    pendulum (with `g` as a dimensional constant) and a Feynman law with and without units.
    """),
    code("""
    import numpy as np
    import pandas as pd
    import sympy
    import kandiscover as kd
    from kandiscover.units import parse_units, reduce_dimensions

    rng = np.random.default_rng(0)
    m, v, c = rng.uniform(1, 5, 500), rng.uniform(1, 2, 500), rng.uniform(3, 10, 500)
    energy = pd.DataFrame({"m": m, "v": v, "c": c, "E": m * c**2 / np.sqrt(1 - v**2 / c**2)})
    units = {"m": "kg", "v": "m/s", "c": "m/s", "E": "J"}
    red = reduce_dimensions(["m", "v", "c"], "E", parse_units(units, list(energy.columns)),
                            energy[["m", "v", "c"]].to_numpy(), energy["E"].to_numpy())
    red.describe()
    """),
    code("""
    assert red.describe() == ["M = c**2*m", "pi1 = v/c"]
    res = kd.discover(energy, target="E", units=units, time_budget=20, progress=False)
    assert res.r2 > 0.99999
    print("exact:", kd.is_equivalent(res.formula, sympy.sympify("m*c**2/sqrt(1 - v**2/c**2)")))
    res.formula, res.strategy
    """),
    md("""
    ## The pendulum

    No power of a length is a time: `g` enters as a dimensional constant, a name that is no
    column, with its value.
    """),
    code("""
    L = rng.uniform(0.2, 2.0, 40)
    pendulum = pd.DataFrame({"L": L, "T": 2 * np.pi * np.sqrt(L / 9.81)})
    res = kd.discover(pendulum, target="T", units={"L": "m", "T": "s", "g": "9.81 m/s**2"},
                      time_budget=10, progress=False)
    print(res.formula)
    print(res.notes[-1])
    """),
    md("""
    ## A Feynman law, with and without units

    Planck's `E = h·ω / (2π (exp(h·ω / (2π k_B T)) − 1))` (III.4.33): with units the search sees one
    variable, `h·ω/(k_B·T)`.
    """),
    code("""
    p = kd.problems.load("feynman")["III.4.33"]
    df = p.sample(n=1000, seed=0)
    rows = []
    for with_units in (False, True):
        r = kd.discover(df, target=p.target, time_budget=20, progress=False, units=p.units if with_units else None)
        rows.append({"units": with_units, "formula": str(r.formula), "exact": kd.is_equivalent(r.formula, p.formula),
                     "seconds": round(r.seconds, 1)})
    pd.DataFrame(rows)
    """),
]

# ------------------------------------------------------------------------------------------ 09
MEASUREMENTS = [
    md("""
    # Working with measurements: few rows, noise, constants with their uncertainty

    Real tables are small and noisy. Here: Kepler's eight planets, a pendulum timed at twelve
    lengths (reading off `g` with its uncertainty), and a noisy Feynman law whose noise level
    `discover` is not told. The page *Working with measurements* in the docs explains the rules.
    """),
    code("""
    %matplotlib inline
    import numpy as np
    import pandas as pd
    import sympy
    import kandiscover as kd

    planets = pd.DataFrame({
        "a": [0.387, 0.723, 1.000, 1.524, 5.203, 9.537, 19.19, 30.07],   # semi-major axis, AU
        "P": [0.2408, 0.6152, 1.0000, 1.8808, 11.862, 29.457, 84.01, 164.8],  # period, years
    })
    res = kd.discover(planets, target="P", time_budget=5, progress=False)
    assert kd.is_equivalent(res.formula, sympy.Symbol("a") ** sympy.Rational(3, 2))
    print(res)
    """),
    md("""
    Eight rows are cross-validated (leave-one-out), and the exponent `3/2` was snapped only because
    it lies inside the fitted exponent's 95 % interval:
    """),
    code("""
    res.constants
    """),
    md("""
    ## The pendulum: `g` from twelve timed lengths

    `T = 2π·sqrt(L/g)` with 1 % timing noise. The answer is `c·sqrt(L)`; the constants table keeps
    the fitted `c` with its standard error and interval even where the printed formula shows a
    snapped value (`2` lies inside the interval here), and `g = (2π/c)²` follows, with its error
    propagated.
    """),
    code("""
    rng = np.random.default_rng(0)
    L = rng.uniform(0.2, 2.0, 12)
    T = 2 * np.pi * np.sqrt(L / 9.81) * (1 + 0.01 * rng.standard_normal(12))
    pendulum = pd.DataFrame({"L": L, "T": T})
    res = kd.discover(pendulum, target="T", time_budget=5, progress=False)
    print(res.formula, "| the fitted constants, before snapping:")
    print(res.constants[["symbol", "value", "std_error", "low", "high", "snapped"]])
    c = res.constants.iloc[(res.constants["value"] - 2).abs().argmin()]  # the coefficient (the other: the exponent)
    g, dg = (2 * np.pi / c["value"]) ** 2, 2 * (2 * np.pi / c["value"]) ** 2 * c["std_error"] / c["value"]
    print(f"c = {c['value']:.4f} ± {c['std_error']:.4f}  ->  g = {g:.2f} ± {dg:.2f} m/s²")
    assert abs(g - 9.81) < 3 * dg + 0.05
    """),
    md("""
    `verify` judges a hypothesis against the noise of the rows, not against the exactness of
    noiseless data: `c*sqrt(L)` passes, `c*L` does not.
    """),
    code("""
    for hypothesis in ("c*sqrt(L)", "c*L"):
        chk = kd.verify(hypothesis, pendulum, target="T", fit_constants=True)
        print(hypothesis, "->", chk.verdict())
    """),
    md("""
    ## A noisy Feynman law, the noise level not given

    Without `noise_hint`, `discover` estimates the noise from the residuals of its best candidate
    once a lack-of-fit test finds nothing but noise in them; it then chooses by BIC.
    """),
    code("""
    p = kd.problems.load("feynman")["I.34.8"]
    df = p.sample(n=1000, seed=0, noise=0.01)
    res = kd.discover(df, target=p.target, time_budget=20, progress=False)
    assert res.noise_source == "estimated"
    print(res.formula, "| exact:", kd.is_equivalent(res.formula, p.formula))
    print(f"noise estimated: {res.noise:.4f} of the target's RMS (sampled with 0.01)")
    print("chosen by:", res.selection)
    """),
    code("""
    res.plot();
    """),
]


NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_discover_from_csv.ipynb": DISCOVER_CSV,
    "03_verify_formula.ipynb": VERIFY,
    "04_classification.ipynb": CLASSIFICATION,
    "05_feynman_suite.ipynb": SUITE,
    "06_knots.ipynb": KNOTS,
    "07_special_functions.ipynb": SPECIAL,
    "08_units.ipynb": UNITS,
    "09_measurements.ipynb": MEASUREMENTS,
}


def build(cells) -> nbformat.NotebookNode:
    """A notebook with the given cells: no outputs, stable cell ids, python3 kernel metadata."""
    nb = new_notebook(metadata={"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)})
    nb.nbformat, nb.nbformat_minor = 4, 5  # fixed, so a newer nbformat writes the same files
    for k, (kind, text) in enumerate(cells):
        source = textwrap.dedent(text).strip("\n")
        cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
        cell["id"] = f"cell-{k:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The exact text of notebook ``name`` as this script writes it."""
    return nbformat.writes(build(NOTEBOOKS[name]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS:
        path = HERE / name
        text = render(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run python notebooks/make_notebooks.py):", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
