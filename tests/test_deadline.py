"""The hard deadline: support.deadline.run_until, and discover() returning on time whatever a
strategy does."""

import time

import numpy as np
import pandas as pd
import pytest
import sympy

import kandiscover as kd
from kandiscover.search.closed_form import monomial
from kandiscover.support.deadline import BudgetExceeded, run_until


def _spin(flag=None):
    """A pure-Python loop that never ends by itself."""
    n = 0
    while True:
        n += 1
        if flag is not None:
            flag.append(n)


def test_run_until_returns_the_value_before_the_deadline():
    assert run_until(time.monotonic() + 5, lambda a, b=0: a + b, 2, b=3) == (True, 5)


def test_run_until_interrupts_a_busy_loop_soon_after_the_deadline():
    t0 = time.monotonic()
    done, value = run_until(t0 + 0.3, _spin)
    assert (done, value) == (False, None)
    assert time.monotonic() - t0 < 0.8


def test_run_until_is_not_swallowed_by_except_exception():
    def stubborn():
        while True:
            try:
                _spin()
            except Exception:  # noqa: BLE001 - what a careless strategy does
                pass

    t0 = time.monotonic()
    assert run_until(t0 + 0.2, stubborn) == (False, None)
    assert time.monotonic() - t0 < 0.8


def test_run_until_lets_exceptions_through():
    def bad():
        raise KeyError("x")

    with pytest.raises(KeyError):
        run_until(time.monotonic() + 5, bad)


def test_run_until_leaves_no_pending_interruption_behind():
    # deadlines that fall just as the call returns: nothing may be raised afterwards
    for k in range(2000):
        run_until(time.monotonic() + 1e-4 * (k % 5), sum, range(2000))
        for _ in range(200):  # Python work after the call, where a stray exception would land
            pass
    assert not issubclass(BudgetExceeded, Exception)


def test_run_until_past_deadline_does_not_start():
    called = []
    assert run_until(time.monotonic() - 1, called.append, 1) == (False, None)
    assert called == []


@pytest.fixture
def noisy_cubic():
    """``3·x³ + 3·sin(4x)`` with 1 % noise: a monomial fits it roughly and leaves a misfit (no
    noise-level stop after the first strategy), so the search goes on to the next."""
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 3, 200)
    return pd.DataFrame({"x": x, "y": (3 * x**3 + 3 * np.sin(4 * x)) * (1 + 0.01 * rng.standard_normal(200))})


def _slow_python(ctx):
    _spin()


def _slow_sympy(ctx):
    x = sympy.Symbol(ctx.names[0])
    while True:  # simplification of ever larger expressions, in this process
        sympy.simplify(sympy.expand((x + 1) ** 40 * sympy.sin(x) ** 9))


@pytest.mark.parametrize("slow", [_slow_python, _slow_sympy])
def test_discover_returns_within_the_budget_with_the_best_so_far(noisy_cubic, slow):
    budget = 4.0
    t0 = time.monotonic()
    found = kd.discover(
        noisy_cubic, target="y", time_budget=budget, progress=False, plan=[("monomial", monomial), ("slow", slow)]
    )
    wall = time.monotonic() - t0
    assert wall <= 1.1 * budget + 2.0, wall
    assert found.strategy.startswith("monomial")  # found before the slow strategy, kept
    assert isinstance(found.formula, sympy.Mul) and found.formula.free_symbols == {sympy.Symbol("x")}
    assert found.r2 > 0.9 and found.noise is None  # the monomial's misfit is not taken for noise
    assert found.history[-1]["strategy"] == "slow" and found.history[-1]["interrupted"]


def test_discover_with_only_a_slow_strategy_returns_the_baseline(noisy_cubic):
    t0 = time.monotonic()
    found = kd.discover(noisy_cubic, target="y", time_budget=3.0, progress=False, plan=[("slow", _slow_python)])
    assert time.monotonic() - t0 <= 1.1 * 3.0 + 2.0
    assert found.strategy == "linear"
