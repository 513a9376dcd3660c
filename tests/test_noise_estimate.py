"""Noise-aware search without a hint: the noise level read from residuals that are only noise, and
the choice among candidates by BIC once a noise level is known; never a constant answer where a
formula explains more than half the variance."""

import numpy as np
import pandas as pd
import pytest
import sympy

import kandiscover as kd
from kandiscover.data import prepare
from kandiscover.rows import Rows
from kandiscover.selection import choose, estimate_noise, given_noise
from kandiscover.symbolic.evaluate import formula_mse

x, y = sympy.symbols("x y")


def _table(noise: float, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.uniform(1, 3, n), "y": rng.uniform(1, 3, n)})
    clean = df["x"] ** 2 * df["y"]
    df["z"] = clean + rng.normal(0, noise * np.sqrt(np.mean(clean**2)), n)
    return df


def _entry(rows: Rows, expr: sympy.Expr) -> dict:
    return dict(formula=expr, loss=rows.loss(expr), complexity=5, strategy="test", snaps=())


def test_residuals_of_the_law_are_noise_and_give_its_level():
    rows = Rows(prepare(_table(0.01), "z"), seed=0)
    var_y = float(np.var(rows.part("va")[1]))
    level = estimate_noise(_entry(rows, x**2 * y), rows, var_y)
    assert level is not None and level.source == "estimated"
    assert 0.008 < level.relative < 0.0125  # the noise was 1 % of the RMS
    assert "F test" in level.detail


@pytest.mark.parametrize("wrong", [x * y * 2.0 - 2.5, x**2 * y + 0.3 * sympy.sin(3 * x)])
def test_residuals_of_a_wrong_formula_are_not_noise(wrong):
    rows = Rows(prepare(_table(0.01), "z"), seed=0)
    var_y = float(np.var(rows.part("va")[1]))
    assert estimate_noise(_entry(rows, wrong), rows, var_y) is None


def test_an_exact_fit_estimates_no_noise():
    rows = Rows(prepare(_table(0.0), "z"), seed=0)
    var_y = float(np.var(rows.part("va")[1]))
    assert estimate_noise(_entry(rows, x**2 * y), rows, var_y) is None


def test_given_noise_states_its_source():
    y_va = np.array([1.0, 2.0, 3.0, 4.0])
    assert given_noise(0.01, None, y_va).source == "hint"
    assert given_noise(None, np.full(4, 0.1), y_va).source == "sigma"
    unknown = given_noise(None, None, y_va)
    assert unknown.source == "unknown" and unknown.nmse == 0 and unknown.stop == pytest.approx(1e-10)


def test_a_noise_hint_is_relative_to_the_whole_targets_rms():
    y_va = np.array([1.0, 2.0, 3.0, 4.0])  # RMS² 7.5, variance 1.25
    y_all = np.concatenate([y_va, [40.0, 1.0, 2.0, 3.0]])  # a heavy tail outside the choosing rows
    assert given_noise(0.01, None, y_va).nmse == pytest.approx(1e-4 * 7.5 / 1.25)
    assert given_noise(0.01, None, y_va, y_all).nmse == pytest.approx(1e-4 * np.mean(y_all**2) / 1.25)


def _pool(rows: Rows) -> list:
    """The law, a simpler formula 30 % worse, and a longer one that fits the noise a little."""
    law = x**2 * y
    simpler = 3.2 * x * y - 4.5
    longer = x**2 * y + 0.001 * x**3 - 0.002 * y**2 + 0.0003 * x * y**3
    return [
        dict(formula=e, loss=loss, complexity=c, strategy="test", snaps=())
        for e, loss, c in ((law, 1.0, 5), (simpler, 1.3, 4), (longer, 0.97, 25))
    ]


def test_bic_keeps_the_law_where_the_50_percent_margin_takes_a_simpler_misfit():
    rows = Rows(prepare(_table(0.01), "z"), seed=0)
    pool = _pool(rows)
    _, exact_pick, exact_rule = choose(pool, 1.0)
    _, noisy_pick, noisy_rule = choose(pool, 1.0, n_noisy=200)
    assert exact_pick["formula"] == pool[1]["formula"] and "50 %" in exact_rule
    assert noisy_pick["formula"] == pool[0]["formula"] and noisy_rule.startswith("BIC")


