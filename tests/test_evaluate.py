"""The formula runtime: one compile, one evaluation rule, one constant fitter."""

import math
import time

import numpy as np
import pytest
import sympy

from kandiscover.symbolic.evaluate import (
    ConstantFit,
    as_real,
    compile_formula,
    formula_mse,
    formula_predictions,
    metrics,
)

x, y = sympy.symbols("x y")


def test_the_rule_keeps_negligible_imaginary_parts_and_turns_others_into_nan():
    values = np.array([1 + 1e-12j, 2 + 0.5j, np.inf + 0j, np.nan + 0j])
    out = as_real(values, 4)
    assert out.dtype == np.float64 and out[0] == 1.0 and math.isnan(out[1])
    assert out[2] == np.inf and math.isnan(out[3])
    np.testing.assert_array_equal(as_real(3.0, (2, 3)), np.full((2, 3), 3.0))


def test_a_formula_that_leaves_the_reals_is_nan_there():
    pred = formula_predictions(sympy.sqrt(x), np.array([[4.0], [-1.0]]), ["x"])
    assert pred[0] == 2.0 and math.isnan(pred[1])
    assert formula_mse(sympy.sqrt(x), np.array([[4.0], [-1.0]]), np.array([2.0, 0.0]), ["x"]) == math.inf


def test_compiled_once_evaluates_many_parameter_vectors_at_once():
    a = sympy.Symbol("a")
    f = compile_formula(a * sympy.sin(x), ["x"], [a])
    cols = [np.array([0.5, 1.0, 2.0])]
    one = f(cols, [2.0], shape=3)
    many = f(cols, [np.array([[1.0], [2.0]])], shape=(2, 3))
    np.testing.assert_allclose(many[1], one)
    np.testing.assert_allclose(many[0], np.sin(cols[0]))
    np.testing.assert_allclose(one, 2 * np.sin(cols[0]))


@pytest.mark.parametrize("name", ["e", "gamma", "lambda", "mass (kg)"])
def test_column_names_that_clash_with_printed_code_still_work(name):
    s = sympy.Symbol(name)
    pred = formula_predictions(2 * s + sympy.pi, np.array([[1.0], [3.0]]), [name])
    np.testing.assert_allclose(pred, [2 + math.pi, 6 + math.pi])


def test_an_unevaluable_formula_has_infinite_loss_and_metrics_say_so():
    assert formula_mse(x / y, np.ones((3, 1)), np.ones(3), ["x"]) == math.inf  # y is not a column
    m = metrics(1 / (x - 1), np.array([[1.0], [2.0]]), np.array([0.0, 1.0]), ["x"])
    assert m["r2"] == -math.inf and m["rmse"] == math.inf


def test_metrics_of_an_exact_formula():
    X = np.linspace(1, 2, 20)[:, None]
    m = metrics(x**2, X, X[:, 0] ** 2 + np.where(np.arange(20) == 3, 0.1, 0.0), ["x"])
    assert m["max_abs_error"] == pytest.approx(0.1) and 0.99 < m["r2"] < 1


def test_constant_fit_recovers_nonlinear_constants_and_stops_at_its_deadline():
    rng = np.random.default_rng(0)
    xs = rng.uniform(0, 3, 200)
    a, b = sympy.symbols("a b")
    fit = ConstantFit(["x"], [xs], 1.7 * np.exp(-0.4 * xs))
    theta, err = fit.fit(a * sympy.exp(b * x), [a, b], np.array([1.0, -1.0]), tol=1e-15, max_nfev=400)
    np.testing.assert_allclose(theta, [1.7, -0.4], rtol=1e-8)
    assert err < 1e-20
    start = np.array([1.0, -1.0])
    late, err_late = fit.fit(a * sympy.exp(b * x), [a, b], start, deadline=time.monotonic() - 1)
    np.testing.assert_array_equal(late, start)
    assert math.isfinite(err_late)


def test_constant_fit_closed_form_and_restarts():
    xs = np.linspace(-1, 1, 50)
    a, b, c = sympy.symbols("a b c")
    fit = ConstantFit(["x"], [xs], 3 * xs**2 - 2)
    theta, err = fit.fit(a * x**2 + b, [a, b], np.zeros(2), linear=True)
    np.testing.assert_allclose(theta, [3, -2], atol=1e-12)
    assert err < 1e-25
    # cos(c*x) from a start where LM alone stalls: the restarts find c = ±5
    fit = ConstantFit(["x"], [xs], np.cos(5 * xs))
    theta, err = fit.fit(sympy.cos(c * x), [c], np.array([0.1]), restarts=8, seed=0, tol=1e-15, max_nfev=400)
    assert abs(abs(theta[0]) - 5) < 1e-6 and err < 1e-20


def test_an_integer_beyond_int64_inside_a_function_evaluates():
    # snapping can leave log(522212626589775243387136) in a formula; numpy would hold the Python
    # int in an object array without a log method
    w = sympy.Symbol("w")
    big = sympy.Integer(522212626589775243387136)
    expr = sympy.exp(w * sympy.log(big, evaluate=False))
    got = formula_predictions(expr, np.array([[0.01], [0.02]]), ["w"])
    assert np.allclose(got, np.exp(np.array([0.01, 0.02]) * math.log(float(big))))
