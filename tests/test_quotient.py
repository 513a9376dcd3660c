"""Quotients of sums of library terms (kandiscover.search.quotient)."""

import time

import numpy as np
import sympy

import kandiscover as kd
from kandiscover.search.context import Context
from kandiscover.search.quotient import quotient, quotient_dictionary

theta, n, alpha, t1, t2 = sympy.symbols("theta n alpha theta1 theta2")


def _grating(noise: float = 0.0, seed: int = 0):
    # sin²(nθ/2)/sin²(θ/2) = (1 − cos nθ)/(1 − cos θ)
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(1, 5, 1000), rng.uniform(1, 5, 1000)])
    y = np.sin(X[:, 1] * X[:, 0] / 2) ** 2 / np.sin(X[:, 0] / 2) ** 2
    return X, y + rng.normal(0, noise * np.sqrt(np.mean(y**2)), 1000)


def test_a_quotient_of_two_cosine_terms_is_found_exactly():
    X, y = _grating()
    found = quotient(Context(X, y, ["theta", "n"], 0, time.monotonic() + 30))
    truth = sympy.sin(n * theta / 2) ** 2 / sympy.sin(theta / 2) ** 2
    assert found and kd.is_equivalent(found[0], truth, domain={"theta": (1, 5), "n": (1, 5)}), found[:1]


def test_a_denominator_near_zero_on_every_row_does_not_pass_for_the_law_on_noisy_rows():
    # uncentred, the denominator's terms add up to about −1 and the linearised residual falls below the noise
    X, y = _grating(noise=0.01)
    found = quotient(Context(X, y, ["theta", "n"], 0, time.monotonic() + 30, floor=1e-4))
    assert found, "no quotient on noisy rows"
    f = sympy.lambdify((theta, n), found[0], "numpy")
    rel = float(np.mean((f(X[:, 0], X[:, 1]) - y) ** 2) / np.mean(y**2))
    assert rel < 2e-4 and found[0].has(sympy.cos(n * theta)) and found[0].has(sympy.cos(theta)), (found[0], rel)


def test_three_inputs_with_the_cosine_of_a_difference():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(2, 4, 800), rng.uniform(4, 5, 800), rng.uniform(4, 5, 800)])
    y = (1 - X[:, 0] ** 2) / (1 + X[:, 0] * np.cos(X[:, 1] - X[:, 2]))
    found = quotient(Context(X, y, ["alpha", "theta1", "theta2"], 0, time.monotonic() + 30))
    truth = (1 - alpha**2) / (1 + alpha * sympy.cos(t1 - t2))
    assert found and kd.is_equivalent(found[0], truth, domain={"alpha": (2, 4), "theta1": (4, 5), "theta2": (4, 5)})
    names = {str(t.expr) for t in quotient_dictionary(X[:50], [alpha, t1, t2])}
    assert "cos(theta1 - theta2)" in names and "alpha*cos(theta1)" in names


def test_more_inputs_than_the_dictionary_serves_give_nothing():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 2, (300, 4))
    y = X[:, 0] / (1 + X[:, 1])
    assert quotient(Context(X, y, ["a", "b", "c", "d"], 0, time.monotonic() + 30)) == []


def test_discover_finds_the_grating_law_through_the_quotient():
    import pandas as pd

    X, y = _grating()
    res = kd.discover(
        pd.DataFrame({"theta": X[:, 0], "n": X[:, 1], "I": y}), "I", time_budget=30, seed=0, progress=False
    )
    assert res.strategy == "quotient" and kd.is_equivalent(
        res.formula, (1 - sympy.cos(n * theta)) / (1 - sympy.cos(theta)), domain={"theta": (1, 5), "n": (1, 5)}
    ), (res.strategy, res.formula)
