"""Real measurements: a handful of rows, noise, constants with their uncertainty.

Kepler's eight planets, a pendulum timed at twelve lengths, constants snapped to π only inside
their interval; the cross-validation of small tables and the standard errors behind the intervals.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
import sympy

import kandiscover as kd
from kandiscover.data import DataError
from kandiscover.symbolic.crossval import make_folds, out_of_fold, press_errors
from kandiscover.symbolic.equivalence import is_equivalent
from kandiscover.symbolic.evaluate import ConstantFit
from kandiscover.symbolic.refit import refit_with_loss, snap_constants
from kandiscover.symbolic.uncertainty import (
    estimate_constants,
    format_estimate,
    lift_floats,
    relative_weights,
    round_to_error,
)

PLANETS = pd.DataFrame(
    {
        "a": [0.387, 0.723, 1.000, 1.524, 5.203, 9.537, 19.19, 30.07],
        "P": [0.2408, 0.6152, 1.0000, 1.8808, 11.862, 29.457, 84.01, 164.8],
    }
)
PENDULUM_C = 2 * math.pi / math.sqrt(9.81)  # T = c·sqrt(L), c = 2.00607


def pendulum(seed: int, n: int = 12) -> pd.DataFrame:
    """``T = 2π·sqrt(L/9.81)`` at ``n`` lengths uniform in [0.2, 2] m, 1 % multiplicative noise."""
    rng = np.random.default_rng(seed)
    L = rng.uniform(0.2, 2.0, n)
    return pd.DataFrame({"L": L, "T": PENDULUM_C * np.sqrt(L) * (1 + 0.01 * rng.normal(size=n))})


def is_c_sqrt(expr, name: str = "L") -> bool:
    """Whether ``expr`` is ``c·sqrt(L)`` for some positive number ``c``."""
    L = sympy.Symbol(name, positive=True)
    ratio = sympy.simplify(expr.subs(sympy.Symbol(name), L) / sympy.sqrt(L))
    return bool(ratio.is_number) and float(ratio) > 0


def constant_row(res) -> pd.Series:
    """The constants-table row of ``res`` that holds ``c`` of ``c·sqrt(L)`` (fitted, or snapped to a
    simple value near it)."""
    table = res.constants
    near = table[(table["value"] - PENDULUM_C).abs() < 0.1]
    assert len(near) == 1, table
    return near.iloc[0]


# ------------------------------------------------------------------------------------ small tables


def test_kepler_from_eight_planets():
    res = kd.discover(PLANETS, "P", time_budget=4, progress=False)
    assert is_equivalent(res.formula, sympy.Symbol("a") ** sympy.Rational(3, 2)), res.formula
    assert res.formula == sympy.Symbol("a") ** sympy.Rational(3, 2)
    assert res.validation == "leave-one-out (8 rows)"
    # the exponent was fitted, and 3/2 lies in its interval before it was snapped
    exponent = res.constants[res.constants["snapped"] == "3/2"]
    assert len(exponent) == 1, res.constants
    row = exponent.iloc[0]
    assert row["low"] <= 1.5 <= row["high"] and row["value"] != 1.5 and row["std_error"] > 0
    # out-of-sample scores of the leave-one-out refits: near 1 but not a perfect in-sample fit
    assert 0.999 < res.r2 < 1 and res.rmse > 0
    assert "leave-one-out (8 rows)" in res.summary() and "cross-validated R²" in res.summary()


def test_too_few_rows_name_the_count_and_what_the_inputs_need():
    with pytest.raises(DataError, match=r"^only 4 usable rows; 1 input needs at least 5 rows") as info:
        kd.discover(PLANETS.head(4), "P", time_budget=2, progress=False)
    assert "\n" not in str(info.value)
    wide = pd.DataFrame(np.random.default_rng(0).uniform(1, 2, (6, 5)), columns=list("abcde"))
    with pytest.raises(DataError, match=r"only 6 usable rows; 4 inputs need at least 7 rows"):
        kd.discover(wide, "e", time_budget=2, progress=False)


def test_exact_small_table_is_found_exactly_and_scored_out_of_fold():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"m": rng.uniform(1, 5, 6), "v": rng.uniform(1, 3, 6)})
    df["K"] = df["m"] * df["v"] ** 2 / 2
    res = kd.discover(df, "K", time_budget=3, progress=False)
    assert is_equivalent(res.formula, kd.parse_formula("m*v**2/2", ["m", "v"]))
    assert res.validation == "leave-one-out (6 rows)" and res.r2 > 1 - 1e-9


def test_k_fold_between_twenty_and_forty_rows():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.uniform(1, 3, 30)})
    df["y"] = 3 * df["x"] ** 2 * (1 + 0.01 * rng.normal(size=30))
    res = kd.discover(df, "y", time_budget=3, progress=False)
    assert res.validation == "10-fold cross-validation (30 rows)"
    assert sympy.Symbol("x") ** 2 in sympy.Mul.make_args(res.formula)
    big = kd.discover(pd.concat([df] * 2, ignore_index=True), "y", time_budget=3, progress=False)
    assert big.validation.startswith("train/validation/test split (36/12/12 rows)")


# ------------------------------------------------------------------------------------ pendulum


def _pendulum_outcome(seed: int, budget: float = 3.0) -> tuple[bool, bool]:
    res = kd.discover(pendulum(seed), "T", time_budget=budget, progress=False)
    form = is_c_sqrt(res.formula)
    covered = False
    if form:
        row = constant_row(res)
        covered = bool(row["low"] <= PENDULUM_C <= row["high"])
    return form, covered


@pytest.mark.parametrize("seed", [0, 3])
def test_pendulum_constant_with_its_interval(seed):
    res = kd.discover(pendulum(seed), "T", time_budget=3, progress=False)
    assert is_c_sqrt(res.formula), res.formula
    row = constant_row(res)
    assert row["low"] <= PENDULUM_C <= row["high"], res.constants
    assert 0.001 < row["std_error"] < 0.02 and row["method"].startswith(("linearised", "bootstrap"))
    # the table reads back as the uncertainty line of the summary, the symbols formula beside it
    assert f"{row['symbol']} = {format_estimate(row['value'], row['std_error'])}" in res.summary()
    record = res.to_dict()["constants"]
    assert {r["symbol"] for r in record} == set(res.constants["symbol"])


@pytest.mark.slow
def test_pendulum_coverage_over_ten_seeds():
    """Acceptance: c·sqrt(L) in at least 9 of 10 seeds, 2.00607 inside c's interval in at least 8."""
    outcomes = [_pendulum_outcome(seed) for seed in range(10)]
    forms = sum(f for f, _ in outcomes)
    covered = sum(c for _, c in outcomes)
    assert forms >= 9 and covered >= 8, outcomes


