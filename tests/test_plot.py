import matplotlib

matplotlib.use("Agg")

import math

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

import kandiscover as kd
from kandiscover.plot import plot_history, plot_kan, plot_pareto, plot_residuals, plot_suite, to_networkx

from conftest import make_dataset


def _target(x):
    return torch.sin(math.pi * x[:, [0]]) + x[:, [1]] ** 2


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    ds = make_dataset(_target, 2, n=200)
    model = kd.KAN([2, 3, 1], seed=0)
    hist = model.fit(ds, steps=5, progress=False)
    model.fix_symbolic(0, 0, 0, "sin", fit_params=False, affine=(1, 0, 1, 0))
    return model, hist, ds


def _insets(fig):
    return [a for a in fig.axes[0].child_axes if str(a.get_gid()).startswith("edge:")]


def _texts(fig):
    return [t.get_text() for t in fig.findobj(Text)]


def _save(fig, path):
    fig.savefig(path, dpi=60)
    assert path.exists() and path.stat().st_size > 3000
    return path


def _live(model):
    return sum(int((layer.mask > 0).sum()) for layer in model.layers)


def test_plot_kan_draws_one_inset_per_live_edge_with_names_and_symbolic_label(trained, tmp_path):
    model, _, _ = trained
    fig = plot_kan(model, in_vars=["alpha", "beta"], out_vars=["out"], title="my net")
    assert isinstance(fig, Figure)
    _save(fig, tmp_path / "kan.png")
    assert len(_insets(fig)) == _live(model) == 9
    texts = _texts(fig)
    assert {"alpha", "beta", "out", "my net"} <= set(texts)
    sym = [a for a in _insets(fig) if a.get_gid() == "edge:0:0:0"][0]
    assert any("sin" in t.get_text() for t in sym.texts)
    numeric = [a for a in _insets(fig) if a.get_gid() != "edge:0:0:0"]
    assert all(not a.texts for a in numeric)
    # every inset shows a curve over the data
    assert all(len(a.lines) == 1 and len(a.lines[0].get_xdata()) > 10 for a in _insets(fig))


def test_plot_kan_labels_and_pruned_model(trained, tmp_path):
    model, _, ds = trained
    fig = plot_kan(model, symbolic_labels=False)
    sym = [a for a in _insets(fig) if a.get_gid() == "edge:0:0:0"][0]
    assert [t.get_text() for t in sym.texts] == ["sin"]
    assert {"x1", "x2", "y"} <= set(_texts(fig))
    pruned = model.prune(edge_th=0.2)
    assert _live(pruned) < 9
    fig = pruned.plot(x=ds["test_input"])  # KAN.plot delegates to plot_kan
    assert len(_insets(fig)) == _live(pruned)
    _save(fig, tmp_path / "pruned.png")


def test_plot_kan_untrained_and_multiplication_nodes(tmp_path):
    model = kd.KAN([2, [1, 1], 1], seed=0)  # no fit: curves drawn over each layer's grid
    assert model.train_input_ is None
    fig = plot_kan(model)
    assert len(_insets(fig)) == _live(model) == 2 * 3 + 2 * 1
    assert "×" in _texts(fig)
    _save(fig, tmp_path / "mult.png")
    with pytest.raises(ValueError, match="in_vars"):
        plot_kan(model, in_vars=["a"])
    with pytest.raises(ValueError, match="scale"):
        plot_kan(model, scale=0)


def test_to_networkx_nodes_edges_and_attributes(trained):
    model, _, _ = trained
    g = to_networkx(model, in_vars=["a", "b"])
    assert g.number_of_nodes() == 2 + 3 + 1 and g.number_of_edges() == 2 * 3 + 3 * 1
    assert g.nodes[(0, 0)]["kind"] == "input" and g.nodes[(0, 1)]["name"] == "b"
    assert g.nodes[(1, 2)]["kind"] == "sum" and g.nodes[(2, 0)]["kind"] == "output"
    e = g.edges[(0, 0), (1, 0)]
    assert e["symbolic"] and e["function"] == "sin" and e["affine"] == (1.0, 0.0, 1.0, 0.0)
    assert (e["layer"], e["i"], e["j"]) == (0, 0, 0) and e["importance"] > 0
    other = g.edges[(0, 1), (1, 2)]
    assert not other["symbolic"] and other["function"] is None and other["affine"] is None
    assert (other["layer"], other["i"], other["j"]) == (0, 1, 2)


def test_to_networkx_multiplication_factors():
    model = kd.KAN([2, [1, 1], 1], seed=0)
    g = to_networkx(model)
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert kinds.count("mult") == 1 and kinds.count("factor") == 2 and len(kinds) == 2 + 2 + 2 + 1
    kan_edges = [d for *_, d in g.edges(data=True) if d["kind"] == "kan"]
    assert len(kan_edges) == 2 * 3 + 2 * 1
    assert g.has_edge((0, 1), (1, 1, 1)) and g.has_edge((1, 1, 1), (1, 1))
    assert g.edges[(0, 1), (1, 1, 1)]["j"] == 2


def test_plot_history(trained, tmp_path):
    _, hist, _ = trained
    _save(plot_history(hist), tmp_path / "h.png")
    fig = plot_history({"train_loss": [1.0, 0.1, 0.01], "test_loss": [1.2, 0.2, 0.0], "reg": [3.0, 2.0, 1.0]})
    assert len(fig.axes) == 2  # reg on a twin axis
    _save(fig, tmp_path / "h2.png")
    assert len(plot_history(pd.DataFrame({"train_loss": [1.0, 0.5], "reg": [0.0, 0.0]})).axes) == 1
    with pytest.raises(ValueError, match="train_loss"):
        plot_history({"loss": [1.0]})


def test_plot_pareto_marks_choice(tmp_path):
    front = pd.DataFrame(
        dict(
            complexity=[1, 3, 7],
            loss=[2.0, 0.5, 0.0],
            score=[0, 0.7, 9.0],
            formula=["a", "2*a", "2*a*b"],
            strategy=["s"] * 3,
            chosen=[False, False, True],
        )
    )
    fig = plot_pareto(front)
    assert any("2*a*b" in t for t in _texts(fig))
    _save(fig, tmp_path / "p.png")


def test_plot_residuals(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    fig = plot_residuals(y, y + 0.01 * rng.normal(size=300))
    assert len(fig.axes) == 2
    _save(fig, tmp_path / "r.png")
    with pytest.raises(ValueError, match="same length"):
        plot_residuals([1, 2], [1])


def test_plot_suite(tmp_path):
    frame = pd.DataFrame(
        dict(
            pack=["feynman"] * 4 + ["knots"] * 2,
            exact=[True, True, False, True, np.nan, np.nan],
            seconds=[3.0, 10.0, 120.0, 5.0, 30.0, 40.0],
        )
    )
    fig = plot_suite(frame, published={"AI Feynman": {"feynman": 0.9}, "PySR": {"feynman": 0.6}})
    assert "3/4" in _texts(fig)
    _save(fig, tmp_path / "s.png")
    with pytest.raises(ValueError, match="seconds"):
        plot_suite(frame.drop(columns="seconds"))
