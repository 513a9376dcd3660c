"""The KAN strategies' edge matches (kandiscover.search.kan_strategies)."""

import time

import numpy as np
import pandas as pd
import sympy
import torch

import kandiscover as kd
from kandiscover.search.context import Context
from kandiscover.search.kan_strategies import factor_matches, multiplicative
from kandiscover.symbolic.refit import polish

theta, z = sympy.symbols("theta z")


def _context(X, y, names):
    return Context(X, y, names, 0, time.monotonic() + 30)


def test_a_factor_that_is_a_power_of_a_library_function_is_matched_as_that_power():
    # 1/sin⁴(θ/2) on [1, 3]: no plain c·f(a·θ + b) + d of the library reproduces it
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 3, 1000)
    g = 1 / np.sin(x / 2) ** 4
    ctx = _context(x[:, None], g, ["theta"])
    rows = rng.permutation(1000)[:300]
    found = factor_matches(torch.tensor(x), torch.tensor(g), ctx, theta, rows, topk=2)
    f = sympy.lambdify(theta, found[0], "numpy")
    rel = float(np.max(np.abs(f(x) / g - 1)))
    assert rel < 1e-6 and (found[0].has(sympy.sin) or found[0].has(sympy.cos)), (found[0], rel)
    assert isinstance(found[0], sympy.Pow) and found[0].exp < 0, found[0]


def test_a_factor_matched_plainly_gets_no_power():
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 3, 500)
    g = np.exp(-0.5 * x)
    ctx = _context(x[:, None], g, ["z"])
    found = factor_matches(torch.tensor(x), torch.tensor(g), ctx, z, np.arange(300), topk=2)
    assert found[0].has(sympy.exp) and not isinstance(found[0], sympy.Pow), found[0]


def test_rutherford_shape_through_the_multiplicative_kan_is_exact():
    # z²/sin⁴(θ/2): the product KAN's θ edge is a negative power of a sine
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"z": rng.uniform(1, 5, 1000), "theta": rng.uniform(1, 3, 1000)})
    df["y"] = df.z**2 / np.sin(df.theta / 2) ** 4
    res = kd.discover(df, "y", plan=["multiplicative"], time_budget=30, seed=0, progress=False)
    truth = z**2 / sympy.sin(theta / 2) ** 4
    assert kd.is_equivalent(res.formula, truth, domain={"z": (1, 5), "theta": (1, 3)}), res.formula


def test_a_factor_no_power_of_a_library_function_reproduces_gets_no_power():
    # exp(sin 3x) on [0, 3]: powers of a match only bend it closer; none is kept
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 3, 1000)
    g = np.exp(np.sin(3 * x))
    ctx = _context(x[:, None], g, ["z"])
    found = factor_matches(torch.tensor(x), torch.tensor(g), ctx, z, np.arange(300), topk=2)
    assert found and not any(isinstance(f, sympy.Pow) and f.exp not in (1, -1) for f in found), found


def test_on_noisy_rows_a_factor_gets_no_power():
    # the same 1/sin⁴(θ/2) factor, from a context whose floor was raised to a noise level
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 3, 1000)
    g = 1 / np.sin(x / 2) ** 4
    ctx = Context(x[:, None], g, ["theta"], 0, time.monotonic() + 30, floor=1e-4)
    assert ctx.noisy
    found = factor_matches(torch.tensor(x), torch.tensor(g), ctx, theta, np.arange(300), topk=2)
    assert found and not any(isinstance(f, sympy.Pow) and f.exp.is_integer for f in found), found


def test_a_factor_a_library_function_only_stands_in_for_comes_from_the_one_variable_search():
    # (1 − a)/√(1 − b²): cosh(3.7·b) matches the b factor to a relative 2e-4, the law's form exactly
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 0.6, 1000), rng.uniform(0.05, 0.6, 1000)
    y = (1 - a) / np.sqrt(1 - b**2)
    found = multiplicative(_context(np.column_stack([a, b]), y, ["a", "b"]))
    sa, sb = sympy.symbols("a b")
    cols = {"a": a, "b": b}
    truth = (1 - sa) / sympy.sqrt(1 - sb**2)
    assert any(kd.is_equivalent(polish(e, cols, y), truth) for e in found[:2]), found[:2]


def test_a_spent_search_budget_leaves_a_stand_in_factor_to_the_library():
    # 1/√(1 − b²): the library's plain matches have no inner b², the one-variable search's fits do
    rng = np.random.default_rng(0)
    b = rng.uniform(0.05, 0.6, 1000)
    g = 1 / np.sqrt(1 - b**2)
    ctx = _context(b[:, None], g, ["z"])
    spent = [0.0]
    found = factor_matches(torch.tensor(b), torch.tensor(g), ctx, z, np.arange(300), topk=2, search_budget=spent)
    assert found and not any(f.has(z**2) for f in found), found
    budget = [1.5]
    found = factor_matches(torch.tensor(b), torch.tensor(g), ctx, z, np.arange(300), topk=2, search_budget=budget)
    assert budget[0] < 1.5 and found[0].has(z**2), (budget, found)