def test_fitted_constant_keeps_its_symbol_and_prints_its_digits():
    # 0.2 % noise: the interval of 2.0537 holds no simple value, so the constant stays fitted
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"L": rng.uniform(0.2, 2.0, 12)})
    df["T"] = 2.0537 * np.sqrt(df["L"]) * (1 + 0.002 * rng.normal(size=12))
    res = kd.discover(df, "T", time_budget=3, progress=False)
    free = res.constants[res.constants["snapped"] == ""]
    assert len(free) == 1, res.constants
    row = free.iloc[0]
    c = sympy.Symbol(row["symbol"])
    assert sympy.simplify(res.formula_with_symbols - c * sympy.sqrt(sympy.Symbol("L"))) == 0
    (printed,) = res.formula.atoms(sympy.Float)
    assert float(str(printed)) == round_to_error(row["value"], row["std_error"])
    assert len(str(printed).replace(".", "").lstrip("0")) <= 5  # not 2.04987135483959
    assert f"T = {res.formula_with_symbols}" in res.summary()


# ------------------------------------------------------------------------------------ snapping


def _noisy_line(c: float, seed: int, n: int = 30, noise: float = 0.002):
    rng = np.random.default_rng(seed)
    x = rng.uniform(1, 2, n)
    return x, c * x * (1 + noise * rng.normal(size=n))


