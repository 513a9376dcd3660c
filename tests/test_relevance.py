"""Inputs the target does not depend on (kandiscover.search.relevance)."""

import time

import numpy as np
import sympy

import kandiscover as kd
from kandiscover.search.context import Context
from kandiscover.search.relevance import factored, relevant, relevant_inputs
from kandiscover.symbolic.refit import polish


def _rows(law, d, low, high, n=1000, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, (n, d))
    names = [f"x{k + 1}" for k in range(d)]
    truth = kd.parse_formula(law, names)
    y = np.asarray(sympy.lambdify(sympy.symbols(names), truth, "numpy")(*X.T), dtype=float) * np.ones(n)
    if noise:
        y = y + rng.normal(0, noise * np.std(y), n)
    return X, y, names, truth


def test_relevant_inputs_finds_the_one_input_among_five_on_a_sparse_box():
    # on [-50, 50]^5 the neighbours of a row lie ~10 apart in x3: sin(x3) looks like noise in 5-D
    X, y, _, _ = _rows("0.5*sin(x3) + 2", 5, -50, 50)
    assert relevant_inputs(X, y) == [2]


def test_relevant_inputs_keeps_every_input_that_matters_even_with_noise():
    X, y, _, _ = _rows("x1*x2 + 0.3*x4", 4, -1, 1, noise=0.01)
    assert relevant_inputs(X, y) == [0, 1, 3]
    X, y, _, _ = _rows("x1 + x2 + x3", 3, 0, 1)
    assert relevant_inputs(X, y) == [0, 1, 2]


def test_relevant_solves_the_reduced_problem():
    X, y, names, truth = _rows("3 - 3*exp(-0.4*x2)", 4, -5, 5)
    ctx = Context(X, y, names, 0, time.monotonic() + 20)
    found = relevant(ctx)
    cols = {n: X[:, k] for k, n in enumerate(names)}
    assert any(kd.is_equivalent(polish(e, cols, y), truth) for e in found[:6]), found[:6]
    assert all(e.free_symbols <= {sympy.Symbol("x2")} for e in found)


def test_factored_divides_out_the_integer_powers_and_solves_the_rest():
    rng = np.random.default_rng(2)
    names = ["a", "b", "c", "u", "v"]
    X = rng.uniform(1, 3, (1000, 5))
    truth = kd.parse_formula("2*a*b**2*sqrt(u**2 + v**2)/c", names)
    y = np.asarray(sympy.lambdify(sympy.symbols(names), truth, "numpy")(*X.T), dtype=float)
    ctx = Context(X, y, names, 0, time.monotonic() + 60)
    found = factored(ctx)
    cols = {n: X[:, k] for k, n in enumerate(names)}
    assert any(kd.is_equivalent(polish(e, cols, y), truth) for e in found[:4]), found[:4]


def test_factored_gives_nothing_for_a_plain_monomial():
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (500, 3))
    ctx = Context(X, 3 * X[:, 0] * X[:, 1] ** 2 / X[:, 2], ["a", "b", "c"], 0, time.monotonic() + 10)
    assert factored(ctx) == []
