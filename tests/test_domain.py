"""Squares taken out of roots and absolute values with the signs they have on the rows."""

import numpy as np
import sympy

from kandiscover.symbolic.equivalence import is_equivalent
from kandiscover.symbolic.domain import absolute_values, inverse_pairs, on_rows, pull_squares
from kandiscover.symbolic.refit import polish

a, b, c, t, u, x = sympy.symbols("a b c t u x")


def _rows(seed=0, n=200, **ranges):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in ranges.items()}


def test_lorentz_form_becomes_the_law_where_the_factor_keeps_its_sign():
    found = x / sympy.sqrt((1 - u**2 / c**2) / (t**2 * u**2 / x**2 - 2 * t * u / x + 1))
    ranges = dict(x=(5, 10), u=(1, 2), c=(3, 20), t=(1, 2))  # x - t·u > 0 on every row
    out = on_rows(found, _rows(**ranges))
    truth = (x - t * u) / sympy.sqrt(1 - u**2 / c**2)
    assert is_equivalent(out, truth, domain=ranges)
    assert not is_equivalent(found, truth, domain=ranges)  # |x - t·u| parts from the law off the rows
    assert sympy.count_ops(out) < sympy.count_ops(found)


def test_negative_factor_comes_out_with_its_sign():
    rows = _rows(a=(0, 1), b=(2, 3), c=(1, 2))  # a - b < 0
    out = pull_squares(sympy.sqrt((a - b) ** 2 * c), rows)
    assert sympy.expand(out - (b - a) * sympy.sqrt(c)) == 0
    X = {k: v for k, v in rows.items()}
    lhs = np.sqrt((X["a"] - X["b"]) ** 2 * X["c"])
    rhs = sympy.lambdify((a, b, c), out)(X["a"], X["b"], X["c"])
    assert np.allclose(lhs, rhs)


def test_factor_of_both_signs_stays_inside():
    rows = _rows(a=(-1, 1), c=(1, 2))
    expr = sympy.sqrt(a**2 * c)
    assert pull_squares(expr, rows) == expr
    assert on_rows(expr, rows) == expr


def test_absolute_value_of_one_sign_is_resolved_and_of_both_kept():
    rows = _rows(a=(0, 1), b=(2, 3))
    assert absolute_values(sympy.Abs(a - b) * a, rows) == (b - a) * a
    mixed = _rows(a=(-1, 1), b=(2, 3))
    assert absolute_values(sympy.Abs(a) * b, mixed) == sympy.Abs(a) * b


def test_polish_reads_signs_from_its_rows():
    rows = _rows(seed=1, a=(0.5, 1.0), b=(2.0, 3.0), c=(1.0, 2.0))
    y = (rows["b"] - rows["a"]) * np.sqrt(rows["c"])
    found = sympy.sqrt(a**2 * c - 2 * a * b * c + b**2 * c)
    out = polish(found, rows, y)
    assert sympy.simplify(out - (b - a) * sympy.sqrt(c)) == 0


def test_log_of_exp_and_exp_of_log_are_undone_where_the_rows_allow():
    rows = _rows(x=(-2, 2), u=(1, 3), t=(-1, 1))
    assert inverse_pairs(sympy.log(sympy.exp(x)) * sympy.log(sympy.exp(u)), rows) == x * u
    assert inverse_pairs(sympy.exp(sympy.log(u)) + 1, rows) == u + 1
    kept = sympy.exp(sympy.log(t))  # t takes both signs: exp(log t) is not t there
    assert inverse_pairs(kept, rows) == kept
    found = (sympy.Float(2.0) * u * sympy.sin(x) + sympy.log(sympy.exp(t))) * sympy.log(sympy.exp(u))
    y = (2 * rows["u"] * np.sin(rows["x"]) + rows["t"]) * rows["u"]
    assert polish(found, rows, y) == u * (2 * u * sympy.sin(x) + t)
