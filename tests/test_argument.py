"""Laws ``M(x)·F(u)`` with the argument ``u`` read off a surrogate's gradients (kandiscover.search.argument)."""

import time

import numpy as np
import pandas as pd
import pytest
import sympy

import kandiscover as kd
from kandiscover.search.argument import argument, argument_direction, prefactors, read_argument, small_integers
from kandiscover.search.context import Context
from kandiscover.symbolic.refit import polish


def _rows(law, d=3, low=1.0, high=3.0, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, (n, d))
    names = [f"x{k + 1}" for k in range(d)]
    truth = kd.parse_formula(law, names)
    y = np.asarray(sympy.lambdify(sympy.symbols(names), truth, "numpy")(*X.T), dtype=float) * np.ones(n)
    return X, y, names, truth


def _ctx(X, y, names, seconds=60):
    return Context(X, y, names, 0, time.monotonic() + seconds)


def test_small_integers_clears_halves_and_snaps_within_tolerance():
    np.testing.assert_array_equal(small_integers(np.array([1.0, 0.5])), [2, 1])
    np.testing.assert_array_equal(small_integers(np.array([1.0, -0.52, 0.03])), [2, -1, 0])
    np.testing.assert_array_equal(small_integers(np.array([-0.97, 1.0, 0.0])), [-1, 1, 0])
    assert small_integers(np.array([1.0, 0.37])) is None


def test_argument_direction_ignores_rows_off_the_line():
    rng = np.random.default_rng(0)
    a = np.array([2.0, -1.0, 0.0]) / 2
    G = np.array([0.5, 1.0, -1.0]) + np.outer(rng.normal(size=400), a)
    G[:30] += rng.normal(scale=0.5, size=(30, 3))  # a surrogate's bad rows near its grid's ends
    found, share = argument_direction(G)
    np.testing.assert_allclose(found, [1.0, -0.5, 0.0], atol=0.02)
    assert share > 0.99


def test_prefactors_zero_one_input_of_the_argument_each_and_sparsest_come_first():
    a = np.array([0.0, 2.0, -1.0])
    mean = np.array([1.0, 1.0, 0.0]) + 0.8 * a  # M = x1·x2, mean of G(u) = 0.8
    found = prefactors(mean, a)
    # x1·x2 = x1·√x3 · √(x2²/x3): the same law with F absorbing √u, and the smaller exponents first
    np.testing.assert_array_equal(np.array(found), [[1.0, 0.0, 0.5], [1.0, 1.0, 0.0]])


@pytest.mark.parametrize(
    "law, direction",
    [
        ("x1*log(1 + x2**2/x3)", (0, 2, -1)),
        ("x1**2*tanh(x2*x3)/x3", (0, 1, 1)),
        ("sqrt(x1)/(1 + x2/x3**2)", (0, 1, -2)),
    ],
)
def test_argument_recovers_a_monomial_times_a_function_of_one_monomial(law, direction):
    X, y, names, truth = _rows(law)
    ints, _ = read_argument(_ctx(X, y, names))
    assert np.array_equal(ints, direction) or np.array_equal(ints, -np.array(direction))
    found = argument(_ctx(X, y, names))
    cols = {n: X[:, k] for k, n in enumerate(names)}
    assert any(kd.is_equivalent(polish(e, cols, y), truth) for e in found[:4]), found[:4]


def test_plancks_argument_is_read_where_the_surrogate_of_y_is_too_poor():
    # y spans decades (ω³): the surrogate of y can miss by more than MAX_SURROGATE_ERROR, the one of
    # log|y| against log|x| does not, and the law comes out whole
    law = "x1*x2**3/(2*pi**3*x5**2*(exp(x1*x2/(2*pi*x3*x4)) - 1))"
    X, y, names, truth = _rows(law, d=5, low=1.0, high=5.0)
    ints, _ = read_argument(_ctx(X, y, names))
    assert np.array_equal(np.abs(ints), [1, 1, 1, 1, 0]) and ints[0] == ints[1] == -ints[2] == -ints[3]
    df = pd.DataFrame(X, columns=names).assign(y=y)
    # 60 s: on a machine half as fast the three surrogates take 13 s of the budget (the law comes
    # out in about 18 s there, 10 s on a faster one)
    res = kd.discover(df, "y", plan=["argument"], time_budget=60, seed=0, progress=False)
    assert kd.is_equivalent(res.formula, truth), res.formula


@pytest.mark.parametrize("law", ["exp(x1) + x2*x3", "x1*sin(x2) + x3**2", "3*x1*x2**2/x3"])
def test_argument_gives_nothing_for_two_arguments_or_none(law):
    X, y, names, _ = _rows(law)
    assert read_argument(_ctx(X, y, names)) is None
    assert argument(_ctx(X, y, names)) == []


def test_argument_declines_rows_it_cannot_take_logs_of():
    X, y, names, _ = _rows("x1*tanh(x2*x3)", low=-1.0, high=1.0)
    assert argument(_ctx(X, y, names)) == []  # inputs and target change sign
    assert argument(_ctx(X[:, :1], y, names[:1])) == []  # one input: the one-variable search's


def test_the_kan_based_group_names_every_strategy_that_trains_a_kan_and_the_summary_counts_them():
    from kandiscover.search.plan import resolve
    from kandiscover.suite_summary import _by_strategy

    chosen = resolve(["kan-based"])
    assert {"argument", "split", "multiplicative", "additive", "kan-1"} <= set(chosen)
    assert not {"monomial", "rational", "terms", "factored", "transformed"} & set(chosen)
    runs = pd.DataFrame(
        {
            "truth": ["a", "b", "c", "d"],
            "strategy": ["argument", "monomial", "direct-split (raw)", "split"],
            "exact": [True, True, True, False],
        }
    )
    lines = _by_strategy(runs)
    assert "Strategies that train a KAN produced 2 of the 3 exact recoveries (66.7 %)." in lines
    assert "| argument | yes | 1 | 1 |" in lines and "| monomial |  | 1 | 1 |" in lines


def test_the_one_variable_problems_get_time_where_the_surrogates_took_the_share(monkeypatch):
    import kandiscover.search.argument as argument_module

    X, y, names, truth = _rows("x2*exp(x1*x2)", d=2)
    found = read_argument(_ctx(X, y, names))
    assert found is not None

    def slow_read(ctx):  # surrogates that take all of argument's share (half the 12 s left)
        time.sleep(6.1)
        return found

    monkeypatch.setattr(argument_module, "read_argument", slow_read)
    out = argument(_ctx(X, y, names, seconds=12.0))  # ≥ 1.5 s for the one-variable problems
    cols = {n: X[:, k] for k, n in enumerate(names)}
    assert any(kd.is_equivalent(polish(e, cols, y), truth) for e in out[:4]), out[:4]
