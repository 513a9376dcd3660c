"""verify() judged by the noise: χ² with given standard deviations, the residuals against the noise
estimated from them without; exact data keep the R² rule. API and command line."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from kandiscover.cli import main
from kandiscover.data import DataError
from kandiscover.symbolic.noise import chi2_test, lack_of_fit_test, noise_variance
from kandiscover.verify import verify

C = 2 * math.pi / math.sqrt(9.81)  # the pendulum's T = C·sqrt(L), 2.00607


def pendulum(seed: int, n: int = 12, noise: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    L = rng.uniform(0.2, 2.0, n)
    T0 = C * np.sqrt(L)
    return pd.DataFrame({"L": L, "T": T0 * (1 + noise * rng.normal(size=n)), "dT": noise * T0})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pendulum_law_is_ok_and_wrong_ones_are_not(seed):
    df = pendulum(seed).drop(columns="dT")
    right = verify("c*sqrt(L)", df, target="T", fit_constants=True)
    assert right.ok, right.criterion
    assert right.r2 < 1 - 1e-6  # the exact-data rule would have refused it
    row = right.constants_table.iloc[0]
    assert row["symbol"] == "c" and row["low"] <= C <= row["high"] and row["method"] == "linearised"
    assert "noise variance estimated from the residuals" in right.criterion and right.p_value >= 0.01
    for wrong in ("c*L", "c*L**0.25"):
        chk = verify(wrong, df, target="T", fit_constants=True)
        assert not chk.ok and chk.p_value < 0.01, (wrong, chk.criterion)


def test_sigma_gives_the_chi_squared_verdict():
    df = pendulum(0)
    chk = verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma="dT")
    assert chk.ok and chk.criterion.startswith("χ²/dof = ")
    assert 0.2 < chk.chi2_per_dof < 3 and chk.p_value >= 0.01
    assert chk.noise_std == pytest.approx(np.sqrt(np.mean(df["dT"] ** 2)))
    row = chk.constants_table.iloc[0]
    # the errors come from σ: 1 % on each of 12 rows gives about 2.006 · 0.01 / sqrt(12)
    assert row["std_error"] == pytest.approx(C * 0.01 / math.sqrt(12), rel=0.35)
    assert row["low"] <= C <= row["high"]
    # too small an error bar makes the right law fail: the verdict really reads sigma
    assert not verify("c*sqrt(L)", df.assign(dT=df["dT"] / 10), target="T", fit_constants=True, sigma="dT").ok
    wrong = verify("c*L", df, target="T", fit_constants=True, sigma="dT")
    assert not wrong.ok and wrong.chi2_per_dof > 10
    # an array of errors works like the column, one number for all rows too
    same = verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma=df["dT"].to_numpy())
    assert same.chi2_per_dof == pytest.approx(chk.chi2_per_dof)
    flat = verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma=0.02)
    assert flat.criterion.startswith("χ²/dof")


def test_exact_data_keep_the_strict_rule():
    df = pendulum(0, noise=0.0)
    chk = verify("c*sqrt(L)", df, target="T", fit_constants=True)
    assert chk.ok and chk.criterion == "R² ≥ 1 - 1e-06"
    off = verify("2.01*sqrt(L)", df, target="T")  # a constant 0.2 % off leaves a smooth misfit
    assert not off.ok


def test_sigma_errors_name_the_problem():
    df = pendulum(0)
    with pytest.raises(DataError, match="sigma column 'err' not found"):
        verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma="err")
    with pytest.raises(DataError, match=r"sigma holds 1 values that are not positive .*first rows \[3\]"):
        bad = df["dT"].to_numpy().copy()
        bad[3] = -1.0
        verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma=bad)
    with pytest.raises(DataError, match="sigma has 5 values but the data has 12 rows"):
        verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma=np.ones(5))
    with pytest.raises(DataError, match="which the formula uses"):
        verify("c*sqrt(L)", df, target="T", fit_constants=True, sigma="L")


def test_noise_estimate_and_tests_on_their_own():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (400, 2))
    smooth = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    noise = 0.05 * rng.normal(size=400)
    assert noise_variance(X, smooth + noise) == pytest.approx(0.05**2, rel=0.3)
    assert noise_variance(X, smooth) < 0.1 * 0.05**2  # exact rows: only the curvature between neighbours
    assert lack_of_fit_test(X, noise, 0).ok
    assert not lack_of_fit_test(X, noise + 0.1 * X[:, 0], 0).ok  # a smooth misfit on top of the noise
    assert chi2_test(noise, np.full(400, 0.05), 0).ok
    assert not chi2_test(noise, np.full(400, 0.02), 0).ok


def _csv(tmp_path, df):
    path = tmp_path / "pendulum.csv"
    df.to_csv(path, index=False)
    return path


def test_cli_verify_judges_by_the_noise(tmp_path, capsys):
    path = _csv(tmp_path, pendulum(0).drop(columns="dT"))
    code = main(["verify", str(path), "-t", "T", "-f", "c*sqrt(L)", "--fit-constants", "-q"])
    out = capsys.readouterr().out
    assert code == 0 and "\n  OK (criterion: residual variance / noise variance" in out
    assert "c = 2.001 ± 0.006  (95 % interval [" in out
    for wrong in ("c*L", "c*L**0.25"):
        code = main(["verify", str(path), "-t", "T", "-f", wrong, "--fit-constants", "-q"])
        out = capsys.readouterr().out
        assert code == 0 and "NOT OK (criterion: residual variance / noise variance" in out


def test_cli_verify_with_a_sigma_column(tmp_path, capsys):
    path = _csv(tmp_path, pendulum(0))
    argv = ["verify", str(path), "-t", "T", "-f", "c*sqrt(L)", "--fit-constants", "--sigma", "dT", "--json", "-q"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True and result["criterion"].startswith("χ²/dof")
    assert 0.2 < result["chi2_per_dof"] < 3
    (row,) = result["constants_table"]
    assert row["symbol"] == "c" and row["low"] <= C <= row["high"]
    assert main(["verify", str(path), "-t", "T", "-f", "c*sqrt(L)", "--fit-constants", "--sigma", "nope", "-q"]) == 2
