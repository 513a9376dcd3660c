"""The picture matches the answer: the KAN shown with a discovery is the one that produced its
formula, or the formula compiled into a KAN, named by the table's columns."""

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.text import Text

import kandiscover as kd
from kandiscover.symbolic.evaluate import formula_predictions


@pytest.fixture(scope="module")
def pendulum():
    rng = np.random.default_rng(0)
    L = rng.uniform(0.2, 2.0, 200)
    df = pd.DataFrame({"L": L, "T": 2 * np.sqrt(L)})
    return kd.discover(df, target="T", time_budget=10, progress=False)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def test_a_closed_form_answer_is_drawn_as_its_own_kan(pendulum):
    assert str(pendulum.formula) == "2*sqrt(L)" and pendulum.strategy == "monomial"
    assert pendulum.model_origin == "compiled from the formula"
    X = np.linspace(0.2, 2.0, 50)[:, None]
    got = pendulum.model(torch.as_tensor(X)).detach().numpy()[:, 0]
    assert np.allclose(got, formula_predictions(pendulum.formula, X, ["L"]), rtol=1e-9)
    texts = _texts(pendulum.plot())
    assert "L" in texts and "T" in texts and "y" not in texts  # the columns, not x/y placeholders
    assert any("sqrt" in t for t in texts)  # the edge carries its symbolic match


def test_the_notebook_display_and_the_report_show_the_same_kan(pendulum, tmp_path):
    html = pendulum._repr_html_()
    assert '<img alt="KAN compiled from the formula" src="data:image/png;base64,' in html
    pendulum.report(tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert (tmp_path / "kan.png").stat().st_size > 1000
    assert "The chosen formula compiled into a KAN" in md and "last KAN trained" not in md


def test_a_kan_answer_is_drawn_as_the_kan_that_produced_it():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 400), rng.uniform(-1, 1, 400)
    df = pd.DataFrame({"x": x, "y": y, "z": np.exp(np.sin(np.pi * x) + y**2)})
    res = kd.discover(df, target="z", time_budget=20, progress=False, plan=["kan"])
    assert kd.is_equivalent(res.formula, kd.parse_formula("exp(sin(pi*x) + y**2)"))
    assert res.model_origin.startswith("trained by kan") and res.model_origin.endswith(res.strategy)
    assert res.model.width_in[0] == 2
    symbolic = sum(len(layer.sym_funs) for layer in res.model.layers)
    assert symbolic >= 3  # sin, the square and exp matched on its edges
    texts = _texts(res.plot())
    assert {"x", "y", "z"} <= set(texts) and any("sin" in t for t in texts)


def test_plot_without_a_model_says_why(pendulum):
    import dataclasses

    bare = dataclasses.replace(pendulum, model=None, model_origin="")
    with pytest.raises(ValueError, match="no KAN to draw"):
        bare.plot()
    assert "<img" not in bare._repr_html_()
