"""Sparse polynomials and quotients by linear least squares (kandiscover.rational)."""

import time

import numpy as np
import pytest
import sympy

import kandiscover as kd
from kandiscover.search.rational import backward_select, integer_scale, monomial_exponents, rational
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


@pytest.mark.parametrize(
    "law, ranges",
    [
        ("(x + 1)**3/(x**2 - x + 1)", {"x": (-1, 1)}),
        ("(x**5 - 3*x**3 + 1)/(x**2 + 1)", {"x": (-10, 10)}),
        ("x**9 + x**8 + x**7 + x**6 + x**5 + x**4 + x**3 + x**2 + x", {"x": (-1, 1)}),
        ("x**2*y**2/(x + y)", {"x": (0.1, 1), "y": (0.1, 1)}),
    ],
)
def test_rational_recovers_dense_quotients_of_one_or_two_inputs(law, ranges):
    ctx, truth = _ctx(law, ranges)
    found = rational(ctx)
    assert found and kd.is_equivalent(polish(found[0], _cols(ctx), ctx.y), truth), found[:1]


def test_rational_offers_no_exact_looking_pade_approximant():
    # sinh on [-1, 1] has a (5, 4) Padé approximant good to 5e-22 of its variance: the large designs
    # must not return it as a law (true quotients reach round-off, about 1e-30)
    ctx, _ = _ctx("exp(x)/2 - exp(-x)/2", {"x": (-1, 1)})
    for expr in rational(ctx):
        pred = sympy.lambdify([sympy.Symbol("x")], expr, "numpy")(ctx.X[:, 0])
        assert np.mean((pred - ctx.y) ** 2) / np.var(ctx.y) > 1e-20, expr


def test_integer_scale_turns_a_normalised_quotient_back_into_integers():
    assert integer_scale([1 / 26, 12 / 26, 54 / 26, 1.0]) == pytest.approx(26.0)
    assert integer_scale([0.5, 1.0, 3.0]) == 1.0  # integers and halves stay
    assert integer_scale([3.14159, 1.0]) == 1.0  # no integer multiple within 1000
    ctx, truth = _ctx("((x - 3)**4 + y)/((y - 2)**4 + 10)", {"x": (0, 6), "y": (0, 6)})
    found = rational(ctx)
    assert found and kd.is_equivalent(polish(found[0], _cols(ctx), ctx.y), truth), found[:1]
    assert all(abs(f - round(f)) < 1e-6 for f in found[0].atoms(sympy.Float)), found[0]


def test_the_leading_coefficient_is_no_fitted_constant():
    # P/Q is fixed only up to a common factor; the leading monomial's 1 is that normalisation, and
    # a float there lets a refit rescale both (703·c·ω/(702·c − 701·v)): one float per fitted term
    ctx, _ = _ctx("omega_0*c/(c - v)", {"omega_0": (1, 5), "v": (1, 2), "c": (3, 10)}, noise=0.01)
    ctx.floor = 1.5e-4
    found = rational(ctx)
    assert found
    assert len(found[0].atoms(sympy.Float)) == 2, found[0]


def test_weighted_leads_find_a_noisy_quotient_with_a_sum_below():
    # (m1·r1 + m2·r2)/(m1 + m2): the linear equations weigh rows by |Q|; divided by the leading
    # monomial the noisy rows give the law, which the unweighted fit misses
    law, ranges = "(m1*r1 + m2*r2)/(m1 + m2)", {"m1": (1, 5), "m2": (1, 5), "r1": (1, 5), "r2": (1, 5)}
    ctx, truth = _ctx(law, ranges, noise=0.01)
    ctx.floor = 1.5e-4
    noise = 0.01**2 * np.mean(ctx.y**2) / np.var(ctx.y)
    found = rational(ctx)
    assert any(kd.is_equivalent(polish(e, _cols(ctx), ctx.y, noise=noise), truth) for e in found[:2]), found[:2]