def test_snapped_to_pi_only_inside_its_interval():
    x, y = _noisy_line(math.pi, 0, noise=0.0005)  # 22/7 lies outside the interval
    record: list = []
    fitted = refit_with_loss(sympy.Float(3.0) * sympy.Symbol("x"), {"x": x}, y)[0]
    out = snap_constants(fitted, {"x": x}, y, residual_is_noise=True, window=0.1, record=record)
    assert out == sympy.pi * sympy.Symbol("x")
    assert len(record) == 1 and record[0]["snapped"] == sympy.pi
    assert record[0]["low"] <= math.pi <= record[0]["high"]

    x, y = _noisy_line(3.10, 0)
    record = []
    fitted = refit_with_loss(sympy.Float(3.0) * sympy.Symbol("x"), {"x": x}, y)[0]
    out = snap_constants(fitted, {"x": x}, y, residual_is_noise=True, window=0.1, record=record)
    assert out.atoms(sympy.Float) and not out.has(sympy.pi) and record == []
    templ, params, theta = lift_floats(out)
    (est,) = estimate_constants(templ, params, theta, ["x"], [x], y)
    assert not est.contains(math.pi) and est.contains(3.10)


def test_discovered_pi_constant_carries_its_interval():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"r": rng.uniform(0.5, 2.0, 30)})
    df["A"] = math.pi * df["r"] ** 2 * (1 + 0.003 * rng.normal(size=30))
    res = kd.discover(df, "A", time_budget=3, progress=False)
    assert is_equivalent(res.formula, sympy.pi * sympy.Symbol("r") ** 2), res.formula
    row = res.constants[res.constants["snapped"] == "pi"].iloc[0]
    assert row["low"] <= math.pi <= row["high"]
    df["A"] = 3.05 * df["r"] ** 2 * (1 + 0.003 * rng.normal(size=30))
    res = kd.discover(df, "A", time_budget=3, progress=False)
    assert not res.formula.has(sympy.pi)
    row = res.constants[(res.constants["value"] - 3.05).abs() < 0.05].iloc[0]
    assert row["snapped"] == "" and not (row["low"] <= math.pi <= row["high"])


# ------------------------------------------------------------------------------------ the parts


def test_linearised_intervals_cover_at_their_level():
    """A straight line with normal noise: the 95 % intervals of slope and intercept hold the truth
    in about 95 % of 300 simulated tables."""
    a, b = sympy.symbols("_c0 _c1")
    templ = a * sympy.Symbol("x") + b
    hits = np.zeros(2)
    for seed in range(300):
        rng = np.random.default_rng(seed)
        x = rng.uniform(0, 1, 10)
        y = 2.0 * x + 0.5 + 0.1 * rng.normal(size=10)
        theta, _ = ConstantFit(["x"], [x], y).fit(templ, [a, b], np.ones(2))
        ests = estimate_constants(templ, [a, b], theta, ["x"], [x], y)
        hits += [ests[0].contains(2.0), ests[1].contains(0.5)]
        assert all(e.method == "linearised" for e in ests)
    assert np.all((0.91 <= hits / 300) & (hits / 300 <= 0.99)), hits / 300


def test_poor_linearisation_falls_back_to_the_bootstrap():
    # x**k on [0, 1] with noise as large as the signal: the sum of squares is far from quadratic in k
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 8)
    y = x**3 + np.std(x**3) * rng.normal(size=8)
    k = sympy.Symbol("_c0")
    templ = sympy.Symbol("x") ** k
    theta, _ = ConstantFit(["x"], [x], y).fit(templ, [k], np.array([3.0]))
    (est,) = estimate_constants(templ, [k], theta, ["x"], [x], y, seed=1)
    assert est.method.startswith("bootstrap (") and est.low < est.value < est.high
    free = estimate_constants(templ, [k], theta, ["x"], [x], y, bootstrap=False)[0]
    assert free.method == "linearised"


