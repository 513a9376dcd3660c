"""Surrogate-based splitting: symmetries, separability (signed, offset, transformed) and the
one-variable search, checked on exact functions standing in for a trained surrogate."""

import time

import numpy as np
import pytest
import sympy

import kandiscover as kd
from kandiscover.search import surrogate as dc
from kandiscover.search.closed_form import exp_offset_monomial, monomial, offset_monomial
from kandiscover.search.context import Context
from kandiscover.search.decompose import split_strategy
from kandiscover.search.solve import solve
from kandiscover.symbolic.export import to_numpy
from kandiscover.symbolic.refit import polish
from kandiscover.search.univariate import univariate


class Exact(dc.Surrogate):
    """A 'surrogate' that is the true function (zero error)."""

    def __init__(self, fn, offset=0.0):
        super().__init__(model=None, scale=1.0, rel_rmse=0.0, offset=offset)
        self.fn = fn

    def __call__(self, X):
        return self.fn(X) - self.offset

    def shifted(self, offset):
        return Exact(self.fn, self.offset + offset)


def _box(rng, ranges, n=2000):
    return np.column_stack([rng.uniform(lo, hi, n) for lo, hi in ranges])


@pytest.mark.parametrize(
    "fn, kind",
    [
        (lambda X: np.sqrt((X[:, 0] - X[:, 1]) ** 2 + X[:, 2] ** 2), "minus"),
        (lambda X: np.exp(X[:, 0] + X[:, 1]) * X[:, 2], "plus"),
        (lambda X: X[:, 2] / np.sqrt(1 - (X[:, 0] / X[:, 1]) ** 2 / 4), "div"),
        (lambda X: np.sin(X[:, 0] * X[:, 1]) + X[:, 2], "times"),
    ],
)
def test_pair_symmetry_found_first(fn, kind):
    X = _box(np.random.default_rng(0), [(1, 2), (1, 2), (1, 3)])
    best = dc.symmetries(Exact(fn), X)[0]
    assert best[1:4] == (0, 1, kind), dc.symmetries(Exact(fn), X)[:3]


def test_homogeneous_pair_reports_its_degree():
    # exp(-θ²/2σ²)/σ: f(λθ, λσ) = f/λ, so f = σ^-1·g(θ/σ)
    fn = lambda X: np.exp(-(X[:, 0] ** 2) / (2 * X[:, 1] ** 2)) / X[:, 1]  # noqa: E731
    X = _box(np.random.default_rng(1), [(1, 3), (1, 3)])
    found = dc.symmetries(Exact(fn), X)
    assert {(i, j, k, p) for _, i, j, k, p in found} >= {(0, 1, "div", -1.0), (1, 0, "div", -1.0)}


def test_product_that_changes_sign_separates():
    fn = lambda X: X[:, 0] * X[:, 1] * np.sin(X[:, 2])  # noqa: E731
    X = _box(np.random.default_rng(2), [(1, 5), (1, 5), (1, 5)])
    assert dc.separability(Exact(fn), X, "mul") == [[0], [1], [2]]
    assert dc.separability(Exact(fn), X, "add") == [[0, 1, 2]]


def test_product_plus_constant_found_through_its_offset():
    fn = lambda X: 1.7 + X[:, 0] * np.cos(X[:, 1])  # noqa: E731
    X = _box(np.random.default_rng(3), [(0.5, 2), (0, 3)])
    sur = Exact(fn)
    assert dc.separability(sur, X, "mul") == [[0, 1]]
    offsets = dc.offsets(sur, X, np.random.default_rng(0))
    assert any(abs(c - 1.7) < 1e-6 for c in offsets), offsets
    assert dc.separability(sur.shifted(1.7), X, "mul") == [[0], [1]]


@pytest.mark.parametrize(
    "kind, fn",
    [
        ("add-inv", lambda X: 1 / (X[:, 0] / X[:, 1] + 1 / X[:, 2])),
        ("add-sq", lambda X: np.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2 + X[:, 2] ** 2)),
    ],
)
def test_transformed_sums_separate(kind, fn):
    X = _box(np.random.default_rng(4), [(1, 3), (1, 3), (1, 3)])
    groups = dc.separability(Exact(fn), X, kind)
    assert len(groups) >= 2 and dc.separability(Exact(fn), X, "add") == [[0, 1, 2]]


def _ctx(X, y, names, floor=1e-7, seconds=30):
    return Context(X, y, names, 0, time.monotonic() + seconds, floor=floor)


def test_univariate_finds_two_level_compositions():
    u = np.random.default_rng(5).uniform(0.1, 0.67, 600)
    out = univariate(_ctx(u[:, None], 3 / np.sqrt(1 - u**2), ["u"]))
    truth = 3 / sympy.sqrt(1 - sympy.Symbol("u") ** 2)
    assert any(kd.is_equivalent(polish(e, {"u": u}, 3 / np.sqrt(1 - u**2)), truth) for e in out), out


