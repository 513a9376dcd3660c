"""The refit's finite-difference Jacobian: one broadcast evaluation, the same numbers as one per parameter."""

import numpy as np
import pytest
import sympy

from kandiscover.symbolic.refit import _Problem, refit_with_loss


@pytest.mark.parametrize(
    "text",
    ["1.3*exp(-0.45*x**2) + 0.2*y", "(0.9*x + 0.1)/(1.05 + 0.98*x*y)", "Abs(1.2*x - 3.1) + Max(0.5*y, 1.3)", "2.5"],
)
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


def _hang(expr, data, y, **options):
    import time

    time.sleep(60)
    return expr


def test_snapping_stops_at_its_deadline_even_when_sympy_hangs(monkeypatch):
    """A trial of snapping can hang inside sympy's automatic evaluation; with a deadline the run is
    killed SNAP_GRACE seconds after it and the constants are kept as fitted."""
    import time

    from kandiscover.support.timeout import _WORKER
    from kandiscover.symbolic import refit

    x = np.linspace(1.0, 2.0, 50)
    expr = sympy.Float(2.0001) * sympy.Symbol("x")
    monkeypatch.setattr(refit, "snap_constants", _hang)
    _WORKER._stop()  # the next call forks a worker that sees the hanging snap
    t0 = time.monotonic()
    out = refit.snap_timed(expr, {"x": x}, 2 * x, deadline=time.monotonic() + 0.5)
    elapsed = time.monotonic() - t0
    _WORKER._stop()  # do not leave the hanging worker to later tests
    assert out == expr and elapsed < 0.5 + refit.SNAP_GRACE + 1.0


def test_snapping_with_a_deadline_snaps_like_without():
    import time

    from kandiscover.symbolic.refit import snap_constants, snap_timed

    x = np.linspace(1.0, 2.0, 50)
    expr = sympy.Float(2.0001) * sympy.Symbol("x") + sympy.Float(0.49999)
    data, y = {"x": x}, 2 * x + 0.5
    assert (
        snap_timed(expr, data, y, deadline=time.monotonic() + 10)
        == snap_constants(expr, data, y)
        == 2 * sympy.Symbol("x") + sympy.Rational(1, 2)
    )


def test_a_polynomial_in_an_overparametrised_form_is_refitted_in_its_monomials():
    # x·(c·(a·x + b)² + d), five constants for the three of 3.39x³ + 2.12x² + 1.78x
    from kandiscover.symbolic.refit import polish
    from kandiscover.symbolic.polynomials import expanded_polynomial

    x = sympy.Symbol("x")
    xs = np.linspace(-2, 2, 400)
    y = 3.39 * xs**3 + 2.12 * xs**2 + 1.78 * xs
    found = x * (3.35693 * (1.00491 * x + 0.314221) ** 2 + 1.44855)
    coeffs = [float(c) for c in sympy.Poly(polish(found, {"x": xs}, y), x).all_coeffs()]
    assert np.allclose(coeffs, [3.39, 2.12, 1.78, 0.0], rtol=0, atol=1e-6), coeffs
    # an expansion that needs more constants is not taken
    assert expanded_polynomial(1.0 * (x - 1.5) ** 2) == 1.0 * (x - 1.5) ** 2


def test_a_constant_common_to_a_sums_terms_is_taken_out_and_snapped():
    # the product KAN's match of ω⁴/(ω² − ω₀²)²: one constant 4π/3 spread over three floats
    from kandiscover import is_equivalent
    from kandiscover.symbolic.refit import polish

    rng = np.random.default_rng(3)
    u = rng.uniform(1.5, 4, 500)
    y = 4 * np.pi / 3 / (1 - u**-2) ** 2
    raw = sympy.sympify("0.114815/(-0.16556 + 3.35183/(-4.49949*u + 1.9e-15)**2)**2")
    nice = polish(raw, {"u": u}, y)
    truth = 4 * sympy.pi / (3 * (1 - sympy.Symbol("u") ** -2) ** 2)
    assert is_equivalent(nice, truth, domain={"u": (1.5, 4)}) and not nice.atoms(sympy.Float), nice