def test_redundant_constants_are_not_identifiable():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 20)
    y = 3 * np.exp(x) + 0.01 * rng.normal(size=20)
    a, b = sympy.symbols("_c0 _c1")
    templ = a * sympy.exp(sympy.Symbol("x") + b)  # a·e^b is all the rows determine
    ests = estimate_constants(templ, [a, b], np.array([3.0, 0.0]), ["x"], [x], y)
    assert all(math.isinf(e.std_error) and e.method == "not identifiable" for e in ests)


def test_press_is_leave_one_out_for_formulas_linear_in_their_constants():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (9, 1))
    y = 1.5 * X[:, 0] ** 2 + 0.3 + 0.05 * rng.normal(size=9)
    expr = sympy.Float(1.4) * sympy.Symbol("x") ** 2 + sympy.Float(0.35)
    templ, params, theta = lift_floats(expr)
    theta, _ = ConstantFit(["x"], [X[:, 0]], y).fit(templ, params, theta)
    fitted = templ.xreplace({p: sympy.Float(v, 17) for p, v in zip(params, theta)})
    folds = make_folds(9, 0)
    oof = out_of_fold(fitted, X, y, ["x"], folds)
    assert np.allclose(press_errors(fitted, X, y, ["x"], folds), (oof - y) ** 2, rtol=1e-5)


def test_relative_errors_are_recognised():
    rng = np.random.default_rng(0)
    y = np.exp(rng.uniform(0, 5, 50))
    assert relative_weights(0.01 * y * rng.normal(size=50), y) is not None
    assert relative_weights(0.5 * rng.normal(size=50), y) is None
    assert relative_weights(rng.normal(size=50), y - y.mean()) is None  # both signs: no relative errors


@pytest.mark.parametrize(
    "value, error, text",
    [
        (2.00612, 0.0058, "2.006 ± 0.006"),
        (2.00612, 0.0019, "2.0061 ± 0.0019"),
        (6.674e-11, 2e-14, "6.6740e-11 ± 2.0e-14"),
        (123456.7, 340.0, "123500 ± 300"),
        (2.5, math.inf, "2.5 ± inf"),
    ],
)
def test_digits_follow_the_error(value, error, text):
    assert format_estimate(value, error) == text


def test_constants_in_every_output(tmp_path, capsys):
    from kandiscover.cli import main

    path = tmp_path / "pendulum.csv"
    pendulum(1).to_csv(path, index=False)
    code = main(["discover", str(path), "-t", "T", "--time-budget", "2", "-q", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0 and "rows: leave-one-out (12 rows)" in out
    assert "constants (value ± standard error, 95 % interval, method):" in out
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["validation"] == "leave-one-out (12 rows)" and result["constants"]
    for row in result["constants"]:  # every constant carries its uncertainty, in every output
        assert row["std_error"] > 0 and row["low"] < row["value"] < row["high"]
        assert f"{row['symbol']} = " in out
    md = (tmp_path / "out" / "report.md").read_text()
    page = (tmp_path / "out" / "report.html").read_text()
    assert "## Constants" in md and "<h2>Constants</h2>" in page and "cross-validated R²" in md
    assert md.count(" ± ") >= len(result["constants"]) and page.count(" ± ") >= len(result["constants"])


def test_notebook_display_shows_the_constants():
    res = kd.discover(pendulum(2), "T", time_budget=2, progress=False)
    page = res._repr_html_()
    assert "95 % interval" in page and "leave-one-out (12 rows)" in page
    assert all(str(s) in page for s in res.constants["symbol"])


def test_measurements_page_runs_as_written(capsys):
    """docs/measurements.md: its python blocks run in order and print what the page shows (the
    search time aside)."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "measurements.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.S | re.M)
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "__measurements__"}
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"measurements.md, python block {number}", "exec"), namespace)

    def timeless(line: str) -> str:
        return re.sub(r"\(\d+\.\d s, ", "(… s, ", line.rstrip())

    printed = {timeless(line) for line in capsys.readouterr().out.splitlines()}
    shown = [timeless(line[2:]) for code in blocks for line in code.splitlines() if line.startswith("# ")]
    assert shown and [line for line in shown if line not in printed] == []
