"""The enumeration of small expressions (search/enumerate.py)."""

import time

import numpy as np
import sympy

import kandiscover as kd
from kandiscover.search.enumerate import enumerate_expressions

x = sympy.Symbol("x")


def _best(f, lo=0.1, hi=3.0, seconds=6.0):
    xs = np.random.default_rng(0).uniform(lo, hi, 400)
    found = enumerate_expressions(xs[:, None], f(xs), ["x"], time.monotonic() + seconds)
    return found[0], xs


def _close(expr, truth, xs):
    got = sympy.lambdify(x, expr, "numpy")(xs)
    want = sympy.lambdify(x, truth, "numpy")(xs)
    return np.max(np.abs(got - want)) <= 1e-8 * (1 + np.max(np.abs(want)))


def test_sums_of_unlike_terms():
    expr, xs = _best(lambda v: 1 / 3 + v + np.sin(v**2))
    assert _close(expr, sympy.Rational(1, 3) + x + sympy.sin(x**2), xs)
    assert sympy.Symbol("x") in expr.free_symbols and sympy.sin(x**2) in expr.atoms(sympy.sin)


def test_a_product_with_an_inner_constant():
    expr, xs = _best(lambda v: 0.3 * v * np.sin(2 * np.pi * v), seconds=10)
    assert _close(expr, 0.3 * x * sympy.sin(2 * sympy.pi * x), xs)


def test_bose_einstein_shape():
    expr, xs = _best(lambda v: v / (np.exp(v) - 1))
    assert _close(expr, x / (sympy.exp(x) - 1), xs)


def test_two_variables():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 3, (300, 2))
    y = X[:, 0] / (X[:, 0] + X[:, 1])
    found = enumerate_expressions(X, y, ["a", "b"], time.monotonic() + 6)
    a, b = sympy.symbols("a b")
    got = sympy.lambdify((a, b), found[0], "numpy")(X[:, 0], X[:, 1])
    assert np.max(np.abs(got - y)) < 1e-8


def test_discover_does_not_answer_x_sin_2pi_x_with_a_constant():
    # on main before the enumeration this came back as the formula 0 (the general-search issue)
    xs = np.linspace(-2, 2, 400)
    import pandas as pd

    df = pd.DataFrame({"x": xs, "y": 0.3 * xs * np.sin(2 * np.pi * xs)})
    found = kd.discover(df, target="y", time_budget=20, progress=False)
    assert found.formula.free_symbols == {x}
