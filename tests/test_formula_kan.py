"""formula_kan: a formula compiled into a KAN of fixed library edges reproduces the formula."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import sympy
import torch
from matplotlib.colors import to_hex
from matplotlib.text import Text

from kandiscover.formula_kan import formula_kan
from kandiscover.model import KAN
from kandiscover.plot import SYMBOLIC_COLOR, edge_label, plot_kan
from kandiscover.symbolic.evaluate import formula_predictions
from kandiscover.symbolic.library import default_library

# formula, column names, (low, high) of each column
CASES = [
    ("2*a*b**2", "a b", [(0.5, 2.0), (0.5, 2.0)]),
    ("exp(sin(pi*x) + y**2)", "x y", [(0.1, 1.0), (0.1, 1.0)]),
    ("sqrt(x**2 + z**2)", "x z", [(0.1, 2.0), (0.1, 2.0)]),
    ("m*c**2/sqrt(1 - v**2/c**2)", "m v c", [(1.0, 3.0), (0.1, 0.5), (1.0, 2.0)]),
    ("x*sin(theta)", "x theta", [(0.1, 2.0), (0.1, 3.0)]),
    ("(x - y)/(1 + x*y)", "x y", [(0.1, 2.0), (0.1, 2.0)]),
    ("3*x + 2", "x", [(0.1, 2.0)]),
]
IDS = [c[0] for c in CASES]


def _compile(text, names, ranges, seed=0):
    names = names.split()
    expr = sympy.sympify(text, locals={n: sympy.Symbol(n) for n in names})
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(lo, hi, 200) for lo, hi in ranges])
    return expr, names, X, formula_kan(expr, names, X, seed=seed)


def _live(model):
    return [(l, j, i) for l, layer in enumerate(model.layers) for j, i in (layer.mask > 0).nonzero().tolist()]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reproduces_the_formula(case):
    expr, names, X, model = _compile(*case)
    assert isinstance(model, KAN)
    got = model(torch.as_tensor(X)).detach().numpy()
    want = formula_predictions(expr, X, names)
    assert got.shape == (200, 1) and np.all(np.isfinite(want))
    assert np.max(np.abs(got[:, 0] - want) / np.abs(want)) < 1e-6


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_live_edge_is_symbolic(case):
    _, _, _, model = _compile(*case)
    live = _live(model)
    assert live
    for l, j, i in live:
        layer = model.layers[l]
        assert layer.sym_mask[j, i] == 1 and (j, i) in layer.sym_funs, (l, j, i)
    assert sum(len(layer.sym_funs) for layer in model.layers) == len(live)


def test_products_become_multiplication_nodes():
    *_, model = _compile("x*sin(theta)", "x theta", [(0.1, 2.0), (0.1, 3.0)])
    assert model.width == [2, [0, 1]]
    assert {layer.sym_funs[key].name for layer in model.layers for key in layer.sym_funs} == {"x", "sin"}
    *_, model = _compile("m*c**2/sqrt(1 - v**2/c**2)", "m v c", [(1.0, 3.0), (0.1, 0.5), (1.0, 2.0)])
    assert model.nodes[-1] == (0, 1) and model.arity[-1] == [3]


def test_shared_input_of_one_sum_is_lifted():
    # x and sin(x) cannot be two edges from one input into one node: one is lifted a level
    expr, names, X, model = _compile("x + sin(x) + exp(sin(x))", "x", [(0.1, 2.0)])
    want = formula_predictions(expr, X, names)
    assert np.allclose(model.predict(X)[:, 0].numpy(), want, rtol=1e-9)
    assert model.depth == 2


def test_powers_outside_the_library():
    expr, names, X, model = _compile("x**2.5 + x**6 + 2**y + x**0.3", "x y", [(0.1, 2.0), (0.1, 2.0)])
    want = formula_predictions(expr, X, names)
    assert np.allclose(model.predict(X)[:, 0].numpy(), want, rtol=1e-9)


def test_train_input_is_the_data():
    _, _, X, model = _compile("3*x + 2", "x", [(5.0, 7.0)])
    assert torch.equal(model.train_input_, torch.as_tensor(X))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_plot_draws_every_edge_with_its_label(case):
    _, names, _, model = _compile(*case)
    fig = plot_kan(model, in_vars=names, out_vars=["y"])
    insets = [a for a in fig.axes[0].child_axes if str(a.get_gid()).startswith("edge:")]
    assert len(insets) == len(_live(model))
    for inset in insets:  # each inset carries its edge's red label c·f(a·x+b)+d
        _, l, i, j = inset.get_gid().split(":")
        layer, key = model.layers[int(l)], (int(j), int(i))
        labels = [t for t in inset.texts if t.get_text()]
        assert len(labels) == 1 and to_hex(labels[0].get_color()) == to_hex(SYMBOLIC_COLOR)
        assert labels[0].get_text() == edge_label(layer, *key)


def test_plot_labels_show_the_affine_form():
    _, names, _, model = _compile("3*x + 2", "x", [(0.1, 2.0)])
    texts = [t.get_text() for t in plot_kan(model, in_vars=names, out_vars=["y"]).findobj(Text)]
    assert "3·x + 2" in texts
    _, names, _, model = _compile("exp(sin(pi*x) + y**2)", "x y", [(0.1, 1.0), (0.1, 1.0)])
    texts = [t.get_text() for t in plot_kan(model, in_vars=names, out_vars=["y"]).findobj(Text)]
    assert "sin(3.14·x)" in texts and "x^2" in texts and "exp(x)" in texts


@pytest.mark.parametrize(
    "expr, named",
    [
        (sympy.besselj(0, sympy.Symbol("x")), "besselj(0, x)"),
        (sympy.gamma(sympy.Symbol("x")) + 1, "gamma(x)"),
        (sympy.Symbol("x") ** sympy.Symbol("y"), "x**y"),
    ],
)
def test_unsupported_constructs_raise_naming_them(expr, named):
    assert "gamma" not in default_library() and "besselj" not in default_library()
    X = np.random.default_rng(0).uniform(0.5, 2.0, (50, 2))
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        formula_kan(expr, ["x", "y"], X)


def test_a_formula_off_its_domain_raises():
    X = np.random.default_rng(0).uniform(0.5, 2.0, (50, 1))
    with pytest.raises(ValueError, match="does not reproduce"):
        formula_kan(sympy.sqrt(sympy.Symbol("x") - 5), ["x"], X)


def test_unknown_symbol_raises():
    with pytest.raises(ValueError, match="q"):
        formula_kan(sympy.Symbol("q") * sympy.Symbol("x"), ["x"], np.ones((5, 1)))


def test_formula_text_goes_through_the_parser():
    X = np.random.default_rng(0).uniform(1, 2, (50, 2))
    model = formula_kan("x*sin(y)", ["x", "y"], X)
    got = model(torch.as_tensor(X)).detach().numpy()[:, 0]
    assert np.allclose(got, X[:, 0] * np.sin(X[:, 1]))
    with pytest.raises(ValueError, match="not allowed in a formula"):
        formula_kan("__import__('os')", ["x"], X[:, :1])
