"""verify(): verdicts, fitted constants, clear errors for names, columns and domains, the plot."""

import numpy as np
import pandas as pd
import pytest
import sympy
from matplotlib.figure import Figure

from kandiscover.data import DataError
from kandiscover.support.params import ParameterError
from kandiscover.verify import DEFAULT_TOL, Verification, verify

G = 6.674e-11


@pytest.fixture
def gravity():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "m1": rng.uniform(1, 5, 200),
            "m2": rng.uniform(1, 5, 200),
            "r": rng.uniform(1, 3, 200),
            "x": rng.uniform(-2, 2, 200),
        }
    )
    df["F"] = G * df["m1"] * df["m2"] / df["r"] ** 2
    return df


def test_correct_formula_is_ok(gravity):
    chk = verify("6.674e-11*m1*m2/r^2", gravity, target="F")
    assert isinstance(chk, Verification)
    assert chk.ok and chk.r2 > 1 - 1e-12
    assert chk.rmse < 1e-20 and chk.max_abs_error < 1e-20
    assert chk.inputs == ["m1", "m2", "r"] and chk.target == "F" and chk.n_rows == 200
    assert chk.constants == {} and chk.tol == DEFAULT_TOL == 1e-6
    np.testing.assert_allclose(chk.residuals, chk.observed - chk.predictions)


def test_wrong_formula_is_not_ok(gravity):
    chk = verify("6.674e-11*m1*m2/r", gravity, target="F")
    assert not chk.ok
    assert chk.r2 < 0.99
    assert "NOT OK" in str(chk)


def test_tolerance_decides_the_verdict(gravity):
    rng = np.random.default_rng(0)
    noisy = gravity.assign(F=gravity["F"] * (1 + 0.01 * rng.normal(size=len(gravity))))
    strict = verify("6.674e-11*m1*m2/r**2", noisy, target="F", tol=DEFAULT_TOL)
    loose = verify("6.674e-11*m1*m2/r**2", noisy, target="F", tol=1e-3)
    assert not strict.ok and loose.ok
    assert strict.r2 == loose.r2
    assert strict.criterion == "R² ≥ 1 - 1e-06" and strict.p_value is None
    # without tol the noisy rows are judged by their noise: the right law is OK, a wrong one not
    auto = verify("6.674e-11*m1*m2/r**2", noisy, target="F")
    assert auto.ok and auto.r2 == strict.r2 and "noise variance estimated from the residuals" in auto.criterion
    assert 0.01 <= auto.p_value <= 1
    wrong = verify("6.674e-11*m1*m2/r**1.9", noisy, target="F")
    assert wrong.r2 > 0.99 and not wrong.ok and wrong.p_value < 0.01
    with pytest.raises(ParameterError, match="tol must be a number in"):
        verify("m1", noisy, target="F", tol=2)


def test_fit_constants_recovers_the_gravitational_constant(gravity):
    chk = verify("G*m1*m2/r**2", gravity, target="F", fit_constants=True)
    assert chk.ok
    assert set(chk.constants) == {"G"}
    assert chk.constants["G"] == pytest.approx(G, rel=1e-8)
    assert chk.formula.free_symbols == {sympy.Symbol(n) for n in ("m1", "m2", "r")}
    assert "fitted constants (value ± standard error, 95 % interval, method):" in str(chk)
    assert "G = 6.674e-11 ± " in str(chk)
    row = chk.constants_table.iloc[0]
    assert row["symbol"] == "G" and row["low"] <= G <= row["high"] and row["std_error"] < 1e-20


def test_fit_constants_nonlinear(gravity):
    gravity["z"] = 2.5 * np.exp(-0.5 * gravity["r"]) + 1
    chk = verify("A*exp(-k*r) + 1", gravity, target="z", fit_constants=True)
    assert chk.ok
    assert chk.constants["A"] == pytest.approx(2.5, rel=1e-8)
    assert chk.constants["k"] == pytest.approx(0.5, rel=1e-8)


def test_unknown_name_is_named_and_columns_are_listed(gravity):
    with pytest.raises(DataError) as info:
        verify("G*m1*m2/r**2", gravity, target="F")
    msg = str(info.value)
    assert "['G']" in msg and "['m1', 'm2', 'r', 'x']" in msg and "fit_constants=True" in msg


