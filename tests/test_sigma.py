"""discover(sigma=) and weights=: error bars per row in every refit, the choice and the constants'
errors; chi2_per_dof in the result; --sigma on the command line."""

import json

import numpy as np
import pandas as pd
import pytest
import sympy

import kandiscover as kd
from kandiscover.cli import main
from kandiscover.data import DataError
from kandiscover.support.params import ParameterError

TRUTH = sympy.Rational(5, 2) * sympy.Symbol("x") ** sympy.Rational(3, 2)


def mixed_noise(seed: int, n: int = 30) -> pd.DataFrame:
    """``y = 2.5·x^1.5`` with 1 % noise on two thirds of the rows and 10 % on the rest; ``dy`` the
    standard deviations."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1, 4, n)
    y0 = 2.5 * x**1.5
    dy = np.where(np.arange(n) % 3 == 2, 0.10, 0.01) * y0
    return pd.DataFrame({"x": x, "y": y0 + dy * rng.normal(size=n), "dy": dy})


@pytest.mark.parametrize("seed", [0, 1])
def test_error_bars_recover_what_the_unweighted_run_misses(seed):
    df = mixed_noise(seed)
    plain = kd.discover(df.drop(columns="dy"), "y", time_budget=3, progress=False)
    weighted = kd.discover(df, "y", time_budget=3, progress=False, sigma="dy")
    assert plain.formula != TRUTH  # the 10 % rows pull the unweighted constant off 5/2
    assert weighted.formula == TRUTH, weighted.formula
    assert 0.7 <= weighted.chi2_per_dof <= 1.4
    assert weighted.inputs == ["x"]  # the error column is no input
    assert plain.chi2_per_dof is None
    # the constants' errors come from sigma: the coefficient's interval is the weighted one
    row = weighted.constants[weighted.constants["snapped"] == "5/2"].iloc[0]
    assert row["low"] <= 2.5 <= row["high"] and row["std_error"] < 0.02


def test_weights_and_arrays_work_like_the_column():
    df = mixed_noise(0)
    by_array = kd.discover(df.drop(columns="dy"), "y", time_budget=3, progress=False, sigma=df["dy"].to_numpy())
    by_weights = kd.discover(df.drop(columns="dy"), "y", time_budget=3, progress=False, weights=1 / df["dy"] ** 2)
    assert by_array.formula == TRUTH and by_weights.formula == TRUTH
    assert by_array.chi2_per_dof is not None and by_weights.chi2_per_dof is None  # relative weights only


def test_bad_error_bars_are_named():
    df = mixed_noise(0)
    with pytest.raises(ParameterError, match="give sigma .* or weights .*, not both"):
        kd.discover(df, "y", sigma="dy", weights="dy", time_budget=1, progress=False)
    with pytest.raises(DataError, match="sigma column 'err' not found"):
        kd.discover(df, "y", sigma="err", time_budget=1, progress=False)
    bad = df["dy"].to_numpy().copy()
    bad[4] = 0.0
    with pytest.raises(DataError, match=r"not positive finite numbers \(first rows \[4\]\)"):
        kd.discover(df.drop(columns="dy"), "y", sigma=bad, time_budget=1, progress=False)
    with pytest.raises(DataError, match="sigma has 3 values but the data has 30 rows"):
        kd.discover(df.drop(columns="dy"), "y", sigma=[1.0, 2.0, 3.0], time_budget=1, progress=False)


def test_cli_discover_sigma(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    mixed_noise(1).to_csv(path, index=False)
    assert main(["discover", str(path), "-t", "y", "--sigma", "dy", "--time-budget", "3", "-q", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["formula"] == "5*x**(3/2)/2" and result["inputs"] == ["x"]
    assert 0.7 <= result["chi2_per_dof"] <= 1.4
