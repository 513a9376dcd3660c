import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import sympy
import torch

import kandiscover as kd
from kandiscover.report import write_report
from kandiscover.result import Discovery


def _discovery(model=None, target="<y>", notes=("dropped 0 rows & <script>alert(1)</script>",)):
    a, b = sympy.symbols("a b")
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, size=(60, 2))
    y = 2 * X[:, 0] * X[:, 1] + 1e-3 * rng.normal(size=60)
    pareto = pd.DataFrame(
        dict(
            complexity=[1, 3, 5],
            loss=[1.5, 0.3, 1e-6],
            score=[0.0, 0.8, 6.2],
            formula=[sympy.Float(4.2), 4 * a, 2 * a * b],
            strategy=["monomial", "additive", "monomial | <x>"],
            chosen=[False, False, True],
        )
    )
    history = [
        dict(strategy="monomial", seconds=0.01, candidates=1, best_nmse=1e-7),
        dict(strategy="additive <b>", seconds=0.2, candidates=4, best_nmse=0.05),
    ]
    return Discovery(
        formula=2 * a * b,
        pareto=pareto,
        r2=0.9999987654,
        rmse=1.25e-3,
        max_abs_error=3.5e-3,
        inputs=["a", "b"],
        target=target,
        seconds=1.5,
        strategy="monomial",
        notes=list(notes),
        history=history,
        model=model,
        test_data=(X, y),
    )


def test_report_writes_markdown_html_and_figures(tmp_path):
    out = tmp_path / "deep" / "report"  # created, parents included
    path = write_report(_discovery(), out)
    assert path == out / "report.html"
    for name in ("report.md", "report.html", "pareto.png", "residuals.png"):
        assert (out / name).stat().st_size > 500, name
    assert not (out / "kan.png").exists()  # no model kept
    page = path.read_text(encoding="utf-8")
    assert "2*a*b" in page and "0.9999987654" in page
    assert "2 a b" in page  # LaTeX form for MathJax
    assert "&lt;y&gt;" in page and "<y>" not in page
    assert "&lt;script&gt;alert(1)" in page and "<script>alert" not in page
    assert "additive &lt;b&gt;" in page and "monomial | &lt;x&gt;" in page
    assert 'class="chosen"' in page and "data:image/png;base64," in page
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "2*a*b" in md and "0.9999987654" in md and "(pareto.png)" in md and "(residuals.png)" in md
    outside_code = md.split("```")[::2]  # user strings are raw only inside fenced blocks
    assert "<y>" in md and not any("<y>" in part for part in outside_code)
    assert "monomial \\| &lt;x&gt;" in md


def test_report_draws_the_model(tmp_path):
    model = kd.KAN([2, 2, 1], seed=0)
    model.fix_symbolic(0, 1, 0, "sin", fit_params=False)
    path = kd.result.Discovery.report(_discovery(model=model, target="E", notes=()), tmp_path)
    assert (tmp_path / "kan.png").stat().st_size > 3000
    page = path.read_text(encoding="utf-8")
    assert "kan.png" in page and "Notes" not in page


def test_report_rejects_a_file_as_folder(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ValueError, match="folder"):
        write_report(_discovery(), f)


def test_report_of_a_real_discovery(tmp_path):
    from kandiscover.discover import discover

    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    df = pd.DataFrame(dict(a=rng.uniform(1, 3, 200), b=rng.uniform(1, 3, 200)))
    df["y"] = 2 * df["a"] * df["b"]
    res = discover(df, target="y", progress=False, time_budget=5)
    path = res.report(tmp_path / "r")
    page = path.read_text(encoding="utf-8")
    assert str(res.formula) in page and f"{res.r2:.10g}" in page
    assert (tmp_path / "r" / "pareto.png").exists() and (tmp_path / "r" / "residuals.png").exists()
