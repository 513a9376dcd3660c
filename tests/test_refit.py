"""The refit's finite-difference Jacobian: one broadcast evaluation, the same numbers as one per parameter."""
import numpy as np
import pytest
import sympy

from kandiscover.symbolic.refit import _Problem, refit_with_loss


@pytest.mark.parametrize("text", ["1.3*exp(-0.45*x**2) + 0.2*y", "(0.9*x + 0.1)/(1.05 + 0.98*x*y)",
                                  "Abs(1.2*x - 3.1) + Max(0.5*y, 1.3)", "2.5"])
def test_broadcast_jacobian_equals_one_evaluation_per_parameter(text):
    rng = np.random.default_rng(0)
    data = {"x": rng.uniform(1, 5, 200), "y": rng.uniform(1, 5, 200)}
    prob = _Problem(sympy.sympify(text), data, rng.uniform(1, 2, 200))
    resid, jac_fn = prob.residual_fn(prob.templ, prob.params)
    jac = jac_fn(prob.theta)
    th = prob.theta
    steps = (th + np.finfo(float).eps ** 0.5 * np.where(th >= 0, 1, -1) * np.maximum(1, np.abs(th))) - th
    loop = np.stack([(resid(th + np.eye(len(th))[k] * steps[k]) - resid(th)) / steps[k] for k in range(len(th))], 1)
    assert jac.shape == (200, len(th))
    assert np.allclose(jac, loop, rtol=1e-6, atol=1e-9)


def test_refit_recovers_the_constants():
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, 500)
    expr, err = refit_with_loss(sympy.sympify("1.1*exp(-0.4*x**2) + 0.3"), {"x": x}, 2.5 * np.exp(-0.7 * x**2) - 1.0)
    consts = sorted(float(c) for c in expr.atoms(sympy.Float))
    assert err < 1e-20
    assert np.allclose(consts, sorted([2.5, -0.7, -1.0]), atol=1e-9)