def test_discover_without_a_hint_estimates_the_noise_and_recovers_the_law():
    df = _table(0.01, seed=1)
    res = kd.discover(df, target="z", time_budget=20, seed=0, progress=False)
    assert kd.is_equivalent(res.formula, x**2 * y), res.formula
    assert res.noise_source == "estimated" and 0.007 < res.noise < 0.015
    assert res.selection.startswith("BIC")
    assert any("noise" in note and "estimated" in note for note in res.notes)
    assert res.to_dict()["noise_source"] == "estimated"


def test_discover_on_exact_data_knows_no_noise():
    res = kd.discover(_table(0.0), target="z", time_budget=20, seed=0, progress=False)
    assert kd.is_equivalent(res.formula, x**2 * y)
    assert res.noise is None and res.noise_source == "unknown"
    assert "50 %" in res.selection
    X, y_ = res.test_data
    assert formula_mse(res.formula, X, y_, res.inputs) < 1e-20


@pytest.mark.parametrize("n_noisy", [None, 200])
def test_a_constant_is_never_chosen_over_a_formula_with_r2_above_one_half(n_noisy):
    var_y = 1.0
    pool = [
        dict(formula=sympy.Integer(0), loss=1.0, complexity=1, strategy="test", snaps=()),
        dict(
            formula=0.3 * x * sympy.sin(2 * sympy.pi * x) + 0.1 * x**3 - 0.2 * x,
            loss=0.45,
            complexity=40,
            strategy="test",
            snaps=(),
        ),
    ]
    _, pick, _ = choose(pool, var_y, n_noisy=n_noisy)
    assert pick["formula"].free_symbols == {x}
    pool[1]["loss"] = 0.6  # R² 0.4: the constant may win
    _, pick, _ = choose(pool, var_y, n_noisy=200)
    assert not pick["formula"].free_symbols


@pytest.mark.parametrize("problem", ["Keijzer-2", "Keijzer-11"])
def test_zoo_problems_that_once_came_back_as_a_constant_do_not(problem):
    p = kd.problems.load("zoo")[problem]
    res = kd.discover(p.sample(n=1000, seed=0), target=p.target, time_budget=10, seed=0, progress=False)
    assert res.formula.free_symbols, res.formula
    assert res.r2 > 0.5


def test_the_neighbour_estimate_is_the_row_by_row_definition():
    # the batched computation against its definition: each row predicted by a linear fit on its
    # k nearest other rows, the squared error over (1 + leverage); a repeated row included
    from scipy.spatial import cKDTree

    from kandiscover.symbolic.noise import noise_variance

    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (200, 2))
    X[7] = X[8]
    y = X[:, 0] * np.sin(X[:, 1]) + rng.normal(0, 0.05, 200)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    k = 3
    _, near_all = cKDTree(Z).query(Z, k=k + 1)
    quotients = []
    for i in range(len(y)):
        near = [j for j in near_all[i] if j != i][:k]
        A = np.column_stack([np.ones(k), Z[near]])
        a = np.concatenate([[1.0], Z[i]])
        gram = np.linalg.pinv(A.T @ A)
        quotients.append((y[i] - a @ gram @ A.T @ y[near]) ** 2 / (1.0 + a @ gram @ a))
    assert noise_variance(X, y) == pytest.approx(np.mean(quotients), rel=1e-6)


def test_a_poor_candidate_is_polished_briefly_and_only_when_it_is_the_best_so_far():
    import time

    from kandiscover.discover import POOR_POLISH_SECONDS, _polish_window

    rows = Rows(prepare(_table(0.0), "z"), seed=0)
    var_va = float(np.var(rows.part("va")[1]))
    pool = [_entry(rows, x * y)]  # a poor fit: NMSE far above POLISH_NMSE
    assert pool[0]["loss"] > 1e-2 * var_va
    until = time.monotonic() + 20.0
    window = _polish_window(rows, 0.0, pool, until)
    assert window(1e-6 * var_va) == until  # a good candidate: the whole window
    brief = window(pool[0]["loss"] / 2)  # poor, but better than the pool: a short polish
    assert brief is not None and brief <= time.monotonic() + POOR_POLISH_SECONDS
    assert window(pool[0]["loss"] * 2) is None  # poor and no better: not polished
