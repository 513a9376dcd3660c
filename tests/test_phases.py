"""Phases of periodic functions brought near zero (kandiscover.symbolic.phases)."""

import numpy as np
import pytest
import sympy

from kandiscover.symbolic.phases import reduced_phases
from kandiscover.symbolic.refit import polish

x = sympy.Symbol("x")


@pytest.mark.parametrize("f", [sympy.sin, sympy.cos, sympy.tan])
@pytest.mark.parametrize("b", [-9.4237, -6.2841, -2.0, 1.5699, 2.4, 4.0, 7.9])
def test_the_rewrite_is_an_identity_with_the_phase_near_zero(f, b):
    e = 1.7 * f(2 * x + b)
    r = reduced_phases(e)
    (phase,) = [a for a in r.atoms(sympy.Float) if a != 1.7 and a != -1.7]
    limit = np.pi / 2 if f is sympy.tan else np.pi / 4
    assert abs(float(phase)) <= limit + 1e-12
    t = np.linspace(-0.7, 0.7, 9)  # away from tan's poles for every b above
    np.testing.assert_allclose(sympy.lambdify(x, r)(t), sympy.lambdify(x, e)(t), rtol=1e-12, atol=1e-12)


def test_a_phase_without_a_variable_or_already_small_is_left():
    assert reduced_phases(sympy.sin(sympy.Float(4.0))) == sympy.sin(sympy.Float(4.0))
    assert reduced_phases(sympy.cos(x + 0.3)) == sympy.cos(x + 0.3)


def test_polish_writes_a_noisy_fit_with_its_phase_in_the_first_quarter_turn():
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, 400)
    y = 0.3 * t * np.sin(2 * np.pi * t + 0.002) + rng.normal(0, 1e-4, 400)  # the phase is resolved
    fitted = -0.29999 * x * sympy.cos(2 * sympy.pi * x + 1.57281)
    out = polish(fitted, {"x": t}, y, residual_is_noise=True)
    (f,) = out.atoms(sympy.sin, sympy.cos)
    assert f.func is sympy.sin and out.has(sympy.pi), out
    (phase,) = [a for a in f.args[0].atoms(sympy.Float)]
    assert abs(float(phase) - 0.002) < 2e-4, out
