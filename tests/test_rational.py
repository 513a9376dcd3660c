"""Sparse polynomials and quotients by linear least squares (kandiscover.rational)."""

import time

import numpy as np
import pytest
import sympy

import kandiscover as kd
from kandiscover.search.rational import backward_select, monomial_exponents, rational
from kandiscover.search.context import Context
from kandiscover.symbolic.refit import polish


def _ctx(law, ranges, n=1000, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(*r, n) for r in ranges.values()])
    truth = kd.parse_formula(law, list(ranges))
    fn = sympy.lambdify([sympy.Symbol(k) for k in ranges], truth, "numpy")
    y = np.asarray(fn(*X.T), dtype=float)
    if noise:
        y = y + rng.normal(0, noise * np.sqrt(np.mean(y**2)), n)
    return Context(X, y, list(ranges), seed, time.monotonic() + 30), truth


def _cols(ctx):
    return {n: ctx.X[:, k] for k, n in enumerate(ctx.names)}


def test_monomial_exponents_count_and_order():
    exps = monomial_exponents(3, 2)
    assert len(exps) == 10 and exps[0] == (0, 0, 0)
    assert [sum(e) for e in exps] == sorted(sum(e) for e in exps)
    assert (0, 0, 0) not in monomial_exponents(3, 2, constant=False)


def test_backward_select_keeps_the_true_columns():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(200, 12))
    b = 3 * A[:, 2] - 0.5 * A[:, 7]
    path = backward_select(A, b)
    assert len(path[0][0]) == 12 and [len(c) for c, _, _ in path] == list(range(12, 0, -1))
    cols, coef, err = path[-2]
    assert sorted(cols) == [2, 7] and err < 1e-25
    assert np.allclose(sorted(coef), [-0.5, 3])


@pytest.mark.parametrize(
    "law, ranges",
    [
        ("(x-y)/(1+x*y)", {"x": (0, 1), "y": (0, 1)}),
        ("k*x**2/2 + m*g*h", {"k": (1, 3), "x": (-1, 1), "m": (1, 3), "g": (9, 10), "h": (0, 2)}),
        ("(u+v)/(1+u*v)", {"u": (0, 0.9), "v": (0, 0.9)}),
        # denominators without a constant term: another monomial carries the coefficient 1
        ("(u+v)/(1+u*v/c**2)", {"c": (1, 5), "v": (1, 5), "u": (1, 5)}),
        ("(m1*r1 + m2*r2)/(m1 + m2)", {"m1": (1, 5), "m2": (1, 5), "r1": (1, 5), "r2": (1, 5)}),
        (
            "Ef*q/(m*(omega_0**2 - omega**2))",
            {"q": (1, 3), "Ef": (1, 3), "m": (1, 3), "omega_0": (3, 5), "omega": (1, 2)},
        ),
    ],
)
def test_rational_recovers_exact_laws(law, ranges):
    ctx, truth = _ctx(law, ranges)
    found = rational(ctx)
    assert found, "no candidate"
    assert kd.is_equivalent(polish(found[0], _cols(ctx), ctx.y), truth), found[0]


def test_rational_with_noise_then_polish_recovers_the_law():
    ctx, truth = _ctx(
        "k*x**2/2 + m*g*h", {"k": (1, 3), "x": (-1, 1), "m": (1, 3), "g": (9, 10), "h": (0, 2)}, noise=0.01
    )
    noise = 0.01**2 * np.mean(ctx.y**2) / np.var(ctx.y)
    found = rational(ctx)
    assert any(kd.is_equivalent(polish(e, _cols(ctx), ctx.y, noise=noise), truth) for e in found[:2]), found


@pytest.mark.parametrize(
    "law, ranges",
    [
        ("sqrt(x**2 + z**2)", {"x": (1, 3), "z": (1, 3)}),
        ("x*sin(theta)", {"x": (1, 5), "theta": (0.1, 3)}),
    ],
)
def test_rational_gives_nothing_for_laws_it_only_approximates(law, ranges):
    ctx, _ = _ctx(law, ranges)
    assert rational(ctx) == []