def test_exp_of_monomial_is_exact():
    X = np.random.default_rng(6).uniform(1, 5, (600, 3))
    y = 2.5 * np.exp(-X[:, 0] * X[:, 1] / X[:, 2])
    (expr,) = exp_offset_monomial(_ctx(X, y, ["a", "b", "c"]))
    pred = to_numpy(expr, ["a", "b", "c"])(X)
    assert np.max(np.abs(pred - y)) < 1e-8 * np.max(np.abs(y))


def test_split_recovers_signed_product_exactly():
    rng = np.random.default_rng(7)
    X = _box(rng, [(1, 5), (1, 5), (1, 5)], 800)
    y = X[:, 0] * X[:, 1] * np.sin(X[:, 2])
    cands = split_strategy(_ctx(X, y, ["F", "r", "theta"], seconds=40), solve)
    truth = sympy.sympify("F*r*sin(theta)")
    cols = {"F": X[:, 0], "r": X[:, 1], "theta": X[:, 2]}
    assert any(kd.is_equivalent(polish(e, cols, y), truth) for e in cands[:2]), cands[:2]


def test_monomials_of_inputs_of_both_signs_take_their_magnitude():
    rng = np.random.default_rng(0)
    X = rng.uniform(-20, 20, (500, 3))
    y = 7 * np.sqrt(np.abs(X[:, 0] * X[:, 2])) + 2.5
    ctx = Context(X, y, ["a", "b", "c"], 0, time.monotonic() + 10)
    (expr,) = offset_monomial(ctx)
    a, c = sympy.symbols("a c")
    cols = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}
    assert kd.is_equivalent(polish(expr, cols, y), 7 * sympy.sqrt(sympy.Abs(a)) * sympy.sqrt(sympy.Abs(c)) + 2.5)


def test_a_monomial_of_both_signs_takes_its_sign_from_odd_powers():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(-2, 2, 400), rng.uniform(-2, 2, 400), rng.uniform(1, 3, 400)])
    y = -2 * X[:, 0] ** 3 * X[:, 1] / X[:, 2] ** 2
    ctx = Context(X, y, ["a", "b", "c"], 0, time.monotonic() + 10)
    (expr,) = monomial(ctx)
    a, b, c = sympy.symbols("a b c")
    cols = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}
    assert kd.is_equivalent(polish(expr, cols, y), -2 * a**3 * b / c**2)
    # a sign no product of odd powers gives: nothing
    ctx = Context(X, np.sin(3 * X[:, 0]) * X[:, 2], ["a", "b", "c"], 0, time.monotonic() + 10)
    assert monomial(ctx) == []


def test_two_input_part_read_off_a_surrogate_gets_its_sum_of_terms_not_a_quotient():
    # a surrogate's rows are exact only to its floor: a polynomial quotient fits 1 + cos(θ)/w within
    # it, and must not end the search before the two terms of the law are tried
    rng = np.random.default_rng(8)
    X = np.column_stack([rng.uniform(1, 3, 800), rng.uniform(1 / 9, 9, 800)])
    y = 1 + np.cos(X[:, 0]) / X[:, 1]
    ctx = _ctx(X, y + rng.normal(0, 1e-3, 800), ["theta", "w"], floor=0.01)
    found = solve(ctx, depth=1)
    truth = sympy.sympify("1 + cos(theta)/w")
    assert kd.is_equivalent(polish(found[0], {"theta": X[:, 0], "w": X[:, 1]}, y), truth), found[:2]


def test_log_based_fits_use_the_rows_clear_of_the_noise_where_noise_crosses_zero():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 5, (1000, 3))
    law = X[:, 0] ** 2 * X[:, 1] ** 2 / X[:, 2] ** 3  # one sign, values over three decades
    noise = 0.01 * np.sqrt(np.mean(law**2))
    y = law + rng.normal(0, noise, 1000)
    assert np.any(y < 0)
    floor = 1.5 * noise**2 / np.var(y)  # as the search sets it from a noise hint
    ctx = Context(X, y, ["a", "b", "c"], 0, time.monotonic() + 10, floor=floor)
    clear = ctx.clear_of_noise()
    assert len(clear.y) >= 500 and np.all(clear.y > 0)
    a, b, c = sympy.symbols("a b c")
    cols = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}
    found = monomial(ctx)
    assert any(kd.is_equivalent(polish(e, cols, y, noise=floor / 1.5), a**2 * b**2 / c**3) for e in found), found
    # exact rows of both signs, or values of the other sign far beyond the noise: the rows as given
    assert Context(X, y, ["a", "b", "c"], 0, time.monotonic() + 10).clear_of_noise().y is y
    y_far = np.where(np.arange(1000) < 30, -law, y)
    assert Context(X, y_far, ["a", "b", "c"], 0, time.monotonic() + 10, floor=floor).clear_of_noise().y is y_far
