"""Laws simple after a function of the target (kandiscover.search.transform)."""

import time

import numpy as np
import pytest
import sympy

import kandiscover as kd
from kandiscover.search.context import Context
from kandiscover.search.transform import transformed
from kandiscover.symbolic.refit import polish


def _ctx(law, ranges, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(*r, n) for r in ranges.values()])
    truth = kd.parse_formula(law, list(ranges))
    y = np.asarray(sympy.lambdify([sympy.Symbol(k) for k in ranges], truth, "numpy")(*X.T), dtype=float)
    return Context(X, y, list(ranges), seed, time.monotonic() + 30), truth


@pytest.mark.parametrize(
    "law, ranges",
    [
        # exp(y) a polynomial: a sum of logarithms
        ("log(x + 2) + log(x**2 + 0.5)", {"x": (0, 3)}),
        # y² a quotient
        ("u/sqrt(u**2 + v**2 + 1)", {"u": (0.5, 3), "v": (0, 2)}),
        # 1/y a sum of terms
        ("1/(2 + cos(x))", {"x": (-3, 3)}),
        # log(y) a sum of terms
        ("exp(x + sin(z))", {"x": (0, 1), "z": (0, 3)}),
    ],
)
def test_transformed_recovers_laws_simple_after_a_function_of_the_target(law, ranges):
    ctx, truth = _ctx(law, ranges)
    found = transformed(ctx)
    cols = {n: ctx.X[:, k] for k, n in enumerate(ctx.names)}
    assert any(kd.is_equivalent(polish(e, cols, ctx.y), truth) for e in found[:2]), found[:2]


def test_transformed_skips_transforms_undefined_on_the_rows():
    # y changes sign and passes through zero: log, y² (sign lost) and 1/y do not apply; exp(y) spans
    # e^60 and does not either: what comes back is from y/x only, x times a fit
    ctx, _ = _ctx("30*sin(x)", {"x": (-3, 3)})
    x = sympy.Symbol("x")
    assert all(isinstance(e, sympy.Mul) and x in e.args for e in transformed(ctx))


def test_an_input_times_a_simple_function_is_found_from_the_quotient():
    ctx, truth = _ctx("0.5*t*cos(3*t)", {"t": (-2, 2)})
    cols = {"t": ctx.X[:, 0]}
    assert any(kd.is_equivalent(polish(e, cols, ctx.y), truth) for e in transformed(ctx)[:2])


def test_an_inverse_square_root_law_is_found_on_noisy_rows_from_one_over_y_squared():
    # 1/y² = 1 − v²/c² is two terms of the dictionary (a quotient of inputs, squared), varying by
    # little beside the 1 % noise: the noise-aware acceptance and the reciprocal-square transform
    # together give the Lorentz factor, ranked by error and constants
    rng = np.random.default_rng(0)
    ctx, truth = _ctx("1/sqrt(1 - v**2/c**2)", {"v": (1, 2), "c": (3, 10)})
    ctx.y = ctx.y + rng.normal(0, 0.01 * np.sqrt(np.mean(ctx.y**2)), len(ctx.y))
    ctx.floor = 1.5e-4  # the noise level known (1.5 × its relative MSE), as discover sets it
    noise = 0.01**2 * np.mean(ctx.y**2) / np.var(ctx.y)
    cols = {n: ctx.X[:, k] for k, n in enumerate(ctx.names)}
    found = transformed(ctx)
    assert any(kd.is_equivalent(polish(e, cols, ctx.y, noise=noise), truth) for e in found[:2]), found[:2]