def test_missing_column_the_formula_needs(gravity):
    data = gravity.drop(columns="r")
    expected = r"the formula uses \['r'\], which is not a column .*columns: \['m1', 'm2', 'x'\]"
    with pytest.raises(DataError, match=expected):
        verify("6.674e-11*m1*m2/r**2", data, target="F")
    expr = sympy.Float(G) * sympy.Symbol("m1") * sympy.Symbol("m2") / sympy.Symbol("r") ** 2
    with pytest.raises(DataError, match=r"\['r'\]"):
        verify(expr, data, target="F")


def test_formula_using_the_target_or_excluded_columns(gravity):
    with pytest.raises(DataError, match="uses the target column 'F' itself"):
        verify("F + 0", gravity, target="F")
    with pytest.raises(DataError, match=r"columns \['r'\], which are not among inputs \['m1', 'm2'\]"):
        verify("m1*m2/r**2", gravity, target="F", inputs=["m1", "m2"])


def test_log_of_negative_values_is_a_clear_domain_error(gravity):
    with pytest.raises(DataError) as info:
        verify("m1*log(x)", gravity, target="F")
    msg = str(info.value)
    n_bad = int((gravity["x"] <= 0).sum())
    first = np.flatnonzero(gravity["x"].to_numpy() <= 0)[:5].tolist()
    assert f"not finite (NaN, inf or complex) on {n_bad} of 200 rows" in msg
    assert f"first rows {first}" in msg
    assert "domain" in msg and "x in [" in msg
    assert "\n" not in msg


def test_sympy_expression_input(gravity):
    m1, m2, r = sympy.symbols("m1 m2 r")
    chk = verify(sympy.Float(G) * m1 * m2 / r**2, gravity, target="F")
    assert chk.ok and chk.r2 > 1 - 1e-12
    chk = verify(sympy.Symbol("k") * m1 * m2 / r**2, gravity, target="F", fit_constants=True)
    assert chk.constants["k"] == pytest.approx(G, rel=1e-8)


def test_unsafe_or_malformed_strings_are_rejected(gravity):
    with pytest.raises(ValueError, match="not allowed"):
        verify("__import__('os').getcwd()", gravity, target="F")
    with pytest.raises(ValueError, match="invalid formula syntax"):
        verify("m1 *", gravity, target="F")


def test_data_errors_come_from_the_data_layer(gravity):
    with pytest.raises(DataError, match="target column 'E' not found"):
        verify("m1", gravity, target="E")
    bad = gravity.copy()
    bad.loc[[2, 9], "m1"] = np.nan
    with pytest.raises(DataError, match=r"2 rows hold NaN or inf .*first rows \[2, 9\]"):
        verify("6.674e-11*m1*m2/r**2", bad, target="F")
    chk = verify("6.674e-11*m1*m2/r**2", bad, target="F", drop_invalid=True)
    assert chk.ok and chk.n_rows == 198 and 2 not in chk.rows
    assert chk.notes == ["dropped 2 rows with NaN or inf"]


def test_unused_text_and_constant_columns_are_fine(gravity):
    gravity["label"] = "sample"
    gravity["c"] = 3.0
    assert verify("6.674e-11*m1*m2/r**2", gravity, target="F").ok
    gravity["F2"] = gravity["F"] * gravity["c"]
    assert verify("6.674e-11*c*m1*m2/r**2", gravity.drop(columns="F"), target="F2").ok


def test_plot_returns_a_figure_of_residuals(gravity):
    fig = verify("6.674e-11*m1*m2/r**2", gravity, target="F").plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert "residual" in ax.get_ylabel()
    assert "predicted F" in ax.get_xlabel()
    assert len(ax.collections[0].get_offsets()) == 200


def test_html_and_dict(gravity):
    chk = verify("G*m1*m2/r**2", gravity, target="F", fit_constants=True)
    page = chk._repr_html_()
    assert "OK" in page and "<td>G</td>" in page
    d = chk.to_dict()
    assert d["ok"] is True and d["constants"]["G"] == pytest.approx(G, rel=1e-8)
