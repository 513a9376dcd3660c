"""Near-misses in the small-argument regime collapse to the laws they approximate (the formulas are
answers the search gave on Feynman problems at noise 0.01)."""

import numpy as np
import pytest
import sympy

import kandiscover as kd
from kandiscover.symbolic import polish
from kandiscover.symbolic.evaluate import formula_predictions
from kandiscover.symbolic.taylor import small_argument_forms

NEAR_MISSES = [
    (
        "m*r*(4309 - 4309*cos(0.021551*sqrt(v)))*sin(theta)",
        "m*r*v*sin(theta)",
        {"m": (1, 5), "r": (1, 5), "v": (1, 5), "theta": (0, 5)},
    ),
    (
        "(-5.70521*q - 0.0301239)*(26.2324*(1684.08*sin(0.999731*theta) - 0.563818)"
        "*(2.03666*cos(0.0019737*sqrt(B*v)) - 2.03666) - 21.394*sin(0.00961575*Ef + 0.526909) + 10.7619)",
        "q*(Ef + B*v*sin(theta))",
        {"q": (1, 5), "Ef": (1, 5), "B": (1, 5), "v": (1, 5), "theta": (1, 5)},
    ),
    ("195.4*F*(1 - cos(sqrt(r)/pi**2))*sin(theta)", "F*r*sin(theta)", {"F": (1, 5), "r": (1, 5), "theta": (0, 5)}),
    (
        "-1167*kb*n*(-0.999988 + 1/sqrt(1 - 0.0016986*T))*(log(V1) - log(V2))",
        "n*kb*T*log(V2/V1)",
        {"kb": (1, 5), "n": (1, 5), "T": (1, 5), "V1": (1, 5), "V2": (1, 5)},
    ),
]


def _rows(ranges: dict, n: int = 600):
    rng = np.random.default_rng(0)
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in ranges.items()}


@pytest.mark.parametrize("found, truth, ranges", NEAR_MISSES, ids=[t for _, t, _ in NEAR_MISSES])
def test_a_near_miss_collapses_to_the_law(found, truth, ranges):
    names = list(ranges)
    data = _rows(ranges)
    law = kd.parse_formula(truth, names)
    y = formula_predictions(law, np.column_stack([data[n] for n in names]), names)
    expr = kd.parse_formula(found, names)
    assert not kd.is_equivalent(expr, law)
    forms = small_argument_forms(expr, data)
    assert len(forms) == 1
    polished = polish(forms[0], data, y)
    assert kd.is_equivalent(polished, law), polished


@pytest.mark.parametrize(
    "formula, ranges",
    [("sin(x) + x**2", {"x": (0, 3)}), ("exp(-x**2/2)", {"x": (-3, 3)}), ("x**2*y", {"x": (1, 1.2), "y": (1, 2)})],
)
def test_functions_that_bend_on_the_rows_are_kept(formula, ranges):
    assert small_argument_forms(kd.parse_formula(formula, list(ranges)), _rows(ranges)) == []


def test_the_leading_terms_at_small_arguments():
    x = sympy.Symbol("x")
    data = _rows({"x": (0.01, 0.1)})
    assert small_argument_forms(3 * sympy.sin(2 * x), data) == [6 * x]
    assert small_argument_forms(1 - sympy.cos(x), {"x": data["x"]}) == [x**2 / 2]
    (linear,) = small_argument_forms(sympy.log(1 + x), data)  # around the middle of the rows
    assert linear.free_symbols == {x} and sympy.degree(linear, x) == 1
