"""Coefficients of one sum in a simple ratio, tied to one constant (kandiscover.symbolic.ties)."""

import numpy as np
import sympy

import kandiscover
import kandiscover.problems
from kandiscover.symbolic.refit import polish
from kandiscover.symbolic.ties import tied_coefficients

u, v = sympy.symbols("u v")


def test_coefficients_in_a_simple_ratio_share_one_float_and_keep_the_value():
    e = sympy.Float(0.114902) / (sympy.Float(0.488603) - sympy.Float(0.488604) / u**2) ** 2 + sympy.Float(0.3) * v
    tied = tied_coefficients(e)
    assert len(tied.atoms(sympy.Float)) == 2, tied  # 0.114902 and 0.488604; 0.3 is alone in its sum
    t = np.linspace(1.5, 3.0, 7)
    np.testing.assert_allclose(sympy.lambdify((u, v), tied)(t, t), sympy.lambdify((u, v), e)(t, t), rtol=1e-5)
    half = tied_coefficients(sympy.Float(1.2) * u - sympy.Float(0.6000001) * v)
    assert half == sympy.Mul(sympy.Float(1.2), u - v / 2, evaluate=False), half


def test_coefficients_in_no_simple_ratio_are_left():
    e = sympy.Float(0.7) * u + sympy.Float(0.3) * v  # 3/7 is not a ratio of RATIOS
    assert tied_coefficients(e) == e


def test_polish_reads_a_resonance_whose_two_coefficients_come_out_apart():
    problem = kandiscover.problems.load("feynman")["I.32.17"]  # 4π/3·Ef²·c·ε·r²·ω⁴/(ω² − ω₀²)²
    df = problem.sample(n=300, seed=0)
    data = {c: df[c].to_numpy() for c in problem.variables}
    fitted = sympy.sympify(  # a product KAN's composition on these rows: its constants are redundant
        "0.114902*Ef**2*c*epsilon*r**2/(-0.165622 + 3.35351/(-4.49977*omega/omega_0 + 1.17e-15)**2)**2"
    )
    out = polish(fitted, data, df[problem.target].to_numpy())  # untied: 1/(0.488603 − 0.488603·ω₀²/ω²)²
    assert not out.atoms(sympy.Float) and kandiscover.is_equivalent(out, problem.formula), out


def test_polish_does_not_tie_coefficients_whose_ratio_the_noisy_rows_reject():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(1, 2, 400), rng.uniform(1, 2, 400)
    y = 1.3 * a - 1.3 * 1.0005 * b + rng.normal(0, 1e-5, 400)  # a ratio within the tie's 1e-3 that the rows resolve
    out = polish(sympy.Float(1.3) * u - sympy.Float(1.30065) * v, {"u": a, "v": b}, y, residual_is_noise=True)
    cu, cv = sympy.expand(out).coeff(u), sympy.expand(out).coeff(v)
    assert abs(float(-cv / cu) - 1.0005) < 5e-5, out


def test_exact_numbers_beside_a_float_are_folded_into_it_and_the_value_kept():
    from kandiscover.symbolic.ties import folded_numbers

    e = sympy.Float(0.408248) * sympy.sqrt(6) * u * (v - 1) + sympy.pi * sympy.Float(2.0) * v
    out = folded_numbers(e)
    assert not out.has(sympy.pi) and not out.has(sympy.sqrt(6)), out
    t = np.linspace(0.5, 2.0, 5)
    np.testing.assert_allclose(sympy.lambdify((u, v), out)(t, t), sympy.lambdify((u, v), e)(t, t), rtol=1e-12)
    assert folded_numbers(sympy.sqrt(2) * u) == sympy.sqrt(2) * u  # no float: left exact


def test_polish_snaps_a_float_that_stands_beside_an_exact_root():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(1, 2, 300), rng.uniform(0.1, 0.9, 300)
    y = a / np.sqrt(1 - b**2)
    fitted = sympy.Float(0.4082483) * sympy.sqrt(6) * u / sympy.sqrt(1 - v**2)
    out = polish(fitted, {"u": a, "v": b}, y)
    assert not out.atoms(sympy.Float) and sympy.simplify(out - u / sympy.sqrt(1 - v**2)) == 0, out


def test_a_product_whose_numbers_are_not_real_is_left_unfolded():
    from kandiscover.symbolic.ties import folded_numbers

    e = sympy.Mul(sympy.Float(0.5), sympy.I, u, evaluate=False)
    assert folded_numbers(e) == e
