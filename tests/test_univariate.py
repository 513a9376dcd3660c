"""One-variable search: ``c·f(a·g(x) + b) + d`` and a power of ``x`` times a library function."""

import time

import numpy as np
import pytest
import sympy

from kandiscover.search.context import Context
from kandiscover.search.univariate import univariate
from kandiscover.symbolic.refit import polish

x = sympy.Symbol("x")


def _context(f, box, n=600, seed=0):
    X = np.random.default_rng(seed).uniform(*box, n)[:, None]
    return Context(X, f(X[:, 0]), ["x"], seed, time.monotonic() + 30)


@pytest.mark.parametrize(
    "truth, f, box",
    [
        (x**2 * sympy.exp(-x), lambda a: a**2 * np.exp(-a), (0.1, 5)),
        (x * sympy.cos(3 * x), lambda a: a * np.cos(3 * a), (-2, 2)),
        (sympy.sin(x) / x, lambda a: np.sin(a) / a, (1, 10)),
        (x**3 * sympy.log(x), lambda a: a**3 * np.log(a), (0.5, 3)),
        # a power over one: Bose–Einstein's and Planck's one-variable parts, a population n₀/(2·cosh u)
        (1 / (2 * sympy.cosh(x)), lambda a: 1 / (np.exp(a) + np.exp(-a)), (0.1, 9)),
        (1 / (sympy.exp(x) - 1), lambda a: 1 / (np.exp(a) - 1), (0.1, 5)),
        (
            x / (2 * sympy.pi * (sympy.exp(x / (2 * sympy.pi)) - 1)),
            lambda a: a / (2 * np.pi * np.expm1(a / 2 / np.pi)),
            (0.1, 20),
        ),
    ],
)
def test_a_power_times_a_library_function_is_the_first_candidate(truth, f, box):
    ctx = _context(f, box)
    found = univariate(ctx)
    assert sympy.simplify(polish(found[0], {"x": ctx.X[:, 0]}, ctx.y) - truth) == 0, found[0]


def test_without_powers_no_product_with_a_power_is_offered():
    ctx = _context(lambda a: a**2 * np.exp(-a), (0.1, 5))
    found = univariate(ctx, powers=())
    assert not any(sympy.simplify(polish(e, {"x": ctx.X[:, 0]}, ctx.y) - x**2 * sympy.exp(-x)) == 0 for e in found[:3])


def test_an_input_with_a_zero_gets_no_power_weighted_fit():
    # y / x^k is not finite at x = 0: only the plain fits
    X = np.linspace(-1, 1, 201)[:, None]
    ctx = Context(X, X[:, 0] * np.sin(X[:, 0]), ["x"], 0, time.monotonic() + 30)

    def power_times(e):
        return e.is_Mul and any(a == x or (a.is_Pow and a.base == x) for a in e.args)

    assert not any(power_times(e) for e in univariate(ctx))


def test_a_fit_to_round_off_ranks_before_a_simpler_one_within_the_floor():
    # on (0.1, 20) a Gaussian bump fits u/(2π(exp(u/2π) − 1)) to 2e-8, inside the exact-data floor
    # (1e-7) and simpler than the law: it must not rank first
    ctx = _context(lambda a: a / (2 * np.pi * np.expm1(a / 2 / np.pi)), (0.1, 20), n=1000)
    assert ctx.floor > 2e-8
    first = univariate(ctx)[0]
    assert not first.has(sympy.exp(-sympy.Wild("w"))) and first.has(sympy.exp), first
    pred = sympy.lambdify(x, first)(ctx.X[:, 0])
    assert np.mean((pred - ctx.y) ** 2) / np.var(ctx.y) < 1e-20
